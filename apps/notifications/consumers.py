"""`/ws/notifications/`: one socket per open tab of a signed-in person; the server pushes
`notification` (something new, with the unread count) and `unread` (the count changed, e.g.
read in another tab). The client only ever sends `ping`."""

from __future__ import annotations

import json
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from apps.core.errors import InvalidInput, RateLimited
from apps.core.ratelimit import RateLimiter, Verdict
from apps.core.responses import error_frame
from apps.notifications.realtime import user_group
from apps.notifications.selectors import unread_count

MAX_FRAME_BYTES = 1024
# As the call socket (docs/signaling.md): a client that keeps flooding is closed with 4429.
RATE_LIMITED_CLOSE_CODE = 4429


class NotificationsConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            # Accept first: a close before the handshake reaches a browser as 1006, and the
            # page could not tell "signed out, stop retrying" (4401) from a network failure.
            await self.accept()
            await self.close(code=4401)
            return
        # The same token bucket as the call socket (SIGNALING_RATE_*): a tab pings every
        # half minute, so anything near the limit is a misbehaving client.
        self.limiter = RateLimiter(
            rate=settings.SIGNALING_RATE_PER_SECOND, burst=settings.SIGNALING_RATE_BURST
        )
        self.group = user_group(user.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        # The count as of now: a tab that reconnects after a gap catches up at once.
        unread = await database_sync_to_async(unread_count)(user.pk)
        await self.send_json({"type": "unread", "unread": unread})

    async def disconnect(self, code: int) -> None:
        group = getattr(self, "group", None)
        if group:
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive(
        self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any
    ) -> None:
        limiter: RateLimiter | None = getattr(self, "limiter", None)
        if limiter is None:
            return  # refused at connect; the close is on its way
        verdict = limiter.check()
        if verdict is Verdict.CLOSE:
            await self.close(code=RATE_LIMITED_CLOSE_CODE)
            return
        if verdict is not Verdict.ALLOW:
            if verdict is Verdict.DROP_AND_TELL:
                await self.send_json(error_frame(RateLimited()))
            return
        if text_data is None or len(text_data) > MAX_FRAME_BYTES:
            await self.send_json(
                error_frame(InvalidInput(_("Send short JSON text frames."), code="invalid_frame"))
            )
            return
        try:
            content = json.loads(text_data)
        except ValueError:
            content = None
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"type": "pong"})
            return
        await self.send_json(
            error_frame(InvalidInput(_("Unknown message type."), code="unknown_type"))
        )

    async def notification_event(self, event: dict[str, Any]) -> None:
        await self.send_json(event["frame"])
