"""Time from clicking Join to the first decoded remote frame, beside a bare reference page.

    .venv/bin/python bench/join_time.py [--rounds 7] [--warmup 1] [--timeout 20]

1. Data: a fresh SQLite file database (migrated here), or DATABASE_URL when it is set; an
   instructor, a published course with an enrolled student, and one live course session per
   round (so no round meets a peer left over from the one before). Both people are signed in
   through Django's session machinery in this process; Playwright gets their session cookies.
   Rows this run made in a DATABASE_URL database are deleted at the end.
2. Servers: `uvicorn config.asgi:application` (one process, `config.settings.local` with DEBUG
   off, the Redis channel layer when REDIS_URL is set, else the in-memory one; the product's own
   rate limits) and, as the reference, a bare `websockets` server in a subprocess that serves a
   minimal page + script (written here into a temporary directory) and relays `offer`, `answer`
   and `ice` frames between the peers of a room: no authentication, no database, no channel layer.
   The bare page does what a call needs and nothing else: getUserMedia on load (like our pre-join
   preview), and on Join a WebSocket, one RTCPeerConnection per remote peer, existing peers offer
   to the newcomer (our protocol's rule), candidates queued until the remote description is set.
3. Each round, for each page: the instructor (bare: a first peer) opens the page, clicks Join and
   waits until in the call; then the student opens the page, waits for the pre-join screen, and
   clicks Join. A loop inside the student's page, started by the click, polls the call's stats
   (ours: `window.onlineteacherCall.stats()`, bare: the same shape) every few milliseconds and
   records `performance.now()` when a remote peer's `framesDecoded` is first > 0; also when the
   call state became "in-call" and a peer connection "connected". Page loads are not counted.
   Rounds alternate which page goes first; the first `--warmup` rounds are not counted.
4. Prints each round, the medians and the ratio ours/bare of the median join time (goal <= 1.2x).

A benchmark, not a test: it prints figures and exits 0 (1 only when no round of one of the pages
produced a frame). Chromium, both servers and this script share one noisy machine: compare the
ratio, not absolute figures.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import Any

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.signaling import (  # noqa: E402
    HOST,
    Server,
    channel_layer_backend,
    free_port,
    start_ours,
    wait_until,
)

CHROMIUM_PATH = Path(os.environ.get("CHROMIUM_PATH", "/usr/lib/chromium/chromium"))
# The browser tests' flags (tests/e2e/conftest.py): a fake camera and microphone, permission given.
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
POLL_MS = 5  # the in-page stats loop's interval
PAGE_TIMEOUT_MS = 15_000  # page loads, the pre-join screen, the first peer's join
PREVIEW_TIMEOUT_MS = 5_000  # how long to let the camera preview start before clicking Join
SETTLE_SECONDS = 0.3  # after closing a round's browser contexts, before the next round
GOAL_RATIO = 1.2


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--rounds", type=int, default=7, help="measured rounds per page")
    p.add_argument("--warmup", type=int, default=1, help="rounds per page not counted")
    p.add_argument(
        "--timeout",
        type=float,
        default=20.0,
        help="seconds from the click to give up waiting for a decoded frame",
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
    p.add_argument("--bare-server-port", type=int, help=argparse.SUPPRESS)  # internal
    p.add_argument("--bare-root", help=argparse.SUPPRESS)  # internal
    args = p.parse_args()
    if args.rounds < 1 or args.warmup < 0:
        p.error("--rounds must be at least 1 and --warmup at least 0")
    return args


# --- The reference: a bare page and relay -----------------------------------------------------

BARE_HTML = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Bare call</title><link rel="icon" href="data:,"></head>
<body>
<h1>Bare call</h1>
<video id="preview" autoplay muted playsinline></video>
<button id="join-button" type="button" disabled>Join call</button>
<div id="remote"></div>
<script type="module" src="/bare.js"></script>
</body>
</html>
"""

