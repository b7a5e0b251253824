"""Session lifecycle writes: schedule, change, cancel, start, end, instant sessions.

Room membership (joins, leaves, state, chat) is written by `apps.videoconference.room`.
Every lifecycle event is logged with session and user ids; pushes to connected peers happen
after commit, and so does queueing the tasks that notify the course's students (tasks.py).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.activity.services import record
from apps.core.tasks import enqueue_on_commit, stamp
from apps.courses.models import Course
from apps.videoconference import policies, realtime, tasks
from apps.videoconference.errors import HostNotAllowed, InvalidSchedule, SessionEnded
from apps.videoconference.models import Attendance, VideoSession

logger = logging.getLogger(__name__)

INSTANT_SESSION_LENGTH = timedelta(hours=2)


def _log(event: str, session: VideoSession, actor: User | None, **extra: Any) -> None:
    if event == "scheduled" and extra.get("kind") == "instant":
        record(actor, "videoconference.session.instant_started", session, **extra)
    else:
        record(actor, f"videoconference.session.{event}", session, **extra)
    logger.info(
        "videoconference.session.%s",
        event,
        extra={
            "event": f"videoconference.session.{event}",
            "session_id": session.pk,
            "user_id": actor.pk if actor else None,
            **extra,
        },
    )


def _lock_for_host(session: VideoSession, actor: User | None) -> VideoSession:
    """The session re-read under a row lock (concurrent host actions queue up), after checking
    that `actor` may host it; `None` is the system, which may."""
    locked = VideoSession.objects.select_for_update().get(pk=session.pk)
    if actor is not None and not policies.can_host(actor, locked):
        raise HostNotAllowed()
    return locked


@transaction.atomic
def schedule_session(
    *,
    actor: User,
    course: Course,
    title: str,
    starts_at: datetime,
    ends_at: datetime,
    description: str = "",
    join_policy: str = VideoSession.JoinPolicy.MEMBERS,
    participant_cap: int = 50,
) -> VideoSession:
    if not policies.can_schedule(actor, course):
        raise HostNotAllowed()
    session = VideoSession(
        course=course,
        host=actor,
        title=title,
        description=description,
        kind=VideoSession.Kind.SCHEDULED,
        starts_at=starts_at,
        ends_at=ends_at,
        join_policy=join_policy,
        participant_cap=participant_cap,
    )
    session.full_clean()
    session.save()
    _log("scheduled", session, actor, course_id=course.pk)
    enqueue_on_commit(tasks.notify_session_scheduled, session.pk, actor.pk)
    return session


EDITABLE_FIELDS = ("title", "description", "starts_at", "ends_at", "join_policy", "participant_cap")


@transaction.atomic
def update_session(*, actor: User, session: VideoSession, **changes: Any) -> VideoSession:
    session = _lock_for_host(session, actor)
    if session.is_over:
        raise SessionEnded()
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise InvalidSchedule(_("Those fields cannot be changed."))
    noticed = sorted(
        name
        for name in tasks.NOTICED_CHANGES
        if name in changes and getattr(session, name) != changes[name]
    )
    for name, value in changes.items():
        setattr(session, name, value)
    session.full_clean()
    session.save()
    _log("changed", session, actor, fields=sorted(changes))
    if noticed:
        enqueue_on_commit(
            tasks.notify_session_changed,
            session.pk,
            actor.pk,
            noticed,
            stamp(session.updated_at),
        )
    return session


@transaction.atomic
def cancel_session(*, actor: User, session: VideoSession) -> VideoSession:
    session = _lock_for_host(session, actor)
    if session.status != VideoSession.Status.SCHEDULED:
        raise InvalidSchedule(_("Only a session that has not started can be cancelled."))
    session.status = VideoSession.Status.CANCELLED
    session.save(update_fields=["status", "updated_at"])
    _log("cancelled", session, actor)
    enqueue_on_commit(tasks.notify_session_cancelled, session.pk, actor.pk)
    return session


@transaction.atomic
def start_session(*, actor: User, session: VideoSession) -> VideoSession:
    """Open the room. Starting a live session again is harmless (idempotent)."""
    session = _lock_for_host(session, actor)
    if session.is_over:
        raise SessionEnded()
    if session.status == VideoSession.Status.LIVE:
        return session
    now = timezone.now()
    session.status = VideoSession.Status.LIVE
    session.started_at = now
    if session.ends_at <= now:
        session.ends_at = now + INSTANT_SESSION_LENGTH
    session.save(update_fields=["status", "started_at", "ends_at", "updated_at"])
    _log("started", session, actor)
    if session.course_id is not None:
        enqueue_on_commit(tasks.notify_session_started, session.pk, actor.pk)
    return session


@transaction.atomic
def start_instant_session(
    *,
    host: User,
    title: str = "",
    course: Course | None = None,
    join_policy: str = VideoSession.JoinPolicy.LINK,
    participant_cap: int = 50,
) -> VideoSession:
    """Create a session that is live at once; only instructors (of `course`, if given) and staff."""
    allowed = policies.can_schedule(host, course) if course else policies.can_start_instant(host)
    if not allowed:
        raise HostNotAllowed()
    now = timezone.now()
    session = VideoSession(
        course=course,
        host=host,
        title=title or _("Instant session by %(name)s") % {"name": host.display_name or host.email},
        kind=VideoSession.Kind.INSTANT,
        starts_at=now,
        ends_at=now + INSTANT_SESSION_LENGTH,
        status=VideoSession.Status.LIVE,
        started_at=now,
        join_policy=join_policy,
        participant_cap=participant_cap,
    )
    session.full_clean()
    session.save()
    _log("scheduled", session, host, kind="instant")
    _log("started", session, host)
    if course is not None:
        enqueue_on_commit(tasks.notify_session_started, session.pk, host.pk)
    return session


@transaction.atomic
def end_session(*, actor: User | None, session: VideoSession) -> VideoSession:
    """End for everyone: every connection in every process is told and closed (4409).

    `actor=None` is the system (a session past its end time); otherwise the actor must host.
    Ending twice is harmless.
    """
    session = _lock_for_host(session, actor)
    if session.is_over:
        return session
    now = timezone.now()
    session.status = VideoSession.Status.ENDED
    session.ended_at = now
    if session.started_at is None:
        session.started_at = now
    session.save(update_fields=["status", "ended_at", "started_at", "updated_at"])
    closed = Attendance.objects.filter(session=session, left_at__isnull=True).update(left_at=now)
    _log("ended", session, actor, connections_closed=closed)
    session_id = session.pk
    transaction.on_commit(lambda: realtime.end_room(session_id))
    return session
