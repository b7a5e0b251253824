"""TURN REST credentials from the welcome frame work against a real coturn on 127.0.0.1.

coturn runs with `use-auth-secret` and the secret the server gets as TURN_SECRET. Two aiortc
peers using only that TURN server and the relay-only ICE policy (no host candidates at all) must
connect and exchange video, which can then only flow through coturn; a tampered or expired
credential must be refused by coturn itself.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import random
import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aioice import stun, turn
from aiortc import RTCConfiguration, RTCIceTransportPolicy
from django.conf import settings

from apps.accounts.roles import Role
from apps.accounts.tests.factories import make_user
from apps.videoconference.models import VideoSession
from apps.videoconference.services import start_instant_session
from apps.videoconference.tests.live import (
    ServerProcess,
    SignalingClient,
    VideoPeer,
    free_port,
    rtc_ice_servers,
    run_scenario,
    running_server,
    session_cookie,
)

pytestmark = pytest.mark.django_db(transaction=True)

TURNSERVER = shutil.which("turnserver")
START_DEADLINE_SECONDS = 15.0
CALL_DEADLINE_SECONDS = 60
FRAMES = 5


@dataclass
class Coturn:
    port: int
    secret: str
    log_path: Path

    @property
    def url(self) -> str:
        return f"turn:127.0.0.1:{self.port}?transport=udp"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def _answers_stun(port: int) -> bool:
    request = stun.Message(message_method=stun.Method.BINDING, message_class=stun.Class.REQUEST)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.settimeout(0.2)
        try:
            probe.sendto(bytes(request), ("127.0.0.1", port))
            response = stun.parse_message(probe.recv(2048))
        except OSError:
            return False
    return response.transaction_id == request.transaction_id


@pytest.fixture
def coturn(tmp_path: Path) -> Iterator[Coturn]:
    if TURNSERVER is None:
        # Fail, never skip: `make test` and `.ci/run` install coturn through apt when root.
        pytest.fail(
            "coturn's turnserver is not installed: run `make test` as root (it installs it) "
            "or `sudo apt-get install -y coturn`.",
            pytrace=False,
        )
    secret = secrets.token_urlsafe(24)
    for attempt in range(3):
        port = free_port(socket.SOCK_DGRAM)
        relay_from = random.randrange(40000, 48000, 100)
        server = Coturn(port=port, secret=secret, log_path=tmp_path / f"coturn-{attempt}.log")
        with server.log_path.open("wb") as log:
            process = subprocess.Popen(
                [
                    TURNSERVER,
                    "-n",
                    "--listening-ip=127.0.0.1",
                    "--relay-ip=127.0.0.1",
                    f"--listening-port={port}",
                    f"--min-port={relay_from}",
                    f"--max-port={relay_from + 99}",
                    "--realm=onlineteacher.test",
                    "--fingerprint",
                    "--use-auth-secret",
                    f"--static-auth-secret={secret}",
                    # Tests only: production must not relay to loopback or private ranges.
                    "--allow-loopback-peers",
                    "--no-multicast-peers",
                    "--no-tcp",
                    "--no-tls",
                    "--no-dtls",
                    "--no-cli",
                    f"--pidfile={tmp_path / f'turnserver-{attempt}.pid'}",
                    f"--db={tmp_path / f'turndb-{attempt}'}",
                    "--log-file=stdout",
                    "--simple-log",
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + START_DEADLINE_SECONDS
        while process.poll() is None and time.monotonic() < deadline:
            if _answers_stun(port):
                break
        else:
            process.kill()
            process.wait(timeout=10)
            continue  # the port was taken meanwhile, or coturn could not start: try again
        try:
            yield server
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        return
    pytest.fail(f"coturn did not start; its output:\n{server.log()}")


@pytest.fixture
def server(transactional_db: None, tmp_path: Path, coturn: Coturn) -> Iterator[ServerProcess]:
    with running_server(
        name="signaling",
        log_dir=tmp_path,
        STUN_URLS="",
        TURN_URLS=coturn.url,
        TURN_SECRET=coturn.secret,
    ) as process:
        yield process


@pytest.fixture
def instant_session(transactional_db: None) -> VideoSession:
    host = make_user(role=Role.INSTRUCTOR)
    return start_instant_session(
        host=host, title="Quick question", join_policy=VideoSession.JoinPolicy.LINK
    )


def turn_entries(welcome: dict[str, Any], coturn: Coturn) -> list[dict[str, Any]]:
    def urls(entry: dict[str, Any]) -> list[str]:
        value = entry["urls"]
        return [value] if isinstance(value, str) else list(value)

    return [entry for entry in welcome["ice_servers"] if coturn.url in urls(entry)]


def rest_credential(secret: str, username: str) -> str:
    """coturn's `use-auth-secret` scheme: base64(HMAC-SHA1(secret, username))."""
    return base64.b64encode(
        hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    ).decode()