BARE_JS = """// The bare reference: getUserMedia + one RTCPeerConnection per remote peer, signaling
// through a bare relay. Existing peers offer to a newcomer; candidates wait for the remote
// description.
const room = new URLSearchParams(location.search).get("room") || "bench";
const peers = new Map();
let stream = null;
let socket = null;
let iceServers = [];
let chain = Promise.resolve();

const call = {
  state: "loading",
  peerId: null,
  async stats() {
    const result = {};
    for (const [peerId, peer] of peers) {
      const entry = { framesDecoded: 0, connectionState: peer.pc.connectionState, frameWidth: 0 };
      (await peer.pc.getStats()).forEach((report) => {
        if (report.type === "inbound-rtp" && report.kind === "video") {
          entry.framesDecoded += report.framesDecoded || 0;
          entry.frameWidth = report.frameWidth || 0;
        }
      });
      result[peerId] = entry;
    }
    return result;
  },
};
window.bareCall = call;

function send(frame) {
  socket.send(JSON.stringify(frame));
}

function connection(peerId) {
  let peer = peers.get(peerId);
  if (peer) return peer;
  const pc = new RTCPeerConnection({ iceServers });
  const video = document.createElement("video");
  video.autoplay = true;
  video.muted = true;
  video.playsInline = true;
  document.getElementById("remote").append(video);
  peer = { pc, video, queued: [] };
  peers.set(peerId, peer);
  for (const track of stream.getTracks()) pc.addTrack(track, stream);
  pc.onicecandidate = (event) => send({ type: "ice", to: peerId, candidate: event.candidate });
  pc.ontrack = (event) => {
    video.srcObject = event.streams[0];
  };
  return peer;
}

async function remoteDescription(peer, sdp) {
  await peer.pc.setRemoteDescription(sdp);
  for (const candidate of peer.queued.splice(0)) await peer.pc.addIceCandidate(candidate);
}

async function handle(frame) {
  if (frame.type === "welcome") {
    call.peerId = frame.peer_id;
    iceServers = frame.ice_servers || [];
    call.state = "in-call";
  } else if (frame.type === "peer-joined") {
    const peer = connection(frame.peer.peer_id);
    await peer.pc.setLocalDescription();
    send({ type: "offer", to: frame.peer.peer_id, sdp: peer.pc.localDescription });
  } else if (frame.type === "offer") {
    const peer = connection(frame.from);
    await remoteDescription(peer, frame.sdp);
    await peer.pc.setLocalDescription();
    send({ type: "answer", to: frame.from, sdp: peer.pc.localDescription });
  } else if (frame.type === "answer") {
    const peer = peers.get(frame.from);
    if (peer) await remoteDescription(peer, frame.sdp);
  } else if (frame.type === "ice") {
    const peer = peers.get(frame.from);
    if (!peer || !frame.candidate) return;
    if (peer.pc.remoteDescription) await peer.pc.addIceCandidate(frame.candidate);
    else peer.queued.push(frame.candidate);
  } else if (frame.type === "peer-left") {
    const peer = peers.get(frame.peer_id);
    if (peer) {
      peer.pc.close();
      peer.video.remove();
      peers.delete(frame.peer_id);
    }
  }
}

function join() {
  call.state = "connecting";
  socket = new WebSocket(`ws://${location.host}/ws`);
  socket.onopen = () => send({ type: "join", room });
  socket.onmessage = (event) => {
    const frame = JSON.parse(event.data);
    chain = chain.then(() => handle(frame)).catch((error) => console.error(error));
  };
}

const button = document.getElementById("join-button");
button.addEventListener("click", join, { once: true });
stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
document.getElementById("preview").srcObject = stream;
button.disabled = false;
call.state = "prejoin";
"""

BARE_FILES = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/bare.js": ("bare.js", "text/javascript; charset=utf-8"),
}


