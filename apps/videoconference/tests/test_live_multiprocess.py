"""One room served by two real uvicorn processes that share only PostgreSQL/SQLite and Redis.

A host connects to process A and a student to process B of the same live session; everything the
protocol promises must hold across the processes, and when process B dies without a word its peer
must still leave the room as seen from A: no process holds room state of its own.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from apps.accounts.models import User
from apps.courses.tests.factories import CourseFactory, EnrollmentFactory, instructor_of
from apps.videoconference.models import Attendance, ChatMessage, VideoSession
from apps.videoconference.services import schedule_session, start_session
from apps.videoconference.tests.live import (
    ServerProcess,
    SignalingClient,
    run_scenario,
    running_server,
    session_cookie,
)

pytestmark = [
    pytest.mark.redis,
    pytest.mark.skipif(
        not os.environ.get("REDIS_URL"),
        reason="two server processes share a room only through a Redis channel layer "
        "(set REDIS_URL); the in-memory layer cannot span processes",
    ),
    pytest.mark.django_db(transaction=True),
]

HEARTBEAT_SECONDS = 1
PEER_TIMEOUT_SECONDS = 3
# Heartbeat sweeps run every second and a silent peer goes after 3 s; the rest is slack for a
# loaded machine, not an expectation.
PEER_LEFT_DEADLINE_SECONDS = 20.0

OFFER_SDP = (
    "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=sendrecv\r\n"
    "a=rtpmap:96 VP8/90000\r\n"
)
ANSWER_SDP = OFFER_SDP.replace("4611731400430051336", "5811731400430051337")
CANDIDATE = {
    "candidate": "candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host",
    "sdpMid": "0",
    "sdpMLineIndex": 0,
}


@dataclass
class Classroom:
    session: VideoSession
    host: User
    student: User
    classmate: User

    @property
    def path(self) -> str:
        return self.session.websocket_path


@pytest.fixture
def classroom(transactional_db: None) -> Classroom:
    course = CourseFactory.create()
    host = instructor_of(course)
    student = EnrollmentFactory.create(course=course).student
    classmate = EnrollmentFactory.create(course=course).student
    starts_at = timezone.now() + timedelta(hours=1)
    session = schedule_session(
        actor=host,
        course=course,
        title="Fractions, live",
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=1),
    )
    session = start_session(actor=host, session=session)
    return Classroom(session=session, host=host, student=student, classmate=classmate)


@pytest.fixture
def servers(
    transactional_db: None, tmp_path: Path
) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    settings = {
        "SIGNALING_HEARTBEAT_SECONDS": str(HEARTBEAT_SECONDS),
        "SIGNALING_PEER_TIMEOUT_SECONDS": str(PEER_TIMEOUT_SECONDS),
        # Room for the burst test below; the limiter itself is tested in the consumer tests.
        "SIGNALING_RATE_BURST": "400",
    }
    with (
        running_server(name="A", log_dir=tmp_path, **settings) as a,
        running_server(name="B", log_dir=tmp_path, **settings) as b,
    ):
        assert a.pid != b.pid
        yield a, b


def user_summary(user: User) -> dict[str, Any]:
    return {"id": user.pk, "name": user.display_name}


def test_host_on_one_process_and_student_on_another_share_the_room(
    classroom: Classroom, servers: tuple[ServerProcess, ServerProcess]
) -> None:
    a, b = servers
    host_cookie = session_cookie(classroom.host)
    student_cookie = session_cookie(classroom.student)
    classmate_cookie = session_cookie(classroom.classmate)

    async def scenario() -> dict[str, Any]:
        seen: dict[str, Any] = {}
        host = await SignalingClient.connect(a, classroom.path, cookie=host_cookie, label="host@A")
        student = classmate = None
        try:
            seen["host_welcome"] = await host.expect("welcome")
            host_id = seen["host_welcome"]["peer_id"]

            student = await SignalingClient.connect(
                b, classroom.path, cookie=student_cookie, label="student@B"
            )
            seen["student_welcome"] = await student.expect("welcome")
            student_id = seen["student_welcome"]["peer_id"]
            seen["host_sees_student"] = await host.expect("peer-joined")

            classmate = await SignalingClient.connect(
                a, classroom.path, cookie=classmate_cookie, label="classmate@A"
            )
            classmate_id = (await classmate.expect("welcome"))["peer_id"]
            await host.expect("peer-joined")
            await student.expect("peer-joined")

            # Per the contract the peer already in the room offers to the newcomer.
            offer_sdp = {"type": "offer", "sdp": OFFER_SDP}
            await host.send({"type": "offer", "to": student_id, "sdp": offer_sdp})
            seen["offer"] = await student.expect("offer")
            answer_sdp = {"type": "answer", "sdp": ANSWER_SDP}
            await student.send({"type": "answer", "to": host_id, "sdp": answer_sdp})
            seen["answer"] = await host.expect("answer")
            await host.send({"type": "ice", "to": student_id, "candidate": CANDIDATE})
            seen["ice_at_student"] = await student.expect("ice")
            await student.send({"type": "ice", "to": host_id, "candidate": None})
            seen["ice_at_host"] = await host.expect("ice")

            await student.send({"type": "chat", "text": "Hello from process B"})
            seen["chat"] = [await c.expect("chat") for c in (host, student, classmate)]
            # The classmate's chat came after the addressed frames; none of those reached it.
            seen["classmate_addressed"] = classmate.kept("offer", "answer", "ice")

            await host.send({"type": "state", "audio": False, "hand": True})
            seen["state"] = [
                await c.expect("peer-state", peer_id=host_id) for c in (student, classmate)
            ]

            await host.send({"type": "end"})
            seen["ended"] = [await c.expect("session-ended") for c in (student, classmate, host)]
            seen["close_codes"] = [await c.wait_closed() for c in (student, classmate, host)]
            seen["ids"] = {"host": host_id, "student": student_id, "classmate": classmate_id}
            return seen
        finally:
            for client in (host, student, classmate):
                if client is not None:
                    await client.close()

    seen = run_scenario(scenario, a, b)
    ids = seen["ids"]

    assert seen["host_welcome"]["role"] == "host"
    assert seen["host_welcome"]["session"]["status"] == "live"
    student_welcome = seen["student_welcome"]
    assert student_welcome["role"] == "participant"
    assert [p["peer_id"] for p in student_welcome["peers"]] == [ids["host"]]
    assert student_welcome["peers"][0]["user"] == user_summary(classroom.host)
    assert student_welcome["peers"][0]["role"] == "host"
    assert seen["host_sees_student"]["peer"]["peer_id"] == ids["student"]
    assert seen["host_sees_student"]["peer"]["user"] == user_summary(classroom.student)

    assert seen["offer"]["from"] == ids["host"]
    assert seen["offer"]["sdp"] == {"type": "offer", "sdp": OFFER_SDP}
    assert seen["answer"]["from"] == ids["student"]
    assert seen["answer"]["sdp"] == {"type": "answer", "sdp": ANSWER_SDP}
    assert seen["ice_at_student"]["from"] == ids["host"]
    assert seen["ice_at_student"]["candidate"] == CANDIDATE
    assert seen["ice_at_host"]["from"] == ids["student"]
    assert seen["ice_at_host"]["candidate"] is None
    assert seen["classmate_addressed"] == []

    chats = seen["chat"]
    assert {chat["text"] for chat in chats} == {"Hello from process B"}
    assert {chat["id"] for chat in chats} == {chats[0]["id"]}
    assert all(chat["from"] == ids["student"] for chat in chats)
    assert all(chat["user"] == user_summary(classroom.student) for chat in chats)
    stored = ChatMessage.objects.get(session=classroom.session)
    assert (stored.pk, stored.author, stored.text) == (
        chats[0]["id"],
        classroom.student,
        "Hello from process B",
    )

    for state in seen["state"]:
        assert state["audio"] is False
        assert state["hand"] is True

    assert seen["close_codes"] == [4409, 4409, 4409]
    classroom.session.refresh_from_db()
    assert classroom.session.status == VideoSession.Status.ENDED
    assert not Attendance.objects.filter(session=classroom.session, left_at__isnull=True).exists()
    a.assert_no_tracebacks()
    b.assert_no_tracebacks()


def test_burst_of_addressed_frames_crosses_processes_without_loss(
    classroom: Classroom, servers: tuple[ServerProcess, ServerProcess]
) -> None:
    """More frames at once than channels-redis keeps per channel by default (100): none dropped."""
    a, b = servers
    host_cookie = session_cookie(classroom.host)
    student_cookie = session_cookie(classroom.student)
    burst = 150

    async def scenario() -> list[int]:
        host = await SignalingClient.connect(a, classroom.path, cookie=host_cookie, label="host@A")
        student = await SignalingClient.connect(
            b, classroom.path, cookie=student_cookie, label="student@B"
        )
        try:
            await host.expect("welcome")
            student_id = (await student.expect("welcome"))["peer_id"]
            await host.expect("peer-joined")
            await asyncio.gather(
                *(
                    host.send(
                        {
                            "type": "ice",
                            "to": student_id,
                            "candidate": {
                                **CANDIDATE,
                                "candidate": f"candidate:{n} 1 udp 1 "
                                f"127.0.0.1 {10000 + n} typ host",
                            },
                        }
                    )
                    for n in range(burst)
                )
            )
            received = [await student.expect("ice", timeout=15) for _ in range(burst)]
            return [int(frame["candidate"]["candidate"].split()[0][10:]) for frame in received]
        finally:
            await host.close()
            await student.close()

    assert run_scenario(scenario, a, b) == list(range(burst))


def test_peer_on_a_killed_process_leaves_the_room_seen_from_the_other_process(
    classroom: Classroom, servers: tuple[ServerProcess, ServerProcess]
) -> None:
    a, b = servers
    host_cookie = session_cookie(classroom.host)
    student_cookie = session_cookie(classroom.student)
    classmate_cookie = session_cookie(classroom.classmate)

    async def scenario() -> dict[str, Any]:
        host = await SignalingClient.connect(a, classroom.path, cookie=host_cookie, label="host@A")
        student = await SignalingClient.connect(
            b, classroom.path, cookie=student_cookie, label="student@B"
        )
        classmate = None
        try:
            host_id = (await host.expect("welcome"))["peer_id"]
            student_id = (await student.expect("welcome"))["peer_id"]
            await host.expect("peer-joined")

            b.kill()  # no close frame, no cleanup: the process is simply gone
            killed_at = time.monotonic()
            left = await host.expect(
                "peer-left", peer_id=student_id, timeout=PEER_LEFT_DEADLINE_SECONDS
            )
            waited = time.monotonic() - killed_at

            classmate = await SignalingClient.connect(
                a, classroom.path, cookie=classmate_cookie, label="classmate@A"
            )
            newcomer_welcome = await classmate.expect("welcome")
            return {
                "left": left,
                "waited": waited,
                "ids": (host_id, student_id),
                "newcomer_peers": [p["peer_id"] for p in newcomer_welcome["peers"]],
                "host_pongs": host.pongs_sent,
            }
        finally:
            for client in (host, student, classmate):
                if client is not None:
                    await client.close()

    seen = run_scenario(scenario, a, b)
    host_id, student_id = seen["ids"]

    assert seen["left"] == {"type": "peer-left", "peer_id": student_id}
    assert seen["waited"] < PEER_LEFT_DEADLINE_SECONDS
    # The room as a newcomer sees it no longer holds the dead peer, only the host.
    assert seen["newcomer_peers"] == [host_id]
    # The host answered heartbeats all along, so it was never taken for dead.
    assert seen["host_pongs"] > 0
    deadline = time.monotonic() + 5
    while Attendance.objects.get(peer_id=student_id).left_at is None:
        assert time.monotonic() < deadline, "the dead peer's attendance was never closed"
        time.sleep(0.05)  # polling interval
    a.assert_no_tracebacks()
