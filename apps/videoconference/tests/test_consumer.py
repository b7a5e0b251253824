"""The signaling socket end to end, through `config.asgi.application` with real session cookies.

Both channel-layer configurations run these: in-memory by default, Redis with REDIS_URL set.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import User
from apps.accounts.roles import Role
from apps.accounts.tests.factories import make_user
from apps.activity.models import ActivityEvent
from apps.courses.models import Course
from apps.courses.tests.factories import CourseFactory, EnrollmentFactory, instructor_of
from apps.videoconference import consumers
from apps.videoconference.models import Attendance, ChatMessage, VideoSession
from apps.videoconference.tests.factories import VideoSessionFactory, live_session
from apps.videoconference.tests.ws_helpers import Peer, cookie_for, refused, run

pytestmark = pytest.mark.django_db(transaction=True)

PEER_KEYS = {"peer_id", "user", "role", "audio", "video", "screen", "hand"}
WELCOME_KEYS = {"type", "peer_id", "role", "user", "session", "peers", "ice_servers", "chat"}
OFFER_SDP = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
CANDIDATE = {
    "candidate": "candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host",
    "sdpMid": "0",
    "sdpMLineIndex": 0,
}


@pytest.fixture
def course() -> Course:
    return CourseFactory.create()


@pytest.fixture
def session(course: Course) -> VideoSession:
    return live_session(course=course)


@pytest.fixture
def host(course: Course) -> User:
    return instructor_of(course)


def enrolled(course: Course, **fields: Any) -> User:
    student: User = EnrollmentFactory.create(course=course, **fields).student
    return student


def peer(session: VideoSession, user: User | None) -> Peer:
    return Peer(session.meeting_token, cookie=cookie_for(user) if user else None)


def user_summary(user: User) -> dict[str, Any]:
    return {"id": user.pk, "name": user.display_name}


# --- Who may enter ------------------------------------------------------------------------
def _other_instructor(course: Course) -> User:
    return instructor_of(CourseFactory.create())


ROLE_CASES = {
    "enrolled student": (lambda c: enrolled(c), "participant"),
    "course instructor": (lambda c: instructor_of(c), "host"),
    "staff": (lambda c: make_user(role=Role.STAFF), "host"),
    "unenrolled student": (lambda c: make_user(), 4403),
    "another course's instructor": (_other_instructor, 4403),
    "unenrolled moderator": (lambda c: make_user(role=Role.MODERATOR), 4403),
    "enrolled moderator": (
        lambda c: enrolled(c, student=make_user(role=Role.MODERATOR)),
        "participant",
    ),
}


@pytest.mark.parametrize("case", ROLE_CASES)
def test_members_session_admits_by_role(session: VideoSession, course: Course, case: str) -> None:
    make, expected = ROLE_CASES[case]
    user = make(course)

    async def scenario() -> tuple[Any, list[dict[str, Any]], str | None]:
        p = peer(session, user)
        try:
            if isinstance(expected, str):
                return (await p.join())["role"], [], None
            return (*await refused(p), p.close_reason)
        finally:
            await p.close()

    outcome, frames, reason = run(scenario)

    assert outcome == expected
    if expected == 4403:
        # The close reason is the refusal's own code; the frame keeps the protocol's code.
        assert reason == "join_not_allowed"
        assert frames == [
            {
                "type": "error",
                "code": "not_allowed",
                "message": "You are not allowed to join this session.",
            }
        ]


@pytest.mark.parametrize(
    ("role", "expected"), [(Role.STUDENT, "participant"), (Role.MODERATOR, "participant")]
)
def test_link_session_admits_any_signed_in_stranger(role: Role, expected: str) -> None:
    session = live_session(join_policy=VideoSession.JoinPolicy.LINK)
    stranger = make_user(role=role)

    async def scenario() -> dict[str, Any]:
        p = peer(session, stranger)
        try:
            return await p.join()
        finally:
            await p.close()

    assert run(scenario)["role"] == expected


def test_anonymous_visitor_is_closed_with_4401(session: VideoSession) -> None:
    async def scenario() -> tuple[Any, Any]:
        p = peer(session, None)
        try:
            return await refused(p)
        finally:
            await p.close()

    assert run(scenario) == (4401, [])


def test_unknown_token_is_closed_with_4404(host: User) -> None:
    async def scenario() -> tuple[Any, Any]:
        p = Peer("no-such-meeting-token", cookie=cookie_for(host))
        try:
            return await refused(p)
        finally:
            await p.close()

    assert run(scenario) == (4404, [])


@pytest.mark.parametrize(
    "status",
    [VideoSession.Status.SCHEDULED, VideoSession.Status.ENDED, VideoSession.Status.CANCELLED],
)
def test_session_not_live_is_closed_with_4409(course: Course, host: User, status: str) -> None:
    session = VideoSessionFactory.create(course=course, status=status)

    async def scenario() -> tuple[Any, Any]:
        p = peer(session, host)
        try:
            return await refused(p)
        finally:
            await p.close()

    assert run(scenario) == (4409, [])


def test_full_session_refuses_one_more_with_4403(course: Course, host: User) -> None:
    session = live_session(course=course, participant_cap=2)
    first, second = enrolled(course), enrolled(course)

    async def scenario() -> tuple[Any, Any, str | None]:
        a, b, c = peer(session, host), peer(session, first), peer(session, second)
        try:
            await a.join()
            await b.join()
            code, frames = await refused(c)
            return code, frames, c.close_reason
        finally:
            for p in (a, b, c):
                await p.close()

    code, frames, reason = run(scenario)

    assert code == 4403
    assert reason == "session_full"
    assert frames[0]["code"] == "not_allowed"
    assert frames[0]["message"] == "This session is full."


def test_disallowed_origin_is_refused(session: VideoSession, host: User) -> None:
    async def scenario() -> bool:
        p = Peer(session.meeting_token, cookie=cookie_for(host), origin="http://evil.example")
        try:
            return await p.open()
        finally:
            await p.close()

    assert run(scenario) is False


# --- Welcome, joining and leaving ------------------------------------------------------------
def test_welcome_and_peer_joined_follow_the_contract(
    session: VideoSession, course: Course, host: User
) -> None:
    student = enrolled(course)

    async def scenario() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        h, s = peer(session, host), peer(session, student)
        try:
            host_welcome = await h.join()
            student_welcome = await s.join()
            joined = await h.expect("peer-joined")
            return host_welcome, student_welcome, joined
        finally:
            await h.close()
            await s.close()

    host_welcome, student_welcome, joined = run(scenario)

    assert set(host_welcome) == WELCOME_KEYS | {"lobby"}
    assert host_welcome["role"] == "host"
    assert host_welcome["user"] == user_summary(host)
    assert host_welcome["session"] == {"id": session.pk, "title": session.title, "status": "live"}
    assert host_welcome["peers"] == []
    assert host_welcome["lobby"] == []
    assert host_welcome["chat"] == []
    assert isinstance(host_welcome["ice_servers"], list)

    assert set(student_welcome) == WELCOME_KEYS
    assert student_welcome["role"] == "participant"
    assert student_welcome["peers"] == [
        {
            "peer_id": host_welcome["peer_id"],
            "user": user_summary(host),
            "role": "host",
            "audio": True,
            "video": True,
            "screen": False,
            "hand": False,
        }
    ]
    assert joined == {
        "type": "peer-joined",
        "peer": {
            "peer_id": student_welcome["peer_id"],
            "user": user_summary(student),
            "role": "participant",
            "audio": True,
            "video": True,
            "screen": False,
            "hand": False,
        },
    }
    assert set(joined["peer"]) == PEER_KEYS  # no channel name leaks to clients


def test_closing_a_socket_tells_the_others_and_records_the_leave(
    session: VideoSession, course: Course, host: User
) -> None:
    student = enrolled(course)

    async def scenario() -> tuple[str, dict[str, Any]]:
        h, s = peer(session, host), peer(session, student)
        try:
            await h.join()
            await s.join()
            await h.expect("peer-joined")
            await s.close()
            return s.peer_id, await h.expect("peer-left")
        finally:
            await h.close()

    student_peer, left = run(scenario)

    assert left == {"type": "peer-left", "peer_id": student_peer}
    row = Attendance.objects.get(peer_id=student_peer)
    assert row.left_at is not None
    assert row.user == student


def test_one_user_may_hold_two_connections(session: VideoSession, host: User) -> None:
    async def scenario() -> tuple[dict[str, Any], dict[str, Any]]:
        first, second = peer(session, host), peer(session, host)
        try:
            await first.join()
            welcome = await second.join()
            return first.welcome, welcome
        finally:
            await first.close()
            await second.close()

    first, second = run(scenario)

    assert first["peer_id"] != second["peer_id"]
    assert [p["peer_id"] for p in second["peers"]] == [first["peer_id"]]


# --- Addressed relay ------------------------------------------------------------------------
@pytest.mark.parametrize("local_delivery", [True, False], ids=["same-process", "channel-layer"])
def test_offer_answer_and_ice_reach_only_the_addressee_with_from(
    session: VideoSession,
    course: Course,
    host: User,
    local_delivery: bool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Relays between sockets of one process are written directly; to other processes they go
    through the channel layer. Both paths must behave the same."""
    monkeypatch.setattr(consumers, "LOCAL_DELIVERY", local_delivery)
    alice, bob = enrolled(course), enrolled(course)

    async def scenario() -> dict[str, Any]:
        h, a, b = peer(session, host), peer(session, alice), peer(session, bob)
        try:
            await h.join()
            await a.join()
            await b.join()
            await h.expect("peer-joined")
            await h.expect("peer-joined")
            await a.expect("peer-joined")
            # Existing peers offer to the newcomer; the newcomer answers.
            await a.send(
                {"type": "offer", "to": b.peer_id, "sdp": {"type": "offer", "sdp": OFFER_SDP}}
            )
            offer = await b.expect("offer")
            await b.send(
                {"type": "answer", "to": a.peer_id, "sdp": {"type": "answer", "sdp": OFFER_SDP}}
            )
            answer = await a.expect("answer")
            await a.send({"type": "ice", "to": b.peer_id, "candidate": CANDIDATE})
            await a.send({"type": "ice", "to": b.peer_id, "candidate": None})
            ice = [await b.expect("ice"), await b.expect("ice")]
            # A broadcast from the same sender after the relays: the host's next frame must be
            # it, proving none of the addressed frames reached the host.
            await a.send({"type": "caption", "text": "marker", "final": True})
            host_next = await h.expect("caption")
            return {
                "a": a.peer_id,
                "b": b.peer_id,
                "offer": offer,
                "answer": answer,
                "ice": ice,
                "host_next": host_next,
            }
        finally:
            for p in (h, a, b):
                await p.close()

    out = run(scenario)

    assert out["offer"] == {
        "type": "offer",
        "from": out["a"],
        "to": out["b"],
        "sdp": {"type": "offer", "sdp": OFFER_SDP},
    }
    assert out["answer"]["from"] == out["b"]
    assert out["answer"]["sdp"] == {"type": "answer", "sdp": OFFER_SDP}
    assert out["ice"] == [
        {"type": "ice", "from": out["a"], "to": out["b"], "candidate": CANDIDATE},
        {"type": "ice", "from": out["a"], "to": out["b"], "candidate": None},
    ]
    assert out["host_next"]["text"] == "marker"


