"""The live-session pages: the role matrix over every view, then what each page shows and does.

Refusals: a token that matches no session is 404; a session the visitor may not enter (or host)
is 403; sign-in is asked for first.
"""

from __future__ import annotations

import csv
import html
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import resolve, reverse
from django.utils import timezone

from apps.accounts.models import Profile, User
from apps.accounts.roles import Role
from apps.accounts.tests.factories import make_user
from apps.courses.models import Course
from apps.courses.tests.factories import CourseFactory, EnrollmentFactory
from apps.videoconference import selectors
from apps.videoconference.models import CalendarFeed, VideoSession
from apps.videoconference.tests.factories import VideoSessionFactory, attend, live_session

pytestmark = pytest.mark.django_db

ACTORS = (
    "anonymous",
    "student",
    "enrolled",
    "other_instructor",
    "instructor",
    "moderator",
    "staff",
)
LOGIN = "login"  # a 302 to the sign-in page


@dataclass
class World:
    instructor: User
    other_instructor: User
    student: User
    enrolled: User
    moderator: User
    staff: User
    course: Course
    scheduled: VideoSession  # members only, tomorrow
    live: VideoSession  # members only, live now
    link: VideoSession  # anyone signed in with the link, scheduled
    feed: CalendarFeed  # the enrolled student's

    def actor(self, name: str) -> User | None:
        return None if name == "anonymous" else getattr(self, name)


@pytest.fixture
def world() -> World:
    instructor = make_user(role=Role.INSTRUCTOR, email="teacher@example.test")
    other_instructor = make_user(role=Role.INSTRUCTOR, email="other.teacher@example.test")
    CourseFactory.create(instructors=[other_instructor])
    course = CourseFactory.create(slug="python", instructors=[instructor])
    enrolled = make_user(email="enrolled@example.test")
    EnrollmentFactory.create(course=course, student=enrolled)
    return World(
        instructor=instructor,
        other_instructor=other_instructor,
        student=make_user(email="student@example.test"),
        enrolled=enrolled,
        moderator=make_user(role=Role.MODERATOR),
        staff=make_user(role=Role.STAFF),
        course=course,
        scheduled=VideoSessionFactory.create(course=course, title="Tomorrow's class"),
        live=live_session(course=course, title="Office hours"),
        link=VideoSessionFactory.create(
            course=course, title="Open day", join_policy=VideoSession.JoinPolicy.LINK
        ),
        feed=CalendarFeed.objects.create(user=enrolled),
    )


def _s(name: str, session: str = "scheduled") -> Callable[[World], str]:
    def url(w: World) -> str:
        return reverse(f"videoconference:{name}", args=[getattr(w, session).meeting_token])

    return url


def _missing(name: str) -> Callable[[World], str]:
    return lambda w: reverse(f"videoconference:{name}", args=["no-such-session-token"])


URLS: dict[str, Callable[[World], str]] = {
    "sessions": lambda w: reverse("videoconference:sessions"),
    "instant": lambda w: reverse("videoconference:instant"),
    "calendar": lambda w: reverse("videoconference:calendar"),
    "feed": lambda w: reverse("videoconference:feed", args=[w.feed.token]),
    "missing feed": lambda w: reverse("videoconference:feed", args=["no-such-feed"]),
    "schedule": lambda w: reverse("videoconference:schedule", args=["python"]),
    "schedule for a missing course": lambda w: reverse(
        "videoconference:schedule", args=["no-such-course"]
    ),
    "room": _s("room"),
    "room of a live session": _s("room", "live"),
    "room of a link session": _s("room", "link"),
    "missing room": _missing("room"),
    "status": _s("status"),
    "missing status": _missing("status"),
    "edit": _s("edit"),
    "missing edit": _missing("edit"),
    "start": _s("start"),
    "missing start": _missing("start"),
    "end": _s("end", "live"),
    "cancel": _s("cancel"),
    "attendance": _s("attendance", "live"),
    "missing attendance": _missing("attendance"),
    "ics": _s("ics"),
    "missing ics": _missing("ics"),
}