async def bare_server(port: int, root: Path) -> None:
    """The page and script over HTTP, and on /ws a relay: rooms in a dict, `welcome` with the
    peers, `peer-joined`/`peer-left`, and `offer`/`answer`/`ice` to their addressee with `from`."""
    rooms: dict[str, dict[str, ServerConnection]] = {}
    stun_urls = [url for url in os.environ.get("STUN_URLS", "").split(",") if url.strip()]
    ice_servers = [{"urls": stun_urls}] if stun_urls else []

    def process_request(connection: ServerConnection, request: Request) -> Response | None:
        path = request.path.split("?", 1)[0]
        if path == "/ws":
            return None  # go on with the WebSocket handshake
        if path not in BARE_FILES:
            return connection.respond(HTTPStatus.NOT_FOUND, "Not found\n")
        name, content_type = BARE_FILES[path]
        response = connection.respond(HTTPStatus.OK, (root / name).read_text())
        del response.headers["Content-Type"]
        response.headers["Content-Type"] = content_type
        response.headers["Cache-Control"] = "no-store"
        return response

    async def send(websocket: ServerConnection, frame: dict[str, Any]) -> None:
        with contextlib.suppress(ConnectionClosed):
            await websocket.send(json.dumps(frame))

    async def handler(websocket: ServerConnection) -> None:
        join = json.loads(await websocket.recv())
        members = rooms.setdefault(str(join["room"]), {})
        peer_id = secrets.token_urlsafe(12)
        others = [{"peer_id": other} for other in members]
        await send(
            websocket,
            {"type": "welcome", "peer_id": peer_id, "peers": others, "ice_servers": ice_servers},
        )
        for other in list(members.values()):
            await send(other, {"type": "peer-joined", "peer": {"peer_id": peer_id}})
        members[peer_id] = websocket
        try:
            async for message in websocket:
                frame = json.loads(message)
                if frame.get("type") in ("offer", "answer", "ice"):
                    target = members.get(frame.get("to"))
                    if target is not None:
                        frame["from"] = peer_id
                        await send(target, frame)
        except ConnectionClosed:
            pass
        finally:
            members.pop(peer_id, None)
            for other in list(members.values()):
                await send(other, {"type": "peer-left", "peer_id": peer_id})

    async with serve(
        handler,
        HOST,
        port,
        process_request=process_request,
        compression=None,
        max_size=64 * 1024,
    ):
        await asyncio.get_running_loop().create_future()


def start_bare(workdir: Path) -> Server:
    root = workdir / "bare"
    root.mkdir()
    for name, _ in BARE_FILES.values():
        (root / name).write_text(BARE_HTML if name == "index.html" else BARE_JS)
    port = free_port()
    log_path = workdir / "bare.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                str(Path(__file__).resolve()),
                "--bare-server-port",
                str(port),
                "--bare-root",
                str(root),
            ],
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = Server("bare page server", port, process, log_path)

    def serving() -> bool:
        from http.client import HTTPConnection

        connection = HTTPConnection(HOST, port, timeout=2)
        try:
            connection.request("GET", "/")
            return connection.getresponse().status == 200
        except OSError:
            return False
        finally:
            connection.close()

    wait_until(serving, server)
    return server


# --- Data for our server ----------------------------------------------------------------------


@dataclass
class CallData:
    host_cookie: str
    guest_cookie: str
    room_paths: list[str]  # one live session's page per round
    cleanup: Callable[[], None]


def make_call_data(sessions: int, run_id: str) -> CallData:
    """An instructor, a course with an enrolled student, live sessions, and their session cookies,
    through the project's own services."""
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client

    from apps.accounts.models import User
    from apps.accounts.roles import Role
    from apps.accounts.services import assign_role
    from apps.courses.models import Course
    from apps.courses.services import create_course, enroll_student, set_course_status
    from apps.videoconference.models import VideoSession
    from apps.videoconference.services import start_instant_session

    call_command("migrate", verbosity=0, interactive=False)
    instructor = User.objects.create_user(
        email=f"bench-join-{run_id}-host@example.test", display_name="Bench Instructor"
    )
    student = User.objects.create_user(
        email=f"bench-join-{run_id}-student@example.test", display_name="Bench Student"
    )
    assign_role(user=instructor, role=Role.INSTRUCTOR)
    course = create_course(actor=instructor, title=f"Join-time bench {run_id}")
    set_course_status(actor=instructor, course=course, status=Course.Status.PUBLISHED)
    enroll_student(course=course, student=student)
    live = [
        start_instant_session(
            host=instructor,
            course=course,
            title=f"Join-time bench {run_id} round {index}",
            join_policy=VideoSession.JoinPolicy.MEMBERS,
        )
        for index in range(sessions)
    ]
    cookies: list[str] = []
    for person in (instructor, student):
        client = Client()
        client.force_login(person)
        cookies.append(client.cookies[settings.SESSION_COOKIE_NAME].value)

    def cleanup() -> None:
        from django.contrib.sessions.models import Session

        VideoSession.objects.filter(pk__in=[session.pk for session in live]).delete()
        Course.objects.filter(pk=course.pk).delete()
        User.objects.filter(pk__in=[instructor.pk, student.pk]).delete()
        Session.objects.filter(session_key__in=cookies).delete()

    return CallData(
        host_cookie=cookies[0],
        guest_cookie=cookies[1],
        room_paths=[session.meeting_url for session in live],
        cleanup=cleanup,
    )


