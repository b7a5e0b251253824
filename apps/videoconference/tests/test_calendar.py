"""Calendars: one session's .ics and each person's secret feed, read back with `icalendar` as a
calendar app would."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from apps.accounts.roles import Role
from apps.accounts.tests.factories import make_user
from apps.courses.tests.factories import CourseFactory, EnrollmentFactory, instructor_of
from apps.videoconference import services
from apps.videoconference.models import CalendarFeed, VideoSession
from apps.videoconference.tests.factories import VideoSessionFactory

pytestmark = pytest.mark.django_db

START = datetime(2030, 4, 2, 15, 30, tzinfo=UTC)


def _signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _events(response: Any) -> list[Any]:
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    calendar = Calendar.from_ical(response.content)
    assert str(calendar["VERSION"]) == "2.0"
    return list(calendar.walk("VEVENT"))


@pytest.fixture
def member() -> Any:
    return make_user(email="member@example.test")


@pytest.fixture
def session(member) -> VideoSession:
    course = CourseFactory.create(title="Python basics")
    EnrollmentFactory.create(course=course, student=member)
    return VideoSessionFactory.create(
        course=course,
        title="Loops, live",
        description="Bring questions.",
        starts_at=START,
        ends_at=START + timedelta(minutes=45),
    )


def _ics(client: Client, session: VideoSession) -> Any:
    return client.get(reverse("videoconference:ics", args=[session.meeting_token]))


def test_the_ics_of_a_session_holds_one_event_with_its_times_in_utc(member, session):
    (event,) = _events(_ics(_signed_in(member), session))

    assert event.decoded("DTSTART") == START
    assert event.decoded("DTEND") == START + timedelta(minutes=45)
    assert event["DTSTART"].to_ical() == b"20300402T153000Z"
    assert str(event["SUMMARY"]) == "Loops, live"
    assert str(event["URL"]) == f"http://testserver{session.meeting_url}"
    assert "Bring questions." in str(event["DESCRIPTION"])
    assert "Python basics" in str(event["DESCRIPTION"])
    assert str(event["STATUS"]) == "CONFIRMED"


def test_the_uid_stays_the_same_when_the_session_moves(member, session):
    client = _signed_in(member)
    (before,) = _events(_ics(client, session))

    services.update_session(
        actor=session.host,
        session=session,
        starts_at=START + timedelta(days=1),
        ends_at=START + timedelta(days=1, hours=1),
    )
    (after,) = _events(_ics(client, session))

    assert str(before["UID"]) == str(after["UID"])
    assert after.decoded("DTSTART") == START + timedelta(days=1)


def test_a_cancelled_session_is_marked_cancelled(member, session):
    services.cancel_session(actor=session.host, session=session)

    (event,) = _events(_ics(_signed_in(member), session))

    assert str(event["STATUS"]) == "CANCELLED"


def test_the_ics_is_only_for_people_who_may_join(session):
    response = _ics(_signed_in(make_user()), session)

    assert response.status_code == 403


def _feed(client: Client, user: Any) -> Any:
    _signed_in(user).get(reverse("videoconference:calendar"))  # creates the address
    token = CalendarFeed.objects.get(user=user).token
    return client.get(reverse("videoconference:feed", args=[token]))


def test_the_feed_lists_a_persons_upcoming_and_recent_sessions_without_signing_in(member):
    course = CourseFactory.create()
    EnrollmentFactory.create(course=course, student=member)
    now = timezone.now()
    upcoming = VideoSessionFactory.create(course=course, title="Next week")
    recent = VideoSessionFactory.create(
        course=course,
        title="Last week",
        status=VideoSession.Status.ENDED,
        starts_at=now - timedelta(days=7),
        ends_at=now - timedelta(days=7) + timedelta(hours=1),
    )
    VideoSessionFactory.create(
        course=course,
        title="Long ago",
        status=VideoSession.Status.ENDED,
        starts_at=now - timedelta(days=90),
        ends_at=now - timedelta(days=90) + timedelta(hours=1),
    )
    cancelled = VideoSessionFactory.create(
        course=course, title="Called off", status=VideoSession.Status.CANCELLED
    )
    VideoSessionFactory.create(title="Another course's session")

    events = _events(_feed(Client(), member))

    by_title = {str(e["SUMMARY"]): e for e in events}
    assert set(by_title) == {"Next week", "Last week", "Called off"}
    assert str(by_title["Called off"]["STATUS"]) == "CANCELLED"
    assert str(by_title["Next week"]["URL"]) == f"http://testserver{upcoming.meeting_url}"
    assert len({str(e["UID"]) for e in events}) == 3
    assert recent.title in by_title
    assert cancelled.title in by_title


def test_an_instructors_feed_has_the_sessions_of_their_courses_and_their_instant_ones():
    course = CourseFactory.create()
    teacher = instructor_of(course)
    VideoSessionFactory.create(course=course, title="Course session")
    services.start_instant_session(host=teacher, title="Quick call")

    events = _events(_feed(Client(), teacher))

    assert {str(e["SUMMARY"]) for e in events} == {"Course session", "Quick call"}


def test_an_unknown_feed_address_is_not_found():
    response = Client().get(reverse("videoconference:feed", args=["not-a-real-token"]))

    assert response.status_code == 404


def test_resetting_the_address_retires_the_old_one(member):
    client = _signed_in(member)
    page = client.get(reverse("videoconference:calendar")).content.decode()
    old = CalendarFeed.objects.get(user=member).token
    assert f"http://testserver/live/calendar/{old}.ics" in page

    response = client.post(reverse("videoconference:calendar"), follow=True)

    new = CalendarFeed.objects.get(user=member).token
    assert new != old
    assert "Your calendar has a new address." in response.content.decode()
    assert f"/live/calendar/{new}.ics" in response.content.decode()
    assert Client().get(reverse("videoconference:feed", args=[old])).status_code == 404
    assert Client().get(reverse("videoconference:feed", args=[new])).status_code == 200


def test_a_deactivated_persons_feed_stops_working(member):
    feed = CalendarFeed.objects.create(user=member)
    member.is_active = False
    member.save()

    response = Client().get(reverse("videoconference:feed", args=[feed.token]))

    assert response.status_code == 404


def test_staff_feeds_list_only_their_own_sessions():
    staff = make_user(role=Role.STAFF)
    VideoSessionFactory.create(title="Not theirs")

    assert _events(_feed(Client(), staff)) == []
