"""Who may schedule, host and join: the policy table over every join policy and kind of person."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser

from apps.accounts.models import User
from apps.accounts.roles import Role
from apps.accounts.tests.factories import make_user
from apps.core.errors import NotSignedIn
from apps.courses.models import Course, Enrollment
from apps.courses.tests.factories import CourseFactory, EnrollmentFactory
from apps.videoconference import policies
from apps.videoconference.errors import (
    HostNotAllowed,
    JoinNotAllowed,
    SessionEnded,
    SessionNotFound,
    SessionNotLive,
)
from apps.videoconference.models import VideoSession
from apps.videoconference.tests.factories import VideoSessionFactory

pytestmark = pytest.mark.django_db

PEOPLE = (
    "anonymous",
    "student",
    "enrolled",
    "completed",
    "pending",
    "dropped",
    "other_instructor",
    "instructor",
    "co_instructor_without_role",
    "moderator",
    "staff",
)


@dataclass
class People:
    course: Course
    by_name: dict[str, Any]

    def __getitem__(self, name: str) -> Any:
        return self.by_name[name]


@pytest.fixture
def people() -> People:
    instructor = make_user(role=Role.INSTRUCTOR)
    # Listed as the course's instructor but holding only the student role: not a host.
    co_instructor = make_user(role=Role.STUDENT)
    course = CourseFactory.create(instructors=[instructor, co_instructor])
    other_instructor = make_user(role=Role.INSTRUCTOR)
    CourseFactory.create(instructors=[other_instructor])
    by_name: dict[str, Any] = {
        "anonymous": AnonymousUser(),
        "student": make_user(),
        "other_instructor": other_instructor,
        "instructor": instructor,
        "co_instructor_without_role": co_instructor,
        "moderator": make_user(role=Role.MODERATOR),
        "staff": make_user(role=Role.STAFF),
    }
    for name, status in (
        ("enrolled", Enrollment.Status.ACTIVE),
        ("completed", Enrollment.Status.COMPLETED),
        ("pending", Enrollment.Status.PENDING),
        ("dropped", Enrollment.Status.DROPPED),
    ):
        by_name[name] = make_user()
        EnrollmentFactory.create(course=course, student=by_name[name], status=status)
    return People(course=course, by_name=by_name)


NO = None
IN = "participant"
LOBBY = "lobby"
HOST = "host"

# Expected `may_join` outcome for each of PEOPLE, in order.
MAY_JOIN: dict[str, tuple[str | None, ...]] = {
    VideoSession.JoinPolicy.MEMBERS: (NO, NO, IN, IN, NO, NO, NO, HOST, NO, NO, HOST),
    VideoSession.JoinPolicy.LINK: (NO, IN, IN, IN, IN, IN, IN, HOST, IN, IN, HOST),
    VideoSession.JoinPolicy.LOBBY: (
        NO,
        LOBBY,
        LOBBY,
        LOBBY,
        LOBBY,
        LOBBY,
        LOBBY,
        HOST,
        LOBBY,
        LOBBY,
        HOST,
    ),
}


def _outcome(ticket: policies.JoinTicket | None) -> str | None:
    if ticket is None:
        return NO
    if ticket.is_host:
        assert ticket.role == "host"
        return HOST
    assert ticket.role == "participant"
    return LOBBY if ticket.needs_admission else IN


@pytest.mark.parametrize(
    ("policy", "person", "expected"),
    [
        pytest.param(policy, person, row[i], id=f"{policy}-{person}")
        for policy, row in MAY_JOIN.items()
        for i, person in enumerate(PEOPLE)
    ],
)
def test_may_join(people, policy, person, expected):
    session = VideoSessionFactory.create(course=people.course, join_policy=policy)

    assert _outcome(policies.may_join(people[person], session)) == expected


@pytest.mark.parametrize(
    ("person", "schedule", "instant"),
    [
        ("anonymous", False, False),
        ("student", False, False),
        ("enrolled", False, False),
        ("other_instructor", False, True),
        ("instructor", True, True),
        ("co_instructor_without_role", False, False),
        ("moderator", False, False),
        ("staff", True, True),
    ],
)
def test_who_may_schedule_for_the_course_and_start_instant_sessions(
    people, person, schedule, instant
):
    assert policies.can_schedule(people[person], people.course) is schedule
    assert policies.can_start_instant(people[person]) is instant


def test_an_instant_session_without_a_course_is_hosted_by_its_starter_and_staff(people):
    starter = people["other_instructor"]
    session = VideoSessionFactory.create(
        course=None,
        host=starter,
        kind=VideoSession.Kind.INSTANT,
        join_policy=VideoSession.JoinPolicy.LINK,
    )

    assert policies.can_host(starter, session)
    assert policies.can_host(people["staff"], session)
    assert not policies.can_host(people["instructor"], session)
    assert _outcome(policies.may_join(people["instructor"], session)) == IN
    assert _outcome(policies.may_join(people["student"], session)) == IN


def test_a_members_only_instant_session_without_a_course_admits_only_hosts(people):
    starter = people["other_instructor"]
    session = VideoSessionFactory.create(course=None, host=starter, kind=VideoSession.Kind.INSTANT)

    assert _outcome(policies.may_join(starter, session)) == HOST
    assert policies.may_join(people["enrolled"], session) is None


def test_an_inactive_account_may_not_join_even_a_link_session(people):
    session = VideoSessionFactory.create(
        course=people.course, join_policy=VideoSession.JoinPolicy.LINK
    )
    user: User = people["student"]
    user.is_active = False
    user.save()

    assert policies.may_join(user, session) is None


# --- The loaders ---------------------------------------------------------------------------


def test_get_session_for_join_refuses_visitors_who_are_not_signed_in(people):
    session = VideoSessionFactory.create(course=people.course)

    with pytest.raises(NotSignedIn):
        policies.get_session_for_join(user=people["anonymous"], token=session.meeting_token)


@pytest.mark.parametrize("token", ["no-such-token", "", "x" * 65])
def test_get_session_for_join_answers_no_such_session_for_unknown_tokens(people, token):
    with pytest.raises(SessionNotFound):
        policies.get_session_for_join(user=people["enrolled"], token=token)


def test_get_session_for_join_refuses_people_who_may_not_enter(people):
    session = VideoSessionFactory.create(course=people.course, status=VideoSession.Status.LIVE)

    with pytest.raises(JoinNotAllowed):
        policies.get_session_for_join(user=people["student"], token=session.meeting_token)


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (VideoSession.Status.SCHEDULED, SessionNotLive),
        (VideoSession.Status.ENDED, SessionEnded),
        (VideoSession.Status.CANCELLED, SessionEnded),
    ],
)
def test_joining_the_call_needs_a_live_session_but_the_page_does_not(people, status, error):
    session = VideoSessionFactory.create(course=people.course, status=status)

    with pytest.raises(error):
        policies.get_session_for_join(user=people["enrolled"], token=session.meeting_token)
    ticket = policies.get_session_for_join(
        user=people["enrolled"], token=session.meeting_token, require_live=False
    )
    assert ticket.session == session


def test_get_session_for_join_lets_members_into_a_live_session(people):
    session = VideoSessionFactory.create(course=people.course, status=VideoSession.Status.LIVE)

    ticket = policies.get_session_for_join(user=people["enrolled"], token=session.meeting_token)

    assert (ticket.session, ticket.role, ticket.needs_admission) == (
        session,
        "participant",
        False,
    )


@pytest.mark.parametrize(
    ("person", "error"),
    [
        ("enrolled", HostNotAllowed),  # may join, may not host
        ("student", JoinNotAllowed),  # may not even join: learns nothing more
        ("other_instructor", JoinNotAllowed),
        ("moderator", JoinNotAllowed),
        ("anonymous", NotSignedIn),
    ],
)
def test_get_session_for_host_refuses_everyone_but_hosts(people, person, error):
    session = VideoSessionFactory.create(course=people.course)

    with pytest.raises(error):
        policies.get_session_for_host(user=people[person], token=session.meeting_token)


@pytest.mark.parametrize("person", ["instructor", "staff"])
def test_get_session_for_host_gives_hosts_the_session(people, person):
    session = VideoSessionFactory.create(course=people.course)

    assert policies.get_session_for_host(user=people[person], token=session.meeting_token) == (
        session
    )
