"""The signaling server under load, beside a bare `websockets` relay measured in the same run.

    .venv/bin/python bench/signaling.py [--connections 200] [--room-size 4] [--seconds 8]
    REDIS_URL=redis://127.0.0.1:6379/13 .venv/bin/python bench/signaling.py --processes 2

1. Data: a fresh SQLite file database (migrated here), or DATABASE_URL when it is set; one
   signed-in user per connection, one live instant session per room (a host and guests). Rows
   this run made in a DATABASE_URL database are deleted at the end.
2. Servers: `uvicorn config.asgi:application` (`--processes` processes, default one;
   `config.settings.local` or `--settings` with DEBUG off, the Redis channel layer when REDIS_URL
   is set, else the in-memory one; the per-connection rate limit raised so the relay is
   measured, not the limiter) and, as the reference, a bare relay written with `websockets` in a
   subprocess: the same frame shapes, rooms in a dict, no authentication, no database, no
   channel layer.
   With `--processes N` (N > 1, needs REDIS_URL) the N processes share the database and Redis,
   and peer i of each room connects to process i % N: relays between peers of one process are
   written to the socket directly (LOCAL_DELIVERY in apps/videoconference/consumers.py), relays
   between processes go through the channel layer, as in a deployment with several workers.
3. Opens N connections to each (rooms of `--room-size` peers; each peer learns the others'
   peer ids from `welcome` and `peer-joined`) and measures
   (c) memory per idle connection: the server processes' RSS (psutil) before opening the N
       connections and after, the increases summed over our processes, divided by N;
   (b) latency: every connection sends `--latency-rate` addressed `ice` frames a second for
       `--latency-seconds`; the send time travels in the candidate string; p50 and p99;
   (a) relay throughput: every connection keeps `--window` addressed frames in flight to the
       others in its room for `--seconds`; frames delivered per second over all rooms.
   Latency and throughput run in `--rounds` alternating rounds (ours, bare, bare, ours), so
   both servers see the same background load on a shared machine; each phase starts with a
   second of warm-up that is not counted.
4. Prints a table and the ratios ours/bare with the goals: throughput >= 0.5x, p99 <= 2x,
   memory <= 2x.

A benchmark, not a test: it prints figures and exits 0. The load client runs in this process on
the same (shared, noisy) machine as both servers, so compare the ratios, not absolute figures.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.client import HTTPConnection
from pathlib import Path
from typing import Any

import psutil
from websockets.asyncio.client import ClientConnection, connect
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.typing import Origin

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
HOST = "127.0.0.1"
START_TIMEOUT_SECONDS = 30.0
CONNECT_CONCURRENCY = 16
SETTLE_SECONDS = 2.0  # idle time before the "after" RSS reading
WARMUP_SECONDS = 1.0


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--connections", type=int, default=200, help="connections per server")
    p.add_argument("--room-size", type=int, default=4, help="peers per room")
    p.add_argument("--seconds", type=float, default=8.0, help="throughput measurement time")
    p.add_argument("--window", type=int, default=8, help="frames in flight per connection")
    p.add_argument(
        "--rounds",
        type=int,
        default=2,
        help="alternating rounds per server; --seconds and --latency-seconds are split over them",
    )
    p.add_argument("--latency-seconds", type=float, default=5.0)
    p.add_argument(
        "--latency-rate", type=float, default=2.0, help="frames per connection per second"
    )
    p.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL", ""),
        help="database for the server (default: DATABASE_URL, else a fresh SQLite file)",
    )
    p.add_argument(
        "--redis-url",
        default=os.environ.get("REDIS_URL", ""),
        help="REDIS_URL for the server's channel layer and cache (default: REDIS_URL; "
        "'' for the in-memory layer). Use a Redis database no test run is using.",
    )
    p.add_argument(
        "--settings",
        default="config.settings.local",
        help="settings module for the server (DEBUG is turned off)",
    )
    p.add_argument(
        "--processes",
        type=int,
        default=1,
        help="uvicorn processes of our server; peer i of a room connects to process i %% N, so "
        "relays cross processes through the channel layer (N > 1 needs REDIS_URL)",
    )
    p.add_argument("--bare-relay-port", type=int, help=argparse.SUPPRESS)  # internal
    args = p.parse_args()
    if args.connections < args.room_size or args.room_size < 2:
        p.error("--room-size must be at least 2 and --connections at least --room-size")
    if args.processes < 1:
        p.error("--processes must be at least 1")
    if args.processes > 1 and not args.redis_url and not args.bare_relay_port:
        p.error(
            "--processes > 1 needs REDIS_URL (or --redis-url): processes share rooms only "
            "through the Redis channel layer"
        )
    return args


# --- The reference: a bare relay ------------------------------------------------------------


async def bare_relay(port: int) -> None:
    """Rooms in a dict: join, welcome with the peers, peer-joined/left, addressed relay."""
    rooms: dict[str, dict[str, ServerConnection]] = {}

    async def broadcast(members: dict[str, ServerConnection], frame: dict[str, Any]) -> None:
        text = json.dumps(frame)
        for other in list(members.values()):
            with contextlib.suppress(ConnectionClosed):
                await other.send(text)

    async def handler(websocket: ServerConnection) -> None:
        join = json.loads(await websocket.recv())
        members = rooms.setdefault(str(join["room"]), {})
        peer_id = secrets.token_urlsafe(12)
        await websocket.send(
            json.dumps(
                {
                    "type": "welcome",
                    "peer_id": peer_id,
                    "peers": [{"peer_id": other} for other in members],
                }
            )
        )
        await broadcast(members, {"type": "peer-joined", "peer": {"peer_id": peer_id}})
        members[peer_id] = websocket
        try:
            async for message in websocket:
                frame = json.loads(message)
                if frame.get("type") in ("offer", "answer", "ice"):
                    target = members.get(frame.get("to"))
                    if target is not None:
                        frame["from"] = peer_id
                        with contextlib.suppress(ConnectionClosed):
                            await target.send(json.dumps(frame))
        except ConnectionClosed:
            pass
        finally:
            members.pop(peer_id, None)
            await broadcast(members, {"type": "peer-left", "peer_id": peer_id})

    async with serve(handler, HOST, port, compression=None, max_size=64 * 1024):
        await asyncio.get_running_loop().create_future()


# --- Processes --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    def rss(self) -> int:
        rss: int = psutil.Process(self.process.pid).memory_info().rss
        return rss


def wait_until(ready: Callable[[], bool], server: Server) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            break
        if ready():
            return
        time.sleep(0.05)
    output = server.log_path.read_text(errors="replace")[-4000:]
    server.stop()
    raise SystemExit(f"{server.name} did not start; its output:\n{output}")


def start_ours(env: dict[str, str], workdir: Path, number: int = 0) -> Server:
    port = free_port()
    log_path = workdir / (f"uvicorn-{number}.log" if number else "uvicorn.log")
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "config.asgi:application",
                "--host",
                HOST,
                "--port",
                str(port),
                "--lifespan",
                "off",
                "--log-level",
                "warning",
                "--no-access-log",
            ],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = Server(f"our server {number + 1}" if number else "our server", port, process, log_path)

    def healthy() -> bool:
        connection = HTTPConnection(HOST, port, timeout=2)
        try:
            connection.request("GET", "/healthz")
            return connection.getresponse().status == 200
        except OSError:
            return False
        finally:
            connection.close()

    wait_until(healthy, server)
    return server


def start_bare(workdir: Path) -> Server:
    port = free_port()
    log_path = workdir / "bare.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, __file__, "--bare-relay-port", str(port)],
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = Server("bare relay", port, process, log_path)

    def listening() -> bool:
        with socket.socket() as probe:
            probe.settimeout(0.5)
            return probe.connect_ex((HOST, port)) == 0

    wait_until(listening, server)
    return server


# --- Data for our server ----------------------------------------------------------------------


@dataclass
class Seat:
    """One connection to open: its room, its place in the room and, for our server, its path
    and cookie."""

    room: int
    position: int = 0
    path: str = ""
    cookie: str = ""


@dataclass
class Dataset:
    seats: list[Seat]
    cleanup: Callable[[], None]


def make_dataset(connections: int, room_size: int, run_id: str) -> Dataset:
    """Users, live sessions and session cookies, through the project's own services."""
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client

    from apps.accounts.models import User
    from apps.accounts.roles import Role
    from apps.accounts.services import assign_role
    from apps.videoconference.models import VideoSession
    from apps.videoconference.services import start_instant_session

    call_command("migrate", verbosity=0, interactive=False)
    seats: list[Seat] = []
    session_ids: list[int] = []
    user_ids: list[int] = []
    rooms = (connections + room_size - 1) // room_size
    for room in range(rooms):
        size = min(room_size, connections - room * room_size)
        people = [
            User.objects.create_user(
                email=f"bench-{run_id}-{room}-{seat}@example.test",
                display_name=f"Bench {room}.{seat}",
            )
            for seat in range(size)
        ]
        user_ids += [person.pk for person in people]
        assign_role(user=people[0], role=Role.INSTRUCTOR)
        session = start_instant_session(
            host=people[0],
            title=f"Bench room {room}",
            join_policy=VideoSession.JoinPolicy.LINK,
            participant_cap=max(2, size),
        )
        session_ids.append(session.pk)
        for position, person in enumerate(people):
            client = Client()
            client.force_login(person)
            cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
            seats.append(
                Seat(
                    room=room,
                    position=position,
                    path=session.websocket_path,
                    cookie=f"{settings.SESSION_COOKIE_NAME}={cookie}",
                )
            )

    def cleanup() -> None:
        from django.contrib.sessions.models import Session

        VideoSession.objects.filter(pk__in=session_ids).delete()
        User.objects.filter(pk__in=user_ids).delete()
        Session.objects.filter(
            session_key__in=[seat.cookie.split("=", 1)[1] for seat in seats]
        ).delete()

    return Dataset(seats=seats, cleanup=cleanup)


