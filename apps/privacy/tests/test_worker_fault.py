"""A worker killed in the middle of a data export or an erasure: the next worker finishes the
work, and it happens exactly once (one zip, one "ready" notice; one erasure, one audit entry).

Real parts: `celery worker` processes (apps/core/tests/worker.py) on the Redis broker, the
PostgreSQL test database, an SMTP server. To kill a run at a known point without a test hook in
the product, the test holds a database lock the run needs halfway through (a second connection
of its own), waits until the worker's query is waiting for that lock, and SIGKILLs the worker's
process group there; it then lets the lock go. The unacknowledged message comes back to the
second worker after the visibility timeout.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from allauth.account.models import EmailAddress
from django.conf import settings
from django.db import connection
from django.utils import timezone

from apps.accounts.models import User
from apps.accounts.tests.factories import make_user
from apps.activity.models import ActivityEvent
from apps.core.personal_data import declarations
from apps.core.tests.smtp import SmtpSink
from apps.core.tests.worker import RealCelery, real_celery_fixture  # noqa: F401
from apps.notifications.models import Notification
from apps.privacy import services, tasks
from apps.privacy.models import ErasureRequest
from apps.privacy.tests.builders import build_person, build_world
from apps.reports.models import Report

pytestmark = [
    pytest.mark.redis,
    pytest.mark.skipif(
        not os.environ.get("REDIS_URL"),
        reason="the workers and this process share the broker only through Redis (set REDIS_URL)",
    ),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="the test stops a run at a PostgreSQL lock it holds (set DATABASE_URL)",
    ),
    pytest.mark.django_db(transaction=True),
]

DONE_DEADLINE_SECONDS = 120.0
# The second worker gets the dead worker's message back after this many seconds, and takes over
# an export whose heartbeat is this old.
VISIBILITY_TIMEOUT = "5"
STALE_AFTER = "3"


class Lock:
    """A lock held by a second connection of the test until `release()`."""

    def __init__(self, sql: str, params: tuple[Any, ...] = ()) -> None:
        db = connection.settings_dict
        self.conn = psycopg.connect(
            host=db.get("HOST") or "127.0.0.1",
            port=db.get("PORT") or None,
            user=db.get("USER") or None,
            password=db.get("PASSWORD") or None,
            dbname=db["NAME"],
            autocommit=False,
        )
        self.conn.execute(sql, params)

    def release(self) -> None:
        if not self.conn.closed:
            self.conn.rollback()
            self.conn.close()


@pytest.fixture
def locks() -> Iterator[list[Lock]]:
    held: list[Lock] = []
    try:
        yield held
    finally:
        for lock in held:
            lock.release()


def _someone_waits_for_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        (waiting,) = cursor.fetchone()
    return bool(waiting)


def _other_sessions() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            # idle sessions (psycopg's pool keeps some open in each process) hold no
            # transaction; the dead worker's is in one until PostgreSQL ends it
            " AND coalesce(state, '') <> 'idle'"
        )
        (others,) = cursor.fetchone()
    return int(others)


def _export() -> Report:
    return Report.objects.get(kind=Report.Kind.DATA_EXPORT)


def test_an_export_whose_worker_is_killed_halfway_is_finished_by_the_next_worker_once(
    real_celery: RealCelery, smtp_sink: SmtpSink, locks: list[Lock]
) -> None:
    user = make_user(email="ada@example.test", display_name="Ada")
    reports_dir = Path(settings.REPORTS_DIR)
    first = real_celery.worker("first", EMAIL_URL=smtp_sink.email_url, REPORTS_DIR=str(reports_dir))
    # The export writes one file per app in label order; the last (videoconference) reads the
    # chat table, which this lock closes to everyone else.
    assert declarations()[-1].app_label == "videoconference"
    chat_lock = Lock("LOCK TABLE videoconference_chatmessage IN ACCESS EXCLUSIVE MODE")
    locks.append(chat_lock)

    with real_celery.explained():
        services.request_export(user)
        real_celery.wait_until(
            lambda: _export().progress > 0 and _someone_waits_for_a_lock(),
            "the first worker wrote part of the export and waits at the chat table",
        )
        first.kill()
        chat_lock.release()

        killed = _export()
        assert killed.status == Report.Status.RUNNING
        assert 0 < killed.rows_done < killed.rows_total
        final = reports_dir / f"report-{killed.pk}.zip"
        assert not final.exists()
        assert not Notification.objects.exists()

        second = real_celery.worker(
            "second",
            EMAIL_URL=smtp_sink.email_url,
            REPORTS_DIR=str(reports_dir),
            CELERY_VISIBILITY_TIMEOUT=VISIBILITY_TIMEOUT,
            REPORTS_STALE_AFTER_SECONDS=STALE_AFTER,
        )
        real_celery.wait_until(
            lambda: _export().status == Report.Status.DONE,
            "the second worker finished the export",
            timeout=DONE_DEADLINE_SECONDS,
        )
        real_celery.wait_until(lambda: smtp_sink.to(user.email), "the export-ready email")
        real_celery.wait_until(
            lambda: second.succeeded("notifications.send_email"), "the email task finished"
        )

        done = _export()
        assert done.attempts == 2
        assert sorted(p.name for p in reports_dir.iterdir()) == [final.name]  # one zip, no parts
        with zipfile.ZipFile(final) as archive:
            assert sorted(archive.namelist()) == sorted(
                [f"{d.app_label}.json" for d in declarations()] + ["manifest.json"]
            )
        notification = Notification.objects.get()
        assert notification.recipient == user
        assert notification.url == f"/reports/{done.pk}/"
        assert len(smtp_sink.received()) == 1
        assert f"/reports/{done.pk}/" in smtp_sink.to(user.email)[0].part("text/plain")
        second.assert_no_task_failures()


def _completed_events() -> int:
    return ActivityEvent.objects.filter(action="privacy.erasure.completed").count()


def test_an_erasure_whose_worker_is_killed_halfway_is_run_by_the_next_worker_once(
    real_celery: RealCelery, locks: list[Lock]
) -> None:
    world = build_world()
    ada = build_person(world, key="ada", display_name="Ada Quillfeather", ip_address="203.0.113.7")
    ErasureRequest.objects.filter(pk=ada.erasure.pk).update(
        due_at=timezone.now() - timedelta(seconds=1)
    )
    first = real_celery.worker("first")
    # The accounts eraser deletes the email addresses, second factors and admin log entries,
    # then the profile: the run stops there, halfway, while this lock holds the profile row.
    profile_lock = Lock(
        "SELECT 1 FROM accounts_profile WHERE user_id = %s FOR UPDATE", (ada.user.pk,)
    )
    locks.append(profile_lock)

    with real_celery.explained():
        tasks.process_erasures.delay()
        real_celery.wait_until(
            _someone_waits_for_a_lock, "the first worker's erasure waits at the profile"
        )
        first.kill()
        profile_lock.release()
        # The dead worker's database session ends (and its transaction rolls back) once it
        # finds its client gone.
        real_celery.wait_until(lambda: _other_sessions() == 0, "the dead worker's session ended")

        erasure = ErasureRequest.objects.get(pk=ada.erasure.pk)
        assert erasure.status == ErasureRequest.Status.PENDING  # nothing half done stays
        assert EmailAddress.objects.filter(user=ada.user).exists()
        assert User.objects.get(pk=ada.user.pk).email == ada.email
        assert _completed_events() == 0

        second = real_celery.worker("second", CELERY_VISIBILITY_TIMEOUT=VISIBILITY_TIMEOUT)
        second.wait_succeeded("privacy.process_erasures", 1, timeout=DONE_DEADLINE_SECONDS)

        erasure.refresh_from_db()
        assert erasure.status == ErasureRequest.Status.DONE
        assert erasure.attempts == 1  # the killed attempt rolled back with everything it did
        erased = User.objects.get(pk=ada.user.pk)
        assert erased.email.endswith("@invalid.example")
        assert erased.display_name == services.DELETED_NAME
        assert not EmailAddress.objects.filter(user=ada.user).exists()
        assert _completed_events() == 1

        # Beat running the task again finds nothing due: the person is erased once.
        tasks.process_erasures.delay()
        second.wait_succeeded("privacy.process_erasures", 2, timeout=DONE_DEADLINE_SECONDS)
        assert User.objects.get(pk=ada.user.pk).email == erased.email
        assert _completed_events() == 1
        second.assert_no_task_failures()
