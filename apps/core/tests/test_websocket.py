"""The WebSocket stack end to end: origin check, session auth, routing and the ping consumer.

Every test talks to `config.asgi.application`, the object uvicorn serves, not to a bare consumer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client

from config.asgi import application

TIMEOUT = 5


def run(scenario: Callable[[], Awaitable[Any]]) -> Any:
    """Run an async scenario from a plain pytest test (no asyncio plugin needed)."""
    return async_to_sync(scenario)()


def communicator(
    *, origin: str | None = "http://testserver", cookie: str | None = None
) -> WebsocketCommunicator:
    headers = [(b"host", b"testserver")]
    if origin is not None:
        headers.append((b"origin", origin.encode()))
    if cookie is not None:
        headers.append((b"cookie", cookie.encode()))
    return WebsocketCommunicator(application, "/ws/ping/", headers=headers)


async def connect(socket: WebsocketCommunicator) -> dict[str, Any]:
    connected, _subprotocol = await socket.connect(timeout=TIMEOUT)
    assert connected
    return await socket.receive_json_from(timeout=TIMEOUT)


@pytest.mark.parametrize(
    "origin",
    ["http://testserver", "http://127.0.0.1", "http://127.0.0.1:8000", "https://localhost"],
)
@pytest.mark.django_db(transaction=True)
def test_allowed_origin_is_greeted_as_anonymous(origin: str) -> None:
    async def scenario() -> dict[str, Any]:
        socket = communicator(origin=origin)
        try:
            return await connect(socket)
        finally:
            await socket.disconnect()

    assert run(scenario) == {"type": "hello", "authenticated": False}


@pytest.mark.django_db(transaction=True)
def test_signed_in_session_cookie_authenticates_the_socket() -> None:
    user = get_user_model().objects.create_user(
        email="teacher@example.test", password="correct horse battery", display_name="Ada"
    )
    client = Client()
    client.force_login(user)
    session_cookie = (
        f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    )

    async def scenario() -> dict[str, Any]:
        socket = communicator(cookie=session_cookie)
        try:
            return await connect(socket)
        finally:
            await socket.disconnect()

    assert run(scenario) == {"type": "hello", "authenticated": True}


@pytest.mark.django_db(transaction=True)
def test_unknown_session_cookie_is_anonymous() -> None:
    async def scenario() -> dict[str, Any]:
        socket = communicator(cookie=f"{settings.SESSION_COOKIE_NAME}=forged0123456789abcdef")
        try:
            return await connect(socket)
        finally:
            await socket.disconnect()

    assert run(scenario) == {"type": "hello", "authenticated": False}


@pytest.mark.parametrize("origin", ["http://evil.example", "http://testserver.evil.example", None])
@pytest.mark.django_db(transaction=True)  # Channels closes stale DB connections on every event
def test_disallowed_or_missing_origin_is_rejected(origin: str | None) -> None:
    """A page on another site must not open a socket with the visitor's cookies."""

    async def scenario() -> bool:
        socket = communicator(origin=origin)
        connected, _ = await socket.connect(timeout=TIMEOUT)
        await socket.disconnect()
        return connected

    assert run(scenario) is False


@pytest.mark.django_db(transaction=True)
def test_ping_gets_pong() -> None:
    async def scenario() -> list[dict[str, Any]]:
        socket = communicator()
        try:
            await connect(socket)
            replies = []
            for _ in range(2):
                await socket.send_json_to({"type": "ping"})
                replies.append(await socket.receive_json_from(timeout=TIMEOUT))
            return replies
        finally:
            await socket.disconnect()

    assert run(scenario) == [{"type": "pong"}, {"type": "pong"}]


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ({"text_data": "{not json"}, "invalid_json"),
        ({"text_data": "[1, 2]"}, "unknown_type"),
        ({"text_data": '{"type": "shout"}'}, "unknown_type"),
        ({"bytes_data": b"\x00\x01"}, "invalid_frame"),
    ],
)
@pytest.mark.django_db(transaction=True)
def test_unusable_frame_gets_an_error_and_the_socket_stays_open(
    frame: dict[str, Any], code: str
) -> None:
    async def scenario() -> tuple[dict[str, Any], dict[str, Any]]:
        socket = communicator()
        try:
            await connect(socket)
            await socket.send_to(**frame)
            error = await socket.receive_json_from(timeout=TIMEOUT)
            await socket.send_json_to({"type": "ping"})
            after = await socket.receive_json_from(timeout=TIMEOUT)
            return error, after
        finally:
            await socket.disconnect()

    error, after = run(scenario)

    assert error["type"] == "error"
    assert error["code"] == code
    assert error["message"]
    assert after == {"type": "pong"}


@pytest.mark.django_db(transaction=True)  # Channels closes stale DB connections on every event
def test_unknown_websocket_path_is_closed_with_4404() -> None:
    """Accepted, then closed with 4404: a refused handshake would reach the client as HTTP 403."""

    async def scenario() -> tuple[bool, Any]:
        socket = WebsocketCommunicator(
            application, "/ws/nowhere/", headers=[(b"origin", b"http://testserver")]
        )
        connected, _ = await socket.connect(timeout=TIMEOUT)
        closed = await socket.receive_output(TIMEOUT)
        await socket.disconnect()
        return connected, (closed["type"], closed.get("code"))

    assert run(scenario) == (True, ("websocket.close", 4404))