# --- The load client --------------------------------------------------------------------------


@dataclass
class Tally:
    """Frames delivered in the current phase, and their latencies when measuring latency."""

    delivered: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    # Latencies are kept for frames sent at or after this perf_counter_ns (None: not measuring).
    record_from_ns: int | None = None


class Peer:
    def __init__(
        self,
        index: int,
        websocket: ClientConnection,
        peer_id: str,
        others: set[str],
        tally: Tally,
        window: int,
    ) -> None:
        self.index = index
        self.websocket = websocket
        self.peer_id = peer_id
        self.others = others
        self.tally = tally
        self.window = asyncio.Semaphore(window)
        self.peers: list[Peer] = []  # every connection, to release a sender's window
        self.reader: asyncio.Task[None] | None = None

    async def read(self) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for message in self.websocket:
                frame = json.loads(message)
                kind = frame.get("type")
                if kind == "ice":
                    _, sender, sent_ns = frame["candidate"]["candidate"].split()
                    self.tally.delivered += 1
                    since = self.tally.record_from_ns
                    if since is not None and int(sent_ns) >= since:
                        self.tally.latencies_ms.append(
                            (time.perf_counter_ns() - int(sent_ns)) / 1e6
                        )
                    self.peers[int(sender)].window.release()
                elif kind == "ping":
                    await self.websocket.send('{"type":"pong"}')
                elif kind == "peer-joined":
                    self.others.add(frame["peer"]["peer_id"])
                elif kind == "peer-left":
                    self.others.discard(frame["peer_id"])

    async def send_to(self, target: str) -> None:
        candidate = {"candidate": f"bench {self.index} {time.perf_counter_ns()}", "sdpMid": "0"}
        await self.websocket.send(json.dumps({"type": "ice", "to": target, "candidate": candidate}))


