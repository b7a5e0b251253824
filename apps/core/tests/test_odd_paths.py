"""Odd path segments in every URL pattern and every WebSocket route answer 4xx, never 5xx.

An outside probe found that a NUL byte in a token (`/live/calendar/%00.ics`) reached PostgreSQL,
which refuses NUL in text with an error (a 500). Tokens are now checked for their shape in one
place (`apps.core.tokens`) before any query; this test sends NUL, `%ff`, 10,000 characters,
`..`, other unicode and an encoded slash in place of every path parameter of every route, as a
visitor and signed in, with GET and POST. CI runs it on PostgreSQL and on SQLite.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from apps.accounts.tests.factories import make_user
from config.asgi import application
from config.routing import websocket_urlpatterns

pytestmark = pytest.mark.django_db(transaction=True)

# As a URL carries them (percent-encoded) and as a WebSocket scope carries them (decoded).
ODD_HTTP = ["%00", "%ff", "a" * 10_000, "..", "%E2%9C%93%C3%BC", "%2F", "%00abc%00"]
ODD_WS = ["\x00", "\xff", "a" * 10_000, "..", "✓ü", "a\x00b"]
PARAM = re.compile(r"<(?:[^<>:]+:)?[^<>]+>|\(\?P<[^>]+>[^)]*\)")


def _routes(patterns: list[Any], prefix: str = "") -> Iterator[str]:
    for entry in patterns:
        text = prefix + str(entry.pattern).lstrip("^").rstrip("$").replace("\\Z", "")
        if isinstance(entry, URLResolver):
            yield from _routes(entry.url_patterns, text)
        elif isinstance(entry, URLPattern):
            yield text


def _with_params(routes: Iterator[str]) -> list[str]:
    return sorted({route for route in routes if PARAM.search(route)})


HTTP_ROUTES = _with_params(_routes(get_resolver().url_patterns))
WS_ROUTES = _with_params(_routes(websocket_urlpatterns))


def _fill(route: str, value: str) -> str:
    path = PARAM.sub(value, route)
    # Regex leftovers of re_path patterns (optional groups, escapes) are not part of a URL.
    return "/" + re.sub(r"[\\?]", "", path)


def test_the_probe_covers_the_token_routes_and_the_call_socket() -> None:
    joined = " ".join(HTTP_ROUTES)
    for fragment in ("live/calendar/", "live/s/", "courses/invitations/", "unsubscribe/"):
        assert fragment in joined
    assert any(route.startswith("ws/videoconference/") for route in WS_ROUTES)
    assert len(HTTP_ROUTES) > 30


@pytest.mark.parametrize("signed_in", [False, True], ids=["visitor", "student"])
def test_odd_segments_in_every_url_pattern_answer_4xx(signed_in: bool) -> None:
    client = Client(raise_request_exception=False)
    if signed_in:
        client.force_login(make_user())
    failures = []
    for route in HTTP_ROUTES:
        admin = route.startswith("admin/")
        for value in ODD_HTTP[:3] if admin else ODD_HTTP:
            path = _fill(route, value)
            for method in ("get",) if admin else ("get", "post"):
                status = getattr(client, method)(path).status_code
                if status >= 500:
                    failures.append((method, path[:80], status))
    assert not failures
    assert len(HTTP_ROUTES) > 30


def test_odd_segments_in_every_websocket_route_are_refused_without_a_server_error() -> None:
    async def probe(path: str) -> Any:
        socket = WebsocketCommunicator(
            application, path, headers=[(b"origin", b"http://testserver")]
        )
        connected, code = await socket.connect(timeout=5)
        if connected:
            output = await socket.receive_output(5)
            code = output.get("code")
            await socket.disconnect()
        return code

    codes = {}
    for route in WS_ROUTES:
        for value in ODD_WS:
            path = _fill(route, value)
            codes[path[:60]] = async_to_sync(probe)(path)
    # Refused with a close code the client can act on: 4xxx, or a refused handshake (HTTP 403);
    # 1011 would be a server error.
    assert codes
    assert all(code in (4401, 4403, 4404, 4400) or code is None for code in codes.values()), codes