# What the ACTORS see, in order: anonymous, student, enrolled, other_instructor, instructor,
# moderator, staff.
SIGNED_IN = (LOGIN, 200, 200, 200, 200, 200, 200)
MEMBERS = (LOGIN, 403, 200, 403, 200, 403, 200)
HOSTS = (LOGIN, 403, 403, 403, 200, 403, 200)
MISSING = (LOGIN, 404, 404, 404, 404, 404, 404)
POST_ONLY = (LOGIN, 405, 405, 405, 405, 405, 405)
GET_ONLY = POST_ONLY
EVERYONE = (200,) * 7
NOBODY = (404,) * 7

GET_MATRIX: dict[str, tuple[Any, ...]] = {
    "sessions": SIGNED_IN,
    "instant": POST_ONLY,
    "calendar": SIGNED_IN,
    "feed": EVERYONE,  # the secret address is the key: calendar apps do not sign in
    "missing feed": NOBODY,
    "schedule": HOSTS,
    "schedule for a missing course": MISSING,
    "room": MEMBERS,
    "room of a live session": MEMBERS,
    "room of a link session": SIGNED_IN,
    "missing room": MISSING,
    # A JSON endpoint: it answers 401 instead of sending programs to the sign-in page.
    "status": (401, 403, 200, 403, 200, 403, 200),
    "missing status": (401, 404, 404, 404, 404, 404, 404),
    "edit": HOSTS,
    "missing edit": MISSING,
    "start": POST_ONLY,
    "missing start": POST_ONLY,
    "end": POST_ONLY,
    "cancel": POST_ONLY,
    "attendance": HOSTS,
    "missing attendance": MISSING,
    "ics": MEMBERS,
    "missing ics": MISSING,
}

HOST_ACTION = (LOGIN, 403, 403, 403, 302, 403, 302)
POST_MATRIX: dict[str, tuple[Any, ...]] = {
    "instant": (LOGIN, 403, 403, 302, 302, 403, 302),
    "calendar": (LOGIN, 302, 302, 302, 302, 302, 302),
    "schedule": HOST_ACTION,
    "schedule for a missing course": MISSING,
    "edit": HOST_ACTION,
    "missing edit": MISSING,
    "start": HOST_ACTION,
    "missing start": MISSING,
    "end": HOST_ACTION,
    "cancel": HOST_ACTION,
    # Pages and downloads only answer GET.
    "sessions": GET_ONLY,
    "room": GET_ONLY,
    "status": (405,) * 7,
    "attendance": GET_ONLY,
    "ics": GET_ONLY,
    "feed": (405,) * 7,
}


def _form(start_in_hours: int = 48) -> dict[str, str]:
    start = timezone.localtime(timezone.now() + timedelta(hours=start_in_hours))
    return {
        "title": "Posted session",
        "description": "",
        "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (start + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        "join_policy": "members",
        "participant_cap": "30",
    }


POST_DATA: dict[str, Callable[[World], dict[str, str]]] = {
    "schedule": lambda w: _form(),
    "edit": lambda w: {**_form(), "title": "Renamed"},
    "missing edit": lambda w: _form(),
    "schedule for a missing course": lambda w: _form(),
}


def _client_for(world: World, actor: str) -> Client:
    client = Client()
    user = world.actor(actor)
    if user is not None:
        client.force_login(user)
    return client


def _assert_status(response: Any, expected: Any, what: str) -> None:
    if expected == LOGIN:
        assert response.status_code == 302, what
        assert response["Location"].startswith(reverse("account_login")), what
    elif expected == 302:
        assert response.status_code == 302, what
        assert not response["Location"].startswith(reverse("account_login")), what
    else:
        assert response.status_code == expected, what


def _state() -> tuple[Any, ...]:
    """What a refused request must leave exactly as it was."""
    return (
        sorted(
            VideoSession.objects.values_list(
                "meeting_token", "title", "status", "starts_at", "ends_at", "started_at"
            )
        ),
        sorted(CalendarFeed.objects.values_list("user_id", "token")),
    )


def _cases(matrix: dict[str, tuple[Any, ...]]) -> list[Any]:
    return [
        pytest.param(view, actor, expected[i], id=f"{view}-{actor}")
        for view, expected in matrix.items()
        for i, actor in enumerate(ACTORS)
    ]


def test_the_matrix_covers_every_url_for_get_and_every_action_for_post(world):
    from apps.videoconference.urls import urlpatterns

    every_name = {pattern.name for pattern in urlpatterns}
    got = {resolve(URLS[view](world)).url_name for view in GET_MATRIX}
    posted = {resolve(URLS[view](world)).url_name for view in POST_MATRIX}

    assert got == every_name
    assert posted == every_name