async def open_rooms(
    *,
    seats: list[Seat],
    url: Callable[[Seat], str],
    origin: str | None,
    join: Callable[[Seat], dict[str, Any] | None],
    tally: Tally,
    window: int,
) -> list[Peer]:
    """Open every seat's connection: rooms concurrently, a room's peers one after the other (so
    each newcomer's `peer-joined` reaches peers that are already reading)."""
    by_room: dict[int, list[int]] = {}
    for index, seat in enumerate(seats):
        by_room.setdefault(seat.room, []).append(index)
    limit = asyncio.Semaphore(CONNECT_CONCURRENCY)
    opened: dict[int, Peer] = {}

    async def open_room(indexes: list[int]) -> None:
        async with limit:
            for index in indexes:
                seat = seats[index]
                websocket = await connect(
                    url(seat),
                    origin=Origin(origin) if origin else None,
                    additional_headers={"Cookie": seat.cookie} if seat.cookie else {},
                    compression=None,
                    open_timeout=30,
                    max_queue=None,
                )
                first = join(seat)
                if first is not None:
                    await websocket.send(json.dumps(first))
                while True:
                    frame = json.loads(await asyncio.wait_for(websocket.recv(), 30))
                    if frame.get("type") == "welcome":
                        break
                others = {peer["peer_id"] for peer in frame["peers"]}
                peer = Peer(index, websocket, frame["peer_id"], others, tally, window)
                peer.reader = asyncio.create_task(peer.read())
                opened[index] = peer

    await asyncio.gather(*(open_room(indexes) for indexes in by_room.values()))
    peers = [opened[index] for index in range(len(seats))]
    for peer in peers:
        peer.peers = peers
    sizes = {room: len(indexes) for room, indexes in by_room.items()}
    deadline = time.monotonic() + 30
    while any(len(peer.others) < sizes[seats[peer.index].room] - 1 for peer in peers):
        if time.monotonic() > deadline:
            raise SystemExit("Not every peer learnt the others in its room within 30 s.")
        await asyncio.sleep(0.05)
    return peers