def test_relay_to_nobody_self_or_another_sessions_peer_is_no_such_peer(
    session: VideoSession, course: Course, host: User
) -> None:
    elsewhere = live_session(join_policy=VideoSession.JoinPolicy.LINK)
    stranger = make_user()

    async def scenario() -> list[dict[str, Any]]:
        h, other = peer(session, host), peer(elsewhere, stranger)
        try:
            await h.join()
            await other.join()
            errors = []
            for to in ("nobody-here", h.peer_id, other.peer_id):
                await h.send({"type": "ice", "to": to, "candidate": None})
                errors.append(await h.expect("error"))
            await h.send({"type": "caption", "text": "still here"})
            errors.append(await h.expect("caption"))
            return errors
        finally:
            await h.close()
            await other.close()

    *errors, after = run(scenario)

    assert [e["code"] for e in errors] == ["no_such_peer"] * 3
    assert after["text"] == "still here"


# --- Chat, state, captions ------------------------------------------------------------------
def test_chat_is_stored_broadcast_and_replayed_to_newcomers(
    session: VideoSession, course: Course, host: User
) -> None:
    student, latecomer = enrolled(course), enrolled(course)

    async def scenario() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any], str]:
        h, s = peer(session, host), peer(session, student)
        late = peer(session, latecomer)
        try:
            await h.join()
            await s.join()
            await h.expect("peer-joined")
            await s.send({"type": "chat", "text": "  Hello, class!  "})
            to_host = await h.expect("chat")
            to_sender = await s.expect("chat")
            welcome = await late.join()
            return to_host, to_sender, welcome, s.peer_id
        finally:
            for p in (h, s, late):
                await p.close()

    to_host, to_sender, welcome, student_peer = run(scenario)

    stored = ChatMessage.objects.get()
    assert stored.text == "Hello, class!"
    assert stored.author == student
    assert to_host == to_sender
    assert to_host == {
        "type": "chat",
        "id": stored.pk,
        "from": student_peer,
        "user": user_summary(student),
        "text": "Hello, class!",
        "sent_at": stored.sent_at.isoformat(),
    }
    assert welcome["chat"] == [{**to_host, "from": None}]