@pytest.mark.parametrize(("view", "actor", "expected"), _cases(GET_MATRIX))
def test_get(world, view, actor, expected):
    before = _state() if view != "calendar" else None

    response = _client_for(world, actor).get(URLS[view](world))

    _assert_status(response, expected, f"GET {view} as {actor}")
    if before is not None:
        assert _state() == before, f"GET {view} as {actor} changed something"


@pytest.mark.parametrize(("view", "actor", "expected"), _cases(POST_MATRIX))
def test_post(world, view, actor, expected):
    client = _client_for(world, actor)
    data = POST_DATA.get(view, lambda w: {})(world)
    if view == "calendar" and world.actor(actor) is not None:
        CalendarFeed.objects.get_or_create(user=world.actor(actor))
    before = _state()

    response = client.post(URLS[view](world), data)

    _assert_status(response, expected, f"POST {view} as {actor}")
    if expected in (LOGIN, 403, 404, 405):
        assert _state() == before, f"a refused POST {view} as {actor} changed something"
    else:
        assert _state() != before, f"POST {view} as {actor} changed nothing"


def test_a_refused_visitor_sees_the_access_denied_page_with_the_reason(world):
    response = _client_for(world, "student").get(world.scheduled.meeting_url)

    assert response.status_code == 403
    page = response.content.decode()
    assert "<h1>Access denied</h1>" in page
    assert "You are not allowed to join this session." in page
    assert world.scheduled.title not in page


def test_a_participant_is_told_that_only_hosts_may_change_a_session(world):
    response = _client_for(world, "enrolled").get(URLS["edit"](world))

    assert response.status_code == 403
    assert "Only the course&#x27;s instructors and staff may do that." in response.content.decode()


def test_an_unknown_meeting_address_shows_the_not_found_page(world):
    response = _client_for(world, "enrolled").get(URLS["missing room"](world))

    assert response.status_code == 404
    assert "There is no live session at this address." in response.content.decode()


def test_signing_in_brings_the_visitor_back_to_the_session_page(world):
    response = Client().get(world.scheduled.meeting_url)

    assert response.status_code == 302
    assert response["Location"] == (
        f"{reverse('account_login')}?next={world.scheduled.meeting_url}"
    )


def test_programs_get_json_errors(world):
    response = _client_for(world, "student").get(
        URLS["status"](world), HTTP_ACCEPT="application/json"
    )

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "join_not_allowed"


# --- The sessions list ------------------------------------------------------------------------


def _titles(page: str, section: str) -> list[str]:
    """Session titles in one section of the list page, in order."""
    match = re.search(rf'<section aria-labelledby="{section}-title">(.*?)</section>', page, re.S)
    assert match, section
    found = re.findall(r'<h3 id="session-\d+-title"><a href="[^"]+">([^<]+)</a>', match.group(1))
    return [html.unescape(title) for title in found]


def test_the_list_shows_live_sessions_first_then_upcoming_ones_by_start(world):
    soon = timezone.now() + timedelta(hours=2)
    VideoSessionFactory.create(
        course=world.course, title="Later", starts_at=soon + timedelta(days=3)
    )
    VideoSessionFactory.create(course=world.course, title="Sooner", starts_at=soon)
    VideoSessionFactory.create(course=world.course, title="Over", status=VideoSession.Status.ENDED)

    page = _client_for(world, "enrolled").get(reverse("videoconference:sessions")).content.decode()

    assert _titles(page, "live") == ["Office hours"]
    assert _titles(page, "upcoming") == ["Sooner", "Tomorrow's class", "Open day", "Later"]
    assert _titles(page, "past") == ["Over"]


def test_students_see_only_the_sessions_of_their_courses(world):
    stranger_course = CourseFactory.create()
    VideoSessionFactory.create(course=stranger_course, title="Someone else's class")

    enrolled_page = _client_for(world, "enrolled").get(reverse("videoconference:sessions"))
    student_page = _client_for(world, "student").get(reverse("videoconference:sessions"))
    staff_page = _client_for(world, "staff").get(reverse("videoconference:sessions"))

    assert "Someone else&#x27;s class" not in enrolled_page.content.decode()
    assert "Office hours" in enrolled_page.content.decode()
    assert _titles(student_page.content.decode(), "upcoming") == []
    assert "Someone else&#x27;s class" in staff_page.content.decode()


