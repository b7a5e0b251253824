"""A minimal WebSocket endpoint proving the socket stack (auth, origin check, channel layer)."""

from __future__ import annotations

import json
from typing import Any

from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.utils.translation import gettext_lazy as _

from apps.core.errors import DomainError, InvalidInput
from apps.core.responses import error_frame


class PingConsumer(AsyncJsonWebsocketConsumer):
    """Answers `{"type": "ping"}` with `pong`; tells the client whether it is signed in.

    A frame it cannot use (not JSON, binary, unknown type) gets an `error` frame back and the
    connection stays open: one bad message from a client is not a reason to drop it.
    """

    async def connect(self) -> None:
        user = self.scope.get("user")
        await self.accept()
        await self.send_json(
            {"type": "hello", "authenticated": bool(user and user.is_authenticated)}
        )

    async def receive(
        self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any
    ) -> None:
        try:
            if text_data is None:
                raise InvalidInput(_("Send JSON in text frames."), code="invalid_frame")
            await self.receive_json(await self.decode_json(text_data), **kwargs)
        except DomainError as error:
            await self.send_json(error_frame(error))

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"type": "pong"})
            return
        raise InvalidInput(_("Unknown message type."), code="unknown_type")

    @classmethod
    async def decode_json(cls, text_data: str) -> Any:
        try:
            return json.loads(text_data)
        except ValueError:
            raise InvalidInput(_("That message is not valid JSON."), code="invalid_json") from None


class NoSuchRouteConsumer(AsyncJsonWebsocketConsumer):
    """Closes a connection to an unknown WebSocket path cleanly with 4404 (instead of an error)."""

    async def connect(self) -> None:
        # Accept first: a close before the handshake reaches the client as HTTP 403, and the
        # client could not tell "no such endpoint" (4404, do not retry) from a refusal.
        await self.accept()
        await self.close(code=4404)