def test_chat_history_leaves_out_removed_messages(session: VideoSession, host: User) -> None:
    ChatMessage.objects.create(session=session, author=host, text="kept")
    ChatMessage.objects.create(
        session=session, author=host, text="gone", removed_at=timezone.now(), removed_by=host
    )

    async def scenario() -> dict[str, Any]:
        h = peer(session, host)
        try:
            return await h.join()
        finally:
            await h.close()

    assert [c["text"] for c in run(scenario)["chat"]] == ["kept"]


def test_state_and_captions_reach_everyone_and_state_is_kept(
    session: VideoSession, course: Course, host: User
) -> None:
    student, latecomer = enrolled(course), enrolled(course)

    async def scenario() -> dict[str, Any]:
        h, s, late = peer(session, host), peer(session, student), peer(session, latecomer)
        try:
            await h.join()
            await s.join()
            await h.expect("peer-joined")
            await s.send({"type": "state", "audio": False, "hand": True})
            states = [await h.expect("peer-state"), await s.expect("peer-state")]
            await h.send({"type": "caption", "text": "Welcome everyone", "final": False})
            captions = [await h.expect("caption"), await s.expect("caption")]
            welcome = await late.join()
            return {
                "states": states,
                "captions": captions,
                "welcome": welcome,
                "s": s.peer_id,
                "h": h.peer_id,
            }
        finally:
            for p in (h, s, late):
                await p.close()

    out = run(scenario)

    assert (
        out["states"]
        == [{"type": "peer-state", "peer_id": out["s"], "audio": False, "hand": True}] * 2
    )
    assert (
        out["captions"]
        == [{"type": "caption", "from": out["h"], "text": "Welcome everyone", "final": False}] * 2
    )
    seen = {p["peer_id"]: p for p in out["welcome"]["peers"]}
    assert seen[out["s"]]["audio"] is False
    assert seen[out["s"]]["hand"] is True
    assert seen[out["h"]]["audio"] is True


