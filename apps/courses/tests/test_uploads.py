"""Invalid uploads get a clear form error (400, error summary, the field's own message) and store
nothing: no file under MEDIA_ROOT and no row. Valid ones are stored, as a control."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import Image

from apps.accounts.models import User
from apps.accounts.roles import Role
from apps.accounts.tests import images
from apps.accounts.tests.factories import make_user
from apps.courses.models import CaptionTrack, Course, Lesson
from apps.courses.tests.factories import VTT, CourseFactory, LessonFactory

pytestmark = pytest.mark.django_db

CUE = "00:00:00.000 --> 00:00:02.000\nHello\n\n"


def _media_files() -> list[Path]:
    """Every stored upload, public (covers) and private (videos, captions)."""
    roots = [Path(django_settings.MEDIA_ROOT), Path(django_settings.PRIVATE_MEDIA_ROOT)]
    return sorted(p for root in roots if root.exists() for p in root.rglob("*") if p.is_file())


@pytest.fixture
def teacher() -> User:
    return make_user(role=Role.INSTRUCTOR)


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _assert_form_error(response: Any, message: str) -> None:
    page = response.content.decode()
    assert response.status_code == 400
    assert "data-error-summary" in page
    assert "There is a problem" in page
    assert page.count(message) >= 2, "the message shows in the summary and at the field"


# --- caption tracks -------------------------------------------------------------------------


def _post_caption(client: Client, lesson: Lesson, content: bytes, name: str = "c.vtt") -> Any:
    return client.post(
        reverse("courses:caption_upload", args=[lesson.course.slug, lesson.pk]),
        {
            "language": "en",
            "label": "English",
            "kind": "captions",
            "is_default": "on",
            "file": SimpleUploadedFile(name, content, content_type="text/vtt"),
        },
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param(
            b"1\n00:00:01,000 --> 00:00:02,000\nAn SRT file\n",
            "That is not a WebVTT file: it must start with the line WEBVTT.",
            id="not-webvtt",
        ),
        pytest.param(
            b"<html><body>not captions</body></html>",
            "That is not a WebVTT file: it must start with the line WEBVTT.",
            id="html",
        ),
        pytest.param(
            b"WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nFine\n\n00:00:xx --> 00:00:02.000\nBroken\n",
            "the cue timing on line 6 is not valid",
            id="malformed-timing",
        ),
        pytest.param(
            b"WEBVTT\n\n00:00:05.000 --> 00:00:01.000\nBackwards\n",
            "the cue on line 3 ends before it starts",
            id="ends-before-it-starts",
        ),
        pytest.param(b"WEBVTT\n\n", "The WebVTT file has no captions.", id="no-cues"),
        pytest.param(b"", "The submitted file is empty.", id="empty"),
        pytest.param(
            ("WEBVTT\n\n" + CUE * 60_000).encode(),
            "The caption file is too large (at most 1 MB).",
            id="over-1-mb",
        ),
        pytest.param(
            "WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nJos\xe9\n".encode("latin-1"),
            "The caption file must be UTF-8 text.",
            id="not-utf8",
        ),
    ],
)
def test_invalid_caption_upload_is_refused_and_stores_nothing(teacher, content, message):
    lesson = LessonFactory.create(course=CourseFactory.create(instructors=[teacher]))

    response = _post_caption(_client(teacher), lesson, content)

    _assert_form_error(response, message)
    assert "Upload a caption track" in response.content.decode()
    assert not CaptionTrack.objects.exists()
    assert _media_files() == []


def test_caption_upload_with_an_invalid_language_code_is_refused(teacher):
    lesson = LessonFactory.create(course=CourseFactory.create(instructors=[teacher]))

    response = _client(teacher).post(
        reverse("courses:caption_upload", args=[lesson.course.slug, lesson.pk]),
        {
            "language": "../../x",
            "label": "X",
            "kind": "captions",
            "file": SimpleUploadedFile("c.vtt", VTT.encode()),
        },
    )

    _assert_form_error(response, "Enter a language code such as en, de or pt-BR.")
    assert not CaptionTrack.objects.exists()
    assert _media_files() == []


def test_valid_caption_upload_is_stored(teacher):
    lesson = LessonFactory.create(course=CourseFactory.create(instructors=[teacher]))

    response = _post_caption(_client(teacher), lesson, VTT.encode())

    assert response.status_code == 302
    track = CaptionTrack.objects.get()
    assert _media_files() == [Path(track.file.path)]
    assert track.file.name.startswith("captions/")


# --- cover images ---------------------------------------------------------------------------


def _course_form(cover: SimpleUploadedFile, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "title": "Painting",
        "level": "beginner",
        "language": "en",
        "enrollment_policy": "open",
        "cover_image": cover,
    }
    data.update(overrides)
    return data


SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
NOT_AN_IMAGE = "Upload a valid image."


def _too_large_png() -> bytes:
    """A real PNG padded past 5 MB (bytes after the end chunk do not stop it opening)."""
    return images.png_bytes((64, 64)) + b"\0" * (5 * 1024 * 1024 + 1)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        pytest.param("cover.png", b"just some text, not a picture", NOT_AN_IMAGE, id="text-as-png"),
        pytest.param("cover.svg", SVG, NOT_AN_IMAGE, id="svg"),
        pytest.param("cover.png", SVG, NOT_AN_IMAGE, id="svg-as-png"),
        pytest.param(
            "cover.png",
            _too_large_png(),
            "The image is too large. Choose one of at most 5 MB.",
            id="too-large",
        ),
    ],
)
def test_invalid_cover_image_is_refused_and_stores_nothing(teacher, name, content, message):
    cover = SimpleUploadedFile(name, content, content_type="image/png")

    response = _client(teacher).post(reverse("courses:course_create"), _course_form(cover))

    _assert_form_error(response, message)
    assert not Course.objects.exists()
    assert _media_files() == []


def test_invalid_cover_image_on_an_existing_course_keeps_the_course_unchanged(teacher):
    course = CourseFactory.create(instructors=[teacher], title="Painting")
    cover = SimpleUploadedFile("cover.png", b"not an image", content_type="image/png")

    response = _client(teacher).post(
        reverse("courses:course_edit", args=[course.slug]),
        _course_form(cover, title="Renamed", slug=course.slug),
    )

    _assert_form_error(response, NOT_AN_IMAGE)
    course.refresh_from_db()
    assert course.title == "Painting"
    assert not course.cover_image
    assert _media_files() == []


def test_valid_cover_image_is_stored_reencoded(teacher):
    cover = SimpleUploadedFile("cover.png", images.png_bytes((800, 600)), content_type="image/png")

    response = _client(teacher).post(reverse("courses:course_create"), _course_form(cover))

    assert response.status_code == 302
    course = Course.objects.get()
    assert course.cover_image.name.startswith("course-covers/cover-")
    assert course.cover_image.name.endswith(".webp")
    with Image.open(io.BytesIO(Path(course.cover_image.path).read_bytes())) as stored:
        assert (stored.format, stored.size) == ("WEBP", (1280, 720))
    assert _media_files() == [Path(course.cover_image.path)]


# --- lesson videos --------------------------------------------------------------------------


WEBM_MAGIC = b"\x1a\x45\xdf\xa3" + b"\0" * 60


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        pytest.param(
            "talk.avi",
            b"RIFF\0\0\0\0AVI " + b"\0" * 50,
            "Upload an MP4, WebM or Ogg video.",
            id="wrong-type",
        ),
        pytest.param(
            "talk.exe", b"MZ" + b"\0" * 60, "Upload an MP4, WebM or Ogg video.", id="program"
        ),
        pytest.param(
            "talk.mp4",
            b"this is a text file, not a video",
            "That file does not look like a video of its type.",
            id="text-as-mp4",
        ),
        pytest.param(
            "talk.webm",
            b"\0\0\0\x18ftypmp42" + b"\0" * 50,
            "That file does not look like a video of its type.",
            id="mp4-as-webm",
        ),
    ],
)
def test_invalid_lesson_video_is_refused_and_stores_nothing(teacher, name, content, message):
    course = CourseFactory.create(instructors=[teacher])
    video = SimpleUploadedFile(name, content, content_type="video/mp4")

    response = _client(teacher).post(
        reverse("courses:lesson_create", args=[course.slug]),
        {"title": "Talk", "is_published": "on", "video_file": video},
    )

    _assert_form_error(response, message)
    assert not Lesson.objects.exists()
    assert _media_files() == []


def test_invalid_video_on_an_existing_lesson_keeps_the_lesson_unchanged(teacher):
    lesson = LessonFactory.create(course=CourseFactory.create(instructors=[teacher]), title="Talk")
    video = SimpleUploadedFile("talk.mp4", b"not a video", content_type="video/mp4")

    response = _client(teacher).post(
        reverse("courses:lesson_edit", args=[lesson.course.slug, lesson.pk]),
        {"title": "Renamed", "slug": lesson.slug, "video_file": video},
    )

    _assert_form_error(response, "That file does not look like a video of its type.")
    lesson.refresh_from_db()
    assert lesson.title == "Talk"
    assert not lesson.video_file
    assert _media_files() == []


def test_valid_lesson_video_is_stored(teacher):
    course = CourseFactory.create(instructors=[teacher])
    video = SimpleUploadedFile("talk.webm", WEBM_MAGIC, content_type="video/webm")

    response = _client(teacher).post(
        reverse("courses:lesson_create", args=[course.slug]),
        {"title": "Talk", "is_published": "on", "video_file": video},
    )

    assert response.status_code == 302
    lesson = Lesson.objects.get()
    assert lesson.video_file.name.startswith("lesson-videos/")
    assert lesson.video_mime_type == "video/webm"
    assert _media_files() == [Path(lesson.video_file.path)]
