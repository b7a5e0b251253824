"""Session lifecycle: schedule, change, cancel, start, end and instant sessions, with refusals."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import TypedDict

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.core.exceptions import ValidationError
from django.utils import timezone

from apps.accounts.roles import Role
from apps.accounts.tests.factories import make_user
from apps.core.channel_layers import release_channel
from apps.core.tests.callbacks import feature_callbacks
from apps.courses.tests.factories import CourseFactory, EnrollmentFactory, instructor_of
from apps.videoconference import calendar_services, realtime, services
from apps.videoconference.errors import HostNotAllowed, InvalidSchedule, SessionEnded
from apps.videoconference.models import Attendance, CalendarFeed, VideoSession
from apps.videoconference.tests.factories import VideoSessionFactory, attend, live_session
from apps.videoconference.tests.ws_helpers import run

pytestmark = pytest.mark.django_db


class Times(TypedDict):
    starts_at: datetime
    ends_at: datetime


def _times(hours_from_now: int = 24, length: int = 1) -> Times:
    start = timezone.now() + timedelta(hours=hours_from_now)
    return {"starts_at": start, "ends_at": start + timedelta(hours=length)}


# --- schedule ---------------------------------------------------------------------------------


def test_a_course_instructor_schedules_a_session_for_the_course():
    course = CourseFactory.create()
    teacher = instructor_of(course)

    session = services.schedule_session(
        actor=teacher, course=course, title="Week 1 live class", **_times()
    )

    session.refresh_from_db()
    assert (session.course, session.host, session.status, session.kind) == (
        course,
        teacher,
        VideoSession.Status.SCHEDULED,
        VideoSession.Kind.SCHEDULED,
    )
    assert session.started_at is None


def test_staff_may_schedule_for_any_course():
    course = CourseFactory.create()
    staff = make_user(role=Role.STAFF)

    session = services.schedule_session(actor=staff, course=course, title="Check-in", **_times())

    assert session.host == staff


@pytest.mark.parametrize("who", [Role.STUDENT, Role.INSTRUCTOR, Role.MODERATOR])
def test_people_who_do_not_teach_the_course_may_not_schedule(who):
    course = CourseFactory.create()

    with pytest.raises(HostNotAllowed):
        services.schedule_session(actor=make_user(role=who), course=course, title="x", **_times())
    assert not VideoSession.objects.exists()


def test_scheduling_an_end_before_the_start_is_refused():
    course = CourseFactory.create()
    times = _times()

    with pytest.raises(ValidationError) as caught:
        services.schedule_session(
            actor=instructor_of(course),
            course=course,
            title="Backwards",
            starts_at=times["ends_at"],
            ends_at=times["starts_at"],
        )
    assert "ends_at" in caught.value.message_dict
    assert not VideoSession.objects.exists()


def test_scheduling_logs_the_session_and_the_actor(caplog):
    course = CourseFactory.create()
    teacher = instructor_of(course)

    with caplog.at_level(logging.INFO, logger="apps.videoconference.services"):
        session = services.schedule_session(actor=teacher, course=course, title="x", **_times())

    record = next(r for r in caplog.records if r.getMessage().endswith("scheduled"))
    assert (record.session_id, record.user_id) == (session.pk, teacher.pk)


# --- update and cancel ------------------------------------------------------------------------


def test_a_host_moves_a_session():
    session = VideoSessionFactory.create()
    later = _times(48, 2)

    services.update_session(actor=session.host, session=session, title="Moved", **later)

    session.refresh_from_db()
    assert (session.title, session.starts_at, session.ends_at) == (
        "Moved",
        later["starts_at"],
        later["ends_at"],
    )


def test_only_hosts_may_change_a_session():
    session = VideoSessionFactory.create(title="Original")
    enrolled = EnrollmentFactory.create(course=session.course).student

    with pytest.raises(HostNotAllowed):
        services.update_session(actor=enrolled, session=session, title="Hijacked")
    session.refresh_from_db()
    assert session.title == "Original"


def test_the_status_and_token_cannot_be_changed_through_update():
    session = VideoSessionFactory.create()

    with pytest.raises(InvalidSchedule):
        services.update_session(actor=session.host, session=session, status="live")
    with pytest.raises(InvalidSchedule):
        services.update_session(actor=session.host, session=session, meeting_token="mine")


def test_an_ended_session_cannot_be_changed():
    session = VideoSessionFactory.create(status=VideoSession.Status.ENDED)

    with pytest.raises(SessionEnded):
        services.update_session(actor=session.host, session=session, title="Too late")


def test_a_host_cancels_a_scheduled_session():
    session = VideoSessionFactory.create()

    services.cancel_session(actor=session.host, session=session)

    session.refresh_from_db()
    assert session.status == VideoSession.Status.CANCELLED


@pytest.mark.parametrize("status", [VideoSession.Status.LIVE, VideoSession.Status.ENDED])
def test_only_a_session_that_has_not_started_can_be_cancelled(status):
    session = VideoSessionFactory.create(status=status)

    with pytest.raises(InvalidSchedule):
        services.cancel_session(actor=session.host, session=session)
    session.refresh_from_db()
    assert session.status == status


def test_a_participant_may_not_cancel():
    session = VideoSessionFactory.create()
    enrolled = EnrollmentFactory.create(course=session.course).student

    with pytest.raises(HostNotAllowed):
        services.cancel_session(actor=enrolled, session=session)


# --- start ------------------------------------------------------------------------------------


def test_starting_opens_the_room_and_records_when():
    session = VideoSessionFactory.create()
    before = timezone.now()

    services.start_session(actor=session.host, session=session)

    session.refresh_from_db()
    assert session.status == VideoSession.Status.LIVE
    assert session.started_at is not None
    assert session.started_at >= before


def test_starting_a_live_session_again_changes_nothing():
    session = VideoSessionFactory.create()
    services.start_session(actor=session.host, session=session)
    session.refresh_from_db()
    first_start = session.started_at

    services.start_session(actor=session.host, session=session)

    session.refresh_from_db()
    assert (session.status, session.started_at) == (VideoSession.Status.LIVE, first_start)


def test_starting_late_after_the_planned_end_gives_the_session_time_to_run():
    start = timezone.now() - timedelta(hours=3)
    session = VideoSessionFactory.create(starts_at=start, ends_at=start + timedelta(hours=1))

    services.start_session(actor=session.host, session=session)

    session.refresh_from_db()
    assert session.ends_at > timezone.now() + timedelta(hours=1)


@pytest.mark.parametrize("status", [VideoSession.Status.ENDED, VideoSession.Status.CANCELLED])
def test_a_session_that_is_over_cannot_be_started(status):
    session = VideoSessionFactory.create(status=status)

    with pytest.raises(SessionEnded):
        services.start_session(actor=session.host, session=session)


@pytest.mark.parametrize("who", ["enrolled", "other_instructor", "moderator"])
def test_only_hosts_may_start(who):
    session = VideoSessionFactory.create()
    actor = {
        "enrolled": lambda: EnrollmentFactory.create(course=session.course).student,
        "other_instructor": lambda: make_user(role=Role.INSTRUCTOR),
        "moderator": lambda: make_user(role=Role.MODERATOR),
    }[who]()

    with pytest.raises(HostNotAllowed):
        services.start_session(actor=actor, session=session)
    session.refresh_from_db()
    assert session.status == VideoSession.Status.SCHEDULED


# --- instant sessions -------------------------------------------------------------------------


def test_an_instructor_starts_an_instant_session_that_is_live_at_once():
    teacher = make_user(role=Role.INSTRUCTOR, display_name="Ada")

    session = services.start_instant_session(host=teacher)

    assert session.kind == VideoSession.Kind.INSTANT
    assert session.status == VideoSession.Status.LIVE
    assert session.course is None
    assert session.join_policy == VideoSession.JoinPolicy.LINK
    assert session.title == "Instant session by Ada"
    assert session.started_at is not None
    assert session.ends_at > timezone.now()


@pytest.mark.parametrize("who", [Role.STUDENT, Role.MODERATOR])
def test_students_and_moderators_may_not_start_instant_sessions(who):
    with pytest.raises(HostNotAllowed):
        services.start_instant_session(host=make_user(role=who))
    assert not VideoSession.objects.exists()


def test_an_instant_course_session_needs_the_course_instructor():
    course = CourseFactory.create()
    other = make_user(role=Role.INSTRUCTOR)

    with pytest.raises(HostNotAllowed):
        services.start_instant_session(host=other, course=course)
    session = services.start_instant_session(
        host=instructor_of(course), course=course, join_policy=VideoSession.JoinPolicy.MEMBERS
    )
    assert session.course == course


# --- end --------------------------------------------------------------------------------------


def test_ending_closes_every_open_connection_and_records_when():
    session = live_session()
    now = timezone.now()
    people = [make_user(), make_user()]
    gone = attend(session, people[0], joined_at=now - timedelta(minutes=9), left_at=now)
    for person in people:
        attend(session, person, joined_at=now - timedelta(minutes=5))

    services.end_session(actor=session.host, session=session)

    session.refresh_from_db()
    assert session.status == VideoSession.Status.ENDED
    assert session.ended_at is not None
    assert not Attendance.objects.filter(session=session, left_at__isnull=True).exists()
    assert set(Attendance.objects.filter(session=session).values_list("left_at", flat=True)) == {
        gone.left_at,
        session.ended_at,
    }


def test_ending_twice_is_harmless():
    session = live_session()
    services.end_session(actor=session.host, session=session)
    session.refresh_from_db()
    ended_at = session.ended_at

    services.end_session(actor=session.host, session=session)

    session.refresh_from_db()
    assert (session.status, session.ended_at) == (VideoSession.Status.ENDED, ended_at)


def test_a_participant_may_not_end_the_session():
    session = live_session()
    enrolled = EnrollmentFactory.create(course=session.course).student

    with pytest.raises(HostNotAllowed):
        services.end_session(actor=enrolled, session=session)
    session.refresh_from_db()
    assert session.is_live


def test_the_system_may_end_a_session_without_an_actor():
    session = live_session()

    services.end_session(actor=None, session=session)

    session.refresh_from_db()
    assert session.status == VideoSession.Status.ENDED


def test_ending_tells_every_connection_in_the_room_after_the_commit(
    django_capture_on_commit_callbacks,
):
    """A channel in the room's group (as a consumer in any process would be) is told.

    The listener lives in one event loop, as a consumer does: the Redis pub/sub layer keeps a
    channel's subscription in the loop that made it."""
    session = live_session()
    with django_capture_on_commit_callbacks() as callbacks:
        services.end_session(actor=session.host, session=session)
    # Nothing is sent before the commit (the other callback writes the activity log event).
    broadcasts = feature_callbacks(callbacks)
    assert len(broadcasts) == 1

    async def listen_while_committing() -> dict:
        layer = get_channel_layer()
        assert layer is not None
        group = realtime.room_group(session.pk)
        channel = await layer.new_channel()
        await layer.group_add(group, channel)
        try:
            await sync_to_async(broadcasts[0])()
            return await asyncio.wait_for(layer.receive(channel), 5)
        finally:
            await layer.group_discard(group, channel)
            await release_channel(layer, channel)

    message = run(listen_while_committing)
    assert message["type"] == realtime.ROOM_ENDED


# --- calendar feed address --------------------------------------------------------------------


def test_the_calendar_feed_is_created_once_and_rotating_replaces_its_address():
    user = make_user()

    feed = calendar_services.get_or_create_calendar_feed(user=user)
    again = calendar_services.get_or_create_calendar_feed(user=user)
    rotated = calendar_services.rotate_calendar_feed(user=user)

    assert feed.pk == again.pk
    assert feed.token == again.token
    assert rotated.pk == feed.pk
    assert rotated.token != feed.token
    assert CalendarFeed.objects.get(user=user).token == rotated.token
