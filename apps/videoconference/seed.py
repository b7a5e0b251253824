"""Demo live sessions: office hours that are live now in "Python from scratch" (the demo student
is enrolled and can join at once) and a Q&A scheduled for next week. Idempotent."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.courses.models import Course
from apps.videoconference import services
from apps.videoconference.models import VideoSession

COURSE_SLUG = "python-from-scratch"
HOST_EMAIL = "instructor@example.com"
LIVE_TITLE = "Office hours"
SCHEDULED_TITLE = "Python Q&A: loops and functions"


def _office_hours(course: Course, host: User) -> VideoSession:
    session = (
        VideoSession.objects.filter(
            course=course, title=LIVE_TITLE, status=VideoSession.Status.LIVE
        )
        .order_by("-started_at")
        .first()
    )
    if session is None:
        return services.start_instant_session(
            host=host,
            title=LIVE_TITLE,
            course=course,
            join_policy=VideoSession.JoinPolicy.MEMBERS,
        )
    if session.ends_at <= timezone.now() + timedelta(minutes=30):
        # Still open from an earlier run: keep it open for a while longer.
        session = services.update_session(
            actor=host, session=session, ends_at=timezone.now() + services.INSTANT_SESSION_LENGTH
        )
    return session


def _next_week(course: Course, host: User) -> VideoSession:
    session = VideoSession.objects.filter(
        course=course,
        title=SCHEDULED_TITLE,
        status=VideoSession.Status.SCHEDULED,
        starts_at__gt=timezone.now(),
    ).first()
    if session is not None:
        return session
    start = (timezone.now() + timedelta(days=7)).replace(minute=0, second=0, microsecond=0)
    return services.schedule_session(
        actor=host,
        course=course,
        title=SCHEDULED_TITLE,
        description="Bring your questions about loops and functions; we solve exercises together.",
        starts_at=start,
        ends_at=start + timedelta(hours=1),
    )


@transaction.atomic
def seed(stdout: Any = None) -> None:
    course = Course.objects.filter(slug=COURSE_SLUG).first()
    host = User.objects.filter(email=HOST_EMAIL).first()
    if course is None or host is None:
        return
    live = _office_hours(course, host)
    upcoming = _next_week(course, host)
    if stdout is not None:
        stdout.write(f"  live sessions: {live.title!r} is live at {live.meeting_url}")
        stdout.write(
            f"                 {upcoming.title!r} on {upcoming.starts_at:%Y-%m-%d %H:%M} UTC "
            f"at {upcoming.meeting_url}"
        )
