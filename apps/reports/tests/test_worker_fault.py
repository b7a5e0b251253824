"""A worker killed in the middle of a report: the next worker finishes it, once.

Real parts: two `celery worker` processes (apps/core/tests/worker.py) on the Redis broker, the
test database, an SMTP server. The first worker is SIGKILLed (its whole process group, as when
a machine dies) while it is writing the file; its message was never acknowledged, so the broker
hands it to the second worker after the visibility timeout, which takes the report over (the
dead run's heartbeat is stale) and writes it again from the start.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.conf import settings

from apps.accounts.models import User
from apps.core.tests.smtp import SmtpSink
from apps.core.tests.worker import RealCelery, real_celery_fixture  # noqa: F401
from apps.courses.models import Enrollment
from apps.courses.tests.factories import CourseFactory, instructor_of
from apps.notifications.models import Notification
from apps.reports import services
from apps.reports.models import Report
from apps.reports.tests.factories import read_rows

pytestmark = [
    pytest.mark.redis,
    pytest.mark.skipif(
        not os.environ.get("REDIS_URL"),
        reason="the workers and this process share the broker only through Redis (set REDIS_URL)",
    ),
    pytest.mark.django_db(transaction=True),
]

# Enough rows, written 2 at a time with a commit after each pair, that a run takes seconds:
# time to see it half done and kill it there.
ENROLLMENTS = 1000
ROWS_PER_CHUNK = "2"
DONE_DEADLINE_SECONDS = 120.0


def _course_with_many_students() -> tuple[int, User]:
    course = CourseFactory.create(title="Very popular course")
    students = User.objects.bulk_create(
        User(email=f"student{i}@example.test", display_name=f"Student {i}")
        for i in range(ENROLLMENTS)
    )
    Enrollment.objects.bulk_create(Enrollment(course=course, student=s) for s in students)
    return course.pk, instructor_of(course)


def _report() -> Report:
    return Report.objects.get()


def test_a_report_whose_worker_is_killed_mid_file_is_finished_by_the_next_worker_once(
    real_celery: RealCelery, smtp_sink: SmtpSink
) -> None:
    course_id, teacher = _course_with_many_students()
    first = real_celery.worker(
        "first",
        EMAIL_URL=smtp_sink.email_url,
        REPORTS_DIR=str(settings.REPORTS_DIR),
        REPORTS_ROWS_PER_CHUNK=ROWS_PER_CHUNK,
    )

    with real_celery.explained():
        services.request_report(
            actor=teacher,
            kind=Report.Kind.COURSE_PROGRESS,
            course=teacher.taught_courses.get(pk=course_id),
            file_format=Report.Format.CSV,
        )
        real_celery.wait_until(
            lambda: 0 < _report().progress < 100, "the first worker is writing the report"
        )
        first.kill()

        killed = _report()
        assert killed.status == Report.Status.RUNNING
        assert 0 < killed.rows_done < ENROLLMENTS
        final = Path(settings.REPORTS_DIR) / f"report-{killed.pk}.csv"
        assert not final.exists()  # only the dead run's partial file, under its own name
        assert not Notification.objects.exists()

        # This worker gets the unacknowledged message back after 5 s, and takes over a report
        # whose heartbeat is 3 s old.
        second = real_celery.worker(
            "second",
            EMAIL_URL=smtp_sink.email_url,
            REPORTS_DIR=str(settings.REPORTS_DIR),
            REPORTS_ROWS_PER_CHUNK=ROWS_PER_CHUNK,
            CELERY_VISIBILITY_TIMEOUT="5",
            REPORTS_STALE_AFTER_SECONDS="3",
        )
        real_celery.wait_until(
            lambda: _report().status == Report.Status.DONE,
            "the second worker finished the report",
            timeout=DONE_DEADLINE_SECONDS,
        )
        real_celery.wait_until(lambda: smtp_sink.to(teacher.email), "the report-ready email")
        real_celery.wait_until(
            lambda: second.succeeded("notifications.send_email"), "the email task finished"
        )

        done = _report()
        assert done.attempts == 2
        assert (done.rows_done, done.rows_total, done.progress) == (ENROLLMENTS, ENROLLMENTS, 100)
        rows = read_rows(final)
        assert len(rows) == ENROLLMENTS + 1  # the header and every enrollment, once
        assert len({row[1] for row in rows[1:]}) == ENROLLMENTS
        assert sorted(p.name for p in final.parent.iterdir()) == [final.name]  # no half files
        assert done.size == final.stat().st_size

        notification = Notification.objects.get(kind="report_ready")
        assert notification.recipient == teacher
        assert notification.url == f"/reports/{done.pk}/"
        assert len(smtp_sink.received()) == 1
        email = smtp_sink.to(teacher.email)[0]
        assert "Very popular course" in email.subject
        assert f"/reports/{done.pk}/" in email.part("text/plain")
        second.assert_no_task_failures()
