"""Room membership writes and reads: join, leave, lobby, host actions, state, chat, liveness.

Synchronous services (the consumer calls them through `database_sync_to_async`). The room is
the session's connected Attendance rows, so every process sees the same room; nothing here is
kept in memory between calls. Joins and admissions lock the session row, which serializes them
per session: of two peers joining at once exactly one sees the other in its `welcome`, the other
hears `peer-joined` — the rule that decides who sends the offer.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.activity.services import record
from apps.videoconference import protocol
from apps.videoconference.errors import (
    HostNotRemovable,
    JoinNotAllowed,
    PeerNotFound,
    SessionEnded,
    SessionFull,
    SessionNotLive,
)
from apps.videoconference.models import Attendance, ChatMessage, VideoSession

logger = logging.getLogger(__name__)

PEER_FIELDS = (
    "pk",
    "peer_id",
    "channel_name",
    "role",
    "audio",
    "video",
    "screen",
    "hand",
    "user_id",
    "user__display_name",
)


@dataclass(frozen=True)
class Entry:
    """What a connection learns when it enters the room (or waits in the lobby)."""

    attendance_id: int
    peer_id: str
    admitted: bool
    peer: dict[str, Any]
    peers: list[dict[str, Any]] = field(default_factory=list)
    channels: dict[str, str] = field(default_factory=dict)  # peer_id -> channel name
    chat: list[dict[str, Any]] = field(default_factory=list)
    lobby: list[dict[str, Any]] | None = None  # hosts only


@dataclass(frozen=True)
class Gone:
    """A connection that left the room; the others hear `peer-left` (or hosts `lobby-left`)."""

    peer_id: str
    admitted: bool
    channel_name: str = ""


@dataclass(frozen=True)
class Beat:
    """The outcome of one heartbeat: is this connection still in the room, and who died."""

    alive: bool
    fate: str = ""  # when not alive: "ended", "removed" or "gone"
    swept: list[Gone] = field(default_factory=list)


def display_name(name: str | None) -> str:
    return name or _("Guest")


def _log(event: str, *, session_id: int, user_id: int | None, peer_id: str, **extra: Any) -> None:
    logger.info(
        "videoconference.peer.%s",
        event,
        extra={
            "event": f"videoconference.peer.{event}",
            "session_id": session_id,
            "user_id": user_id,
            "peer_id": peer_id,
            **extra,
        },
    )


def _fresh_since() -> datetime:
    """Rows not seen since then belong to connections whose process died."""
    return timezone.now() - timedelta(seconds=settings.SIGNALING_PEER_TIMEOUT_SECONDS)


def _peer_dict(row: dict[str, Any]) -> dict[str, Any]:
    return protocol.peer(
        peer_id=row["peer_id"],
        user_id=row["user_id"],
        name=display_name(row["user__display_name"]),
        role=row["role"],
        audio=row["audio"],
        video=row["video"],
        screen=row["screen"],
        hand=row["hand"],
    )


def _connected(session_id: int) -> Any:
    return Attendance.objects.filter(
        session_id=session_id, left_at__isnull=True, last_seen__gte=_fresh_since()
    )


def peers_in(session_id: int, *, exclude: int | None = None) -> list[dict[str, Any]]:
    """Admitted, connected peers (PEER dicts plus `channel_name`, `pk`), oldest first."""
    rows = _connected(session_id).filter(admitted=True)
    if exclude is not None:
        rows = rows.exclude(pk=exclude)
    return list(rows.order_by("joined_at", "id").values(*PEER_FIELDS))


def lobby_of(session_id: int) -> list[dict[str, Any]]:
    """PEER dicts of the peers waiting for a host to admit them."""
    rows = _connected(session_id).filter(admitted=False).order_by("joined_at", "id")
    return [_peer_dict(row) for row in rows.values(*PEER_FIELDS)]


def recent_chat(
    session_id: int, *, limit: int = protocol.CHAT_HISTORY_SIZE
) -> list[dict[str, Any]]:
    """The last `limit` chat messages nobody removed, oldest first, as chat frames."""
    rows = (
        ChatMessage.objects.filter(session_id=session_id, removed_at__isnull=True)
        .order_by("-sent_at", "-id")
        .values("id", "author_id", "author__display_name", "text", "sent_at")[:limit]
    )
    return [
        protocol.chat_frame(
            message_id=row["id"],
            sender=None,
            user_id=row["author_id"],
            name=display_name(row["author__display_name"]),
            text=row["text"],
            sent_at=row["sent_at"].isoformat(),
        )
        for row in reversed(list(rows))
    ]


def _check_capacity(session: VideoSession) -> None:
    present = _connected(session.pk).filter(admitted=True).count()
    if present >= session.participant_cap:
        raise SessionFull()


def _lock_live_session(session_id: int) -> VideoSession:
    session = (
        VideoSession.objects.select_for_update()
        .only("id", "status", "participant_cap")
        .get(pk=session_id)
    )
    if session.is_over:
        raise SessionEnded()
    if not session.is_live:
        raise SessionNotLive()
    return session


def _entry(attendance: Attendance, *, name: str, is_host: bool) -> Entry:
    me = _peer_dict(
        {
            "peer_id": attendance.peer_id,
            "user_id": attendance.user_id,
            "user__display_name": name,
            "role": attendance.role,
            "audio": attendance.audio,
            "video": attendance.video,
            "screen": attendance.screen,
            "hand": attendance.hand,
        }
    )
    if not attendance.admitted:
        return Entry(
            attendance_id=attendance.pk, peer_id=attendance.peer_id, admitted=False, peer=me
        )
    rows = peers_in(attendance.session_id, exclude=attendance.pk)
    return Entry(
        attendance_id=attendance.pk,
        peer_id=attendance.peer_id,
        admitted=True,
        peer=me,
        peers=[_peer_dict(row) for row in rows],
        channels={row["peer_id"]: row["channel_name"] for row in rows},
        chat=recent_chat(attendance.session_id),
        lobby=lobby_of(attendance.session_id) if is_host else None,
    )


@transaction.atomic
def join(
    *, session: VideoSession, user: Any, channel_name: str, is_host: bool, needs_admission: bool
) -> Entry:
    """Enter the room (or its lobby) with one connection. One user may hold several.

    Raises SessionEnded/SessionNotLive (the session changed since the policy check),
    JoinNotAllowed (removed or denied earlier in this session) or SessionFull.
    """
    locked = _lock_live_session(session.pk)
    if (
        not is_host
        and Attendance.objects.filter(session_id=session.pk, user=user, removed=True).exists()
    ):
        raise JoinNotAllowed()
    admitted = not needs_admission
    if admitted:
        _check_capacity(locked)
    attendance = Attendance.objects.create(
        session_id=session.pk,
        user=user,
        channel_name=channel_name,
        role=Attendance.Role.HOST if is_host else Attendance.Role.PARTICIPANT,
        admitted=admitted,
    )
    _log(
        "joined" if admitted else "waiting",
        session_id=session.pk,
        user_id=user.pk,
        peer_id=attendance.peer_id,
        role=attendance.role,
    )
    return _entry(attendance, name=user.display_name, is_host=is_host)


def waiting_channel(*, session_id: int, peer_id: str) -> str:
    """The channel of a peer waiting in the lobby, checking a host may admit them now.

    Raises PeerNotFound or SessionFull. The admission itself happens in `admit`, run by the
    waiting peer's own connection, so it is serialized with joins like a join.
    """
    row = (
        _connected(session_id)
        .filter(peer_id=peer_id, admitted=False)
        .values_list("channel_name", flat=True)
        .first()
    )
    if row is None:
        raise PeerNotFound()
    session = VideoSession.objects.only("id", "participant_cap").get(pk=session_id)
    _check_capacity(session)
    return row


@transaction.atomic
def admit(*, attendance_id: int, name: str, is_host: bool, by_user_id: int | None) -> Entry | None:
    """Let a waiting connection into the room; None if it left, was admitted or the room filled."""
    attendance = Attendance.objects.get(pk=attendance_id)
    try:
        session = _lock_live_session(attendance.session_id)
        attendance.refresh_from_db()
        if attendance.admitted or attendance.left_at is not None:
            return None
        _check_capacity(session)
    except (SessionEnded, SessionNotLive, SessionFull) as error:
        logger.info(
            "videoconference.peer.admit_failed",
            extra={
                "event": "videoconference.peer.admit_failed",
                "session_id": attendance.session_id,
                "user_id": attendance.user_id,
                "peer_id": attendance.peer_id,
                "reason": error.code,
            },
        )
        return None
    attendance.admitted = True
    attendance.last_seen = timezone.now()
    attendance.save(update_fields=["admitted", "last_seen"])
    _log(
        "admitted",
        session_id=attendance.session_id,
        user_id=attendance.user_id,
        peer_id=attendance.peer_id,
        by=by_user_id,
    )
    record(
        by_user_id,
        "videoconference.participant.admitted",
        ("videoconference.videosession", attendance.session_id),
        participant=attendance.user_id,
    )
    return _entry(attendance, name=name, is_host=is_host)


@transaction.atomic
def deny(*, session_id: int, peer_id: str, by_user_id: int) -> Gone:
    """Turn a waiting peer away; they cannot knock again in this session."""
    row = (
        Attendance.objects.select_for_update()
        .filter(session_id=session_id, peer_id=peer_id, admitted=False, left_at__isnull=True)
        .first()
    )
    if row is None:
        raise PeerNotFound()
    row.left_at = timezone.now()
    row.removed = True
    row.save(update_fields=["left_at", "removed"])
    _log("denied", session_id=session_id, user_id=row.user_id, peer_id=peer_id, by=by_user_id)
    record(
        by_user_id,
        "videoconference.participant.denied",
        ("videoconference.videosession", session_id),
        participant=row.user_id,
    )
    return Gone(peer_id=peer_id, admitted=False, channel_name=row.channel_name)


@transaction.atomic
def remove(*, session_id: int, peer_id: str, by_user_id: int) -> list[Gone]:
    """Remove a participant — every connection they hold — for the rest of the session."""
    target = (
        Attendance.objects.filter(session_id=session_id, peer_id=peer_id, left_at__isnull=True)
        .only("user_id", "role")
        .first()
    )
    if target is None:
        raise PeerNotFound()
    if target.role == Attendance.Role.HOST:
        raise HostNotRemovable()
    rows = list(
        Attendance.objects.select_for_update()
        .filter(session_id=session_id, user_id=target.user_id, left_at__isnull=True)
        .values("pk", "peer_id", "admitted", "channel_name")
    )
    now = timezone.now()
    Attendance.objects.filter(pk__in=[row["pk"] for row in rows]).update(left_at=now, removed=True)
    record(
        by_user_id,
        "videoconference.participant.removed",
        ("videoconference.videosession", session_id),
        participant=target.user_id,
        connections=len(rows),
    )
    gone = []
    for row in rows:
        _log(
            "removed",
            session_id=session_id,
            user_id=target.user_id,
            peer_id=row["peer_id"],
            by=by_user_id,
        )
        gone.append(
            Gone(peer_id=row["peer_id"], admitted=row["admitted"], channel_name=row["channel_name"])
        )
    return gone


def mute(*, session_id: int, peer_id: str, by_user_id: int) -> str:
    """Turn a peer's audio off (as the others see it); returns its channel for `muted-by-host`."""
    found = (
        _connected(session_id)
        .filter(peer_id=peer_id, admitted=True)
        .values_list("channel_name", "user_id")
        .first()
    )
    if found is None:
        raise PeerNotFound()
    channel, user_id = found
    Attendance.objects.filter(session_id=session_id, peer_id=peer_id).update(audio=False)
    _log("muted", session_id=session_id, user_id=user_id, peer_id=peer_id, by=by_user_id)
    record(
        by_user_id,
        "videoconference.participant.muted",
        ("videoconference.videosession", session_id),
        participant=user_id,
    )
    return channel