# --- Host actions ---------------------------------------------------------------------------
def test_host_mutes_a_participant(session: VideoSession, course: Course, host: User) -> None:
    student = enrolled(course)

    async def scenario() -> dict[str, Any]:
        h, s = peer(session, host), peer(session, student)
        try:
            await h.join()
            await s.join()
            await h.expect("peer-joined")
            await h.send({"type": "mute", "peer_id": s.peer_id})
            muted = await s.expect("muted-by-host")
            state_s = [await s.expect("peer-state")]
            state_h = await h.expect("peer-state")
            return {"muted": muted, "state_s": state_s, "state_h": state_h, "s": s.peer_id}
        finally:
            await h.close()
            await s.close()

    out = run(scenario)

    expected_state = {"type": "peer-state", "peer_id": out["s"], "audio": False}
    assert out["muted"] == {"type": "muted-by-host"}
    assert out["state_s"] == [expected_state]
    assert out["state_h"] == expected_state
    assert Attendance.objects.get(peer_id=out["s"]).audio is False
    muted = ActivityEvent.objects.get(action="videoconference.participant.muted")
    assert (muted.actor_id, muted.context["participant"]) == (host.pk, student.pk)


def test_host_removes_a_participant_who_cannot_come_back(
    session: VideoSession, course: Course, host: User
) -> None:
    student, classmate = enrolled(course), enrolled(course)

    async def scenario() -> dict[str, Any]:
        h, s, c = peer(session, host), peer(session, student), peer(session, classmate)
        again = peer(session, student)
        try:
            await h.join()
            await s.join()
            await c.join()
            await h.send({"type": "remove", "peer_id": s.peer_id})
            code, before = await s.expect_close()
            left = await c.wait_for(lambda f: f["type"] == "peer-left")
            return {
                "code": code,
                "before": before,
                "left": left[0],
                "s": s.peer_id,
                "again": await refused(again),
            }
        finally:
            for p in (h, s, c, again):
                await p.close()

    out = run(scenario)

    assert out["code"] == 4403
    assert out["before"][-1] == {"type": "removed"}
    assert out["left"] == {"type": "peer-left", "peer_id": out["s"]}
    row = Attendance.objects.get(peer_id=out["s"])
    assert row.removed is True
    assert row.left_at is not None
    assert out["again"][0] == 4403


