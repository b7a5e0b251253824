"""Sessions and attendance for the live-session tests.

`VideoSessionFactory()` is a scheduled course session tomorrow, hosted by the course's instructor;
`live_session()` one that is live now; `attend()` records a connection as the room would.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import factory
from django.utils import timezone

from apps.accounts.models import User
from apps.courses.tests.factories import CourseFactory, instructor_of
from apps.videoconference.models import Attendance, VideoSession


def _tomorrow() -> datetime:
    return (timezone.now() + timedelta(days=1)).replace(microsecond=0)


class VideoSessionFactory(factory.django.DjangoModelFactory[VideoSession]):
    class Meta:
        model = VideoSession

    course = factory.SubFactory(CourseFactory)
    host = factory.LazyAttribute(lambda o: instructor_of(o.course))
    title = factory.Sequence(lambda n: f"Session {n}")
    kind = VideoSession.Kind.SCHEDULED
    starts_at = factory.LazyFunction(_tomorrow)
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + timedelta(hours=1))
    status = VideoSession.Status.SCHEDULED
    join_policy = VideoSession.JoinPolicy.MEMBERS


def live_session(**fields: Any) -> VideoSession:
    now = timezone.now()
    fields.setdefault("starts_at", now - timedelta(minutes=10))
    fields.setdefault("ends_at", now + timedelta(minutes=50))
    session: VideoSession = VideoSessionFactory.create(status=VideoSession.Status.LIVE, **fields)
    VideoSession.objects.filter(pk=session.pk).update(started_at=fields["starts_at"])
    session.refresh_from_db()
    return session


def attend(
    session: VideoSession,
    user: User,
    *,
    joined_at: datetime,
    left_at: datetime | None = None,
    role: str = Attendance.Role.PARTICIPANT,
) -> Attendance:
    """A connection from `joined_at` to `left_at` (None: still connected)."""
    row = Attendance.objects.create(
        session=session, user=user, channel_name=f"test.{user.pk}", role=role, left_at=left_at
    )
    # joined_at is auto_now_add: set the past time afterwards.
    Attendance.objects.filter(pk=row.pk).update(joined_at=joined_at, last_seen=joined_at)
    row.refresh_from_db()
    return row