# --- Measuring --------------------------------------------------------------------------------

# Started before the click: a capturing listener notes when the click reaches the page, then a
# loop polls the call's stats until a remote peer has decoded a frame. Times are performance.now().
PROBE_JS = """([controllerName, pollMs]) => {
  const probe = { clickAt: null, inCallAt: null, connectedAt: null, frameAt: null,
                  frameWidth: 0, polls: 0, error: null };
  window.__joinProbe = probe;
  const tick = async () => {
    try {
      const controller = window[controllerName];
      if (probe.inCallAt === null && controller.state === "in-call") {
        probe.inCallAt = performance.now();
      }
      const stats = (await controller.stats()) || {};
      probe.polls += 1;
      for (const entry of Object.values(stats)) {
        if (probe.connectedAt === null && entry.connectionState === "connected") {
          probe.connectedAt = performance.now();
        }
        if (probe.frameAt === null && entry.framesDecoded > 0) {
          probe.frameAt = performance.now();
          probe.frameWidth = entry.frameWidth || 0;
        }
      }
    } catch (error) {
      probe.error = String(error);
    }
    if (probe.frameAt === null) setTimeout(tick, pollMs);
  };
  document.addEventListener("click", (event) => {
    if (!(event.target instanceof Element) || !event.target.closest("#join-button")) return;
    probe.clickAt = performance.now();
    setTimeout(tick, 0);
  }, { capture: true, once: true });
}"""

READY_JS = """(controllerName) => {
  const controller = window[controllerName];
  const button = document.querySelector("#join-button");
  return Boolean(controller && controller.state === "prejoin" && button && !button.disabled
                 && button.offsetParent !== null);
}"""

PREVIEW_JS = """() => {
  const preview = document.querySelector("#preview");
  return Boolean(preview && preview.srcObject && preview.readyState >= 2);
}"""

IN_CALL_JS = """(controllerName) => {
  const controller = window[controllerName];
  return Boolean(controller && controller.state === "in-call");
}"""

DIAGNOSE_JS = """(controllerName) => {
  const controller = window[controllerName];
  const status = document.querySelector("#call-status");
  return { state: controller ? controller.state : "(no controller)",
           status: status ? status.textContent.trim().replace(/\\s+/g, " ") : "" };
}"""


@dataclass
class Target:
    """One page under measurement."""

    name: str
    server: Server
    controller: str  # the window property holding the call controller
    url: Callable[[int], str]  # the call page for a round
    cookies: tuple[str, str] | None  # (first peer, second peer) session cookies
    samples: list[Sample] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)


@dataclass
class Sample:
    round_: int
    warmup: bool
    frame_ms: float | None = None  # click -> first decoded remote frame
    in_call_ms: float | None = None  # click -> call state "in-call"
    connected_ms: float | None = None  # click -> a peer connection "connected"
    frame_width: int = 0
    polls: int = 0
    note: str = ""


def open_peer(browser: Any, target: Target, cookie: str | None, round_: int) -> Any:
    """A fresh browser context (its own cookies) with the round's call page loaded."""
    context = browser.new_context()
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    if cookie is not None:
        from django.conf import settings

        context.add_cookies(
            [
                {
                    "name": settings.SESSION_COOKIE_NAME,
                    "value": cookie,
                    "url": f"http://{HOST}:{target.server.port}",
                    "httpOnly": True,
                    "sameSite": "Lax",
                }
            ]
        )
    page = context.new_page()

    def console(message: Any) -> None:
        if message.type == "error":
            target.console_errors.append(f"console: {message.text}")

    page.on("console", console)
    page.on("pageerror", lambda error: target.console_errors.append(f"page error: {error}"))
    page.goto(target.url(round_))
    page.wait_for_function(READY_JS, arg=target.controller)
    with contextlib.suppress(Exception):  # a page without a preview still gets measured
        page.wait_for_function(PREVIEW_JS, timeout=PREVIEW_TIMEOUT_MS)
    return page


def diagnose(page: Any, target: Target) -> str:
    try:
        found = page.evaluate(DIAGNOSE_JS, target.controller)
    except Exception as exc:
        return f"(page not readable: {type(exc).__name__})"
    return f"state {found['state']!r}, #call-status {found['status'][:160]!r}"