def test_host_cannot_remove_another_host(session: VideoSession, course: Course, host: User) -> None:
    staff = make_user(role=Role.STAFF)

    async def scenario() -> dict[str, Any]:
        h, st = peer(session, host), peer(session, staff)
        try:
            await h.join()
            await st.join()
            await st.send({"type": "remove", "peer_id": h.peer_id})
            return await st.expect("error")
        finally:
            await h.close()
            await st.close()

    assert run(scenario)["code"] == "not_allowed"


def test_host_ends_the_session_for_everyone(
    session: VideoSession, course: Course, host: User
) -> None:
    student = enrolled(course)

    async def scenario() -> list[tuple[Any, Any]]:
        h, s = peer(session, host), peer(session, student)
        try:
            await h.join()
            await s.join()
            await h.send({"type": "end"})
            return [await s.expect_close(), await h.expect_close()]
        finally:
            await h.close()
            await s.close()

    for code, frames in run(scenario):
        assert code == 4409
        assert frames[-1] == {"type": "session-ended"}
    session.refresh_from_db()
    assert session.status == VideoSession.Status.ENDED
    assert not Attendance.objects.filter(session=session, left_at__isnull=True).exists()


def test_ending_through_the_web_page_closes_every_socket(
    session: VideoSession, course: Course, host: User
) -> None:
    student = enrolled(course)
    browser = Client()
    browser.force_login(host)

    async def scenario() -> tuple[int, list[tuple[Any, Any]]]:
        h, s = peer(session, host), peer(session, student)
        try:
            await h.join()
            await s.join()
            response = await sync_to_async(browser.post)(
                reverse("videoconference:end", kwargs={"token": session.meeting_token})
            )
            return response.status_code, [await s.expect_close(), await h.expect_close()]
        finally:
            await h.close()
            await s.close()

    status, closes = run(scenario)

    assert status in (200, 302)
    for code, frames in closes:
        assert code == 4409
        assert frames[-1] == {"type": "session-ended"}


@pytest.mark.parametrize(
    "frame",
    [
        {"type": "mute", "peer_id": "x"},
        {"type": "remove", "peer_id": "x"},
        {"type": "admit", "peer_id": "x"},
        {"type": "deny", "peer_id": "x"},
        {"type": "end"},
    ],
)
def test_participant_cannot_use_host_actions(
    session: VideoSession, course: Course, host: User, frame: dict[str, Any]
) -> None:
    student = enrolled(course)

    async def scenario() -> tuple[dict[str, Any], dict[str, Any]]:
        h, s = peer(session, host), peer(session, student)
        try:
            await h.join()
            await s.join()
            target = dict(frame)
            if "peer_id" in target:
                target["peer_id"] = h.peer_id
            await s.send(target)
            error = await s.expect("error")
            await s.send({"type": "chat", "text": "sorry"})
            return error, await s.expect("chat")
        finally:
            await h.close()
            await s.close()

    error, after = run(scenario)

    assert error["code"] == "not_allowed"
    assert after["text"] == "sorry"
    session.refresh_from_db()
    assert session.status == VideoSession.Status.LIVE
    assert Attendance.objects.filter(session=session, user=host, audio=True, removed=False).exists()


# --- Lobby ----------------------------------------------------------------------------------
@pytest.fixture
def lobby_session(course: Course) -> VideoSession:
    return live_session(course=course, join_policy=VideoSession.JoinPolicy.LOBBY)


def test_lobby_peer_waits_and_is_admitted_by_a_host(
    lobby_session: VideoSession, host: User
) -> None:
    guest = make_user()

    async def scenario() -> dict[str, Any]:
        h, g = peer(lobby_session, host), peer(lobby_session, guest)
        try:
            await h.join()
            assert await g.open()
            lobby = await g.expect("lobby")
            waiting = await h.expect("lobby-waiting")
            await g.send({"type": "chat", "text": "let me in"})
            refused_chat = await g.expect("error")
            await h.send({"type": "admit", "peer_id": waiting["peer"]["peer_id"]})
            welcome = await g.expect("welcome")
            host_frames = [await h.expect("peer-joined"), await h.expect("lobby-left")]
            return {
                "lobby": lobby,
                "waiting": waiting,
                "refused": refused_chat,
                "welcome": welcome,
                "host": host_frames,
                "h": h.peer_id,
            }
        finally:
            await h.close()
            await g.close()

    out = run(scenario)

    guest_peer = out["waiting"]["peer"]["peer_id"]
    assert out["lobby"] == {"type": "lobby"}
    assert out["waiting"]["peer"]["user"] == user_summary(guest)
    assert set(out["waiting"]["peer"]) == PEER_KEYS
    assert out["refused"]["code"] == "not_allowed"
    assert out["welcome"]["peer_id"] == guest_peer
    assert [p["peer_id"] for p in out["welcome"]["peers"]] == [out["h"]]
    assert out["host"][0]["peer"]["peer_id"] == guest_peer
    assert out["host"][1] == {"type": "lobby-left", "peer_id": guest_peer}
    assert not ChatMessage.objects.exists()


