"""Real-process harness for the live-session tests: uvicorn subprocesses serving the test database,
a signaling client speaking the protocol over a real socket, and aiortc peers that use it.

A server here is a separate process (`python -m uvicorn config.asgi:application`), not a thread:
two of them share nothing but the database and the channel layer (Redis), exactly as two
production processes behind a load balancer do. Tests that use one must commit their data
(`@pytest.mark.django_db(transaction=True)`) so the server sees it.
"""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Coroutine, Iterator, Mapping
from http.client import HTTPConnection
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Origin

ROOT = Path(__file__).resolve().parents[3]
SERVER_START_TIMEOUT_SECONDS = 30.0
FRAME_TIMEOUT_SECONDS = 5.0
LOG_TAIL_CHARS = 6000

T = TypeVar("T")


# --- Test data the server reads ---------------------------------------------------------------


def shared_database_url() -> str:
    """DATABASE_URL of the database this pytest process is using (after pytest-django made it)."""
    from django.db import connection

    conf = connection.settings_dict
    name = str(conf["NAME"])
    if conf["ENGINE"] == "django.db.backends.sqlite3":
        if name == ":memory:" or name.startswith("file:"):
            raise RuntimeError(
                "An in-memory SQLite database cannot be shared with a server process."
            )
        return f"sqlite:///{Path(name).resolve()}"
    user = quote(str(conf.get("USER") or ""), safe="")
    password = quote(str(conf.get("PASSWORD") or ""), safe="")
    auth = f"{user}{':' + password if password else ''}@" if user else ""
    host = str(conf.get("HOST") or "")
    port = f":{conf['PORT']}" if conf.get("PORT") else ""
    return f"postgres://{auth}{host}{port}/{quote(name, safe='')}"


def session_cookie(user: Any) -> str:
    """A `Cookie` header value signing `user` in, as the browser would send it."""
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


# --- uvicorn in a subprocess --------------------------------------------------------------------


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def server_env(**overrides: str | None) -> dict[str, str]:
    """The environment of a server process: this one's (REDIS_URL and PYTEST_XDIST_WORKER
    included, so test settings pick the same per-worker Redis databases), pointed at the test
    database. An override of None removes the variable."""
    env = dict(os.environ)
    # The tests' conftest allows sync ORM calls from async code; the server must not get that
    # leniency, or a missing sync_to_async would pass here and fail in production.
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    env["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    env["DATABASE_URL"] = shared_database_url()
    env["PYTHONUNBUFFERED"] = "1"
    for name, value in overrides.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


class ServerProcess:
    """`uvicorn config.asgi:application` on 127.0.0.1 and a free port, output kept in a file."""

    def __init__(self, *, name: str, env: Mapping[str, str], log_dir: Path) -> None:
        self.name = name
        self.env = dict(env)
        self.log_path = log_dir / f"{name}.log"
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def origin(self) -> str:
        return self.url

    def ws_url(self, path: str) -> str:
        return f"ws://127.0.0.1:{self.port}{path}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self) -> ServerProcess:
        # The port is chosen before uvicorn binds it; another process may take it meanwhile,
        # so an "address in use" start is retried on a new port.
        for _attempt in range(3):
            self.port = free_port()
            with self.log_path.open("ab") as log:
                self.process = subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "uvicorn",
                        "config.asgi:application",
                        "--host",
                        "127.0.0.1",
                        "--port",
                        str(self.port),
                        "--lifespan",
                        "off",
                        "--log-level",
                        "warning",
                        "--no-access-log",
                    ],
                    cwd=ROOT,
                    env=self.env,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            if self._wait_ready():
                return self
            if "address already in use" not in self.log().lower():
                break
        output = self.log_tail()
        self.stop()
        raise RuntimeError(f"The server {self.name} did not become ready; its output:\n{output}")

    def _wait_ready(self) -> bool:
        assert self.process is not None
        deadline = time.monotonic() + SERVER_START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            connection = HTTPConnection("127.0.0.1", self.port, timeout=2)
            try:
                connection.request("GET", "/healthz")
                if connection.getresponse().status == 200:
                    return True
            except OSError:
                pass
            finally:
                connection.close()
            time.sleep(0.05)  # a polling interval, not a wait for timing
        return False

    def kill(self) -> None:
        """SIGKILL: the process dies at once, with no chance to tell anyone."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.kill()

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def log_tail(self) -> str:
        text = self.log()
        return text[-LOG_TAIL_CHARS:] if text else "(no output)"

    def assert_no_tracebacks(self) -> None:
        """The server logged no unhandled exception while serving the test."""
        text = self.log()
        assert "Traceback" not in text, f"The server {self.name} logged an exception:\n{text}"


@contextlib.contextmanager
def running_server(*, name: str, log_dir: Path, **env: str | None) -> Iterator[ServerProcess]:
    server = ServerProcess(name=name, env=server_env(**env), log_dir=log_dir).start()
    try:
        yield server
    finally:
        server.stop()


def run_scenario(scenario: Callable[[], Coroutine[Any, Any, T]], *servers: ServerProcess) -> T:
    """Run an async scenario to completion; when it fails, the servers' output is attached."""
    try:
        return asyncio.run(scenario())
    except BaseException as exc:
        for server in servers:
            exc.add_note(f"--- output of server {server.name} ---\n{server.log_tail()}")
        raise