async def close_peers(peers: list[Peer]) -> None:
    async def close(peer: Peer) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(peer.websocket.close(), 5)
        if peer.reader is not None:
            peer.reader.cancel()

    await asyncio.gather(*(close(peer) for peer in peers))


async def throughput(peers: list[Peer], tally: Tally, seconds: float) -> tuple[float, int]:
    """Frames per second delivered while every peer keeps its window of frames in flight."""
    stop = asyncio.Event()
    stalls = 0

    async def pump(peer: Peer) -> None:
        nonlocal stalls
        targets = sorted(peer.others)
        sent = 0
        while not stop.is_set():
            try:
                await asyncio.wait_for(peer.window.acquire(), 2)
            except TimeoutError:
                stalls += 1  # a frame in flight was lost; go on without its permit
            await peer.send_to(targets[sent % len(targets)])
            sent += 1

    pumps = [asyncio.create_task(pump(peer)) for peer in peers]
    await asyncio.sleep(WARMUP_SECONDS)
    first, started = tally.delivered, time.perf_counter()
    await asyncio.sleep(seconds)
    delivered, elapsed = tally.delivered - first, time.perf_counter() - started
    stop.set()
    await asyncio.wait(pumps, timeout=5)
    for task in pumps:
        task.cancel()
    await asyncio.sleep(1.0)  # let frames still in flight arrive before the next phase
    return delivered / elapsed, stalls


async def latency(
    peers: list[Peer], tally: Tally, seconds: float, rate: float
) -> tuple[list[float], int]:
    """Latencies (ms) of frames sent at a steady `rate` per peer, and how many were sent; the
    first WARMUP_SECONDS are not counted."""
    loop = asyncio.get_running_loop()
    tally.latencies_ms.clear()
    tally.record_from_ns = time.perf_counter_ns() + int(WARMUP_SECONDS * 1e9)
    counted_from = loop.time() + WARMUP_SECONDS
    end = counted_from + seconds
    sent = 0

    async def paced(peer: Peer) -> None:
        nonlocal sent
        targets = sorted(peer.others)
        await asyncio.sleep(random.random() / rate)  # spread the peers over the interval
        due = loop.time()
        turn = 0
        while loop.time() < end:
            counted = loop.time() >= counted_from
            await peer.send_to(targets[turn % len(targets)])
            turn += 1
            sent += counted
            due += 1 / rate
            await asyncio.sleep(max(0.0, due - loop.time()))

    await asyncio.gather(*(paced(peer) for peer in peers))
    deadline = loop.time() + 5
    while len(tally.latencies_ms) < sent and loop.time() < deadline:
        await asyncio.sleep(0.05)
    tally.record_from_ns = None
    return list(tally.latencies_ms), sent


@dataclass
class Figures:
    throughput: float
    stalls: int
    p50_ms: float
    p99_ms: float
    lost: int
    memory_per_connection: float
    connect_seconds: float


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