def test_host_joining_later_sees_the_lobby_in_its_welcome(
    lobby_session: VideoSession, host: User
) -> None:
    guest = make_user()

    async def scenario() -> tuple[list[dict[str, Any]], str]:
        g, h = peer(lobby_session, guest), peer(lobby_session, host)
        try:
            assert await g.open()
            await g.expect("lobby")
            welcome = await h.join()
            await g.close()
            left = await h.expect("lobby-left")
            return welcome["lobby"], left["peer_id"]
        finally:
            await h.close()

    lobby, left = run(scenario)

    assert [p["user"]["id"] for p in lobby] == [guest.pk]
    assert left == lobby[0]["peer_id"]


def test_denied_lobby_peer_is_closed_and_cannot_knock_again(
    lobby_session: VideoSession, host: User
) -> None:
    guest = make_user()

    async def scenario() -> dict[str, Any]:
        h, g, again = (
            peer(lobby_session, host),
            peer(lobby_session, guest),
            peer(lobby_session, guest),
        )
        try:
            await h.join()
            assert await g.open()
            await g.expect("lobby")
            waiting = await h.expect("lobby-waiting")
            await h.send({"type": "deny", "peer_id": waiting["peer"]["peer_id"]})
            closed = await g.expect_close()
            left = await h.expect("lobby-left")
            return {"closed": closed, "left": left, "again": await refused(again)}
        finally:
            for p in (h, g, again):
                await p.close()

    out = run(scenario)

    code, frames = out["closed"]
    assert code == 4403
    assert frames[-1]["code"] == "not_allowed"
    assert out["left"]["type"] == "lobby-left"
    assert out["again"][0] == 4403


def test_lobby_peer_hears_when_the_session_ends(lobby_session: VideoSession, host: User) -> None:
    guest = make_user()

    async def scenario() -> tuple[Any, Any]:
        h, g = peer(lobby_session, host), peer(lobby_session, guest)
        try:
            await h.join()
            assert await g.open()
            await g.expect("lobby")
            await h.send({"type": "end"})
            return await g.expect_close()
        finally:
            await h.close()
            await g.close()

    code, frames = run(scenario)

    assert code == 4409
    assert frames[-1] == {"type": "session-ended"}


# --- Robustness -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("send", "code"),
    [
        ({"bytes_data": b"\x00\x01binary"}, "bad_message"),
        ({"text_data": "{not json"}, "bad_message"),
        ({"text_data": "[1, 2, 3]"}, "bad_message"),
        ({"text_data": '{"text": "no type"}'}, "bad_message"),
        ({"text_data": '{"type": 7}'}, "bad_message"),
        ({"text_data": '{"type": "shout"}'}, "unknown_type"),
        ({"text_data": '{"type": "chat", "text": 42}'}, "bad_message"),
        ({"text_data": '{"type": "chat", "text": "   "}'}, "bad_message"),
        ({"text_data": '{"type": "state", "audio": "yes"}'}, "bad_message"),
        (
            {"text_data": '{"type": "offer", "to": "x", "sdp": {"type": "answer", "sdp": "v=0"}}'},
            "bad_message",
        ),
        ({"text_data": '{"type": "ice", "to": "x", "candidate": {"candidate": 1}}'}, "bad_message"),
        ({"text_data": '{"type": "chat", "text": "' + "x" * (64 * 1024) + '"}'}, "too_large"),
        ({"text_data": "[" * 50_000 + "]" * 50_000}, "too_large"),
        ({"text_data": "[" * 30_000 + "]" * 30_000}, "bad_message"),
    ],
)
def test_malformed_frames_get_an_error_and_the_socket_stays_open(
    session: VideoSession, host: User, send: dict[str, Any], code: str
) -> None:
    async def scenario() -> tuple[dict[str, Any], dict[str, Any]]:
        h = peer(session, host)
        try:
            await h.join()
            await h.socket.send_to(**send)
            error = await h.expect("error")
            await h.send({"type": "chat", "text": "still here"})
            return error, await h.expect("chat")
        finally:
            await h.close()

    error, after = run(scenario)

    assert error["code"] == code
    assert error["message"]
    assert after["text"] == "still here"