def test_instructors_see_the_sessions_they_host_and_those_of_their_courses(world):
    own_instant = VideoSessionFactory.create(
        course=None,
        host=world.other_instructor,
        kind=VideoSession.Kind.INSTANT,
        title="My instant one",
        status=VideoSession.Status.LIVE,
    )

    other_page = _client_for(world, "other_instructor").get(reverse("videoconference:sessions"))
    teacher_page = _client_for(world, "instructor").get(reverse("videoconference:sessions"))

    assert _titles(other_page.content.decode(), "live") == [own_instant.title]
    assert _titles(teacher_page.content.decode(), "live") == ["Office hours"]


def test_only_instructors_and_staff_are_offered_an_instant_session(world):
    for actor, offered in (("enrolled", False), ("moderator", False), ("instructor", True)):
        page = _client_for(world, actor).get(reverse("videoconference:sessions")).content.decode()
        assert ("Start an instant session</button>" in page) is offered, actor


def test_every_signed_in_page_links_to_the_live_sessions(world):
    signed_in = _client_for(world, "student").get(reverse("home")).content.decode()
    anonymous = Client().get(reverse("home")).content.decode()

    assert f'href="{reverse("videoconference:sessions")}"' in signed_in
    assert f'href="{reverse("videoconference:sessions")}"' not in anonymous


# --- Instant sessions -------------------------------------------------------------------------


def test_an_instant_session_started_from_a_browser_opens_its_page(world):
    response = _client_for(world, "instructor").post(reverse("videoconference:instant"))

    session = VideoSession.objects.get(kind=VideoSession.Kind.INSTANT)
    assert response.status_code == 302
    assert response["Location"] == session.meeting_url
    assert session.status == VideoSession.Status.LIVE
    assert session.host == world.instructor


def test_the_instant_session_form_works_as_the_browser_submits_it_by_default(world):
    client = _client_for(world, "instructor")
    page = client.get(reverse("videoconference:sessions")).content.decode()
    selected = re.search(r'<select name="join_policy"[^>]*>\s*<option value="([^"]*)"', page)
    assert selected is not None

    response = client.post(
        reverse("videoconference:instant"),
        {"title": "", "course": "", "join_policy": selected.group(1)},
    )

    session = VideoSession.objects.get(kind=VideoSession.Kind.INSTANT)
    assert response.status_code == 302
    assert session.join_policy == VideoSession.JoinPolicy.LINK


def test_an_instant_session_answers_json_callers_with_its_absolute_address(world):
    response = _client_for(world, "instructor").post(
        reverse("videoconference:instant"),
        {"title": "Quick question"},
        HTTP_ACCEPT="application/json",
    )

    session = VideoSession.objects.get(title="Quick question")
    assert response.status_code == 201
    assert response.json() == {"meeting_url": f"http://testserver{session.meeting_url}"}


def test_an_instant_session_answers_htmx_with_a_redirect_header(world):
    response = _client_for(world, "instructor").post(
        reverse("videoconference:instant"), HTTP_HX_REQUEST="true"
    )

    session = VideoSession.objects.get(kind=VideoSession.Kind.INSTANT)
    assert response.status_code == 201
    assert response["HX-Redirect"] == session.meeting_url
    assert response.json()["meeting_url"].endswith(session.meeting_url)


def test_an_instant_session_can_be_for_a_course_the_instructor_teaches(world):
    response = _client_for(world, "instructor").post(
        reverse("videoconference:instant"),
        {"course": world.course.pk, "join_policy": ""},
        HTTP_ACCEPT="application/json",
    )

    session = VideoSession.objects.get(kind=VideoSession.Kind.INSTANT)
    assert response.status_code == 201
    assert (session.course, session.join_policy) == (world.course, "members")