@dataclass
class Target:
    """One server (one or more processes) under measurement, with its open connections and
    running figures."""

    servers: list[Server]
    url: Callable[[Seat], str]
    origin: str | None
    join: Callable[[Seat], dict[str, Any] | None]
    tally: Tally = field(default_factory=Tally)
    peers: list[Peer] = field(default_factory=list)
    memory_per_connection: float = 0.0
    connect_seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    sent: int = 0
    rates: list[float] = field(default_factory=list)
    stalls: int = 0

    def figures(self) -> Figures:
        return Figures(
            throughput=statistics.mean(self.rates),
            stalls=self.stalls,
            p50_ms=statistics.median(self.latencies) if self.latencies else float("nan"),
            p99_ms=percentile(self.latencies, 0.99),
            lost=self.sent - len(self.latencies),
            memory_per_connection=self.memory_per_connection,
            connect_seconds=self.connect_seconds,
        )


async def open_target(target: Target, seats: list[Seat], window: int) -> None:
    """Open every connection, reading the server's RSS before and after (memory per idle one)."""
    options: dict[str, Any] = {
        "url": target.url,
        "origin": target.origin,
        "join": target.join,
        "window": window,
    }
    # Warm up: one connection per process in and out (seats[:N] are peers 0..N-1 of the first
    # room, so one lands on each process), so the code every connection needs is loaded.
    warmup = seats[: len(target.servers)]
    await close_peers(await open_rooms(seats=warmup, tally=Tally(), **options))
    await asyncio.sleep(SETTLE_SECONDS)
    rss_before = sum(server.rss() for server in target.servers)
    started = time.perf_counter()
    target.peers = await open_rooms(seats=seats, tally=target.tally, **options)
    target.connect_seconds = time.perf_counter() - started
    await asyncio.sleep(SETTLE_SECONDS)
    rss_after = sum(server.rss() for server in target.servers)
    target.memory_per_connection = (rss_after - rss_before) / len(seats)


async def measure(targets: list[Target], seats: list[Seat], args: argparse.Namespace) -> None:
    """Memory first (one server at a time), then latency and throughput in alternating rounds,
    so both servers share whatever else this machine is doing at the time."""
    for target in targets:
        await open_target(target, seats, args.window)
    try:
        for round_ in range(args.rounds):
            for target in targets if round_ % 2 == 0 else targets[::-1]:
                latencies, sent = await latency(
                    target.peers,
                    target.tally,
                    args.latency_seconds / args.rounds,
                    args.latency_rate,
                )
                target.latencies += latencies
                target.sent += sent
        for round_ in range(args.rounds):
            for target in targets if round_ % 2 == 0 else targets[::-1]:
                rate, stalls = await throughput(
                    target.peers, target.tally, args.seconds / args.rounds
                )
                target.rates.append(rate)
                target.stalls += stalls
    finally:
        for target in targets:
            await close_peers(target.peers)


# --- Report -----------------------------------------------------------------------------------


def report(args: argparse.Namespace, context: dict[str, str], ours: Figures, bare: Figures) -> None:
    print()
    print(
        f"Signaling relay: {args.connections} connections in rooms of {args.room_size}, "
        f"{args.seconds:g} s throughput (window {args.window}), {args.latency_seconds:g} s "
        f"latency at {args.latency_rate:g} frames/s per connection "
        f"(each after {WARMUP_SECONDS:g} s of warm-up)"
    )
    for key, value in context.items():
        print(f"  {key}: {value}")
    print()
    rows = [
        ("relay throughput (frames/s)", ours.throughput, bare.throughput, "{:,.0f}"),
        ("latency p50 (ms)", ours.p50_ms, bare.p50_ms, "{:.2f}"),
        ("latency p99 (ms)", ours.p99_ms, bare.p99_ms, "{:.2f}"),
        (
            "memory per idle connection (KiB)",
            ours.memory_per_connection / 1024,
            bare.memory_per_connection / 1024,
            "{:.1f}",
        ),
        ("time to open all connections (s)", ours.connect_seconds, bare.connect_seconds, "{:.2f}"),
    ]
    print(f"{'':36} {'ours':>12} {'bare relay':>12}")
    for label, mine, reference, fmt in rows:
        print(f"{label:36} {fmt.format(mine):>12} {fmt.format(reference):>12}")
    print(f"{'frames lost (latency phase)':36} {ours.lost:>12} {bare.lost:>12}")
    print(f"{'window stalls (throughput phase)':36} {ours.stalls:>12} {bare.stalls:>12}")
    print()

    def ratio(mine: float, reference: float) -> float:
        return mine / reference if reference > 0 else float("inf")

    goals: list[tuple[str, float, str, float]] = [
        ("throughput ours/bare", ratio(ours.throughput, bare.throughput), ">=", 0.5),
        ("p99 latency ours/bare", ratio(ours.p99_ms, bare.p99_ms), "<=", 2.0),
        (
            "memory per connection ours/bare",
            ratio(ours.memory_per_connection, bare.memory_per_connection),
            "<=",
            2.0,
        ),
    ]
    print(f"{'ratio':36} {'value':>12} {'goal':>12}  verdict")
    for label, measured, op, goal in goals:
        met = measured >= goal if op == ">=" else measured <= goal
        verdict = "meets the goal" if met else "MISSES the goal"
        print(f"{label:36} {measured:>11.2f}x {op + f' {goal:g}x':>12}  {verdict}")


