"""Acceptance: after an erasure the person's email address, name and IP address are nowhere in
the database, as `pg_dump` of the whole test database shows, and the other people's pages still
work (their course page; the session's chat history with a "Deleted user" line).

PostgreSQL only (CI runs it with DATABASE_URL=postgres://...): the data is committed (a
transactional test) so that pg_dump, another process, sees it.
"""

from __future__ import annotations

import shutil
import subprocess
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from apps.privacy import services
from apps.privacy.models import ErasureRequest
from apps.privacy.tests.builders import build_person, build_world
from apps.videoconference.room import recent_chat

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs PostgreSQL and pg_dump (DATABASE_URL)"
    ),
    pytest.mark.django_db(transaction=True),
]

DUMP_TIMEOUT_SECONDS = 120


def _dump() -> str:
    """The whole test database as SQL text, read by pg_dump as another client would."""
    pg_dump = shutil.which("pg_dump")
    assert pg_dump, "pg_dump is not installed"
    db = connection.settings_dict
    command = [pg_dump, "--no-owner", "-h", db.get("HOST") or "127.0.0.1"]
    if db.get("PORT"):
        command += ["-p", str(db["PORT"])]
    command += ["-U", db.get("USER") or "postgres", db["NAME"]]
    env = {"PATH": "/usr/bin:/bin"}
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])
    result = subprocess.run(
        command, capture_output=True, text=True, env=env, timeout=DUMP_TIMEOUT_SECONDS, check=False
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_after_erasure_the_dump_holds_no_trace_of_the_person_and_others_pages_work() -> None:
    world = build_world()
    ada = build_person(world, key="ada", display_name="Ada Quillfeather", ip_address="203.0.113.77")
    bob = build_person(world, key="bob", display_name="Bob Marrowgate", ip_address="198.51.100.99")
    Client().force_login(ada.user)  # a signed-in session of hers, ended by the erasure
    before = _dump()
    for trace in (ada.email, ada.display_name, ada.ip_address):
        assert trace in before  # the dump does show such data while it exists

    ErasureRequest.objects.filter(pk=ada.erasure.pk).update(
        due_at=timezone.now() - timedelta(seconds=1)
    )
    assert services.process_erasures() == 1

    after = _dump()
    for trace in (ada.email, ada.display_name, ada.ip_address):
        left = [line for line in after.splitlines() if trace in line]
        assert not left, f"{trace!r} is still in the database: {left}"
    for trace in (bob.email, bob.display_name, bob.ip_address):
        assert trace in after  # the other person's data is untouched

    client = Client()
    client.force_login(bob.user)
    page = client.get(reverse("courses:detail", kwargs={"slug": world.course.slug}))
    assert page.status_code == 200
    assert world.course.title in page.content.decode()
    lines = [(line["user"]["name"], line["text"]) for line in recent_chat(world.session.pk)]
    assert (services.DELETED_NAME, ada.chat_text) in lines
    assert (bob.display_name, bob.chat_text) in lines
