"""Reads behind the live-session pages: whose sessions a person sees, the course page's list,
the calendar feed and the attendance report. Each list is one query whatever its length."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.utils import timezone

from apps.accounts.policies import is_staff
from apps.courses.models import Course, Enrollment
from apps.videoconference.models import Attendance, VideoSession

# How far back the calendar feed reaches, so a calendar keeps last week's classes.
FEED_HISTORY = timedelta(days=30)


def _audience(user: Any) -> Q:
    """Sessions that concern `user`: hosted by them, of courses they teach or belong to.

    Subqueries rather than joins, so a session is one row however many ways it concerns them.
    """
    enrolled = Enrollment.objects.filter(
        student=user, status__in=Enrollment.MEMBER_STATUSES
    ).values("course_id")
    taught = Course.instructors.through.objects.filter(user=user).values("course_id")
    return Q(host=user) | Q(course_id__in=enrolled) | Q(course_id__in=taught)


def _upcoming() -> Q:
    """Live, or scheduled and not yet past its end."""
    return Q(status=VideoSession.Status.LIVE) | Q(
        status=VideoSession.Status.SCHEDULED, ends_at__gt=timezone.now()
    )


def _with_list_fields(qs: QuerySet[VideoSession]) -> QuerySet[VideoSession]:
    return qs.select_related("course", "host").only(
        "id",
        "title",
        "kind",
        "status",
        "starts_at",
        "ends_at",
        "started_at",
        "ended_at",
        "meeting_token",
        "join_policy",
        "course__id",
        "course__title",
        "course__slug",
        "host__id",
        "host__display_name",
    )


def _live_first(qs: QuerySet[VideoSession]) -> QuerySet[VideoSession]:
    """Live sessions before the others, then by start time."""
    return qs.annotate(
        live_first=Case(
            When(status=VideoSession.Status.LIVE, then=Value(0)),
            default=Value(1),
            output_field=IntegerField(),
        )
    ).order_by("live_first", "starts_at", "id")


def upcoming_sessions(user: Any) -> list[VideoSession]:
    """Live sessions first (the most recently started first), then upcoming ones by start time.

    Staff see every upcoming session on the site; everyone else their own (see `_audience`).
    """
    qs = VideoSession.objects.filter(_upcoming())
    if not is_staff(user):
        qs = qs.filter(_audience(user))
    return list(_with_list_fields(_live_first(qs)))


def past_sessions(user: Any) -> QuerySet[VideoSession]:
    """Sessions that are over (ended, cancelled or never started before their end), newest first.

    A queryset, for the paginator (a count and a page).
    """
    qs = VideoSession.objects.exclude(_upcoming())
    if not is_staff(user):
        qs = qs.filter(_audience(user))
    return _with_list_fields(qs).order_by("-starts_at", "-id")


def course_sessions(course: Course) -> list[VideoSession]:
    """The course's live and upcoming sessions, live first (one query)."""
    qs = VideoSession.objects.filter(_upcoming(), course=course)
    return list(
        _live_first(qs).only(
            "id", "title", "status", "starts_at", "ends_at", "meeting_token", "course_id"
        )
    )


def feed_sessions(user: Any) -> list[VideoSession]:
    """What the user's calendar feed lists: their sessions from the last 30 days onwards,
    cancelled ones included (so calendars remove them)."""
    since = timezone.now() - FEED_HISTORY
    return list(
        VideoSession.objects.filter(_audience(user), ends_at__gte=since)
        .select_related("course", "host")
        .order_by("starts_at", "id")
    )


# --- Attendance report -------------------------------------------------------------------------


@dataclass(frozen=True)
class AttendanceLine:
    """One person's presence in a session, over all their connections."""

    user_id: int
    name: str
    email: str
    first_joined: datetime
    last_left: datetime | None  # None while still connected
    connections: int
    seconds: int

    @property
    def minutes(self) -> float:
        return round(self.seconds / 60, 1)


def merged_seconds(intervals: list[tuple[datetime, datetime]]) -> int:
    """Total time covered by the intervals; overlapping ones count once (two tabs, one person)."""
    total = timedelta()
    current_start: datetime | None = None
    current_end: datetime | None = None
    for start, end in sorted(intervals):
        if end <= start:
            continue
        if current_end is None or start > current_end:
            if current_start is not None and current_end is not None:
                total += current_end - current_start
            current_start, current_end = start, end
        elif end > current_end:
            current_end = end
    if current_start is not None and current_end is not None:
        total += current_end - current_start
    return int(total.total_seconds())


def attendance_report(
    session: VideoSession, *, now: datetime | None = None
) -> list[AttendanceLine]:
    """One line per person who connected, in order of first arrival (one query).

    A connection still open counts up to now, or to the session's end when that came first.
    """
    now = now or timezone.now()
    open_until = min(now, session.ended_at) if session.ended_at else now
    rows = (
        Attendance.objects.filter(session=session)
        .select_related("user")
        .only("user__id", "user__display_name", "user__email", "joined_at", "left_at")
        .order_by("joined_at", "id")
    )
    people: dict[int, dict[str, Any]] = {}
    for row in rows:
        end = row.left_at or open_until
        person = people.setdefault(
            row.user_id,
            {
                "user": row.user,
                "first": row.joined_at,
                "last": row.left_at,
                "open": False,
                "iv": [],
            },
        )
        person["iv"].append((row.joined_at, max(end, row.joined_at)))
        if row.left_at is None:
            person["open"] = True
        elif person["last"] is None or row.left_at > person["last"]:
            person["last"] = row.left_at
    return [
        AttendanceLine(
            user_id=user_id,
            name=p["user"].display_name,
            email=p["user"].email,
            first_joined=p["first"],
            last_left=None if p["open"] else p["last"],
            connections=len(p["iv"]),
            seconds=merged_seconds(p["iv"]),
        )
        for user_id, p in people.items()
    ]
