"""Browser test harness: the real ASGI app under uvicorn, Chromium through Playwright, fast sign-in.

The server runs in a thread of the test process, so it reads the same test database (a file
SQLite database, or PostgreSQL with DATABASE_URL) and the same cache as the test itself. Tests that
use it must see committed data, hence `live_url` depends on pytest-django's `transactional_db`.
"""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from functools import partial
from http.client import HTTPConnection
from pathlib import Path
from typing import Any, TypeVar

import pytest
from channels.db import database_sync_to_async

CHROMIUM_PATH = Path(os.environ.get("CHROMIUM_PATH", "/usr/lib/chromium/chromium"))
CHROMIUM_ARGS = [
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SERVER_START_TIMEOUT_SECONDS = 20.0


class LiveServer:
    """uvicorn serving `config.asgi.application` on 127.0.0.1 from a background thread."""

    def __init__(self) -> None:
        import uvicorn

        from config.asgi import application

        # Bind first and hand uvicorn the socket: the port is ours, no pick-then-bind race.
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.socket.bind(("127.0.0.1", 0))
        self.host, self.port = self.socket.getsockname()
        self.url = f"http://{self.host}:{self.port}"
        config = uvicorn.Config(
            application,
            lifespan="off",
            log_level="warning",
            server_header=False,  # as `make run` and the deployment docs: no version banner
            # uvicorn's own dictConfig would replace the logging Django configured for tests.
            log_config=None,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run,
            kwargs={"sockets": [self.socket]},
            daemon=True,
            name="uvicorn-live-server",
        )

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + SERVER_START_TIMEOUT_SECONDS
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            if not self.thread.is_alive():
                raise RuntimeError("The uvicorn live server thread exited during startup.")
            if self.server.started:
                # /healthz touches no database, so it answers outside a test's DB access.
                connection = HTTPConnection(self.host, self.port, timeout=2)
                try:
                    connection.request("GET", "/healthz")
                    if connection.getresponse().status == 200:
                        return
                except OSError as exc:
                    last_error = exc
                finally:
                    connection.close()
            time.sleep(0.02)  # a polling interval, not a wait for timing
        self.stop()
        raise RuntimeError(f"The live server at {self.url} did not become ready: {last_error!r}")

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.socket.close()


@pytest.fixture(scope="session")
def _live_server(django_db_setup: None) -> Iterator[LiveServer]:
    """One server for the session, started once the test database exists."""
    server = LiveServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def live_url(_live_server: LiveServer, transactional_db: None) -> str:
    """Base URL of the live ASGI server; the test's data is committed so the server sees it."""
    return _live_server.url


def _chromium_missing(reason: str) -> None:
    """Fail, never skip: a browser test that does not run proves nothing. `make test` installs
    Chromium through apt when it can (root); otherwise the message says how."""
    pytest.fail(
        f"{reason} The browser tests need Debian's Chromium: run `make test` as root (it installs "
        f"it) or `sudo apt-get install -y chromium`.",
        pytrace=False,
    )


@pytest.fixture
def browser() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright (never `playwright install`).

    Per test, not per session: while Playwright's sync API is running, the main thread looks
    like it has a running event loop, so any later test calling `async_to_sync` (Channels,
    Django's async paths) would fail. A Chromium launch costs a fraction of a second.
    """
    if not CHROMIUM_PATH.exists():
        _chromium_missing(f"Chromium executable not found at {CHROMIUM_PATH}.")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _chromium_missing("The Python package playwright is not installed; Chromium cannot run.")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM_PATH), args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def new_context(browser: Any, live_url: str) -> Iterator[Callable[..., Any]]:
    """Factory for browser contexts (one per user: separate cookies); all closed after the test."""
    contexts: list[Any] = []

    def make(**kwargs: Any) -> Any:
        kwargs.setdefault("base_url", live_url)
        context = browser.new_context(**kwargs)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


def sign_in(context: Any, user: Any, base_url: str) -> None:
    """Sign `user` in to `context` without the login form: a real session, cookie copied over."""
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    session_cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": session_cookie.value,
                "url": base_url,
                "httpOnly": True,
                "sameSite": "Lax",
            }
        ]
    )


def poll(predicate: Callable[[], Any], *, timeout: float = 10.0, message: str = "") -> Any:
    """Return the first truthy value of `predicate()`, or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            pytest.fail(message or f"Condition not met within {timeout} s", pytrace=False)
        time.sleep(0.02)  # a polling interval, not a wait for timing


@pytest.fixture
def catalog(live_url: str) -> Any:
    """Two published courses; the first has a free preview with a real WebM video and captions.

    Uploaded files go to the per-test MEDIA_ROOT (see the root conftest), which the live server
    serves, so nothing outlives the test.
    """
    from tests.e2e.course_data import build_catalog

    return build_catalog()


SERVER_CALL_TIMEOUT_SECONDS = 10.0
_T = TypeVar("_T")


def in_the_server(server: LiveServer, service: Callable[..., _T], **kwargs: Any) -> _T:
    """Run a service call on the live server's event loop, as a task in a web process would.

    Services that push to open tabs (`notify()`, `mark_read()`) go through the channel layer
    that serves the page's socket. Called from the test thread instead, they could not:
    Playwright's loop occupies that thread (async_to_sync refuses to run there), and the
    in-memory layer (the default configuration) must be used from the loop that reads it.
    """
    loop = server.server.servers[0].get_loop()
    call = database_sync_to_async(partial(service, **kwargs))()
    return asyncio.run_coroutine_threadsafe(call, loop).result(SERVER_CALL_TIMEOUT_SECONDS)
