"""VideoSession and its records: secret meeting addresses, rules the database itself enforces."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.forms import modelform_factory
from django.urls import resolve

from apps.accounts.roles import Role
from apps.accounts.tests.factories import make_user
from apps.videoconference.models import Attendance, CalendarFeed, VideoSession
from apps.videoconference.tests.factories import VideoSessionFactory, attend

pytestmark = pytest.mark.django_db

URL_SAFE_43 = re.compile(r"[A-Za-z0-9_-]{43}")


def test_every_session_gets_a_43_character_url_safe_meeting_token():
    session = VideoSessionFactory.create()

    assert URL_SAFE_43.fullmatch(session.meeting_token)


def test_meeting_tokens_are_unique_across_many_sessions():
    sessions = [VideoSessionFactory.create() for _ in range(30)]

    assert len({s.meeting_token for s in sessions}) == 30


def test_two_sessions_cannot_share_a_meeting_token():
    first = VideoSessionFactory.create()

    with pytest.raises(IntegrityError), transaction.atomic():
        VideoSessionFactory.create(meeting_token=first.meeting_token)


def test_the_meeting_token_cannot_be_edited_through_a_form():
    form_class = modelform_factory(VideoSession, exclude=[])

    assert "meeting_token" not in form_class.base_fields
    assert VideoSession._meta.get_field("meeting_token").editable is False


def test_the_meeting_url_is_the_session_page_of_its_token():
    session = VideoSessionFactory.create()

    match = resolve(session.meeting_url)

    assert match.view_name == "videoconference:room"
    assert match.kwargs == {"token": session.meeting_token}
    assert session.get_absolute_url() == session.meeting_url
    assert session.websocket_path == f"/ws/videoconference/{session.meeting_token}/"


def test_a_session_ending_before_it_starts_is_refused_by_the_database():
    session = VideoSessionFactory.create()

    with pytest.raises(IntegrityError), transaction.atomic():
        VideoSession.objects.filter(pk=session.pk).update(
            ends_at=session.starts_at - timedelta(minutes=1)
        )


@pytest.mark.parametrize("cap", [1, 501])
def test_a_participant_cap_outside_2_to_500_is_refused_by_the_database(cap):
    with pytest.raises(IntegrityError), transaction.atomic():
        VideoSessionFactory.create(participant_cap=cap)


def test_a_scheduled_session_without_a_course_is_refused_by_the_database():
    host = make_user(role=Role.INSTRUCTOR)

    with pytest.raises(IntegrityError), transaction.atomic():
        VideoSessionFactory.create(course=None, host=host, kind=VideoSession.Kind.SCHEDULED)


def test_an_instant_session_may_have_no_course():
    host = make_user(role=Role.INSTRUCTOR)

    session = VideoSessionFactory.create(course=None, host=host, kind=VideoSession.Kind.INSTANT)

    assert session.course is None


def test_validation_explains_each_broken_rule_on_its_field():
    host = make_user(role=Role.INSTRUCTOR)
    session = VideoSessionFactory.build(course=None, host=host, participant_cap=1)
    session.ends_at = session.starts_at

    with pytest.raises(ValidationError) as caught:
        session.full_clean()

    errors = caught.value.message_dict
    assert errors["ends_at"] == ["The end must be after the start."]
    assert errors["participant_cap"] == ["Choose between 2 and 500 people."]
    assert errors["course"] == ["A scheduled session belongs to a course."]


def test_status_helpers_tell_live_from_over():
    live = VideoSessionFactory.create(status=VideoSession.Status.LIVE)
    ended = VideoSessionFactory.create(status=VideoSession.Status.ENDED)
    cancelled = VideoSessionFactory.create(status=VideoSession.Status.CANCELLED)
    scheduled = VideoSessionFactory.create()

    assert (live.is_live, live.is_over) == (True, False)
    assert (ended.is_live, ended.is_over) == (False, True)
    assert cancelled.is_over
    assert (scheduled.is_live, scheduled.is_over) == (False, False)


def test_each_connection_gets_its_own_unique_peer_id():
    session = VideoSessionFactory.create(status=VideoSession.Status.LIVE)
    user = make_user()

    first = attend(session, user, joined_at=session.starts_at)
    second = attend(session, user, joined_at=session.starts_at)

    assert first.peer_id != second.peer_id
    assert Attendance.objects.filter(session=session, left_at__isnull=True).count() == 2


def test_a_calendar_feed_token_is_secret_and_one_per_user():
    user = make_user()
    feed = CalendarFeed.objects.create(user=user)

    assert URL_SAFE_43.fullmatch(feed.token)
    with pytest.raises(IntegrityError), transaction.atomic():
        CalendarFeed.objects.create(user=user)
