"""A data export of someone with data in every app: one file per declaration, each holding the
person's rows and nobody else's. The list of apps comes from the registry, so a newly registered
app without its file in the export fails here, and builders.py must give it data."""

from __future__ import annotations

import json
import zipfile
from typing import Any

import pytest

from apps.core.personal_data import declarations
from apps.privacy import services
from apps.privacy.tests.builders import Person, build_person, build_world
from apps.reports import files
from apps.reports.models import Report

pytestmark = pytest.mark.django_db

# Fields that say whose row it is; in a person's export they must all point at that person.
OWNER_FIELDS = ("user_id", "student_id", "recipient_id", "author_id", "actor_id", "requested_by_id")


def _export(person: Person, capture: Any) -> dict[str, Any]:
    with capture(execute=True):
        report = services.request_export(person.user)
    report.refresh_from_db()
    assert report.status == Report.Status.DONE, report.error_code
    path = files.path_of(report.file_name)
    assert path is not None
    with zipfile.ZipFile(path) as archive:
        return {name: json.loads(archive.read(name)) for name in archive.namelist()}


def _rows(section: Any) -> list[Any]:
    return section if isinstance(section, list) else [section]


def test_the_export_has_a_file_per_declaration_with_the_persons_rows_only(
    django_capture_on_commit_callbacks: Any,
) -> None:
    world = build_world()
    ada = build_person(world, key="ada", display_name="Ada Quillfeather", ip_address="203.0.113.7")
    bob = build_person(world, key="bob", display_name="Bob Marrowgate", ip_address="198.51.100.9")

    export = _export(ada, django_capture_on_commit_callbacks)

    expected = {f"{d.app_label}.json" for d in declarations()}
    assert set(export) == expected | {"manifest.json"}
    assert {f["file"] for f in export["manifest.json"]["files"]} == expected
    for declaration in declarations():
        name = f"{declaration.app_label}.json"
        data = export[name]
        assert data, f"{name} is empty"
        for section, rows in data.items():
            assert rows, f"{name} has no {section!r} for the person: give them some in builders.py"
            for row in _rows(rows):
                for field in OWNER_FIELDS:
                    if isinstance(row, dict) and field in row:
                        assert row[field] == ada.user.pk, f"{name} {section}: another's row"
        text = json.dumps(data)
        for other in (bob.email, bob.display_name, bob.ip_address, bob.chat_text, "bob"):
            assert other not in text, f"{name} holds {other!r} of another person"

    accounts = export["accounts.json"]
    assert accounts["user"][0]["email"] == ada.email
    assert accounts["user"][0]["display_name"] == ada.display_name
    assert "password" not in accounts["user"][0]
    assert [m["text"] for m in export["videoconference.json"]["chat_messages"]] == [ada.chat_text]
    assert export["activity.json"]["events"][0]["ip_address"] == ada.ip_address
    assert export["courses.json"]["teaching"] == [
        {"id": ada.own_course.pk, "title": ada.own_course.title}
    ]
    assert ada.erasure.pk in [r["id"] for r in export["privacy.json"]["erasure_requests"]]