def channel_layer_backend() -> str:
    from django.conf import settings

    backend = str(settings.CHANNEL_LAYERS["default"]["BACKEND"])
    return backend


# --- Main -------------------------------------------------------------------------------------


@contextlib.contextmanager
def scratch_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="bench-signaling-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def main() -> int:
    args = parse_args()
    if args.bare_relay_port:
        asyncio.run(bare_relay(args.bare_relay_port))
        return 0

    with scratch_dir() as workdir:
        database_url = args.database_url or f"sqlite:///{workdir / 'bench.sqlite3'}"
        os.environ.update(
            {
                "DJANGO_SETTINGS_MODULE": args.settings,
                "DEBUG": "false",
                "LOG_LEVEL": "WARNING",
                "DATABASE_URL": database_url,
            }
        )
        if args.redis_url:
            os.environ["REDIS_URL"] = args.redis_url
        else:
            os.environ.pop("REDIS_URL", None)
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        run_id = secrets.token_hex(4)
        print("Preparing data (migrate, users, live sessions)...", flush=True)
        dataset = make_dataset(args.connections, args.room_size, run_id)
        from django.db import connections

        connections.close_all()
        server_env = {
            **os.environ,
            # The relay is measured, not the per-connection limiter (20 frames/s by default).
            "SIGNALING_RATE_PER_SECOND": "1000000",
            "SIGNALING_RATE_BURST": "1000000",
        }
        servers: list[Server] = []
        ours_servers: list[Server] = []
        try:
            print("Starting our server and the bare websockets relay...", flush=True)
            for number in range(args.processes):
                ours_servers.append(start_ours(server_env, workdir, number))
                servers.append(ours_servers[-1])
            bare_server = start_bare(workdir)
            servers.append(bare_server)

            def our_port(seat: Seat) -> int:
                return ours_servers[seat.position % len(ours_servers)].port

            targets = [
                Target(
                    servers=ours_servers,
                    url=lambda seat: f"ws://{HOST}:{our_port(seat)}{seat.path}",
                    origin=f"http://{HOST}:{ours_servers[0].port}",
                    join=lambda seat: None,
                ),
                Target(
                    servers=[bare_server],
                    url=lambda seat: f"ws://{HOST}:{bare_server.port}/",
                    origin=None,
                    join=lambda seat: {"type": "join", "room": seat.room},
                ),
            ]
            print("Measuring...", flush=True)
            asyncio.run(measure(targets, dataset.seats, args))
        finally:
            for server in servers:
                server.stop()
            if args.database_url:
                dataset.cleanup()
        ours, bare = (target.figures() for target in targets)
        errors = "".join(server.log_path.read_text(errors="replace") for server in ours_servers)
        context = {"channel layer": channel_layer_backend()}
        if args.processes > 1:
            context["our processes"] = (
                f"{args.processes} (peer i of a room on process i % {args.processes})"
            )
        report(
            args,
            {
                **context,
                "database": "DATABASE_URL" if args.database_url else "fresh SQLite file",
                "machine": f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}",
            },
            ours,
            bare,
        )
        if "Traceback" in errors:
            print("\nOur server logged exceptions during the run:\n" + errors[-4000:])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