def test_flooding_gets_rate_limited_then_closed_with_4429(
    session: VideoSession, course: Course, host: User, settings: Any
) -> None:
    settings.SIGNALING_RATE_PER_SECOND = 0.001  # no refill during the test
    settings.SIGNALING_RATE_BURST = 3
    student = enrolled(course)

    async def scenario() -> dict[str, Any]:
        h, s = peer(session, host), peer(session, student)
        try:
            await h.join()
            await s.join()
            for n in range(3 + 1 + 3 + 1):  # burst, first drop, more drops, past the limit
                await s.send({"type": "caption", "text": f"line {n}"})
            code, frames = await s.expect_close()
            left, host_saw = await h.wait_for(lambda f: f["type"] == "peer-left")
            return {
                "code": code,
                "frames": frames,
                "left": left,
                "host_saw": host_saw,
                "s": s.peer_id,
            }
        finally:
            await h.close()
            await s.close()

    out = run(scenario)

    errors = [f for f in out["frames"] if f["type"] == "error"]
    captions = [f["text"] for f in out["host_saw"] if f["type"] == "caption"]
    assert captions == ["line 0", "line 1", "line 2"]  # the burst went through, the rest did not
    assert [e["code"] for e in errors] == ["rate_limited"]  # one notice per second at most
    assert out["code"] == 4429
    assert out["left"] == {"type": "peer-left", "peer_id": out["s"]}


def test_failure_inside_a_frame_is_logged_not_shown_and_the_socket_stays(
    session: VideoSession, host: User, caplog: pytest.LogCaptureFixture
) -> None:
    """Storing a chat message for a session deleted underneath the room fails in the database
    (a real IntegrityError); the client must get a generic error, not the exception text."""

    async def scenario() -> tuple[dict[str, Any], dict[str, Any]]:
        h = peer(session, host)
        try:
            await h.join()
            await database_sync_to_async(
                lambda: VideoSession.objects.filter(pk=session.pk).delete()
            )()
            await h.send({"type": "chat", "text": "anyone?"})
            error = await h.expect("error")
            await h.send({"type": "caption", "text": "still here"})
            return error, await h.expect("caption")
        finally:
            await h.close()

    with caplog.at_level(logging.ERROR, logger="apps.videoconference.consumers"):
        error, after = run(scenario)

    assert error["code"] == "bad_message"
    assert "Integrity" not in error["message"]
    assert "FOREIGN" not in error["message"].upper()
    assert after["text"] == "still here"
    assert any(r.message == "videoconference.signaling.frame_failed" for r in caplog.records)


