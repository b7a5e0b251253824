"""The per-user WebSocket group: new notifications and unread counts reach every open tab of a
person, in every server process (through the channel layer; Redis in production)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

# Event type (Channels calls the consumer method `notification_event`).
NOTIFICATION_EVENT = "notification.event"


def user_group(user_id: int) -> str:
    return f"notifications.user.{user_id}"


def push(frames: Iterable[tuple[int, dict[str, Any]]]) -> None:
    """Send each `(user_id, frame)` to that user's group, all in one event loop."""
    pending = list(frames)
    if not pending:
        return
    layer = get_channel_layer()
    assert layer is not None

    async def send_all() -> None:
        for user_id, frame in pending:
            await layer.group_send(
                user_group(user_id), {"type": NOTIFICATION_EVENT, "frame": frame}
            )

    async_to_sync(send_all)()