def test_an_instant_session_cannot_be_attached_to_someone_elses_course(world):
    response = _client_for(world, "other_instructor").post(
        reverse("videoconference:instant"),
        {"course": world.course.pk},
        HTTP_ACCEPT="application/json",
    )

    assert response.status_code == 400
    body = response.json()
    assert body["error"]["code"] == "invalid"
    assert body["error"]["message"] == "Check the form."
    assert "course" in body["error"]["fields"]
    assert body["request_id"] == response["X-Request-ID"]
    assert not VideoSession.objects.filter(kind=VideoSession.Kind.INSTANT).exists()


def test_an_htmx_instant_session_with_a_bad_form_gets_the_json_error(world):
    response = _client_for(world, "other_instructor").post(
        reverse("videoconference:instant"), {"course": world.course.pk}, HTTP_HX_REQUEST="true"
    )

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert "course" in response.json()["error"]["fields"]


def test_a_members_only_instant_session_needs_a_course(world):
    response = _client_for(world, "instructor").post(
        reverse("videoconference:instant"), {"join_policy": "members"}
    )

    assert response.status_code == 400
    assert "Only a course session can be limited to members." in response.content.decode()
    assert not VideoSession.objects.filter(kind=VideoSession.Kind.INSTANT).exists()


def test_a_student_asking_for_json_gets_a_json_refusal(world):
    response = _client_for(world, "enrolled").post(
        reverse("videoconference:instant"), HTTP_ACCEPT="application/json"
    )

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "host_not_allowed"


# --- Scheduling and editing -------------------------------------------------------------------


def test_times_are_read_in_the_instructors_time_zone(world):
    Profile.objects.filter(user=world.instructor).update(time_zone="Europe/Berlin")
    data = {
        **_form(),
        "title": "Berlin morning",
        "starts_at": "2030-01-15T10:00",
        "ends_at": "2030-01-15T11:30",
    }

    response = _client_for(world, "instructor").post(URLS["schedule"](world), data)

    session = VideoSession.objects.get(title="Berlin morning")
    assert response.status_code == 302
    assert response["Location"] == session.meeting_url
    assert session.starts_at == datetime(2030, 1, 15, 9, 0, tzinfo=UTC)
    assert session.ends_at == datetime(2030, 1, 15, 10, 30, tzinfo=UTC)
    assert (session.course, session.host, session.participant_cap) == (
        world.course,
        world.instructor,
        30,
    )


def test_the_session_page_shows_times_in_the_viewers_time_zone(world):
    VideoSession.objects.filter(pk=world.scheduled.pk).update(
        starts_at=datetime(2030, 1, 15, 9, 0, tzinfo=UTC),
        ends_at=datetime(2030, 1, 15, 10, 0, tzinfo=UTC),
    )
    Profile.objects.filter(user=world.enrolled).update(time_zone="Asia/Tokyo")

    page = _client_for(world, "enrolled").get(world.scheduled.meeting_url).content.decode()

    assert "18:00" in page
    assert "19:00" in page
    assert "Asia/Tokyo" in page


def test_schedule_errors_are_listed_and_linked_to_their_fields(world):
    data = {**_form(), "title": "", "ends_at": _form()["starts_at"]}

    response = _client_for(world, "instructor").post(URLS["schedule"](world), data)

    page = response.content.decode()
    assert response.status_code == 400
    assert "There is a problem" in page
    assert '<a href="#id_title">' in page
    assert '<a href="#id_ends_at">Ends at: The end must be after the start.</a>' in page
    assert re.search(r'<input[^>]*id="id_ends_at"[^>]*aria-invalid="true"', page) or re.search(
        r'<input[^>]*aria-invalid="true"[^>]*id="id_ends_at"', page
    )
    assert VideoSession.objects.count() == 3


def test_a_session_that_would_already_be_over_is_refused(world):
    data = _form(start_in_hours=-5)

    response = _client_for(world, "instructor").post(URLS["schedule"](world), data)

    assert response.status_code == 400
    assert "The end must be in the future." in response.content.decode()


