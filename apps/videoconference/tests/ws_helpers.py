"""Talking to the signaling socket in tests, through `config.asgi.application` (what uvicorn
serves): origin check, session-cookie authentication and routing included."""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import channel_layers
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.db import connections
from django.test import Client

from config.asgi import application

TIMEOUT = 5.0


def run(scenario: Callable[[], Awaitable[Any]]) -> Any:
    """Run an async scenario from a plain pytest test, in an event loop of its own.

    The scenario gets a new channel-layer object: channels-redis keeps locks and connections
    that belong to the loop that made them ("bound to a different event loop" otherwise), and
    the in-memory layer would carry groups and queued messages from one scenario into the next.
    """
    channel_layers.backends = {}
    try:
        return async_to_sync(scenario)()
    finally:
        channel_layers.backends = {}


def cookie_for(user: Any) -> str:
    """The session cookie of `user` signed in.

    Safe to call inside a scenario: the login runs on a thread of its own whose database
    connection is closed afterwards (a connection opened on the event loop's thread would
    outlive the test and block dropping the test database).
    """

    def login() -> str:
        try:
            client = Client()
            client.force_login(user)
            return client.cookies[settings.SESSION_COOKIE_NAME].value
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return f"{settings.SESSION_COOKIE_NAME}={pool.submit(login).result()}"


class Peer:
    """One browser tab's signaling socket."""

    def __init__(
        self,
        token: str,
        *,
        cookie: str | None = None,
        origin: str | None = "http://testserver",
        path: str | None = None,
    ) -> None:
        headers = [(b"host", b"testserver")]
        if origin is not None:
            headers.append((b"origin", origin.encode()))
        if cookie is not None:
            headers.append((b"cookie", cookie.encode()))
        self.socket = WebsocketCommunicator(
            application, path or f"/ws/videoconference/{token}/", headers=headers
        )
        self.welcome: dict[str, Any] = {}
        self.close_code: int | None = None
        self.close_reason: str | None = None

    @property
    def peer_id(self) -> str:
        return str(self.welcome["peer_id"])

    async def open(self) -> bool:
        connected, code = await self.socket.connect(timeout=TIMEOUT)
        if not connected:
            self.close_code = code
        return bool(connected)

    async def join(self) -> dict[str, Any]:
        """Connect and return the welcome."""
        assert await self.open(), f"handshake refused ({self.close_code})"
        self.welcome = await self.expect("welcome")
        return self.welcome

    async def send(self, frame: dict[str, Any]) -> None:
        await self.socket.send_json_to(frame)

    async def send_text(self, text: str) -> None:
        # Straight to the application: the communicator's send_to refuses empty frames,
        # which are legal WebSocket frames.
        await self.socket.send_input({"type": "websocket.receive", "text": text})

    async def send_bytes(self, data: bytes) -> None:
        await self.socket.send_input({"type": "websocket.receive", "bytes": data})

    async def receive(self, timeout: float = TIMEOUT) -> dict[str, Any]:
        """The next frame; a close is returned as `{"type": "<close>", "code": ...}`."""
        output = await self.socket.receive_output(timeout)
        if output["type"] == "websocket.close":
            self.close_code = output.get("code")
            self.close_reason = output.get("reason")
            return {"type": "<close>", "code": self.close_code}
        if output["type"] != "websocket.send":
            raise AssertionError(f"unexpected ASGI message {output}")
        frame: dict[str, Any] = json.loads(output["text"])
        return frame

    async def expect(
        self, frame_type: str, *, timeout: float = TIMEOUT, skip: tuple[str, ...] = ("ping",)
    ) -> dict[str, Any]:
        """The next frame, which must be of `frame_type` (pings are skipped)."""
        deadline = time.monotonic() + timeout
        while True:
            frame = await self.receive(max(0.01, deadline - time.monotonic()))
            if frame["type"] in skip:
                continue
            assert frame["type"] == frame_type, f"expected {frame_type}, got {frame}"
            return frame

    async def wait_for(
        self,
        predicate: Callable[[dict[str, Any]], bool],
        *,
        timeout: float = TIMEOUT,
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """Read frames until one matches; returns it and the frames seen before it."""
        deadline = time.monotonic() + timeout
        seen: list[dict[str, Any]] = []
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no matching frame within {timeout}s; saw {seen}")
            frame = await self.receive(remaining)
            if predicate(frame):
                return frame, seen
            if frame["type"] == "<close>":
                raise AssertionError(f"closed ({frame['code']}) before a match; saw {seen}")
            seen.append(frame)

    async def expect_close(self, *, timeout: float = TIMEOUT) -> tuple[int | None, list[Any]]:
        """Read until the server closes; returns the close code and the frames before it."""
        frame, seen = await self.wait_for(lambda f: f["type"] == "<close>", timeout=timeout)
        return frame["code"], seen

    async def close(self) -> None:
        await self.socket.disconnect()


async def refused(peer: Peer) -> tuple[int | None, list[dict[str, Any]]]:
    """Connect a peer the server refuses: the code it closed with and the frames before it."""
    if not await peer.open():
        return peer.close_code, []
    return await peer.expect_close()