def join_round(browser: Any, target: Target, round_: int, warmup: bool, timeout: float) -> Sample:
    """The first peer joins and is in the call; the second clicks Join; time to its first frame."""
    sample = Sample(round_=round_, warmup=warmup)
    host_cookie, guest_cookie = target.cookies or (None, None)
    pages: list[Any] = []
    try:
        host = open_peer(browser, target, host_cookie, round_)
        pages.append(host)
        host.click("#join-button")
        try:
            host.wait_for_function(IN_CALL_JS, arg=target.controller)
        except Exception:
            sample.note = f"first peer never in the call: {diagnose(host, target)}"
            return sample
        guest = open_peer(browser, target, guest_cookie, round_)
        pages.append(guest)
        guest.evaluate(PROBE_JS, [target.controller, POLL_MS])
        guest.click("#join-button")
        deadline = time.monotonic() + timeout
        probe: dict[str, Any] = {}
        while time.monotonic() < deadline:
            probe = guest.evaluate("() => window.__joinProbe")
            if probe["frameAt"] is not None:
                break
            time.sleep(0.05)  # the page records the time; this only waits for it
        clicked = probe.get("clickAt")
        if clicked is None:
            sample.note = "the click on #join-button never reached the page"
            return sample

        def since_click(key: str) -> float | None:
            value = probe.get(key)
            return None if value is None else float(value) - float(clicked)

        sample.frame_ms = since_click("frameAt")
        sample.in_call_ms = since_click("inCallAt")
        sample.connected_ms = since_click("connectedAt")
        sample.frame_width = int(probe.get("frameWidth") or 0)
        sample.polls = int(probe.get("polls") or 0)
        if sample.frame_ms is None:
            sample.note = f"no decoded frame within {timeout:g} s: {diagnose(guest, target)}"
            if probe.get("error"):
                sample.note += f"; stats() failed: {probe['error'][:160]}"
    except Exception as exc:
        first_line = (str(exc).strip().splitlines() or [""])[0][:200]
        sample.note = f"{type(exc).__name__}: {first_line}"
        if pages:
            sample.note += f"; {diagnose(pages[-1], target)}"
    finally:
        for page in pages:
            with contextlib.suppress(Exception):
                page.context.close()
        time.sleep(SETTLE_SECONDS)  # let both servers see the sockets close
    return sample


def measure(targets: list[Target], args: argparse.Namespace) -> None:
    from playwright.sync_api import sync_playwright

    if not CHROMIUM_PATH.exists():
        raise SystemExit(f"Chromium not found at {CHROMIUM_PATH} (apt-get install -y chromium).")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM_PATH), args=CHROMIUM_ARGS)
        try:
            for round_ in range(args.warmup + args.rounds):
                warmup = round_ < args.warmup
                for target in targets if round_ % 2 == 0 else targets[::-1]:
                    sample = join_round(browser, target, round_, warmup, args.timeout)
                    target.samples.append(sample)
                    print_sample(target, sample, args.warmup)
        finally:
            browser.close()


# --- Report -----------------------------------------------------------------------------------


def ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def print_sample(target: Target, sample: Sample, warmups: int) -> None:
    label = "warm-up" if sample.warmup else f"round {sample.round_ + 1 - warmups}"
    if sample.frame_ms is None:
        print(f"  {label:9} {target.name:5} FAILED: {sample.note}", flush=True)
        return
    print(
        f"  {label:9} {target.name:5} join->frame {ms(sample.frame_ms):>5} ms   "
        f"(in call {ms(sample.in_call_ms):>4}, connected {ms(sample.connected_ms):>4}; "
        f"{sample.frame_width} px wide, {sample.polls} polls)",
        flush=True,
    )


def median(values: list[float | None]) -> float | None:
    present = [value for value in values if value is not None]
    return statistics.median(present) if present else None