def set_state(*, attendance_id: int, changes: dict[str, bool]) -> None:
    """Persist audio/video/screen/hand so peers joining later see it in their welcome."""
    fields = {name: value for name, value in changes.items() if name in protocol.STATE_FIELDS}
    if fields:
        Attendance.objects.filter(pk=attendance_id).update(**fields)


def post_chat(*, session_id: int, user: Any, text: str, sender: str) -> dict[str, Any]:
    """Store a chat message; returns the chat frame everyone receives."""
    message = ChatMessage(session_id=session_id, author=user, text=text)
    # The session and author are known to exist (this connection holds them); validating the
    # foreign keys would cost two queries per message for nothing.
    message.full_clean(exclude=["session", "author"])
    message.save()
    return protocol.chat_frame(
        message_id=message.pk,
        sender=sender,
        user_id=user.pk,
        name=display_name(user.display_name),
        text=message.text,
        sent_at=message.sent_at.isoformat(),
    )


def lookup_channel(*, session_id: int, peer_id: str) -> str | None:
    """The channel of an admitted, connected peer of this session (a relay's cache miss)."""
    channel: str | None = (
        _connected(session_id)
        .filter(peer_id=peer_id, admitted=True)
        .values_list("channel_name", flat=True)
        .first()
    )
    return channel


