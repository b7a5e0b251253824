"""Room services: joining, capacity, lobby, host actions, state, chat history and liveness."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from apps.accounts.models import User
from apps.accounts.tests.factories import make_user
from apps.activity.models import ActivityEvent
from apps.courses.models import Course
from apps.courses.tests.factories import CourseFactory, EnrollmentFactory, instructor_of
from apps.videoconference import room, services
from apps.videoconference.errors import (
    HostNotRemovable,
    JoinNotAllowed,
    PeerNotFound,
    SessionEnded,
    SessionFull,
)
from apps.videoconference.models import Attendance, ChatMessage, VideoSession
from apps.videoconference.tests.factories import live_session

pytestmark = pytest.mark.django_db


@pytest.fixture
def course() -> Course:
    return CourseFactory.create()


@pytest.fixture
def session(course: Course) -> VideoSession:
    return live_session(course=course)


@pytest.fixture
def host(course: Course) -> User:
    return instructor_of(course)


def student_of(course: Course) -> User:
    user: User = EnrollmentFactory.create(course=course).student
    return user


def enter(
    session: VideoSession, user: User, *, host: bool = False, lobby: bool = False, n: int = 0
) -> room.Entry:
    return room.join(
        session=session,
        user=user,
        channel_name=f"test.channel!{user.pk}.{n}",
        is_host=host,
        needs_admission=lobby,
    )


def make_stale(entry: room.Entry) -> None:
    Attendance.objects.filter(pk=entry.attendance_id).update(
        last_seen=timezone.now() - timedelta(minutes=10)
    )


# --- Joining --------------------------------------------------------------------------------
def test_join_records_the_connection_and_lists_the_others(
    session: VideoSession, course: Course, host: User, caplog: pytest.LogCaptureFixture
) -> None:
    student = student_of(course)
    first = enter(session, host, host=True)

    with caplog.at_level(logging.INFO, logger="apps.videoconference.room"):
        second = enter(session, student)

    row = Attendance.objects.get(pk=second.attendance_id)
    assert row.channel_name == f"test.channel!{student.pk}.0"
    assert row.role == Attendance.Role.PARTICIPANT
    assert row.admitted is True
    assert row.left_at is None
    assert first.peers == []
    assert first.lobby == []
    assert second.lobby is None
    assert [p["peer_id"] for p in second.peers] == [first.peer_id]
    assert second.channels == {first.peer_id: f"test.channel!{host.pk}.0"}
    (record,) = [r for r in caplog.records if r.message == "videoconference.peer.joined"]
    assert record.event == "videoconference.peer.joined"  # type: ignore[attr-defined]
    assert record.session_id == session.pk  # type: ignore[attr-defined]
    assert record.user_id == student.pk  # type: ignore[attr-defined]
    assert record.peer_id == second.peer_id  # type: ignore[attr-defined]


def test_cap_counts_admitted_connected_fresh_peers_hosts_included(
    course: Course, host: User
) -> None:
    session = live_session(course=course, participant_cap=3)
    students = [student_of(course) for _ in range(4)]
    enter(session, host, host=True)
    enter(session, students[0])
    left = enter(session, students[1])
    room.leave(
        attendance_id=left.attendance_id,
        session_id=session.pk,
        user_id=students[1].pk,
        peer_id=left.peer_id,
        reason="closed",
    )
    dead = enter(session, students[2])
    make_stale(dead)  # its process died: it no longer takes a seat
    enter(session, students[3])  # third seat

    with pytest.raises(SessionFull):
        enter(session, make_user(), host=False)
    with pytest.raises(SessionFull):
        enter(session, host, host=True, n=1)  # hosts need a seat too


def test_one_user_may_connect_twice(session: VideoSession, host: User) -> None:
    first = enter(session, host, host=True)
    second = enter(session, host, host=True, n=1)

    assert first.peer_id != second.peer_id
    assert [p["peer_id"] for p in second.peers] == [first.peer_id]


def test_removed_user_cannot_join_again_but_a_host_is_never_blocked(
    session: VideoSession, course: Course, host: User
) -> None:
    student = student_of(course)
    entry = enter(session, student)
    room.remove(session_id=session.pk, peer_id=entry.peer_id, by_user_id=host.pk)

    with pytest.raises(JoinNotAllowed):
        enter(session, student, n=1)
    assert enter(session, host, host=True).admitted


def test_join_rechecks_the_session_under_its_lock(session: VideoSession, host: User) -> None:
    services.end_session(actor=host, session=session)

    with pytest.raises(SessionEnded):
        enter(session, host, host=True)


# --- Lobby ----------------------------------------------------------------------------------
def test_lobby_peer_waits_until_admitted(course: Course, host: User) -> None:
    session = live_session(course=course, join_policy=VideoSession.JoinPolicy.LOBBY)
    guest = make_user()
    host_entry = enter(session, host, host=True)

    waiting = enter(session, guest, lobby=True)

    assert waiting.admitted is False
    assert waiting.peers == []
    assert [p["peer_id"] for p in room.lobby_of(session.pk)] == [waiting.peer_id]
    assert room.peers_in(session.pk, exclude=host_entry.attendance_id) == []
    assert room.waiting_channel(session_id=session.pk, peer_id=waiting.peer_id)

    admitted = room.admit(
        attendance_id=waiting.attendance_id, name=guest.display_name, is_host=False, by_user_id=1
    )

    assert admitted is not None
    assert admitted.admitted is True
    assert [p["peer_id"] for p in admitted.peers] == [host_entry.peer_id]
    assert room.lobby_of(session.pk) == []
    assert (
        room.admit(
            attendance_id=waiting.attendance_id,
            name=guest.display_name,
            is_host=False,
            by_user_id=1,
        )
        is None
    )


def test_admitting_into_a_full_room_is_refused(course: Course, host: User) -> None:
    session = live_session(
        course=course, join_policy=VideoSession.JoinPolicy.LOBBY, participant_cap=2
    )
    enter(session, host, host=True)
    enter(session, make_user(), lobby=True)
    first = room.lobby_of(session.pk)[0]
    room.admit(
        attendance_id=Attendance.objects.get(peer_id=first["peer_id"]).pk,
        name="",
        is_host=False,
        by_user_id=host.pk,
    )
    late = enter(session, make_user(), lobby=True)

    with pytest.raises(SessionFull):
        room.waiting_channel(session_id=session.pk, peer_id=late.peer_id)
    assert (
        room.admit(attendance_id=late.attendance_id, name="", is_host=False, by_user_id=1) is None
    )


def test_deny_turns_a_waiting_peer_away_for_good(course: Course, host: User) -> None:
    session = live_session(course=course, join_policy=VideoSession.JoinPolicy.LOBBY)
    guest = make_user()
    waiting = enter(session, guest, lobby=True)

    gone = room.deny(session_id=session.pk, peer_id=waiting.peer_id, by_user_id=host.pk)

    assert gone == room.Gone(
        peer_id=waiting.peer_id, admitted=False, channel_name=f"test.channel!{guest.pk}.0"
    )
    with pytest.raises(PeerNotFound):
        room.deny(session_id=session.pk, peer_id=waiting.peer_id, by_user_id=host.pk)
    with pytest.raises(JoinNotAllowed):
        enter(session, guest, lobby=True, n=1)


# --- Host actions ---------------------------------------------------------------------------
def test_remove_closes_every_connection_of_that_person(
    session: VideoSession, course: Course, host: User, caplog: pytest.LogCaptureFixture
) -> None:
    student = student_of(course)
    tab_one, tab_two = enter(session, student), enter(session, student, n=1)

    with caplog.at_level(logging.INFO, logger="apps.videoconference.room"):
        gone = room.remove(session_id=session.pk, peer_id=tab_one.peer_id, by_user_id=host.pk)

    assert {g.peer_id for g in gone} == {tab_one.peer_id, tab_two.peer_id}
    assert all(g.admitted for g in gone)
    assert Attendance.objects.filter(user=student, removed=True, left_at__isnull=False).count() == 2
    removed = [r for r in caplog.records if r.message == "videoconference.peer.removed"]
    assert {r.peer_id for r in removed} == {tab_one.peer_id, tab_two.peer_id}  # type: ignore[attr-defined]


def test_hosts_cannot_be_removed_and_strangers_are_not_found(
    session: VideoSession, host: User
) -> None:
    entry = enter(session, host, host=True)
    other_session = live_session(join_policy=VideoSession.JoinPolicy.LINK)
    elsewhere = enter(other_session, make_user())

    with pytest.raises(HostNotRemovable):
        room.remove(session_id=session.pk, peer_id=entry.peer_id, by_user_id=host.pk)
    with pytest.raises(PeerNotFound):
        room.remove(session_id=session.pk, peer_id=elsewhere.peer_id, by_user_id=host.pk)
    with pytest.raises(PeerNotFound):
        room.mute(session_id=session.pk, peer_id=elsewhere.peer_id, by_user_id=host.pk)


def test_mute_turns_audio_off_and_returns_the_channel(
    session: VideoSession, course: Course, host: User
) -> None:
    student = student_of(course)
    entry = enter(session, student)

    channel = room.mute(session_id=session.pk, peer_id=entry.peer_id, by_user_id=host.pk)

    assert channel == f"test.channel!{student.pk}.0"
    assert Attendance.objects.get(pk=entry.attendance_id).audio is False


def test_host_muting_a_participant_is_recorded(
    session: VideoSession, course: Course, host: User, django_capture_on_commit_callbacks: Any
) -> None:
    student = student_of(course)
    entry = enter(session, student)

    with django_capture_on_commit_callbacks(execute=True):
        room.mute(session_id=session.pk, peer_id=entry.peer_id, by_user_id=host.pk)

    event = ActivityEvent.objects.get(action="videoconference.participant.muted")
    assert event.actor_id == host.pk
    assert event.target_type == "videoconference.videosession"
    assert event.target_id == str(session.pk)
    assert event.context["participant"] == student.pk


def test_muting_a_stranger_records_nothing(
    session: VideoSession, host: User, django_capture_on_commit_callbacks: Any
) -> None:
    other_session = live_session(join_policy=VideoSession.JoinPolicy.LINK)
    elsewhere = enter(other_session, make_user())

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(PeerNotFound):
        room.mute(session_id=session.pk, peer_id=elsewhere.peer_id, by_user_id=host.pk)

    assert not ActivityEvent.objects.filter(action="videoconference.participant.muted").exists()


def test_state_is_kept_for_newcomers(session: VideoSession, course: Course, host: User) -> None:
    student = student_of(course)
    entry = enter(session, student)

    sneaky: dict[str, Any] = {"video": False, "screen": True, "role": "host"}
    room.set_state(attendance_id=entry.attendance_id, changes=sneaky)
    newcomer = enter(session, host, host=True)

    (seen,) = newcomer.peers
    assert seen["video"] is False
    assert seen["screen"] is True
    assert seen["role"] == "participant"


# --- Chat -----------------------------------------------------------------------------------
def test_post_chat_stores_and_returns_the_frame(session: VideoSession, host: User) -> None:
    frame = room.post_chat(session_id=session.pk, user=host, text="Hello", sender="peer-1")

    stored = ChatMessage.objects.get()
    assert frame == {
        "type": "chat",
        "id": stored.pk,
        "from": "peer-1",
        "user": {"id": host.pk, "name": host.display_name},
        "text": "Hello",
        "sent_at": stored.sent_at.isoformat(),
    }


def test_chat_history_is_the_last_fifty_kept_messages_oldest_first(
    session: VideoSession, host: User
) -> None:
    for n in range(55):
        ChatMessage.objects.create(session=session, author=host, text=f"m{n}")
    ChatMessage.objects.filter(text="m54").update(removed_at=timezone.now())
    ChatMessage.objects.create(session=live_session(), author=host, text="elsewhere")

    history = room.recent_chat(session.pk)

    assert [c["text"] for c in history] == [f"m{n}" for n in range(4, 54)]
    assert {c["from"] for c in history} == {None}


# --- Leaving and liveness -------------------------------------------------------------------
def test_leave_is_idempotent(session: VideoSession, host: User) -> None:
    entry = enter(session, host, host=True)
    args: dict[str, Any] = {
        "attendance_id": entry.attendance_id,
        "session_id": session.pk,
        "user_id": host.pk,
        "peer_id": entry.peer_id,
        "reason": "closed",
    }

    assert room.leave(**args) is True
    assert room.leave(**args) is False
    assert Attendance.objects.get(pk=entry.attendance_id).left_at is not None


def test_heartbeat_touches_and_sweeps_only_this_sessions_dead_rows(
    session: VideoSession, course: Course, host: User
) -> None:
    me = enter(session, host, host=True)
    dead = enter(session, student_of(course))
    other = live_session(join_policy=VideoSession.JoinPolicy.LINK)
    dead_elsewhere = enter(other, make_user())
    for entry in (me, dead, dead_elsewhere):
        make_stale(entry)
    Attendance.objects.filter(pk=me.attendance_id).update(last_seen=timezone.now())
    before = Attendance.objects.get(pk=me.attendance_id).last_seen

    beat = room.heartbeat(attendance_id=me.attendance_id, session_id=session.pk)
    again = room.heartbeat(attendance_id=me.attendance_id, session_id=session.pk)

    assert beat == room.Beat(alive=True, swept=[room.Gone(peer_id=dead.peer_id, admitted=True)])
    assert again == room.Beat(alive=True, swept=[])
    assert Attendance.objects.get(pk=me.attendance_id).last_seen > before
    assert Attendance.objects.get(pk=dead_elsewhere.attendance_id).left_at is None


def test_heartbeat_of_a_closed_row_says_why(
    session: VideoSession, course: Course, host: User
) -> None:
    student = student_of(course)
    removed = enter(session, student)
    swept = enter(session, host, host=True)
    room.remove(session_id=session.pk, peer_id=removed.peer_id, by_user_id=host.pk)
    Attendance.objects.filter(pk=swept.attendance_id).update(left_at=timezone.now())

    assert room.heartbeat(attendance_id=removed.attendance_id, session_id=session.pk).fate == (
        "removed"
    )
    assert room.heartbeat(attendance_id=swept.attendance_id, session_id=session.pk).fate == "gone"
    services.end_session(actor=host, session=session)
    assert room.heartbeat(attendance_id=swept.attendance_id, session_id=session.pk).fate == "ended"


def test_relay_lookup_finds_only_admitted_connected_peers_of_the_session(
    course: Course, host: User
) -> None:
    session = live_session(course=course, join_policy=VideoSession.JoinPolicy.LOBBY)
    admitted = enter(session, host, host=True)
    waiting = enter(session, make_user(), lobby=True)
    other = enter(live_session(join_policy=VideoSession.JoinPolicy.LINK), make_user())

    assert room.lookup_channel(session_id=session.pk, peer_id=admitted.peer_id) == (
        f"test.channel!{host.pk}.0"
    )
    assert room.lookup_channel(session_id=session.pk, peer_id=waiting.peer_id) is None
    assert room.lookup_channel(session_id=session.pk, peer_id=other.peer_id) is None