def test_relay_only_call_connects_through_coturn_with_the_welcome_credentials(
    coturn: Coturn, server: ServerProcess, instant_session: VideoSession
) -> None:
    guest_user = make_user()
    host_cookie = session_cookie(instant_session.host)
    guest_cookie = session_cookie(guest_user)
    path = instant_session.websocket_path

    def relay_only(welcome: dict[str, Any]) -> RTCConfiguration:
        return RTCConfiguration(
            iceServers=rtc_ice_servers(turn_entries(welcome, coturn)),
            iceTransportPolicy=RTCIceTransportPolicy.RELAY,
        )

    async def call() -> dict[str, Any]:
        host = await SignalingClient.connect(server, path, cookie=host_cookie, label="host")
        guest = await SignalingClient.connect(server, path, cookie=guest_cookie, label="guest")
        peers: list[VideoPeer] = []
        try:
            host_welcome = await host.expect("welcome")
            guest_welcome = await guest.expect("welcome")
            host_peer = VideoPeer(
                host, width=320, height=240, configuration=relay_only(host_welcome)
            )
            guest_peer = VideoPeer(
                guest, width=160, height=128, configuration=relay_only(guest_welcome)
            )
            peers = [host_peer, guest_peer]

            await host_peer.offer_to((await host.expect("peer-joined"))["peer"]["peer_id"])
            await guest_peer.answer(await guest.expect("offer"))
            await host_peer.accept(await host.expect("answer"))
            at_host, at_guest = await asyncio.gather(
                host_peer.receive_video(FRAMES), guest_peer.receive_video(FRAMES)
            )
            return {
                "welcomes": [host_welcome, guest_welcome],
                "candidate_types": [p.local_candidate_types() for p in peers],
                "at_host": {(f.width, f.height) for f in at_host},
                "at_guest": {(f.width, f.height) for f in at_guest},
            }
        finally:
            for peer in peers:
                await peer.close()
            await host.close()
            await guest.close()

    async def bounded_call() -> dict[str, Any]:
        return await asyncio.wait_for(call(), CALL_DEADLINE_SECONDS)

    issued_after = int(time.time())
    seen = run_scenario(bounded_call, server)

    for welcome, user in zip(seen["welcomes"], [instant_session.host, guest_user], strict=True):
        (entry,) = turn_entries(welcome, coturn)
        expiry, _, name = entry["username"].partition(":")
        # Time-limited: valid now, for about TURN_CREDENTIAL_TTL, and only for this user.
        assert issued_after < int(expiry) <= time.time() + settings.TURN_CREDENTIAL_TTL + 1
        assert name == str(user.pk)
        assert entry["credential"] == rest_credential(coturn.secret, entry["username"])
    # Relay-only: neither peer offered a host candidate, so media can only have gone via coturn.
    for types in seen["candidate_types"]:
        assert types
        assert set(types) == {"relay"}
    assert seen["at_guest"] == {(320, 240)}
    assert seen["at_host"] == {(160, 128)}
    server.assert_no_tracebacks()


def test_coturn_accepts_the_welcome_credentials_and_refuses_tampered_or_expired_ones(
    coturn: Coturn, server: ServerProcess, instant_session: VideoSession
) -> None:
    host_cookie = session_cookie(instant_session.host)

    async def allocate(username: str, credential: str) -> str:
        """A TURN allocation made directly with aioice's client: the relayed address or the
        error coturn answered."""
        try:
            transport, _ = await asyncio.wait_for(
                turn.create_turn_endpoint(
                    asyncio.DatagramProtocol,
                    server_addr=("127.0.0.1", coturn.port),
                    username=username,
                    password=credential,
                ),
                10,
            )
        except stun.TransactionFailed as refused:
            code, _reason = refused.response.attributes["ERROR-CODE"]
            return f"refused {code}"
        try:
            host, _port = transport.get_extra_info("sockname")
            return f"relayed via {host}"
        finally:
            transport.close()

    async def scenario() -> dict[str, str]:
        client = await SignalingClient.connect(
            server, instant_session.websocket_path, cookie=host_cookie, label="host"
        )
        try:
            (entry,) = turn_entries(await client.expect("welcome"), coturn)
        finally:
            await client.close()
        username, credential = entry["username"], entry["credential"]
        expired = f"{int(time.time()) - 60}:{instant_session.host_id}"
        outcomes = {
            "welcome": await allocate(username, credential),
            "tampered": await allocate(username, credential[:-4] + "AAA="),
            "other secret": await allocate(username, rest_credential("not-the-secret", username)),
            "expired": await allocate(expired, rest_credential(coturn.secret, expired)),
        }
        return outcomes

    assert run_scenario(scenario, server) == {
        "welcome": "relayed via 127.0.0.1",
        "tampered": "refused 401",
        "other secret": "refused 401",
        "expired": "refused 401",
    }
