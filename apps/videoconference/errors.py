"""Live-session failures, each with a stable code; WebSocket close codes live in `protocol`."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from apps.core.errors import Conflict, InvalidInput, NotAllowed, NotFound


class SessionNotFound(NotFound):
    code = "no_such_session"
    message = _("There is no live session at this address.")


class JoinNotAllowed(NotAllowed):
    code = "join_not_allowed"
    message = _("You are not allowed to join this session.")


class HostNotAllowed(NotAllowed):
    code = "host_not_allowed"
    message = _("Only the course's instructors and staff may do that.")


class SessionNotLive(Conflict):
    code = "session_not_live"
    message = _("This session is not live yet.")


class SessionEnded(Conflict):
    code = "session_ended"
    message = _("This session has ended.")


class SessionFull(NotAllowed):
    code = "session_full"
    message = _("This session is full.")


class InvalidSchedule(InvalidInput):
    code = "invalid_schedule"
    message = _("Check the session's times.")


class PeerNotFound(NotFound):
    """A signaling frame addressed a peer that is not (or no longer) in the session."""

    code = "no_such_peer"
    message = _("There is no such participant in this session.")


class HostNotRemovable(NotAllowed):
    code = "host_not_removable"
    message = _("A host cannot be removed from the session.")