def leave(*, attendance_id: int, session_id: int, user_id: int, peer_id: str, reason: str) -> bool:
    """Mark the connection gone; True if this call did it (idempotent: later calls say False)."""
    left = Attendance.objects.filter(pk=attendance_id, left_at__isnull=True).update(
        left_at=timezone.now()
    )
    if left:
        _log("left", session_id=session_id, user_id=user_id, peer_id=peer_id, reason=reason)
    return bool(left)


def heartbeat(*, attendance_id: int, session_id: int) -> Beat:
    """Record that this connection is alive and sweep rows whose process died.

    Two statements when nothing died: the touch and the stale query.
    """
    now = timezone.now()
    alive = Attendance.objects.filter(pk=attendance_id, left_at__isnull=True).update(last_seen=now)
    if not alive:
        return Beat(alive=False, fate=_fate(attendance_id))
    return Beat(alive=True, swept=sweep_stale(session_id=session_id, now=now))


def _fate(attendance_id: int) -> str:
    row = Attendance.objects.filter(pk=attendance_id).values("removed", "session__status").first()
    if row is None:
        return "gone"
    if row["session__status"] in VideoSession.OVER_STATUSES:
        return "ended"
    return "removed" if row["removed"] else "gone"


def sweep_stale(*, session_id: int, now: datetime | None = None) -> list[Gone]:
    """Mark left the session's rows nobody has touched within the peer timeout."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.SIGNALING_PEER_TIMEOUT_SECONDS)
    stale = list(
        Attendance.objects.filter(
            session_id=session_id, left_at__isnull=True, last_seen__lt=cutoff
        ).values("pk", "peer_id", "admitted", "user_id")
    )
    gone = []
    for row in stale:
        # Several processes may sweep at once; only the one whose update lands reports it.
        if Attendance.objects.filter(
            pk=row["pk"], left_at__isnull=True, last_seen__lt=cutoff
        ).update(left_at=now):
            _log(
                "left",
                session_id=session_id,
                user_id=row["user_id"],
                peer_id=row["peer_id"],
                reason="stale",
            )
            gone.append(Gone(peer_id=row["peer_id"], admitted=row["admitted"]))
    return gone
