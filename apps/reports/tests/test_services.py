"""Asking for a report: one piece of work per report however often someone asks."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from apps.accounts.roles import Role
from apps.accounts.tests.factories import make_user
from apps.core.tests.callbacks import feature_callbacks
from apps.courses.tests.factories import CourseFactory
from apps.reports import services
from apps.reports.errors import InvalidReportRequest, ReportNotAllowed
from apps.reports.models import Report
from apps.reports.tests.factories import make_report, teacher_of
from apps.videoconference.tests.factories import VideoSessionFactory

pytestmark = pytest.mark.django_db


def _tasks(callbacks: list[Any]) -> int:
    """On-commit callbacks that queue a task (not the activity log or 2FA bookkeeping)."""
    return len(feature_callbacks(callbacks))


def test_asking_again_while_the_report_is_being_made_gives_the_same_report(
    django_capture_on_commit_callbacks: Any,
) -> None:
    course = CourseFactory.create()
    teacher = teacher_of(course)
    request: dict[str, Any] = {
        "actor": teacher,
        "kind": "course_progress",
        "course": course,
        "file_format": "csv",
    }

    with django_capture_on_commit_callbacks() as first_tasks:
        first = services.request_report(**request)
    with django_capture_on_commit_callbacks() as second_tasks:
        second = services.request_report(**request)

    assert second == first
    assert Report.objects.count() == 1
    assert (_tasks(first_tasks), _tasks(second_tasks)) == (1, 0)  # queued once


def test_another_format_or_a_finished_report_starts_a_new_one(
    django_capture_on_commit_callbacks: Any,
) -> None:
    course = CourseFactory.create()
    teacher = teacher_of(course)
    done = make_report(requested_by=teacher, course=course, status=Report.Status.DONE)

    with django_capture_on_commit_callbacks() as queued:
        csv_again = services.request_report(
            actor=teacher, kind="course_progress", course=course, file_format="csv"
        )
        xlsx = services.request_report(
            actor=teacher, kind="course_progress", course=course, file_format="xlsx"
        )

    assert len({done.pk, csv_again.pk, xlsx.pk}) == 3
    assert _tasks(queued) == 2


def test_two_people_asking_for_the_same_report_each_get_their_own() -> None:
    course = CourseFactory.create(instructors=[make_user(role=Role.INSTRUCTOR)])
    staff = make_user(role=Role.STAFF)
    mine = services.request_report(
        actor=teacher_of(course), kind="course_progress", course=course, file_format="csv"
    )
    theirs = services.request_report(
        actor=staff, kind="course_progress", course=course, file_format="csv"
    )

    assert mine.pk != theirs.pk
    assert theirs.requested_by == staff


def test_asking_again_for_a_stuck_report_queues_its_task_again(
    django_capture_on_commit_callbacks: Any,
) -> None:
    course = CourseFactory.create()
    teacher = teacher_of(course)
    stuck = make_report(
        requested_by=teacher,
        course=course,
        status=Report.Status.RUNNING,
        attempts=1,
        heartbeat_at=timezone.now() - timedelta(minutes=10),
    )

    with django_capture_on_commit_callbacks() as queued:
        again = services.request_report(
            actor=teacher, kind="course_progress", course=course, file_format="csv"
        )

    assert again == stuck
    assert len(queued) == 1


def test_only_the_courses_instructors_and_staff_may_ask_for_its_progress() -> None:
    course = CourseFactory.create()
    other_teacher = make_user(role=Role.INSTRUCTOR)

    with pytest.raises(ReportNotAllowed):
        services.request_report(
            actor=other_teacher, kind="course_progress", course=course, file_format="csv"
        )
    assert not Report.objects.exists()


def test_only_hosts_may_ask_for_a_sessions_attendance() -> None:
    session = VideoSessionFactory.create()
    student = make_user()

    with pytest.raises(ReportNotAllowed):
        services.request_report(
            actor=student, kind="session_attendance", session=session, file_format="csv"
        )


@pytest.mark.parametrize(
    ("kind", "file_format", "subject"),
    [
        ("grades", "csv", "course"),
        ("course_progress", "pdf", "course"),
        ("course_progress", "csv", "session"),
        ("session_attendance", "csv", "course"),
    ],
)
def test_a_report_must_name_a_known_kind_format_and_matching_subject(
    kind: str, file_format: str, subject: str
) -> None:
    session = VideoSessionFactory.create()
    assert session.course is not None
    target: dict[str, Any] = (
        {"course": session.course} if subject == "course" else {"session": session}
    )

    with pytest.raises(InvalidReportRequest):
        services.request_report(actor=session.host, kind=kind, file_format=file_format, **target)
