"""Acceptance journey for courses: a student finds a course in the catalog, enrolls, watches a
lesson with captions, marks it complete and sees the progress on "My learning"."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from apps.accounts.models import Profile
from apps.accounts.roles import Role
from apps.accounts.tests.factories import make_user
from apps.courses.models import Enrollment, LessonProgress
from tests.e2e.conftest import poll, sign_in

pytestmark = pytest.mark.browser

# The cues of apps/courses/demo_video.CAPTIONS_EN, which cover the whole video.
CUES = {
    "Welcome to onlineteacher!",
    "[soft chime] This demo video has captions.",
    "Mark the lesson complete when you are done.",
}

MARK_DOCUMENT = "() => { window.__sameDocument = true }"
SAME_DOCUMENT = "() => window.__sameDocument === true"

TRACK_STATE = """() => {
  const video = document.querySelector("main video");
  const track = video && video.textTracks[0];
  if (!track) return null;
  return {
    mode: track.mode,
    kind: track.kind,
    language: track.language,
    cues: track.cues ? track.cues.length : 0,
    active: track.activeCues ? Array.from(track.activeCues, cue => cue.text) : [],
  };
}"""

PLAYBACK_STATE = """() => {
  const video = document.querySelector("main video");
  return {
    readyState: video.readyState,
    currentTime: video.currentTime,
    error: video.error && video.error.code,
  };
}"""


def _activate(locator) -> None:
    """Focus a control and press Enter, as a keyboard user would."""
    locator.focus()
    locator.page.keyboard.press("Enter")


def test_student_enrolls_watches_a_captioned_lesson_completes_it_and_sees_progress(
    new_context, live_url, catalog
):
    student = make_user(role=Role.STUDENT, display_name="Sam Student")
    Profile.objects.filter(user=student).update(captions_on=True)
    context = new_context()
    sign_in(context, student, live_url)
    page = context.new_page()

    # Given the catalog, reached from the main navigation, lists both published courses.
    page.goto("/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Courses").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Course catalog")
    results = page.locator("#catalog-results")
    expect(results.get_by_role("heading", level=2)).to_have_text("2 courses")

    # When the student narrows it by category, htmx swaps the results in place and the new
    # count goes into the status region already on the page (so screen readers announce it).
    count_status = page.locator("#catalog-status")
    expect(count_status).to_have_attribute("role", "status")
    count_status.evaluate("element => { element.dataset.seen = 'yes' }")
    page.evaluate(MARK_DOCUMENT)
    with page.expect_response(lambda r: "category=python" in r.url) as filtered:
        page.get_by_label("Category").select_option("python")
    assert filtered.value.request.headers.get("hx-request") == "true"
    expect(results.get_by_role("heading", level=2)).to_have_text("1 course")
    expect(results.get_by_role("link", name="Python basics")).to_be_visible()
    expect(results.get_by_role("link", name="Watercolour painting")).to_have_count(0)
    expect(count_status).to_have_text("1 course found")
    expect(count_status).to_have_attribute("data-seen", "yes")
    assert page.evaluate(SAME_DOCUMENT), "filtering reloaded the page instead of swapping results"
    # A second filter keeps the first, and the address (shareable) names each filter once.
    with page.expect_response(lambda r: "level=beginner" in r.url):
        page.get_by_label("Level").select_option("beginner")
    expect(page).to_have_url(re.compile(r"\?(.*&)?level=beginner(&|$)"))
    query = parse_qs(urlsplit(page.url).query)
    assert (query["category"], query["level"]) == (["python"], ["beginner"]), page.url
    expect(results.get_by_role("heading", level=2)).to_have_text("1 course")
    assert page.evaluate(SAME_DOCUMENT)

    # The student opens the course and enrolls.
    results.get_by_role("link", name="Python basics").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Python basics")
    page.get_by_role("button", name="Enroll", exact=True).click()
    expect(page.locator("#messages")).to_contain_text("You are enrolled. Welcome!")
    expect(page.locator(".enrollment-box")).to_contain_text("You are enrolled.")
    assert Enrollment.objects.get(course=catalog.course, student=student).status == "active"

    # The first lesson's video shows its English captions, because the profile asks for them.
    page.get_by_role("region", name="Syllabus").get_by_role("link", name="Welcome").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome")
    track = poll(
        lambda: (state := page.evaluate(TRACK_STATE)) and state["cues"] and state,
        message="the caption track never loaded its cues",
    )
    assert track["mode"] == "showing", track
    assert (track["kind"], track["language"]) == ("captions", "en"), track

    # ... and the video really plays (Chromium decodes the generated VP8 WebM).
    assert page.evaluate(
        "() => { const v = document.querySelector('main video'); v.muted = true;"
        " return v.play().then(() => true); }"
    )
    playback = poll(
        lambda: (
            (state := page.evaluate(PLAYBACK_STATE))["readyState"] >= 2
            and state["currentTime"] > 0.2
            and state
        ),
        message="the video never reached a playing frame (readyState >= 2, time advancing)",
    )
    assert playback["error"] is None, playback
    # Paused, the cue on screen stays put however slowly this machine polls.
    page.evaluate("() => document.querySelector('main video').pause()")
    active = poll(
        lambda: page.evaluate(TRACK_STATE)["active"],
        message="no caption cue is on screen while the video plays",
    )
    assert set(active) <= CUES, active

    # When the student marks the lesson complete (keyboard), the progress updates in place
    # and the change lands in a status region that was already on the page.
    status = page.locator("#lesson-progress").get_by_role("status")
    expect(status).to_contain_text("Not completed yet.")
    expect(status).to_contain_text("0%")
    page.evaluate(
        "() => { document.querySelector('#lesson-progress [role=status]').dataset.seen = 'yes' }"
    )
    page.evaluate(MARK_DOCUMENT)
    with page.expect_response(lambda r: r.url.endswith("/complete/")) as completed:
        _activate(page.get_by_role("button", name="Mark lesson complete"))
    assert completed.value.request.headers.get("hx-request") == "true"
    expect(status).to_contain_text("You completed this lesson.")
    expect(status).to_contain_text("33%")
    expect(status.locator("progress")).to_have_attribute("value", "33")
    assert page.evaluate(SAME_DOCUMENT), "completing the lesson reloaded the page"
    assert page.evaluate(
        "() => document.querySelector('#lesson-progress [role=status]').dataset.seen === 'yes'"
    ), "the status region was replaced, so screen readers would not announce the change"
    expect(page.get_by_role("button", name="Mark as not complete")).to_be_focused()
    assert LessonProgress.objects.filter(
        enrollment__student=student, lesson=catalog.preview
    ).exists()

    # Then "My learning" shows the course with one of three lessons done.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My learning").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My learning")
    row = page.locator("tbody tr").filter(has=page.get_by_role("link", name="Python basics"))
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Active")
    expect(row).to_contain_text("33%")
    expect(row).to_contain_text("1 of 3 lessons")
    expect(row.get_by_role("progressbar", name="Progress in Python basics")).to_have_attribute(
        "value", "33"
    )


def test_catalog_filter_form_works_without_javascript(new_context, catalog):
    page = new_context(java_script_enabled=False).new_page()
    page.goto(reverse("courses:catalog"))
    expect(page.locator("#catalog-results h2")).to_have_text("2 courses")

    page.get_by_label("Level").select_option(label="Intermediate")
    with page.expect_navigation(wait_until="load"):
        page.get_by_role("button", name="Show courses").click()

    expect(page).to_have_url(re.compile(r"\?(.*&)?level=intermediate(&|$)"))
    expect(page.get_by_label("Level")).to_have_value("intermediate")
    results = page.locator("#catalog-results")
    expect(results.locator("h2")).to_have_text("1 course")
    expect(results.get_by_role("link", name="Watercolour painting")).to_be_visible()
    expect(results.get_by_role("link", name="Python basics")).to_have_count(0)


def test_captions_stay_off_in_a_free_preview_for_visitors_without_the_setting(new_context, catalog):
    page = new_context().new_page()
    page.goto(catalog.preview.get_absolute_url())

    track = poll(lambda: page.evaluate(TRACK_STATE), message="the video has no caption track")

    assert track["mode"] == "disabled", track  # offered in the player's menu, not forced on
    expect(page.locator("main video track")).to_have_attribute("label", "English")