# --- The signaling protocol over a real socket --------------------------------------------------


class SignalingClient:
    """One connection to the signaling server, as a browser tab would hold it.

    A reader task answers the server's `ping` heartbeats with `pong` and keeps every other frame;
    `expect` takes the first kept frame of a type (and field values), waiting up to a deadline.
    """

    def __init__(self, websocket: ClientConnection, *, label: str) -> None:
        self.websocket = websocket
        self.label = label
        self.frames: list[dict[str, Any]] = []
        self.pongs_sent = 0
        self.closed = False
        self.close_code: int | None = None
        self._changed = asyncio.Condition()
        self._reader = asyncio.create_task(self._read(), name=f"reader {label}")

    @classmethod
    async def connect(
        cls, server: ServerProcess, path: str, *, cookie: str | None, label: str
    ) -> SignalingClient:
        headers = {"Cookie": cookie} if cookie else {}
        websocket = await connect(
            server.ws_url(path),
            origin=Origin(server.origin),
            additional_headers=headers,
            open_timeout=FRAME_TIMEOUT_SECONDS,
            compression=None,
        )
        return cls(websocket, label=label)

    async def _read(self) -> None:
        try:
            async for message in self.websocket:
                try:
                    frame = json.loads(message)
                except ValueError:
                    frame = {"type": "<not json>", "raw": message}
                if isinstance(frame, dict) and frame.get("type") == "ping":
                    await self.websocket.send(json.dumps({"type": "pong"}))
                    self.pongs_sent += 1
                    continue
                async with self._changed:
                    self.frames.append(frame if isinstance(frame, dict) else {"raw": frame})
                    self._changed.notify_all()
        except ConnectionClosed:
            pass
        finally:
            async with self._changed:
                self.closed = True
                self.close_code = self.websocket.close_code
                self._changed.notify_all()

    async def send(self, frame: dict[str, Any]) -> None:
        await self.websocket.send(json.dumps(frame))

    async def expect(
        self, frame_type: str, *, timeout: float = FRAME_TIMEOUT_SECONDS, **fields: Any
    ) -> dict[str, Any]:
        """The first frame of `frame_type` whose top-level `fields` have the given values."""

        def matches(frame: dict[str, Any]) -> bool:
            return frame.get("type") == frame_type and all(
                frame.get(key) == value for key, value in fields.items()
            )

        wanted = f"{frame_type!r}" + (f" with {fields}" if fields else "")
        deadline = asyncio.get_running_loop().time() + timeout
        async with self._changed:
            while True:
                for index, frame in enumerate(self.frames):
                    if matches(frame):
                        return self.frames.pop(index)
                if self.closed:
                    raise AssertionError(
                        f"{self.label}: the socket closed (code {self.close_code}) before a "
                        f"{wanted} frame arrived; frames kept: {self.frames}"
                    )
                remaining = deadline - asyncio.get_running_loop().time()
                if remaining <= 0:
                    raise AssertionError(
                        f"{self.label}: no {wanted} frame within {timeout} s; "
                        f"frames kept: {self.frames}"
                    )
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), remaining)

    def kept(self, *frame_types: str) -> list[dict[str, Any]]:
        """Frames received but not yet taken by `expect`, of the given types."""
        return [frame for frame in self.frames if frame.get("type") in frame_types]

    async def wait_closed(self, *, timeout: float = FRAME_TIMEOUT_SECONDS) -> int | None:
        """The close code the server sent, once the socket is closed."""
        await asyncio.wait_for(asyncio.shield(self._reader), timeout)
        return self.close_code

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.websocket.close(), FRAME_TIMEOUT_SECONDS)
        self._reader.cancel()
        with contextlib.suppress(BaseException):
            await self._reader


