"""A minimal WebSocket endpoint proving the socket stack (auth, origin check, channel layer)."""

from __future__ import annotations

from channels.generic.websocket import AsyncJsonWebsocketConsumer


class PingConsumer(AsyncJsonWebsocketConsumer):
    """Answers `{"type": "ping"}` with `pong`; tells the client whether it is signed in."""

    async def connect(self) -> None:
        user = self.scope.get("user")
        await self.accept()
        await self.send_json(
            {"type": "hello", "authenticated": bool(user and user.is_authenticated)}
        )

    async def receive_json(self, content: object, **kwargs: object) -> None:
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"type": "pong"})
        else:
            await self.send_json(
                {"type": "error", "code": "unknown_type", "message": "Unknown message type."}
            )

    @classmethod
    async def decode_json(cls, text_data: str) -> object:
        import json

        try:
            return json.loads(text_data)
        except ValueError:
            return None
