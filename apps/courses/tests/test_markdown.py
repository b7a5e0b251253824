"""Course descriptions and lesson bodies: Markdown in, HTML that is safe to show out."""

from __future__ import annotations

import pytest

from apps.courses.markdown import render_markdown
from apps.courses.tests.factories import CourseFactory, LessonFactory


def test_markdown_becomes_html():
    html = render_markdown("Some **bold** words and a [link](https://example.test/).")

    assert "<strong>bold</strong>" in html
    assert 'href="https://example.test/"' in html


def test_script_tags_and_their_content_are_removed():
    html = render_markdown("Hello\n\n<script>alert('owned')</script>\n\nbye")

    assert "<script" not in html
    assert "alert" not in html
    assert "Hello" in html
    assert "bye" in html


@pytest.mark.parametrize(
    "attack",
    [
        '<img src="x.png" onerror="alert(1)">',
        '<a href="https://example.test/" onclick="alert(1)">x</a>',
        '<p onmouseover="alert(1)">hover me</p>',
    ],
)
def test_event_handlers_are_removed(attack):
    html = render_markdown(attack)

    assert "alert" not in html
    assert "onerror" not in html
    assert "onclick" not in html
    assert "onmouseover" not in html


@pytest.mark.parametrize(
    "link",
    [
        "[click](javascript:alert(1))",
        '<a href="javascript:alert(1)">click</a>',
        '<a href="JaVaScRiPt:alert(1)">click</a>',
        "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    ],
)
def test_javascript_and_data_links_lose_their_address(link):
    html = render_markdown(link)

    assert "javascript" not in html.lower()
    assert "data:" not in html
    assert "click" in html


def test_iframes_and_other_embeds_are_removed():
    html = render_markdown(
        '<iframe src="https://evil.test/"></iframe>\n\n<object data="x.swf"></object>\n\n'
        '<embed src="x.swf">\n\n<form action="https://evil.test/"><input name="pw"></form>'
    )

    for tag in ("<iframe", "<object", "<embed", "<form", "<input"):
        assert tag not in html


def test_style_is_removed():
    html = render_markdown('<p style="position:fixed;top:0">x</p><style>body{display:none}</style>')

    assert "style" not in html
    assert "display:none" not in html


def test_a_top_level_heading_is_demoted_so_the_page_keeps_one_h1():
    html = render_markdown("# Welcome\n\nText\n\n## Part one\n\n<h1>Raw heading</h1>")

    assert "<h1" not in html
    assert "<h2>Welcome</h2>" in html
    assert "<h2>Raw heading</h2>" in html
    assert "<h2>Part one</h2>" in html


def test_links_open_without_giving_the_new_page_access_to_ours():
    html = render_markdown("[docs](https://example.test/docs)")

    assert 'rel="noopener noreferrer nofollow"' in html


def test_empty_text_renders_nothing():
    assert render_markdown("") == ""


@pytest.mark.django_db
def test_course_description_and_lesson_body_are_stored_sanitized():
    course = CourseFactory.create(description="# About\n\n<script>steal()</script>Hi")
    lesson = LessonFactory.create(course=course, body="<iframe src=x></iframe>**Read**")

    assert "<h2>About</h2>" in course.description_html
    assert "<p>Hi</p>" in course.description_html
    assert "steal" not in course.description_html
    assert "<iframe" not in lesson.body_html
    assert "<strong>Read</strong>" in lesson.body_html