def test_the_edit_form_shows_the_session_in_local_time_and_saves_changes(world):
    VideoSession.objects.filter(pk=world.scheduled.pk).update(
        starts_at=datetime(2030, 6, 1, 8, 0, tzinfo=UTC),
        ends_at=datetime(2030, 6, 1, 9, 0, tzinfo=UTC),
    )
    Profile.objects.filter(user=world.instructor).update(time_zone="America/New_York")
    client = _client_for(world, "instructor")

    form_page = client.get(URLS["edit"](world)).content.decode()
    response = client.post(
        URLS["edit"](world),
        {
            **_form(),
            "title": "Moved class",
            "starts_at": "2030-06-01T05:00",
            "ends_at": "2030-06-01T07:00",
        },
    )

    assert 'value="2030-06-01T04:00"' in form_page  # 08:00 UTC in New York (EDT)
    assert response.status_code == 302
    world.scheduled.refresh_from_db()
    assert world.scheduled.title == "Moved class"
    assert world.scheduled.ends_at == datetime(2030, 6, 1, 11, 0, tzinfo=UTC)


def test_a_finished_session_can_no_longer_be_edited(world):
    VideoSession.objects.filter(pk=world.scheduled.pk).update(status=VideoSession.Status.ENDED)

    response = _client_for(world, "instructor").get(URLS["edit"](world))

    assert response.status_code == 409


# --- The session page -------------------------------------------------------------------------

STATUS_TEXT = {
    VideoSession.Status.SCHEDULED: "This session has not started yet.",
    VideoSession.Status.LIVE: "This session is live.",
    VideoSession.Status.ENDED: "This session has ended.",
    VideoSession.Status.CANCELLED: "This session was cancelled.",
}


@pytest.mark.parametrize("status", list(VideoSession.Status))
def test_the_session_page_says_where_the_session_stands(world, status):
    VideoSession.objects.filter(pk=world.scheduled.pk).update(status=status)

    page = _client_for(world, "enrolled").get(world.scheduled.meeting_url).content.decode()

    assert STATUS_TEXT[status] in page
    assert page.count("<h1") == 1


def test_the_call_container_carries_what_the_call_script_needs(world):
    page = _client_for(world, "enrolled").get(world.live.meeting_url).content.decode()

    assert f'data-ws-path="/ws/videoconference/{world.live.meeting_token}/"' in page
    status_url = reverse("videoconference:status", args=[world.live.meeting_token])
    assert f'data-status-url="{status_url}"' in page
    assert 'data-role="participant"' in page
    host_page = _client_for(world, "instructor").get(world.live.meeting_url).content.decode()
    assert 'data-role="host"' in host_page


def test_the_session_page_has_no_inline_script_or_style(world):
    page = _client_for(world, "instructor").get(world.live.meeting_url).content.decode()

    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", page) == []
    assert " style=" not in page
    assert "<style" not in page


def test_hosts_get_the_controls_and_participants_do_not(world):
    host_page = _client_for(world, "instructor").get(world.scheduled.meeting_url).content.decode()
    member_page = _client_for(world, "enrolled").get(world.scheduled.meeting_url).content.decode()

    for control in (
        URLS["start"](world),
        URLS["cancel"](world),
        URLS["edit"](world),
        reverse("videoconference:attendance", args=[world.scheduled.meeting_token]),
    ):
        assert control in host_page
        assert control not in member_page
    assert URLS["ics"](world) in member_page


def test_a_live_session_offers_its_host_the_end_button(world):
    page = _client_for(world, "instructor").get(world.live.meeting_url).content.decode()

    assert URLS["end"](world) in page
    assert "End session for everyone" in page


def test_the_status_endpoint_reports_the_state_for_the_pre_join_screen(world):
    client = _client_for(world, "enrolled")

    before = client.get(URLS["status"](world)).json()
    client_host = _client_for(world, "instructor")
    client_host.post(URLS["start"](world))
    after = client.get(URLS["status"](world)).json()

    assert (before["status"], before["title"]) == ("scheduled", "Tomorrow's class")
    assert after["status"] == "live"


# --- Lifecycle actions ------------------------------------------------------------------------


def test_start_and_end_answer_json_callers(world):
    client = _client_for(world, "instructor")

    started = client.post(URLS["start"](world), HTTP_ACCEPT="application/json")
    ended = client.post(
        reverse("videoconference:end", args=[world.scheduled.meeting_token]),
        HTTP_ACCEPT="application/json",
    )

    assert started.status_code == 200
    assert started.json()["status"] == "live"
    assert started.json()["meeting_url"] == f"http://testserver{world.scheduled.meeting_url}"
    assert ended.json()["status"] == "ended"


