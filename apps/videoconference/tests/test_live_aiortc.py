"""Two independent WebRTC peers (aiortc) join a running server through the signaling protocol
and each receives the other's video, decoded.

The server is a real uvicorn process (with REDIS_URL, on the Redis channel layer; otherwise on the
in-memory layer, which serves one process). Media flows peer to peer over loopback UDP.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiortc import RTCConfiguration
from django.utils import timezone

from apps.courses.tests.factories import CourseFactory, EnrollmentFactory, instructor_of
from apps.videoconference.services import schedule_session, start_session
from apps.videoconference.tests.live import (
    ServerProcess,
    SignalingClient,
    VideoPeer,
    loopback_only_ice,
    rtc_ice_servers,
    run_scenario,
    running_server,
    session_cookie,
)

pytestmark = pytest.mark.django_db(transaction=True)

HOST_SIZE = (320, 240)
STUDENT_SIZE = (160, 128)
FRAMES = 5
CALL_DEADLINE_SECONDS = 60


@pytest.fixture
def server(transactional_db: None, tmp_path: Path) -> Iterator[ServerProcess]:
    # No STUN or TURN: on a closed network aioice would wait for unreachable servers.
    with running_server(
        name="signaling", log_dir=tmp_path, STUN_URLS="", TURN_URLS="", TURN_SECRET=""
    ) as process:
        yield process


def test_two_aiortc_peers_receive_each_others_video_through_the_server(
    server: ServerProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    loopback_only_ice(monkeypatch)
    course = CourseFactory.create()
    host_user = instructor_of(course)
    student_user = EnrollmentFactory.create(course=course).student
    starts_at = timezone.now() + timedelta(minutes=30)
    session = schedule_session(
        actor=host_user,
        course=course,
        title="Office hours",
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=1),
    )
    session = start_session(actor=host_user, session=session)
    host_cookie = session_cookie(host_user)
    student_cookie = session_cookie(student_user)

    async def call() -> dict[str, Any]:
        host = await SignalingClient.connect(
            server, session.websocket_path, cookie=host_cookie, label="host"
        )
        student = await SignalingClient.connect(
            server, session.websocket_path, cookie=student_cookie, label="student"
        )
        peers: list[VideoPeer] = []
        try:
            host_welcome = await host.expect("welcome")
            student_welcome = await student.expect("welcome")
            host_peer = VideoPeer(
                host,
                width=HOST_SIZE[0],
                height=HOST_SIZE[1],
                configuration=RTCConfiguration(
                    iceServers=rtc_ice_servers(host_welcome["ice_servers"])
                ),
            )
            student_peer = VideoPeer(
                student,
                width=STUDENT_SIZE[0],
                height=STUDENT_SIZE[1],
                configuration=RTCConfiguration(
                    iceServers=rtc_ice_servers(student_welcome["ice_servers"])
                ),
            )
            peers = [host_peer, student_peer]

            # The host was there first, so the host offers to the newcomer.
            newcomer = (await host.expect("peer-joined"))["peer"]["peer_id"]
            await host_peer.offer_to(newcomer)
            offer = await student.expect("offer")
            await student_peer.answer(offer)
            await host_peer.accept(await host.expect("answer"))

            at_host, at_student = await asyncio.gather(
                host_peer.receive_video(FRAMES), student_peer.receive_video(FRAMES)
            )
            return {
                "welcomes": (host_welcome, student_welcome),
                "offer_from": offer["from"],
                "at_host": [(f.width, f.height) for f in at_host],
                "at_student": [(f.width, f.height) for f in at_student],
                "states": [p.pc.connectionState for p in peers],
            }
        finally:
            for peer in peers:
                await peer.close()
            await host.close()
            await student.close()

    async def bounded_call() -> dict[str, Any]:
        return await asyncio.wait_for(call(), CALL_DEADLINE_SECONDS)

    seen = run_scenario(bounded_call, server)

    host_welcome, student_welcome = seen["welcomes"]
    assert seen["offer_from"] == host_welcome["peer_id"]
    assert [p["peer_id"] for p in student_welcome["peers"]] == [host_welcome["peer_id"]]
    # Each side decodes the other's camera, recognisable by its frame size.
    assert seen["at_student"] == [HOST_SIZE] * FRAMES
    assert seen["at_host"] == [STUDENT_SIZE] * FRAMES
    assert seen["states"] == ["connected", "connected"]
    server.assert_no_tracebacks()
