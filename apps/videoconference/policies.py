"""Who may schedule, host and join live sessions; the one loader views and the consumer share.

Holding a meeting token proves nothing but knowledge of the link: a token that matches no session
is "no such session" (404 / close 4404); a session the user may not enter is "not allowed"
(403 / close 4403). The token carries 256 random bits, so ids cannot be probed through it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from apps.accounts.policies import has_role, is_staff
from apps.accounts.roles import Role
from apps.core.errors import NotSignedIn
from apps.core.tokens import is_token
from apps.courses.models import Course, Enrollment
from apps.courses.policies import is_instructor_of
from apps.videoconference.errors import (
    HostNotAllowed,
    JoinNotAllowed,
    SessionEnded,
    SessionNotFound,
    SessionNotLive,
)
from apps.videoconference.models import VideoSession


def _signed_in(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and user.is_active


def can_schedule(user: Any, course: Course) -> bool:
    """A course's own instructors (holding the instructor role) and staff."""
    return is_staff(user) or (has_role(user, Role.INSTRUCTOR) and is_instructor_of(user, course))


def can_start_instant(user: Any) -> bool:
    return _signed_in(user) and has_role(user, Role.INSTRUCTOR)


def can_host(user: Any, session: VideoSession) -> bool:
    """Start, end, mute, remove, admit: the course's instructors and staff; for an instant
    session without a course, the person who started it (and staff)."""
    if not _signed_in(user):
        return False
    if is_staff(user):
        return True
    if session.course_id is not None:
        return can_schedule(user, session.course)  # type: ignore[arg-type]
    return bool(user.pk == session.host_id and has_role(user, Role.INSTRUCTOR))


def is_course_member(user: Any, session: VideoSession) -> bool:
    if session.course_id is None or not _signed_in(user):
        return False
    return Enrollment.objects.filter(
        course_id=session.course_id,
        student=user,
        status__in=Enrollment.MEMBER_STATUSES,
    ).exists()


@dataclass(frozen=True)
class JoinTicket:
    """What `get_session_for_join` grants: the session, the role and whether a host must admit."""

    session: VideoSession
    is_host: bool
    needs_admission: bool

    @property
    def role(self) -> str:
        return "host" if self.is_host else "participant"


def may_join(user: Any, session: VideoSession) -> JoinTicket | None:
    """The user's ticket into `session` (whatever its status), or None when they may not enter.

    Hosts always enter. Members-only sessions admit active (or completed) enrollees; "link"
    sessions anyone signed in; "lobby" sessions anyone signed in, after a host admits them.
    """
    if not _signed_in(user):
        return None
    if can_host(user, session):
        return JoinTicket(session=session, is_host=True, needs_admission=False)
    policy = session.join_policy
    if policy == VideoSession.JoinPolicy.LOBBY:
        return JoinTicket(session=session, is_host=False, needs_admission=True)
    if policy == VideoSession.JoinPolicy.LINK or is_course_member(user, session):
        return JoinTicket(session=session, is_host=False, needs_admission=False)
    return None


def load_session(token: str) -> VideoSession:
    session = (
        VideoSession.objects.select_related("course", "host").filter(meeting_token=token).first()
        if is_token(token)
        else None
    )
    if session is None:
        raise SessionNotFound()
    return session


def get_session_for_join(*, user: Any, token: str, require_live: bool = True) -> JoinTicket:
    """The one loader for the join page and the signaling socket.

    Raises NotSignedIn, SessionNotFound, JoinNotAllowed, and with `require_live`
    SessionNotLive (not started yet) or SessionEnded (ended or cancelled).
    """
    if not _signed_in(user):
        raise NotSignedIn()
    session = load_session(token)
    ticket = may_join(user, session)
    if ticket is None:
        raise JoinNotAllowed()
    if require_live:
        if session.is_over:
            raise SessionEnded()
        if not session.is_live:
            raise SessionNotLive()
    return ticket


def get_session_for_host(*, user: Any, token: str) -> VideoSession:
    """A session the user may start, end or report on; others get the same refusal as joiners."""
    if not _signed_in(user):
        raise NotSignedIn()
    session = load_session(token)
    if not can_host(user, session):
        if may_join(user, session) is None:
            raise JoinNotAllowed()
        raise HostNotAllowed()
    return session
