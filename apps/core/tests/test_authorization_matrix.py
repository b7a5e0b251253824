"""The authorization matrix (OWASP ASVS V8): every route of the site, for every role.

`apps/core/tests/matrix.py` holds the rows (what each role must get from each URL pattern and
WebSocket route) and the world of data they ask about. These tests check that every route has a
row and no row is stale, that each role gets its row's answer, and that a route asked with
another course's or another person's object is refused (403/404, never 200). A known hole is
marked on its row (`bugs`) and shows up as a strict xfail below until it is fixed.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from django.db import transaction
from django.test import Client
from django.urls import reverse

from apps.core.tests import matrix
from apps.core.tests.matrix import ACCEPT, ROLES, Route, Row, World
from apps.videoconference.tests.ws_helpers import Peer, cookie_for, run

HTTP_ROUTES = matrix.http_routes()
WS_ROUTES = matrix.ws_routes()
HTTP_ROWS, HTTP_MISSING, HTTP_STALE = matrix.assign(HTTP_ROUTES, matrix.ROWS)
WS_ROWS, WS_MISSING, WS_STALE = matrix.assign(WS_ROUTES, matrix.WS_ROWS)

# What the matrix covers today; the closing note of the security work quotes these numbers.
# A new route fails test_every_route_has_a_row until it gets a row, and then this count.
EXPECTED_HTTP_ROUTES = 250
EXPECTED_WS_ROUTES = 4

KNOWN_BUGS = [
    (key, role, reason)
    for key, row in sorted(HTTP_ROWS.items())
    for role, reason in row.bugs.items()
]


# --- Coverage ------------------------------------------------------------------------------------


def test_every_route_has_a_row_and_every_row_a_route() -> None:
    assert not HTTP_MISSING, f"URL patterns without a row in matrix.ROWS: {HTTP_MISSING}"
    assert not WS_MISSING, f"WebSocket routes without a row in matrix.WS_ROWS: {WS_MISSING}"
    assert not HTTP_STALE, f"rows in matrix.ROWS that match no URL pattern: {HTTP_STALE}"
    assert not WS_STALE, f"rows in matrix.WS_ROWS that match no WebSocket route: {WS_STALE}"


def test_the_matrix_covers_the_counted_routes() -> None:
    print(  # noqa: T201 - the count the closing note quotes (pytest -s shows it)
        f"authorization matrix: {len(HTTP_ROWS)} URL patterns, {len(WS_ROWS)} WebSocket routes"
    )
    assert len(HTTP_ROWS) == len(HTTP_ROUTES) == EXPECTED_HTTP_ROUTES
    assert len(WS_ROWS) == len(WS_ROUTES) == EXPECTED_WS_ROUTES
    # The families the matrix must reach: allauth, Django admin, and each app's pages.
    keys = " ".join(HTTP_ROWS)
    for fragment in ("account_login", "mfa_index", "admin:index", "courses:roster", "privacy:"):
        assert fragment in keys


# --- HTTP ----------------------------------------------------------------------------------------


def _client(world: World, role: str) -> Client:
    client = Client(raise_request_exception=False)
    if role != "anonymous":
        client.force_login(world.users[role])
    return client


def _url(route: Route, row: Row, world: World, args: Any) -> str:
    if row.admin:
        return matrix.admin_url(route, world)
    value = args(world) if args is not None else {}
    if isinstance(value, str):
        return value
    assert route.name is not None, f"{route.key}: give the URL itself for an unnamed pattern"
    return reverse(route.name, kwargs=value)


def _ask(
    client: Client, method: str, url: str, data: dict[str, Any] | None = None
) -> tuple[int, str]:
    """One request whose writes are rolled back, so no request changes what the next one sees
    (an empty POST that ends a session, drops an enrollment, deletes a lesson)."""
    try:
        with transaction.atomic():
            response = getattr(client, method)(url, data or {})
            transaction.set_rollback(True)
    finally:
        cache.clear()  # cached 2FA state and rate-limit counters written by the request
    return response.status_code, response.get("Location", "")


def _check_role(world: World, role: str) -> tuple[list[str], int, int]:
    client = _client(world, role)
    failures: list[str] = []
    asked = substituted = 0
    for route in HTTP_ROUTES:
        row: Row | None = HTTP_ROWS.get(route.key)
        if row is None:
            failures.append(f"{route.key}: no row (see test_every_route_has_a_row...)")
            continue
        if role in row.bugs:
            continue  # asked by test_known_authorization_bugs
        url = _url(route, row, world, row.args)
        status, location = _ask(client, row.method, url)
        asked += 1
        expect = row.expect[role]
        if not matrix.matches(expect, status, location):
            failures.append(
                f"{route.key} {row.method.upper()} {url}: want {expect!r}, got {status} {location}"
            )
        if row.other is not None and role not in row.other_allowed:
            url = _url(route, row, world, row.other)
            status, location = _ask(client, row.method, url)
            substituted += 1
            if not matrix.refused(role, status, location):
                failures.append(
                    f"{route.key} {row.method.upper()} {url} (another's object): "
                    f"want 403/404, got {status} {location}"
                )
        for alt in row.more:
            if role in alt.allowed:
                continue
            url = _url(route, row, world, alt.args)
            data = alt.data(world) if alt.data else None
            status, location = _ask(client, row.method, url, data)
            substituted += 1
            if not matrix.refused(role, status, location, alt.refused):
                failures.append(
                    f"{route.key} {row.method.upper()} {url} {data or ''} (another's object): "
                    f"want {alt.refused}, got {status} {location}"
                )
    return failures, asked, substituted


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_its_answer_from_every_route(role: str) -> None:
    world = matrix.build_world()
    failures, asked, substituted = _check_role(world, role)
    print(f"{role}: {asked} routes, {substituted} asked with another's object")  # noqa: T201
    assert asked + sum(1 for _, r, _ in KNOWN_BUGS if r == role) == len(HTTP_ROUTES)
    assert not failures, "\n".join(failures)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("key", "role"),
    [
        pytest.param(key, role, marks=pytest.mark.xfail(strict=True, reason=reason))
        for key, role, reason in KNOWN_BUGS
    ]
    or [pytest.param("-", "-", marks=pytest.mark.skip(reason="no known authorization bug"))],
)
def test_known_authorization_bugs(key: str, role: str) -> None:
    world = matrix.build_world()
    route = next(r for r in HTTP_ROUTES if r.key == key)
    row: Row = HTTP_ROWS[key]
    status, location = _ask(_client(world, role), row.method, _url(route, row, world, row.args))
    assert matrix.matches(row.expect[role], status, location), (status, location)


# --- WebSockets ----------------------------------------------------------------------------------


async def _probe(path: str, cookie: str | None) -> str | int | None:
    """`accept` (the route greeted us), or the close code the server answered with."""
    peer = Peer("", cookie=cookie, path=path)
    if not await peer.open():
        return peer.close_code
    try:
        while True:  # a refusal may come as an `error` frame, then the close
            frame = await peer.receive()
            if frame["type"] == "<close>":
                return frame["code"]
            if frame["type"] != "error":
                return ACCEPT  # its greeting: hello, welcome, unread
    finally:
        await peer.close()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_its_answer_from_every_websocket_route(role: str) -> None:
    world = matrix.build_world()
    cookie = None if role == "anonymous" else cookie_for(world.users[role])
    checks: list[tuple[str, str, Any]] = []
    for route in WS_ROUTES:
        row = WS_ROWS[route.key]
        checks.append((route.key, row.path(world), row.expect[role]))
        if row.other is not None and role not in row.other_allowed:
            checks.append((route.key, row.other(world), "refused"))
        if row.unknown is not None:
            checks.append((route.key, row.unknown(world), 4401 if role == "anonymous" else 4404))

    async def scenario() -> list[str]:
        failures = []
        for key, path, expect in checks:
            got = await _probe(path, cookie)
            ok = got in (4401, 4403, 4404) if expect == "refused" else got == expect
            if not ok:
                failures.append(f"{key} {path[:60]}: want {expect}, got {got}")
        return failures

    failures = run(scenario)
    assert not failures, "\n".join(failures)
