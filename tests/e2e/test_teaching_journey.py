"""Teaching journey, by keyboard: an instructor creates a course, adds two lessons, reorders them
with the Move up/down buttons, uploads a caption track and publishes; the course is then listed
in the catalog."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from apps.accounts.roles import Role
from apps.accounts.tests.factories import make_user
from apps.courses.models import CaptionTrack, Course
from tests.e2e.conftest import sign_in
from tests.e2e.course_data import demo_vtt, make_category

pytestmark = pytest.mark.browser

COURSE = "Keyboard-first design"
FIRST, SECOND = "Lesson one: basics", "Lesson two: practice"


def _press(locator, key: str = "Enter") -> None:
    """Move focus to a control (as Tab would) and operate it with a key, not the mouse."""
    locator.focus()
    expect(locator).to_be_focused()
    locator.page.keyboard.press(key)


def _type(locator, text: str) -> None:
    locator.focus()
    locator.page.keyboard.type(text)


def _move_button(page, direction: str, title: str):
    # The lesson title is a visually hidden part of the name: "Move up: <title>".
    name = re.compile(rf"^Move {direction}\s*:\s*{re.escape(title)}$")
    return page.locator(".lesson-admin-list").get_by_role("button", name=name)


def _expect_lesson_order(page, titles: list[str]) -> None:
    expect(page.locator(".lesson-admin-list > li > a")).to_have_text(titles)


def test_instructor_builds_reorders_captions_and_publishes_a_course_by_keyboard(
    new_context, live_url
):
    instructor = make_user(role=Role.INSTRUCTOR, display_name="Ida Instructor")
    make_category("Design")
    context = new_context()
    sign_in(context, instructor, live_url)
    page = context.new_page()
    messages = page.locator("#messages")

    # The teaching dashboard, from the main navigation.
    page.goto("/")
    _press(page.get_by_role("navigation", name="Main").get_by_role("link", name="Teaching"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Teaching")

    # Create the course.
    _press(page.get_by_role("link", name="Create a course"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Create a course")
    _type(page.get_by_label("Title"), COURSE)
    _type(page.get_by_label("Summary"), "Interfaces everyone can operate.")
    _type(page.get_by_label("Description"), "Focus order, **visible focus** and skip links.")
    page.get_by_label("Category").select_option(label="Design")
    _press(page.get_by_role("button", name="Create course"))
    expect(messages).to_contain_text("Course created as a draft.")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Edit {COURSE}")
    expect(page.get_by_role("heading", name="Status: Draft")).to_be_visible()
    course = Course.objects.get(title=COURSE)
    assert list(course.instructors.all()) == [instructor]

    # Add two lessons, coming back to the course through the breadcrumb each time.
    for title in (FIRST, SECOND):
        _press(page.get_by_role("link", name="Add a lesson"))
        expect(page.get_by_role("heading", level=1)).to_have_text("Add a lesson")
        _type(page.get_by_label("Title"), title)
        _type(page.get_by_label("Content"), f"What *{title}* covers.")
        _press(page.get_by_role("button", name="Save lesson"))
        expect(messages).to_contain_text("Lesson added.")
        _press(page.locator(".breadcrumb").get_by_role("link", name=COURSE))
    _expect_lesson_order(page, [FIRST, SECOND])
    expect(_move_button(page, "up", FIRST)).to_be_disabled()
    expect(_move_button(page, "down", SECOND)).to_be_disabled()

    # Reorder with the buttons (no drag and drop): first lesson down, then back up.
    _press(_move_button(page, "down", FIRST))
    expect(messages).to_contain_text(f"“{FIRST}” is now lesson 2.")
    _expect_lesson_order(page, [SECOND, FIRST])
    # The page returns to the moved lesson: the next Tab lands on it, not at the top of the page.
    page.keyboard.press("Tab")
    expect(page.locator(".lesson-admin-list").get_by_role("link", name=FIRST)).to_be_focused()
    assert list(course.lessons.order_by("position").values_list("title", flat=True)) == [
        SECOND,
        FIRST,
    ]
    _press(_move_button(page, "up", FIRST))
    expect(messages).to_contain_text(f"“{FIRST}” is now lesson 1.")
    _expect_lesson_order(page, [FIRST, SECOND])
    _press(_move_button(page, "down", FIRST))
    _expect_lesson_order(page, [SECOND, FIRST])

    # Upload an English caption track to the first lesson. The file itself is chosen with
    # set_input_files: the operating system's file dialog is outside the page.
    _press(page.locator(".lesson-admin-list").get_by_role("link", name=FIRST))
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Edit {FIRST}")
    captions = page.locator("form", has=page.get_by_role("button", name="Upload captions"))
    _type(captions.get_by_label("Language"), "en")
    _type(captions.get_by_label("Label"), "English")
    _press(captions.get_by_label("On by default"), "Space")
    expect(captions.get_by_label("On by default")).to_be_checked()
    captions.get_by_label("WebVTT file").set_input_files(
        files=[{"name": "captions-en.vtt", "mimeType": "text/vtt", "buffer": demo_vtt()}]
    )
    _press(captions.get_by_role("button", name="Upload captions"))
    expect(messages).to_contain_text("Caption track saved.")
    tracks = page.get_by_role("region", name="Caption tracks")
    expect(tracks.get_by_role("listitem")).to_contain_text("English (en, Captions")
    expect(tracks.get_by_role("button", name="Remove English")).to_be_visible()
    track = CaptionTrack.objects.get(lesson__course=course, lesson__title=FIRST)
    assert (track.language, track.kind, track.is_default) == ("en", "captions", True)
    assert track.file.read().startswith(b"WEBVTT")

    # Publish.
    _press(page.locator(".breadcrumb").get_by_role("link", name=COURSE))
    _press(page.get_by_role("button", name="Publish"))
    expect(messages).to_contain_text("The course is now Published.")
    expect(page.get_by_role("heading", name="Status: Published")).to_be_visible()

    # Then anyone finds it in the catalog, with the lessons in the chosen order.
    visitor = new_context().new_page()
    visitor.goto(reverse("courses:catalog"))
    course_link = visitor.locator("#catalog-results").get_by_role("link", name=COURSE)
    expect(course_link).to_be_visible()
    course_link.click()
    expect(visitor.get_by_role("heading", level=1)).to_have_text(COURSE)
    syllabus = visitor.get_by_role("region", name="Syllabus").get_by_role("listitem")
    expect(syllabus).to_have_text([SECOND, FIRST])