# --- aiortc peers ---------------------------------------------------------------------------


def loopback_only_ice(monkeypatch: Any) -> None:
    """aioice leaves 127.0.0.1 out of its host candidates; a closed-network test needs it alone."""
    import aioice.ice

    monkeypatch.setattr(aioice.ice, "get_host_addresses", lambda use_ipv4, use_ipv6: ["127.0.0.1"])


def rtc_ice_servers(ice_servers: list[dict[str, Any]]) -> list[Any]:
    """The welcome's RTCIceServer dictionaries as aiortc objects."""
    from aiortc import RTCIceServer

    return [
        RTCIceServer(
            urls=server["urls"],
            username=server.get("username"),
            credential=server.get("credential"),
        )
        for server in ice_servers
    ]


def _solid_track(width: int, height: int) -> Any:
    from aiortc import VideoStreamTrack
    from av import VideoFrame

    class SolidVideoTrack(VideoStreamTrack):
        """A camera stand-in: grey frames of one size at 30 frames per second."""

        async def recv(self) -> VideoFrame:
            pts, time_base = await self.next_timestamp()
            frame = VideoFrame(width=width, height=height, format="yuv420p")
            for plane in frame.planes:
                plane.update(bytes([128]) * plane.buffer_size)
            frame.pts = pts
            frame.time_base = time_base if time_base else fractions.Fraction(1, 90000)
            return frame

    return SolidVideoTrack()


class VideoPeer:
    """An aiortc peer connection that signals through a `SignalingClient` per the contract:
    existing peers offer to a newcomer, the newcomer answers. aiortc gathers every candidate into
    the SDP before it is sent (no trickling), so `ice` frames carry only the end-of-candidates."""

    def __init__(
        self, client: SignalingClient, *, width: int, height: int, configuration: Any
    ) -> None:
        from aiortc import RTCPeerConnection

        self.client = client
        self.pc = RTCPeerConnection(configuration)
        self.pc.addTrack(_solid_track(width, height))
        self.remote_video: asyncio.Queue[Any] = asyncio.Queue()

        @self.pc.on("track")
        def on_track(track: Any) -> None:
            if track.kind == "video":
                self.remote_video.put_nowait(track)

    def _description(self) -> dict[str, str]:
        description = self.pc.localDescription
        return {"type": description.type, "sdp": description.sdp}

    async def offer_to(self, peer_id: str) -> None:
        await self.pc.setLocalDescription(await self.pc.createOffer())
        await self.client.send({"type": "offer", "to": peer_id, "sdp": self._description()})
        await self.client.send({"type": "ice", "to": peer_id, "candidate": None})

    async def answer(self, offer: dict[str, Any]) -> None:
        from aiortc import RTCSessionDescription

        await self.pc.setRemoteDescription(RTCSessionDescription(**offer["sdp"]))
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        await self.client.send({"type": "answer", "to": offer["from"], "sdp": self._description()})
        await self.client.send({"type": "ice", "to": offer["from"], "candidate": None})

    async def accept(self, answer: dict[str, Any]) -> None:
        from aiortc import RTCSessionDescription

        await self.pc.setRemoteDescription(RTCSessionDescription(**answer["sdp"]))

    async def receive_video(self, frames: int, *, timeout: float = 20.0) -> list[Any]:
        """`frames` decoded video frames from the other peer (the first ones take longest)."""
        track = await asyncio.wait_for(self.remote_video.get(), timeout)
        return [await asyncio.wait_for(track.recv(), timeout) for _ in range(frames)]

    def local_candidate_types(self) -> list[str]:
        """The `typ` of each candidate this peer put in its SDP."""
        lines = self.pc.localDescription.sdp.splitlines()
        return [
            line.split(" typ ", 1)[1].split()[0]
            for line in lines
            if line.startswith("a=candidate:")
        ]

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.pc.close(), 10)