def test_start_redirects_browsers_to_the_session_page_with_a_message(world):
    response = _client_for(world, "instructor").post(URLS["start"](world), follow=True)

    assert response.redirect_chain == [(world.scheduled.meeting_url, 302)]
    assert "The session is live. People can join now." in response.content.decode()


def test_ending_closes_the_open_connections(world):
    attend(world.live, world.enrolled, joined_at=timezone.now() - timedelta(minutes=3))

    _client_for(world, "instructor").post(URLS["end"](world))

    assert not world.live.attendance.filter(left_at__isnull=True).exists()


def test_a_live_session_cannot_be_cancelled(world):
    response = _client_for(world, "instructor").post(
        reverse("videoconference:cancel", args=[world.live.meeting_token])
    )

    world.live.refresh_from_db()
    assert response.status_code == 400
    assert world.live.is_live


def test_an_ended_session_cannot_be_started_again(world):
    VideoSession.objects.filter(pk=world.scheduled.pk).update(status=VideoSession.Status.ENDED)

    response = _client_for(world, "instructor").post(
        URLS["start"](world), HTTP_ACCEPT="application/json"
    )

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "session_ended"


# --- Attendance report ------------------------------------------------------------------------

T0 = datetime(2030, 3, 1, 10, 0, tzinfo=UTC)


def _minutes(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


def test_overlapping_connections_of_one_person_count_once():
    assert (
        selectors.merged_seconds(
            [(_minutes(0), _minutes(10)), (_minutes(5), _minutes(15)), (_minutes(20), _minutes(25))]
        )
        == 20 * 60
    )
    assert selectors.merged_seconds([(_minutes(0), _minutes(30)), (_minutes(5), _minutes(10))]) == (
        30 * 60
    )
    assert selectors.merged_seconds([(_minutes(0), _minutes(5)), (_minutes(5), _minutes(7))]) == (
        7 * 60
    )
    assert selectors.merged_seconds([]) == 0


def _report_rows(response: Any) -> list[dict[str, str]]:
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def test_the_attendance_report_has_one_line_per_person_with_merged_time(world):
    session = world.live
    two_tabs = make_user(display_name="Two Tabs", email="tabs@example.test")
    attend(session, two_tabs, joined_at=_minutes(0), left_at=_minutes(10))
    attend(session, two_tabs, joined_at=_minutes(5), left_at=_minutes(15))
    attend(session, two_tabs, joined_at=_minutes(30), left_at=_minutes(40))
    attend(session, world.enrolled, joined_at=_minutes(2), left_at=_minutes(3))

    rows = _report_rows(_client_for(world, "instructor").get(URLS["attendance"](world)))

    assert [r["email"] for r in rows] == ["tabs@example.test", "enrolled@example.test"]
    tabs = rows[0]
    assert tabs["name"] == "Two Tabs"
    assert tabs["connections"] == "3"
    assert tabs["seconds"] == str(25 * 60)
    assert tabs["minutes"] == "25.0"
    assert tabs["first_joined"] == _minutes(0).isoformat()
    assert tabs["last_left"] == _minutes(40).isoformat()
    assert rows[1]["seconds"] == "60"


def test_someone_still_connected_counts_up_to_now(world):
    joined = timezone.now() - timedelta(minutes=4)
    attend(world.live, world.enrolled, joined_at=joined)

    rows = _report_rows(_client_for(world, "instructor").get(URLS["attendance"](world)))

    assert rows[0]["last_left"] == ""
    assert 4 * 60 <= int(rows[0]["seconds"]) < 5 * 60


def test_a_connection_left_open_counts_only_up_to_the_sessions_end(world):
    session = world.live
    attend(session, world.enrolled, joined_at=_minutes(0))
    VideoSession.objects.filter(pk=session.pk).update(
        status=VideoSession.Status.ENDED, ended_at=_minutes(45)
    )
    session.refresh_from_db()

    (line,) = selectors.attendance_report(session, now=_minutes(600))

    assert line.seconds == 45 * 60


def test_names_in_the_report_cannot_run_as_spreadsheet_formulas(world):
    mallory = make_user(display_name='=HYPERLINK("http://evil.test")')
    attend(world.live, mallory, joined_at=_minutes(0), left_at=_minutes(1))

    rows = _report_rows(_client_for(world, "instructor").get(URLS["attendance"](world)))

    assert rows[0]["name"].startswith("'=")
