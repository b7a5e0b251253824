"""Channel-layer names and the events consumers exchange; the only way code outside a consumer
talks to a room. Every process shares these through the channel layer (Redis in production)."""

from __future__ import annotations

from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer


def room_group(session_id: int) -> str:
    """Every admitted peer of a session."""
    return f"vc.room.{session_id}"


def hosts_group(session_id: int) -> str:
    """The hosts of a session (lobby knocks go here)."""
    return f"vc.hosts.{session_id}"


def lobby_group(session_id: int) -> str:
    """The peers waiting in a session's lobby (they hear only that the session ended)."""
    return f"vc.lobby.{session_id}"


# Event types (Channels maps "room.ended" to the consumer method `room_ended`).
# ROOM_FRAME: {"frame": {...}} or {"text": encoded frame}, "exclude": peer_id | None, and from the
# signaling consumer "joined": {"peer_id", "channel_name"} or "left": peer_id -> send to clients
ROOM_FRAME = "room.frame"
ROOM_ENDED = "room.ended"  # the session ended: send session-ended, close 4409
PEER_CONTROL = "peer.control"  # {"action": "mute"|"remove"|"admit"|"deny"} to one connection
PEER_RELAY = "peer.relay"  # {"frame": {...}} or {"text": encoded frame} to one connection


async def send_to_room(
    session_id: int, frame: dict[str, Any], *, exclude: str | None = None
) -> None:
    layer = get_channel_layer()
    assert layer is not None
    await layer.group_send(
        room_group(session_id), {"type": ROOM_FRAME, "frame": frame, "exclude": exclude}
    )


def end_room(session_id: int) -> None:
    """Tell every connection of the session, in every process, that it has ended."""
    layer = get_channel_layer()
    assert layer is not None
    async_to_sync(layer.group_send)(room_group(session_id), {"type": ROOM_ENDED})
    async_to_sync(layer.group_send)(hosts_group(session_id), {"type": ROOM_ENDED})
    async_to_sync(layer.group_send)(lobby_group(session_id), {"type": ROOM_ENDED})
