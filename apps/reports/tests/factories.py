"""Reports and the data behind them, for the report tests.

`make_report()` stores a report row directly in any state (as if a run had got that far);
`progress_course()` is a small course whose students are at known points; `read_rows()` reads a
generated file (CSV or XLSX) back as rows of text.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone
from openpyxl import load_workbook

from apps.accounts.models import User
from apps.accounts.roles import Role
from apps.accounts.tests.factories import make_user
from apps.courses.models import Course, Enrollment
from apps.courses.tests.factories import (
    CourseFactory,
    EnrollmentFactory,
    LessonFactory,
    complete,
    instructor_of,
)
from apps.reports.models import Report


def make_report(
    *,
    requested_by: User,
    course: Course | None = None,
    session: Any = None,
    file_format: str = Report.Format.CSV,
    status: str = Report.Status.QUEUED,
    content: bytes | None = None,
    **fields: Any,
) -> Report:
    """A report row in `status`; a done one gets a file with `content` under REPORTS_DIR."""
    kind = Report.Kind.COURSE_PROGRESS if course is not None else Report.Kind.SESSION_ATTENDANCE
    report = Report.objects.create(
        requested_by=requested_by,
        kind=kind,
        course=course,
        session=session,
        file_format=file_format,
        status=status,
        **fields,
    )
    if status == Report.Status.DONE:
        directory = Path(settings.REPORTS_DIR)
        directory.mkdir(parents=True, exist_ok=True)
        name = f"report-{report.pk}.{file_format}"
        data = content if content is not None else b"name,email\r\n"
        (directory / name).write_bytes(data)
        now = timezone.now()
        report.file_name = name
        report.size = len(data)
        report.progress = 100
        report.finished_at = fields.get("finished_at", now)
        report.expires_at = fields.get(
            "expires_at", now + timedelta(hours=settings.REPORTS_TTL_HOURS)
        )
        report.save()
    return report


def progress_course() -> tuple[Course, dict[str, Enrollment]]:
    """A course with 3 published lessons and 1 unpublished, and three students: Ada finished
    everything, Ben did 1 of 3, Cy waits for approval."""
    course = CourseFactory.create(title="Knitting for programmers")
    lessons = [LessonFactory.create(course=course) for _ in range(3)]
    LessonFactory.create(course=course, is_published=False)
    course.refresh_from_db()
    ada = EnrollmentFactory.create(
        course=course, student=make_user(display_name="Ada", email="ada@example.test")
    )
    complete(ada, *lessons)
    ada.status = Enrollment.Status.COMPLETED
    ada.completed_at = timezone.now()
    ada.save(update_fields=["status", "completed_at"])
    ben = EnrollmentFactory.create(
        course=course, student=make_user(display_name="Ben", email="ben@example.test")
    )
    complete(ben, lessons[0])
    cy = EnrollmentFactory.create(
        course=course,
        student=make_user(display_name="Cy", email="cy@example.test"),
        status=Enrollment.Status.PENDING,
    )
    return course, {"ada": ada, "ben": ben, "cy": cy}


def teacher_of(course: Course) -> User:
    return instructor_of(course)


def staff_user() -> User:
    return make_user(role=Role.STAFF)


def file_of(report: Report) -> Path:
    report.refresh_from_db()
    assert report.file_name, f"report {report.pk} has no file ({report.status})"
    return Path(settings.REPORTS_DIR) / report.file_name


def read_rows(path: Path) -> list[list[Any]]:
    """The file's rows: CSV as text cells, XLSX as cell values (None for empty)."""
    if path.suffix == ".xlsx":
        sheet = load_workbook(path).worksheets[0]
        return [[cell.value for cell in row] for row in sheet.iter_rows()]
    text = path.read_bytes().decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text, newline="")))


def local_iso(value: datetime | None) -> str:
    """How a CSV report writes a time: ISO 8601 in the reader's zone (UTC for test users)."""
    return timezone.localtime(value, timezone.get_default_timezone()).isoformat() if value else ""
