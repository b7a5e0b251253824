"""The call screen end to end: real Chromium pages (fake camera and microphone) talking through the
product's signaling server under uvicorn, one browser context per person.

Every call proves media, not just a connection: the receiving page's `framesDecoded` (inbound video
from `getStats()`, read through the `window.onlineteacherCall.stats()` diagnostics hook) is above 0.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from apps.accounts.models import User
from apps.accounts.roles import Role
from apps.accounts.tests.factories import DEFAULT_PASSWORD, make_user
from apps.courses.tests.factories import CourseFactory, EnrollmentFactory, instructor_of
from apps.videoconference import services
from apps.videoconference.models import VideoSession
from tests.e2e.call_helpers import CallPage, axe_violations, focus_by_keyboard, start_call
from tests.e2e.conftest import LiveServer, in_the_server, sign_in

pytestmark = pytest.mark.browser

RECONNECT_DEADLINE = 5.0
THEMES = {"light": "Light", "dark": "Dark", "contrast": "High contrast"}


def _person(new_context: Any, live_url: str, user: User, who: str) -> CallPage:
    context = new_context()
    sign_in(context, user, live_url)
    return CallPage(context.new_page(), who)


def _course_session(students: int = 1) -> tuple[VideoSession, User, list[User]]:
    """A live members-only course session; its instructor and enrolled students."""
    course = CourseFactory.create()
    instructor = instructor_of(course)
    enrolled: list[User] = [
        EnrollmentFactory.create(course=course).student for _ in range(students)
    ]
    now = timezone.now()
    session = services.schedule_session(
        actor=instructor,
        course=course,
        title="Week 3: recursion",
        starts_at=now + timedelta(minutes=5),
        ends_at=now + timedelta(minutes=65),
    )
    session = services.start_session(actor=instructor, session=session)
    return session, instructor, enrolled


@pytest.fixture
def course_session(_live_server: LiveServer) -> Callable[..., Any]:
    """`_course_session` run in the server: scheduling and starting notify the students, and
    pushing to their open tabs cannot run in this thread (Playwright's event loop is here)."""
    return lambda students=1: in_the_server(_live_server, _course_session, students=students)


def _assert_no_console_errors(*pages: CallPage) -> None:
    errors = [line for page in pages for line in page.errors]
    assert not errors, "console errors in a normal call:\n" + "\n".join(errors)


def test_instant_session_video_chat_mute_hand_host_mute_and_end(new_context, live_url):
    host = _person(
        new_context, live_url, make_user(role=Role.INSTRUCTOR, display_name="Ada Host"), "host"
    )
    student = _person(new_context, live_url, make_user(display_name="Ben Student"), "student")

    # The instructor starts an instant session from "Live sessions" and lands on its page.
    host.page.goto(reverse("videoconference:sessions"))
    form = host.page.locator("form.instant-form")
    form.get_by_label("Title").fill("Office hours")
    form.get_by_role("button", name="Start an instant session").click()
    expect(host.page).to_have_url(re.compile(r"/live/s/[^/]+/$"))
    # With no course, the instant form's default lets anyone signed in who has the link join.
    session = VideoSession.objects.get(title="Office hours")
    assert session.join_policy == VideoSession.JoinPolicy.LINK
    meeting_url = host.page.locator("#share-link").input_value()
    assert meeting_url.endswith(session.meeting_url)

    host.record_announcements()
    host.join()
    student.open(meeting_url)
    student.join()
    host.wait_video_from([student])
    student.wait_video_from([host])

    # Chat both ways.
    host.open_panel("#btn-chat", "#chat-panel")
    student.open_panel("#btn-chat", "#chat-panel")
    host.send_chat("Welcome, everyone!")
    expect(student.page.locator("#chat-log")).to_contain_text("Welcome, everyone!")
    student.send_chat("Thanks, glad to be here.")
    expect(host.page.locator("#chat-log")).to_contain_text("Thanks, glad to be here.")

    # The student's own microphone toggle shows on the host's participant list.
    row = host.participant(student)
    expect(row).to_contain_text("Ben Student")
    mic = student.page.locator("#btn-mic")
    expect(mic).to_have_attribute("aria-pressed", "true")
    mic.click()
    expect(mic).to_have_attribute("aria-pressed", "false")
    expect(row).to_contain_text(re.compile("microphone off", re.I))
    mic.click()
    expect(mic).to_have_attribute("aria-pressed", "true")
    expect(row).not_to_contain_text(re.compile("microphone off", re.I))

    # A raised hand shows on the host's side and is announced there.
    student.page.locator("#btn-hand").click()
    expect(student.page.locator("#btn-hand")).to_have_attribute("aria-pressed", "true")
    expect(row).to_contain_text(re.compile("hand raised", re.I))
    host.wait(
        lambda: host.announced(r"Ben Student.*hand"), "the host heard no raised-hand announcement"
    )

    # The host mutes the student; the student's screen says so, and a screen reader hears it.
    student.forget_announcements()
    host.page.locator(
        f'#participant-list button[data-action="mute"][data-peer-id="{student.peer_id}"]'
    ).click()
    expect(mic).to_have_attribute("aria-pressed", "false")
    expect(student.page.locator("#call-status")).to_contain_text(re.compile("muted", re.I))
    student.wait(
        lambda: student.announced(r"host.*muted|muted.*host"),
        "the student's announcer did not say a host muted them",
    )
    expect(row).to_contain_text(re.compile("microphone off", re.I))

    # The host ends the session for everyone (after confirming); both screens say so.
    host.page.once("dialog", lambda dialog: dialog.accept())  # if the confirm is window.confirm
    host.page.locator("#btn-end").click()
    confirm = host.page.locator("dialog[open]")
    host.wait(
        lambda: host.state == "ended" or confirm.count() > 0,
        "pressing End for everyone neither asked to confirm nor ended the session",
    )
    if host.state != "ended":
        confirm.get_by_role("button", name=re.compile(r"^\s*end", re.I)).click()
    for page in (host, student):
        page.wait_state("ended")
        expect(page.page.locator("#call-status")).to_contain_text(
            re.compile("session has ended", re.I)
        )
        expect(page.page.locator("#call-screen")).to_be_hidden()
    session.refresh_from_db()
    assert session.status == VideoSession.Status.ENDED
    _assert_no_console_errors(host, student)


def test_three_people_in_a_course_session_all_see_each_other(new_context, live_url, course_session):
    session, instructor, (first, second) = course_session(students=2)
    people = [
        _person(new_context, live_url, instructor, "instructor"),
        _person(new_context, live_url, first, "first student"),
        _person(new_context, live_url, second, "second student"),
    ]

    start_call(*people, url=live_url + session.meeting_url)

    for page in people:
        assert page.call("peers") == 2, f"{page.who} counts {page.call('peers')} peers"
        expect(page.page.locator("#video-grid li.tile")).to_have_count(3)
    _assert_no_console_errors(*people)


def test_unenrolled_student_is_refused_and_signed_out_visitor_signs_in_and_returns(
    new_context, live_url, course_session
):
    session, _instructor, (enrolled,) = course_session(students=1)
    outsider = _person(new_context, live_url, make_user(display_name="Olga Outsider"), "outsider")

    response = outsider.page.goto(live_url + session.meeting_url)
    assert response is not None
    assert response.status == 403
    expect(outsider.page.locator("h1")).to_have_text("Access denied")
    expect(outsider.page.locator("main")).to_contain_text(
        "You are not allowed to join this session."
    )

    visitor = new_context().new_page()
    visitor.goto(session.meeting_url)
    expect(visitor).to_have_url(re.compile(re.escape(reverse("account_login")) + r"\?next="))
    form = visitor.locator("main form")
    form.get_by_label("Email").fill(enrolled.email)
    form.get_by_label("Password").fill(DEFAULT_PASSWORD)
    form.get_by_role("button", name="Sign In").click()
    expect(visitor).to_have_url(live_url + session.meeting_url)
    expect(visitor.locator("h1")).to_have_text(session.title)
    expect(visitor.locator("#join-button")).to_be_visible()


def test_dropped_socket_rejoins_within_five_seconds_and_video_flows_again(
    new_context, live_url, course_session
):
    session, instructor, (enrolled,) = course_session(students=1)
    host = _person(new_context, live_url, instructor, "host")
    student = _person(new_context, live_url, enrolled, "student")
    start_call(host, student, url=live_url + session.meeting_url)
    student.page.evaluate("() => { window.__noReload = 'still the same page'; }")
    old_peer_id = student.peer_id

    dropped_at = time.monotonic()
    student.page.evaluate("() => window.onlineteacherCall.dropSocketForTest()")
    student.wait(
        lambda: student.state == "in-call" and student.call("peerId") not in (None, old_peer_id),
        "the student did not rejoin with a new peer id",
        timeout=RECONNECT_DEADLINE,
        others=[host],
    )
    rejoined_after = time.monotonic() - dropped_at
    assert rejoined_after <= RECONNECT_DEADLINE

    assert student.page.evaluate("() => window.__noReload") == "still the same page"
    # The host's side drops the old connection and decodes video from the new one.
    host.wait_video_from([student])
    host.wait(
        lambda: old_peer_id not in host.stats() and host.call("peers") == 1,
        "the host still keeps the student's old connection",
        others=[student],
    )
    frames = student.wait_video_from([host])["host"]
    student.wait(
        lambda: student.frames_from(host.peer_id) > frames,
        "video from the host stopped increasing after the reconnect",
        others=[host],
    )
    assert student.stats()[host.peer_id]["connectionState"] == "connected"


def test_screen_share_replaces_the_outgoing_video_for_the_other_side(
    new_context, live_url, course_session
):
    """Chromium's fake media gives a 640x480 camera and a 1280x720 fake screen (with
    --use-fake-ui-for-media-stream, getDisplayMedia is granted without a picker)."""
    session, instructor, (enrolled,) = course_session(students=1)
    host = _person(new_context, live_url, instructor, "host")
    student = _person(new_context, live_url, enrolled, "student")
    start_call(host, student, url=live_url + session.meeting_url)
    row = host.participant(student)
    camera_width = host.wait(
        lambda: host.stats().get(student.peer_id, {}).get("frameWidth"),
        "no frame size reported for the student's video",
    )

    student.page.locator("#btn-screen").click()

    expect(student.page.locator("#btn-screen")).to_have_attribute("aria-pressed", "true")
    expect(row).to_contain_text(re.compile("screen", re.I))
    host.wait(
        lambda: host.stats()[student.peer_id].get("frameWidth") not in (None, camera_width),
        f"the host still receives {camera_width}-wide camera frames, not the shared screen",
        others=[student],
    )
    frames = host.frames_from(student.peer_id)
    host.wait(
        lambda: host.frames_from(student.peer_id) > frames,
        "the shared screen's frames stopped arriving",
        others=[student],
    )


def _choose_theme(page: Any, label: str) -> None:
    with page.expect_response(
        lambda r: r.url.endswith(reverse("accounts:set_theme")) and r.request.method == "POST"
    ) as saved:
        page.locator("header").get_by_label("Theme").select_option(label=label)
    assert saved.value.status == 204


def test_call_screen_passes_axe_in_every_theme_with_chat_and_participants_open(
    new_context, live_url, course_session
):
    session, instructor, (enrolled,) = course_session(students=1)
    host = _person(new_context, live_url, instructor, "host")
    student = _person(new_context, live_url, enrolled, "student")
    start_call(host, student, url=live_url + session.meeting_url)
    host.send_chat("Slides are on the course page.")
    for person in (host, student):
        person.open_panel("#btn-chat", "#chat-panel")
        person.open_panel("#btn-participants", "#participants-panel")
        expect(person.page.locator("#chat-log")).to_contain_text("Slides are on the course page.")

    findings = []
    for theme, label in THEMES.items():
        for person in (host, student):
            # The header's switcher applies the theme in place: the call stays up.
            _choose_theme(person.page, label)
            expect(person.page.locator("html")).to_have_attribute("data-theme", theme)
            assert person.state == "in-call"
            findings += [f"[{theme}] {person.who}: {v}" for v in axe_violations(person.page)]
    assert not findings, "axe violations on the call screen:\n" + "\n".join(findings)


def test_keyboard_only_student_joins_mutes_chats_and_leaves(new_context, live_url, course_session):
    session, instructor, (enrolled,) = course_session(students=1)
    host = _person(new_context, live_url, instructor, "host")
    student = _person(new_context, live_url, enrolled, "student")
    host.open(live_url + session.meeting_url)
    host.join()
    student.open(live_url + session.meeting_url)
    keyboard = student.page.keyboard
    student.wait(lambda: student.state == "prejoin", "the pre-join screen did not load")

    focus_by_keyboard(student.page, "#join-button")
    keyboard.press("Enter")
    student.wait_state("in-call")
    host.wait_video_from([student])
    student.wait_video_from([host])

    keyboard.press("Alt+KeyM")  # documented shortcut: microphone
    expect(student.page.locator("#btn-mic")).to_have_attribute("aria-pressed", "false")
    expect(host.participant(student)).to_contain_text(re.compile("microphone off", re.I))

    keyboard.press("Alt+KeyC")  # documented shortcut: chat
    expect(student.page.locator("#chat-panel")).to_be_visible()
    focus_by_keyboard(student.page, "#chat-input")
    keyboard.type("Typed without a mouse")
    keyboard.press("Enter")
    host.open_panel("#btn-chat", "#chat-panel")
    expect(host.page.locator("#chat-log")).to_contain_text("Typed without a mouse")

    focus_by_keyboard(student.page, "#btn-leave")
    keyboard.press("Enter")
    expect(student.page.locator("#call-screen")).to_be_hidden()
    host.wait(lambda: host.call("peers") == 0, "the host still sees the student after they left")
    assert student.state != "in-call"


def test_lobby_host_admits_one_denies_another_then_removes_the_admitted(new_context, live_url):
    instructor = make_user(role=Role.INSTRUCTOR, display_name="Ada Host")
    session = services.start_instant_session(
        host=instructor, title="Lobby hours", join_policy=VideoSession.JoinPolicy.LOBBY
    )
    host = _person(new_context, live_url, instructor, "host")
    admitted = _person(new_context, live_url, make_user(display_name="Cleo First"), "admitted")
    denied = _person(new_context, live_url, make_user(display_name="Dan Second"), "denied")
    url = live_url + session.meeting_url
    host.open(url)
    host.join()

    # Both students press Join and are told to wait; neither is in the call yet.
    for student in (admitted, denied):
        student.open(url)
        student.wait_state("prejoin")
        student.page.locator("#join-button").click()
        student.wait_state("lobby")
        expect(student.page.locator("#call-status")).to_contain_text(
            "Waiting for a host to let you in"
        )
        expect(student.page.locator("#call-screen")).to_be_hidden()

    # The host sees both waiting under the participant list.
    host.open_panel("#btn-participants", "#participants-panel")
    lobby = host.page.locator("#lobby-list li")
    expect(lobby).to_have_count(2)
    first_row = lobby.filter(has_text="Cleo First")
    second_row = lobby.filter(has_text="Dan Second")
    expect(first_row).to_have_count(1)
    expect(second_row).to_have_count(1)
    assert host.call("peers") == 0, "a waiting student already has a peer connection"

    # Admitted: the first student gets into the call and video flows both ways.
    first_row.locator('button[data-action="admit"]').click()
    admitted.wait_state("in-call")
    expect(admitted.page.locator("#call-screen")).to_be_visible()
    host.wait_video_from([admitted])
    admitted.wait_video_from([host])
    expect(lobby).to_have_count(1)
    expect(host.participant(admitted)).to_contain_text("Cleo First")

    # Denied: the second student is clearly turned away and the host's lobby empties.
    second_row.locator('button[data-action="deny"]').click()
    denied.wait_state("refused")
    expect(denied.page.locator("#call-status")).to_contain_text(
        "A host did not let you into this session."
    )
    expect(denied.page.locator("#call-screen")).to_be_hidden()
    expect(denied.page.locator("#join-button")).to_be_hidden()
    expect(lobby).to_have_count(0)
    assert host.call("peers") == 1, f"host counts {host.call('peers')} peers after the deny"

    # Removed: the admitted student is told so, and the host's call is empty again.
    host.page.locator(
        f'#participant-list button[data-action="remove"][data-peer-id="{admitted.peer_id}"]'
    ).click()
    admitted.wait_state("refused")
    expect(admitted.page.locator("#call-status")).to_contain_text(
        "A host removed you from this session."
    )
    expect(admitted.page.locator("#call-screen")).to_be_hidden()
    host.wait(
        lambda: host.call("peers") == 0,
        "the host still has a peer connection to the removed student",
        others=[admitted],
    )
    expect(host.page.locator("#participant-list")).not_to_contain_text("Cleo First")
    assert host.state == "in-call"
    _assert_no_console_errors(host, admitted, denied)