# --- Liveness -------------------------------------------------------------------------------
async def answer_pings_until(p: Peer, frame_type: str, *, timeout: float = 10.0) -> dict[str, Any]:
    """Behave like a live browser (answer every ping) until a frame of `frame_type` arrives."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        frame = await p.receive(max(0.01, deadline - loop.time()))
        if frame["type"] == "ping":
            await p.send({"type": "pong"})
        elif frame["type"] == frame_type:
            return frame


def test_silent_peer_is_closed_4408_and_the_others_told(
    session: VideoSession, course: Course, host: User, settings: Any
) -> None:
    settings.SIGNALING_HEARTBEAT_SECONDS = 0.05
    settings.SIGNALING_PEER_TIMEOUT_SECONDS = 0.5
    student = enrolled(course)

    async def scenario() -> dict[str, Any]:
        h, s = peer(session, host), peer(session, student)
        try:
            await h.join()
            await s.join()
            left = await answer_pings_until(h, "peer-left")
            code, frames = await s.expect_close(timeout=10)
            return {
                "left": left,
                "code": code,
                "pings": [f["type"] for f in frames],
                "s": s.peer_id,
            }
        finally:
            await h.close()
            await s.close()

    out = run(scenario)

    assert out["left"] == {"type": "peer-left", "peer_id": out["s"]}
    assert out["code"] == 4408
    assert set(out["pings"]) == {"ping"}
    assert Attendance.objects.get(peer_id=out["s"]).left_at is not None


def test_peer_whose_process_died_is_swept_by_the_heartbeat(
    session: VideoSession, course: Course, host: User, settings: Any
) -> None:
    settings.SIGNALING_HEARTBEAT_SECONDS = 0.05
    settings.SIGNALING_PEER_TIMEOUT_SECONDS = 3
    student = enrolled(course)
    # A connection served by a process that has since died: its row stays "connected".
    ghost = Attendance.objects.create(session=session, user=student, channel_name="gone.process!x")

    async def scenario() -> tuple[dict[str, Any], dict[str, Any]]:
        h = peer(session, host)
        try:
            welcome = await h.join()
            await database_sync_to_async(
                lambda: Attendance.objects.filter(pk=ghost.pk).update(
                    last_seen=timezone.now() - timedelta(minutes=5)
                )
            )()
            return welcome, await answer_pings_until(h, "peer-left")
        finally:
            await h.close()

    welcome, left = run(scenario)

    assert [p["peer_id"] for p in welcome["peers"]] == [ghost.peer_id]
    assert left == {"type": "peer-left", "peer_id": ghost.peer_id}
    ghost.refresh_from_db()
    assert ghost.left_at is not None


def test_heartbeat_keeps_last_seen_fresh(session: VideoSession, host: User, settings: Any) -> None:
    settings.SIGNALING_HEARTBEAT_SECONDS = 0.05
    settings.SIGNALING_PEER_TIMEOUT_SECONDS = 5

    async def scenario() -> tuple[Any, Any]:
        h = peer(session, host)
        try:
            await h.join()
            row = await database_sync_to_async(Attendance.objects.get)(peer_id=h.peer_id)
            for _ in range(3):
                await h.expect("ping", skip=())
                await h.send({"type": "pong"})
            await h.expect("ping", skip=())
            later = await database_sync_to_async(Attendance.objects.get)(peer_id=h.peer_id)
            return row.last_seen, later.last_seen
        finally:
            await h.close()

    before, after = run(scenario)

    assert after > before


@pytest.mark.parametrize(
    ("change", "code", "last_frame"),
    [
        ({"left_at": True}, 4408, None),  # swept as dead by another process while we stalled
        ({"left_at": True, "removed": True}, 4403, {"type": "removed"}),
    ],
)
def test_connection_whose_row_was_closed_elsewhere_is_closed_at_its_next_heartbeat(
    session: VideoSession,
    host: User,
    settings: Any,
    change: dict[str, Any],
    code: int,
    last_frame: dict[str, Any] | None,
) -> None:
    settings.SIGNALING_HEARTBEAT_SECONDS = 0.05
    settings.SIGNALING_PEER_TIMEOUT_SECONDS = 5

    async def scenario() -> tuple[Any, list[Any]]:
        h = peer(session, host)
        try:
            await h.join()
            fields = {**change, "left_at": timezone.now()}
            await database_sync_to_async(
                lambda: Attendance.objects.filter(peer_id=h.peer_id).update(**fields)
            )()
            return await h.expect_close()
        finally:
            await h.close()

    closed_with, frames = run(scenario)

    assert closed_with == code
    if last_frame is not None:
        assert frames[-1] == last_frame


# --- Bursts ---------------------------------------------------------------------------------
def test_burst_of_chat_from_several_peers_reaches_everyone_in_order(
    session: VideoSession, course: Course, host: User, settings: Any
) -> None:
    """300 chat messages in a burst: none may be dropped by the channel layer's capacity."""
    settings.SIGNALING_RATE_PER_SECOND = 10_000
    settings.SIGNALING_RATE_BURST = 10_000
    students = [enrolled(course) for _ in range(2)]
    per_sender = 100

    async def scenario() -> tuple[list[str], dict[str, list[tuple[str, str]]]]:
        peers = [peer(session, host)] + [peer(session, s) for s in students]
        try:
            for p in peers:
                await p.join()

            async def blast(p: Peer) -> None:
                for n in range(per_sender):
                    await p.send({"type": "chat", "text": f"{p.peer_id} {n}"})

            await asyncio.gather(*(blast(p) for p in peers))
            received: dict[str, list[tuple[str, str]]] = {}
            for p in peers:
                got: list[tuple[str, str]] = []
                while len(got) < per_sender * len(peers):
                    frame = await p.receive(timeout=30)
                    if frame["type"] == "chat":
                        got.append((frame["from"], frame["text"]))
                received[p.peer_id] = got
            return [p.peer_id for p in peers], received
        finally:
            for p in peers:
                await p.close()

    senders, received = run(scenario)

    assert ChatMessage.objects.count() == per_sender * len(senders)
    for got in received.values():
        for sender in senders:
            mine = [text for who, text in got if who == sender]
            assert mine == [f"{sender} {n}" for n in range(per_sender)]
