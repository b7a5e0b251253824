"""Generating report files: their content, progress as they are written, and what happens when
a task is delivered twice, its worker died, or another run is still working."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from celery.exceptions import Retry
from django.conf import settings
from django.utils import timezone

from apps.accounts.tests.factories import make_user
from apps.courses.tests.factories import CourseFactory, EnrollmentFactory
from apps.notifications.models import Notification
from apps.reports import services, tasks
from apps.reports.models import Report
from apps.reports.tests.factories import (
    file_of,
    local_iso,
    make_report,
    progress_course,
    read_rows,
    teacher_of,
)
from apps.videoconference.tests.factories import VideoSessionFactory, attend

pytestmark = pytest.mark.django_db

COURSE_HEADER = [
    "name",
    "email",
    "status",
    "lessons_completed",
    "published_lessons",
    "percent",
    "enrolled_at",
    "completed_at",
]


def _generate(django_capture_on_commit_callbacks: Any, **request: Any) -> Report:
    """Ask for a report and run everything that runs after commit (the task, eagerly)."""
    with django_capture_on_commit_callbacks(execute=True):
        report = services.request_report(**request)
    report.refresh_from_db()
    return report


def _files() -> list[str]:
    return sorted(p.name for p in Path(settings.REPORTS_DIR).iterdir())


def test_course_progress_csv_has_one_row_per_enrollment_with_progress_numbers(
    django_capture_on_commit_callbacks: Any,
) -> None:
    course, people = progress_course()

    report = _generate(
        django_capture_on_commit_callbacks,
        actor=teacher_of(course),
        kind=Report.Kind.COURSE_PROGRESS,
        course=course,
        file_format=Report.Format.CSV,
    )

    assert report.status == Report.Status.DONE
    ada, ben, cy = people["ada"], people["ben"], people["cy"]
    assert read_rows(file_of(report)) == [
        COURSE_HEADER,
        [
            "Ada",
            "ada@example.test",
            "completed",
            "3",
            "3",
            "100",
            local_iso(ada.created_at),
            local_iso(ada.completed_at),
        ],
        ["Ben", "ben@example.test", "active", "1", "3", "33", local_iso(ben.created_at), ""],
        ["Cy", "cy@example.test", "pending", "0", "3", "0", local_iso(cy.created_at), ""],
    ]
    assert (report.rows_done, report.rows_total, report.progress) == (3, 3, 100)
    assert report.size == file_of(report).stat().st_size


def test_course_progress_xlsx_holds_numbers_and_dates_as_cells(
    django_capture_on_commit_callbacks: Any,
) -> None:
    course, people = progress_course()

    report = _generate(
        django_capture_on_commit_callbacks,
        actor=teacher_of(course),
        kind=Report.Kind.COURSE_PROGRESS,
        course=course,
        file_format=Report.Format.XLSX,
    )

    rows = read_rows(file_of(report))
    assert file_of(report).suffix == ".xlsx"
    assert rows[0] == COURSE_HEADER
    assert [row[:6] for row in rows[1:]] == [
        ["Ada", "ada@example.test", "completed", 3, 3, 100],
        ["Ben", "ben@example.test", "active", 1, 3, 33],
        ["Cy", "cy@example.test", "pending", 0, 3, 0],
    ]
    enrolled = people["ada"].created_at.replace(tzinfo=None, microsecond=0)
    assert rows[1][6].replace(microsecond=0) == enrolled
    assert rows[3][7] is None


@pytest.mark.parametrize("file_format", [Report.Format.CSV, Report.Format.XLSX])
def test_attendance_report_merges_overlapping_connections_per_person(
    django_capture_on_commit_callbacks: Any, file_format: str
) -> None:
    start = (timezone.now() - timedelta(hours=2)).replace(microsecond=0)
    session = VideoSessionFactory.create(title="Weekly call", starts_at=start)
    two_tabs = make_user(display_name="Two Tabs", email="tabs@example.test")
    brief = make_user(display_name="Brief", email="brief@example.test")
    # Two tabs open at once: 0-30 and 15-45 minutes are 45 minutes of presence, not 60.
    attend(session, two_tabs, joined_at=start, left_at=start + timedelta(minutes=30))
    attend(
        session,
        two_tabs,
        joined_at=start + timedelta(minutes=15),
        left_at=start + timedelta(minutes=45),
    )
    attend(
        session,
        brief,
        joined_at=start + timedelta(minutes=5),
        left_at=start + timedelta(minutes=10),
    )

    report = _generate(
        django_capture_on_commit_callbacks,
        actor=session.host,
        kind=Report.Kind.SESSION_ATTENDANCE,
        session=session,
        file_format=file_format,
    )

    rows = read_rows(file_of(report))
    assert rows[0] == [
        "name",
        "email",
        "first_joined",
        "last_left",
        "connections",
        "seconds",
        "minutes",
    ]
    if file_format == Report.Format.CSV:
        assert rows[1:] == [
            [
                "Two Tabs",
                "tabs@example.test",
                local_iso(start),
                local_iso(start + timedelta(minutes=45)),
                "2",
                "2700",
                "45.0",
            ],
            [
                "Brief",
                "brief@example.test",
                local_iso(start + timedelta(minutes=5)),
                local_iso(start + timedelta(minutes=10)),
                "1",
                "300",
                "5.0",
            ],
        ]
    else:
        naive = start.replace(tzinfo=None)
        assert rows[1:] == [
            ["Two Tabs", "tabs@example.test", naive, naive + timedelta(minutes=45), 2, 2700, 45],
            [
                "Brief",
                "brief@example.test",
                naive + timedelta(minutes=5),
                naive + timedelta(minutes=10),
                1,
                300,
                5,
            ],
        ]
    assert (report.rows_done, report.rows_total) == (2, 2)


def test_names_that_look_like_formulas_stay_text(
    django_capture_on_commit_callbacks: Any,
) -> None:
    course = CourseFactory.create()
    evil = '=HYPERLINK("http://evil.test","Click")'
    for name in (evil, "+1+1", "@SUM(A1)", "-2"):
        EnrollmentFactory.create(course=course, student=make_user(display_name=name))
    request = {"actor": teacher_of(course), "kind": Report.Kind.COURSE_PROGRESS, "course": course}

    csv_report = _generate(django_capture_on_commit_callbacks, file_format="csv", **request)
    xlsx_report = _generate(django_capture_on_commit_callbacks, file_format="xlsx", **request)

    csv_names = [row[0] for row in read_rows(file_of(csv_report))[1:]]
    assert csv_names == ["'" + evil, "'+1+1", "'@SUM(A1)", "'-2"]
    from openpyxl import load_workbook

    sheet = load_workbook(file_of(xlsx_report)).worksheets[0]
    cells = [row[0] for row in sheet.iter_rows(min_row=2)]
    assert [c.value for c in cells] == [evil, "+1+1", "@SUM(A1)", "-2"]
    assert {c.data_type for c in cells} == {"s"}  # text, never a formula
    assert all(c.quotePrefix for c in cells)


def test_progress_is_committed_after_every_chunk_until_all_rows_are_done(
    django_capture_on_commit_callbacks: Any, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.REPORTS_ROWS_PER_CHUNK = 2
    course = CourseFactory.create()
    for _ in range(5):
        EnrollmentFactory.create(course=course)
    seen: list[tuple[int, int, int]] = []
    record = tasks.record_progress

    def watch(report_id: int, attempt: int, *, done: int, total: int) -> None:
        record(report_id, attempt, done=done, total=total)
        row = Report.objects.get(pk=report_id)
        seen.append((row.rows_done, row.rows_total, row.progress))

    monkeypatch.setattr(tasks, "record_progress", watch)

    report = _generate(
        django_capture_on_commit_callbacks,
        actor=teacher_of(course),
        kind=Report.Kind.COURSE_PROGRESS,
        course=course,
        file_format="csv",
    )

    assert seen == [(0, 5, 0), (2, 5, 40), (4, 5, 80), (5, 5, 99)]
    assert (report.status, report.rows_done, report.rows_total, report.progress) == (
        Report.Status.DONE,
        5,
        5,
        100,
    )
    assert len(read_rows(file_of(report))) == 6


def test_ready_report_notifies_the_requester_with_a_link_to_its_page(
    django_capture_on_commit_callbacks: Any, mailoutbox: list[Any]
) -> None:
    course, _people = progress_course()
    teacher = teacher_of(course)

    report = _generate(
        django_capture_on_commit_callbacks,
        actor=teacher,
        kind=Report.Kind.COURSE_PROGRESS,
        course=course,
        file_format="csv",
    )

    notification = Notification.objects.get(kind="report_ready")
    assert notification.recipient == teacher
    assert notification.url == f"/reports/{report.pk}/"
    assert "Knitting for programmers" in notification.title
    assert [m.to for m in mailoutbox] == [[teacher.email]]


def test_a_redelivered_task_for_a_done_report_writes_nothing_and_notifies_nobody_again(
    django_capture_on_commit_callbacks: Any,
) -> None:
    course, _people = progress_course()
    report = _generate(
        django_capture_on_commit_callbacks,
        actor=teacher_of(course),
        kind=Report.Kind.COURSE_PROGRESS,
        course=course,
        file_format="csv",
    )
    before = file_of(report).read_bytes()

    with django_capture_on_commit_callbacks(execute=True):
        outcome = tasks.generate_report.delay(report.pk).get()

    assert outcome == "skipped"
    assert _files() == [f"report-{report.pk}.csv"]
    assert file_of(report).read_bytes() == before
    assert Notification.objects.filter(kind="report_ready").count() == 1
    report.refresh_from_db()
    assert report.attempts == 1


def test_a_report_whose_worker_died_is_taken_over_and_finished_once(
    django_capture_on_commit_callbacks: Any,
) -> None:
    course, _people = progress_course()
    teacher = teacher_of(course)
    stale = timezone.now() - timedelta(seconds=settings.REPORTS_STALE_AFTER_SECONDS + 5)
    report = make_report(
        requested_by=teacher,
        course=course,
        status=Report.Status.RUNNING,
        attempts=1,
        heartbeat_at=stale,
        rows_done=2,
        rows_total=3,
        progress=66,
    )
    Path(settings.REPORTS_DIR).mkdir(parents=True)
    leftover = Path(settings.REPORTS_DIR) / f".report-{report.pk}-a1.part"
    leftover.write_text("name,email\r\nAda,ada@ex")  # the dead run's half file

    with django_capture_on_commit_callbacks(execute=True):
        outcome = tasks.generate_report.delay(report.pk).get()

    assert outcome == "done"
    report.refresh_from_db()
    assert (report.status, report.attempts, report.rows_done) == (Report.Status.DONE, 2, 3)
    assert _files() == [f"report-{report.pk}.csv"]  # the half file is gone
    assert len(read_rows(file_of(report))) == 4
    assert Notification.objects.filter(kind="report_ready", recipient=teacher).count() == 1


def test_a_redelivered_task_while_another_run_is_working_retries_later_instead(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    course, _people = progress_course()
    report = make_report(
        requested_by=teacher_of(course),
        course=course,
        status=Report.Status.RUNNING,
        attempts=1,
        heartbeat_at=timezone.now(),
        rows_done=1,
        rows_total=3,
        progress=33,
    )
    retries: list[dict[str, Any]] = []

    def retry(**options: Any) -> Retry:
        retries.append(options)
        raise Retry("another run is working", None)

    monkeypatch.setattr(tasks.generate_report, "retry", retry)

    with pytest.raises(Retry):
        tasks.generate_report(report.pk)

    # Looked at again once the working run's heartbeat would have gone stale.
    assert len(retries) == 1
    assert 0 < retries[0]["countdown"] <= settings.REPORTS_STALE_AFTER_SECONDS + 1
    report.refresh_from_db()
    assert (report.status, report.attempts, report.rows_done) == (Report.Status.RUNNING, 1, 1)
    assert not Path(settings.REPORTS_DIR).exists() or _files() == []
    assert not Notification.objects.exists()


def test_an_in_process_run_that_finds_another_run_working_leaves_it_alone() -> None:
    """Without a worker (tasks run in the calling process) a retry would only run again at
    once; the task ends instead, and the working run finishes the report."""
    course, _people = progress_course()
    report = make_report(
        requested_by=teacher_of(course),
        course=course,
        status=Report.Status.RUNNING,
        attempts=1,
        heartbeat_at=timezone.now(),
    )

    assert tasks.generate_report.apply(args=(report.pk,)).get() == "busy"
    report.refresh_from_db()
    assert (report.status, report.attempts) == (Report.Status.RUNNING, 1)


def test_a_run_that_was_taken_over_stops_without_publishing_or_notifying(
    django_capture_on_commit_callbacks: Any, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.REPORTS_ROWS_PER_CHUNK = 1
    course, _people = progress_course()
    report = make_report(requested_by=teacher_of(course), course=course)
    record = tasks.record_progress

    def taken_over_after_first_chunk(report_id: int, attempt: int, **counts: int) -> None:
        if counts["done"] == 1:  # another worker claims it meanwhile
            Report.objects.filter(pk=report_id).update(attempts=attempt + 1)
        record(report_id, attempt, **counts)

    monkeypatch.setattr(tasks, "record_progress", taken_over_after_first_chunk)

    assert tasks.generate_report(report.pk) == "superseded"
    report.refresh_from_db()
    assert report.status == Report.Status.RUNNING  # the other run's to finish
    assert _files() == []  # no final file, and its partial file is removed
    assert not Notification.objects.exists()


def test_a_report_that_keeps_losing_its_worker_fails_after_the_last_attempt() -> None:
    course, _people = progress_course()
    stale = timezone.now() - timedelta(seconds=settings.REPORTS_STALE_AFTER_SECONDS + 5)
    report = make_report(
        requested_by=teacher_of(course),
        course=course,
        status=Report.Status.RUNNING,
        attempts=tasks.MAX_ATTEMPTS,
        heartbeat_at=stale,
    )

    assert tasks.generate_report(report.pk) == "skipped"
    report.refresh_from_db()
    assert (report.status, report.error_code) == (Report.Status.FAILED, "timed_out")


def test_an_unexpected_error_fails_the_report_logs_it_and_shows_a_safe_message(
    django_capture_on_commit_callbacks: Any,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    client: Any,
) -> None:
    course, _people = progress_course()
    teacher = teacher_of(course)

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("database password is hunter2")

    monkeypatch.setattr(tasks.sources, "source_for", broken)

    with caplog.at_level(logging.ERROR, logger="apps.reports.tasks"):
        report = _generate(
            django_capture_on_commit_callbacks,
            actor=teacher,
            kind=Report.Kind.COURSE_PROGRESS,
            course=course,
            file_format="csv",
        )

    assert (report.status, report.error_code) == (Report.Status.FAILED, "generation_failed")
    failure = next(r for r in caplog.records if r.getMessage() == "reports.failed")
    assert failure.exc_info is not None
    assert not Notification.objects.exists()
    client.force_login(teacher)
    page = client.get(f"/reports/{report.pk}/").content.decode()
    assert "could not be prepared" in page
    assert "hunter2" not in page
    assert client.get(f"/reports/{report.pk}/download/").status_code == 409


def test_a_task_for_a_deleted_report_does_nothing() -> None:
    assert tasks.generate_report(987654) == "skipped"
