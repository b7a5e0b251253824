"""The rows of each kind of report, read in chunks so a run can record progress as it goes.

Dates are in the requester's time zone (their profile's, else the site's).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any

from apps.accounts.models import zone_named
from apps.courses.models import Course, Enrollment
from apps.courses.selectors import progress_percent
from apps.reports.models import Report
from apps.videoconference.models import VideoSession
from apps.videoconference.selectors import AttendanceLine, attendance_report

Row = list[Any]

COURSE_PROGRESS_COLUMNS = (
    "name",
    "email",
    "status",
    "lessons_completed",
    "published_lessons",
    "percent",
    "enrolled_at",
    "completed_at",
)
ATTENDANCE_COLUMNS = (
    "name",
    "email",
    "first_joined",
    "last_left",
    "connections",
    "seconds",
    "minutes",
)


def zone_of(report: Report) -> tzinfo:
    profile = getattr(report.requested_by, "profile", None)
    return profile.zone if profile is not None else zone_named(None)


def _local(value: datetime | None, zone: tzinfo) -> datetime | None:
    return value.astimezone(zone) if value is not None else None


@dataclass
class Source:
    """A report's columns, its row count when the run started, and its rows chunk by chunk."""

    title: str
    columns: Sequence[str]
    total: int
    chunks: Iterator[list[Row]] = field(repr=False)


def course_progress(course: Course, *, zone: tzinfo, chunk_size: int) -> Source:
    """One row per enrollment (any status), in enrollment order. Enrollments made after the run
    started are left out, so the count shown while running stays true."""
    enrollments = Enrollment.objects.filter(course=course)
    last_pk = enrollments.order_by("-pk").values_list("pk", flat=True).first() or 0
    total = enrollments.filter(pk__lte=last_pk).count()
    lesson_count = Course.objects.filter(pk=course.pk).values_list("lesson_count", flat=True)[0]

    def chunks() -> Iterator[list[Row]]:
        after = 0
        while True:
            batch = list(
                enrollments.filter(pk__gt=after, pk__lte=last_pk)
                .select_related("student")
                .only(
                    "pk",
                    "status",
                    "created_at",
                    "completed_at",
                    "completed_lesson_count",
                    "student__display_name",
                    "student__email",
                )
                .order_by("pk")[:chunk_size]
            )
            if not batch:
                return
            after = batch[-1].pk
            yield [
                [
                    e.student.display_name,
                    e.student.email,
                    e.status,
                    e.completed_lesson_count,
                    lesson_count,
                    progress_percent(e, lesson_count),
                    _local(e.created_at, zone),
                    _local(e.completed_at, zone),
                ]
                for e in batch
            ]

    return Source(
        title=str(course.title), columns=COURSE_PROGRESS_COLUMNS, total=total, chunks=chunks()
    )


def _attendance_row(line: AttendanceLine, zone: tzinfo) -> Row:
    return [
        line.name,
        line.email,
        _local(line.first_joined, zone),
        _local(line.last_left, zone),
        line.connections,
        line.seconds,
        line.minutes,
    ]


def session_attendance(session: VideoSession, *, zone: tzinfo, chunk_size: int) -> Source:
    """One row per person, their connections merged (the session page's attendance CSV)."""
    lines = attendance_report(session)

    def chunks() -> Iterator[list[Row]]:
        for start in range(0, len(lines), chunk_size):
            yield [_attendance_row(line, zone) for line in lines[start : start + chunk_size]]

    return Source(
        title=str(session.title), columns=ATTENDANCE_COLUMNS, total=len(lines), chunks=chunks()
    )


SourceFactory = Callable[[Report, tzinfo, int], Source]
# Kinds whose rows another app owns (the activity log, a person's data export) register here,
# from their AppConfig.ready(), so reports does not import the apps above it.
_registered: dict[str, SourceFactory] = {}


def register_source(kind: str, factory: SourceFactory) -> None:
    """`factory(report, zone, chunk_size)` gives the Source of reports of `kind`."""
    if kind not in Report.Kind.values:
        raise ValueError(f"unknown report kind {kind!r}")
    _registered[kind] = factory


def source_for(report: Report, *, chunk_size: int) -> Source:
    zone = zone_of(report)
    if report.kind in _registered:
        return _registered[report.kind](report, zone, chunk_size)
    if report.kind == Report.Kind.COURSE_PROGRESS:
        assert report.course is not None  # the model's check constraint
        return course_progress(report.course, zone=zone, chunk_size=chunk_size)
    assert report.session is not None
    return session_attendance(report.session, zone=zone, chunk_size=chunk_size)