def report(args: argparse.Namespace, context: dict[str, str], ours: Target, bare: Target) -> int:
    print()
    print(
        f"Join time: click on Join (second peer, first peer already in the call) to the first "
        f"decoded remote frame; {args.rounds} rounds per page after {args.warmup} warm-up, "
        f"alternating; stats polled every {POLL_MS} ms in the page"
    )
    for key, value in context.items():
        print(f"  {key}: {value}")
    print()
    measured = {
        target.name: [sample for sample in target.samples if not sample.warmup]
        for target in (ours, bare)
    }
    rows: list[tuple[str, Callable[[Sample], float | None]]] = [
        ("median click -> in call (ms)", lambda sample: sample.in_call_ms),
        ("median click -> connected (ms)", lambda sample: sample.connected_ms),
        ("median click -> first frame (ms)", lambda sample: sample.frame_ms),
    ]
    print(f"{'':36} {'ours':>12} {'bare page':>12}")
    for label, pick in rows:
        mine = median([pick(sample) for sample in measured[ours.name] if sample.frame_ms])
        reference = median([pick(sample) for sample in measured[bare.name] if sample.frame_ms])
        print(f"{label:36} {ms(mine):>12} {ms(reference):>12}")
    for label, pick_all in (
        ("fastest first frame (ms)", min),
        ("slowest first frame (ms)", max),
    ):
        values = [
            [sample.frame_ms for sample in measured[name] if sample.frame_ms is not None]
            for name in (ours.name, bare.name)
        ]
        cells = [ms(pick_all(v)) if v else "-" for v in values]
        print(f"{label:36} {cells[0]:>12} {cells[1]:>12}")
    failed = [
        sum(sample.frame_ms is None for sample in measured[n]) for n in (ours.name, bare.name)
    ]
    print(f"{'rounds without a frame':36} {failed[0]:>12} {failed[1]:>12}")
    print()
    mine = median([sample.frame_ms for sample in measured[ours.name]])
    reference = median([sample.frame_ms for sample in measured[bare.name]])
    if mine is None or reference is None:
        print("No ratio: at least one page never showed a decoded remote frame (see above).")
        status = 1
    else:
        ratio = mine / reference
        verdict = "meets the goal" if ratio <= GOAL_RATIO else "MISSES the goal"
        print(f"{'ratio':36} {'value':>12} {'goal':>12}  verdict")
        print(
            f"{'join time ours/bare (medians)':36} {ratio:>11.3f}x {'<= ' + f'{GOAL_RATIO:g}x':>12}"
            f"  {verdict}"
        )
        status = 0
    for target in (ours, bare):
        if target.console_errors:
            unique = list(dict.fromkeys(target.console_errors))
            print(
                f"\n{target.name}: {len(target.console_errors)} console errors in the run "
                f"({len(unique)} distinct); the first:"
            )
            for line in unique[:5]:
                print(f"  {line[:300]}")
    return status


# --- Main -------------------------------------------------------------------------------------


@contextlib.contextmanager
def scratch_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="bench-join-time-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def main() -> int:
    args = parse_args()
    if args.bare_server_port:
        asyncio.run(bare_server(args.bare_server_port, Path(args.bare_root)))
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
        print(
            "Preparing data (migrate, instructor, enrolled student, live sessions)...", flush=True
        )
        data = make_call_data(args.warmup + args.rounds, run_id)
        from django.db import connections

        connections.close_all()
        servers: list[Server] = []
        try:
            print("Starting our server and the bare page server...", flush=True)
            servers.append(start_ours(dict(os.environ), workdir))
            servers.append(start_bare(workdir))
            ours_server, bare_server_ = servers
            ours = Target(
                name="ours",
                server=ours_server,
                controller="onlineteacherCall",
                url=lambda round_: f"http://{HOST}:{ours_server.port}{data.room_paths[round_]}",
                cookies=(data.host_cookie, data.guest_cookie),
            )
            bare = Target(
                name="bare",
                server=bare_server_,
                controller="bareCall",
                url=lambda round_: f"http://{HOST}:{bare_server_.port}/?room=round-{round_}",
                cookies=None,
            )
            print("Measuring (Chromium, fake camera and microphone)...", flush=True)
            measure([ours, bare], args)
        finally:
            for server in servers:
                server.stop()
            if args.database_url:
                data.cleanup()
        errors = ours_server.log_path.read_text(errors="replace")
        status = report(
            args,
            {
                "channel layer": channel_layer_backend(),
                "database": "DATABASE_URL" if args.database_url else "fresh SQLite file",
                "machine": f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}",
            },
            ours,
            bare,
        )
        if "Traceback" in errors:
            print("\nOur server logged exceptions during the run:\n" + errors[-4000:])
    return status


if __name__ == "__main__":
    raise SystemExit(main())
