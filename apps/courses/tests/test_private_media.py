"""Lesson videos and captions are private: only whoever may open the lesson gets the file, from
a checked address, under a random stored name; the public /media/ route never serves them.

An outside probe fetched a members-only caption file from /media/ at a guessable name,
`<lesson id>-<lang>-<kind>.vtt`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.files.base import ContentFile
from django.http import Http404
from django.test import Client, RequestFactory
from django.urls import reverse

from apps.accounts.models import User
from apps.accounts.roles import Role
from apps.accounts.tests.factories import make_user
from apps.courses import services
from apps.courses.models import CaptionTrack, Course, Lesson
from apps.courses.services.storage import move_to_private_storage
from apps.courses.tests.factories import (
    VTT,
    CourseFactory,
    EnrollmentFactory,
    LessonFactory,
    instructor_of,
    vtt_upload,
)
from config.urls import serve_media

pytestmark = pytest.mark.django_db

RANDOM_PART = r"[A-Za-z0-9_-]{24}"
WEBM = b"\x1a\x45\xdf\xa3" + b"\x00" * 60


def _client(user: User | None = None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def _add_track(lesson: Lesson, text: str = VTT, language: str = "en") -> CaptionTrack:
    return services.add_caption_track(
        actor=instructor_of(lesson.course),
        lesson=lesson,
        language=language,
        label=language.upper(),
        kind=CaptionTrack.Kind.CAPTIONS,
        is_default=True,
        file=vtt_upload(text),
    )


@pytest.fixture
def lesson() -> Lesson:
    """A members-only lesson of a published course, with captions and a video."""
    lesson = LessonFactory.create(course=CourseFactory.create())
    lesson.video_file.save("talk.webm", ContentFile(WEBM), save=True)
    return lesson


@pytest.fixture
def track(lesson: Lesson) -> CaptionTrack:
    return _add_track(lesson)


@pytest.fixture
def enrolled(lesson: Lesson) -> User:
    return EnrollmentFactory.create(course=lesson.course).student


def _body(response: Any) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


# --- Who gets the file ----------------------------------------------------------------------


def test_an_enrolled_student_gets_the_caption_file_with_safe_headers(track, enrolled):
    response = _client(enrolled).get(track.file.url)

    assert response.status_code == 200
    assert _body(response) == VTT.encode()
    assert response["Content-Type"] == "text/vtt; charset=utf-8"
    assert response["Cache-Control"].startswith("private")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"].startswith("inline")
    assert f"{track.lesson.slug}-en-captions.vtt" in response["Content-Disposition"]


def test_an_enrolled_student_gets_the_lesson_video(lesson, enrolled):
    response = _client(enrolled).get(lesson.video_file.url)

    assert response.status_code == 200
    assert _body(response) == WEBM
    assert response["Content-Type"] == "video/webm"


@pytest.mark.parametrize("who", ["anonymous", "student", "other_instructor", "pending"])
def test_people_who_may_not_open_the_lesson_get_404_for_its_media(lesson, track, who):
    from apps.courses.models import Enrollment

    user: User | None = None
    if who == "student":
        user = make_user()
    elif who == "other_instructor":
        user = make_user(role=Role.INSTRUCTOR)
    elif who == "pending":
        pending = Enrollment.Status.PENDING
        user = EnrollmentFactory.create(course=lesson.course, status=pending).student
    client = _client(user)

    assert client.get(track.file.url).status_code == 404
    assert client.get(lesson.video_file.url).status_code == 404


def test_the_instructor_and_staff_get_the_media(lesson, track):
    for user in (instructor_of(lesson.course), make_user(role=Role.STAFF)):
        client = _client(user)
        assert client.get(track.file.url).status_code == 200
        assert client.get(lesson.video_file.url).status_code == 200


def test_a_free_preview_lesson_has_media_for_anyone(lesson, track):
    Lesson.objects.filter(pk=lesson.pk).update(is_free_preview=True)

    assert _body(Client().get(track.file.url)) == VTT.encode()


def test_a_draft_course_hides_its_media_even_from_enrolled_students(lesson, track, enrolled):
    Course.objects.filter(pk=lesson.course_id).update(status=Course.Status.DRAFT)

    assert _client(enrolled).get(track.file.url).status_code == 404


def test_a_missing_track_a_replaced_file_and_a_lost_file_all_answer_404(lesson, track, enrolled):
    client = _client(enrolled)
    old_url = track.file.url
    missing = reverse("courses:caption_file", args=[track.pk + 1000, "0" * 16])

    replaced = _add_track(lesson, VTT.replace("welcome", "hello"))

    assert client.get(missing).status_code == 404
    assert replaced.file.url != old_url
    assert client.get(old_url).status_code == 404
    assert b"hello" in _body(client.get(replaced.file.url))
    Path(replaced.file.path).unlink()
    assert client.get(replaced.file.url).status_code == 404


def test_the_lesson_page_plays_video_and_captions_from_the_checked_addresses(
    lesson, track, enrolled
):
    client = _client(enrolled)

    page = client.get(lesson.get_absolute_url()).content.decode()

    sources = re.findall(r'<(?:source|track)[^>]* src="([^"]+)"', page)
    assert sources == [lesson.video_file.url, track.file.url]
    assert all(src.startswith("/courses/media/") for src in sources)
    assert "/media/" not in page.replace("/courses/media/", "")
    for src in sources:
        assert client.get(src).status_code == 200


def test_the_admin_lesson_page_links_the_caption_file_through_the_checked_view(lesson, track):
    client = _client(make_user(role=Role.STAFF))

    page = client.get(reverse("admin:courses_lesson_change", args=[lesson.pk]))

    assert page.status_code == 200
    assert f'href="{track.file.url}"' in page.content.decode()


# --- Names and the public route --------------------------------------------------------------


def test_stored_names_are_random_not_made_of_ids_or_languages(lesson, track):
    second = _add_track(LessonFactory.create(course=lesson.course), language="en")

    for name in (track.file.name, second.file.name):
        assert re.fullmatch(rf"captions/{RANDOM_PART}\.vtt", name), name
        assert f"{lesson.pk}-" not in name
    assert track.file.name != second.file.name
    assert re.fullmatch(rf"lesson-videos/{RANDOM_PART}\.webm", lesson.video_file.name)
    # Outside the public media root: nothing there to serve.
    assert Path(track.file.path).is_relative_to(Path(django_settings.PRIVATE_MEDIA_ROOT))
    assert not Path(django_settings.MEDIA_ROOT, track.file.name).exists()


def _public(path: str) -> Any:
    return serve_media(RequestFactory().get(f"/media/{path}"), path)


def test_the_public_media_route_refuses_the_old_guessable_caption_path(lesson):
    """SERVE_MEDIA mode: a caption left at its old name under MEDIA_ROOT is not served, while
    public media (an avatar) still is."""
    legacy = Path(django_settings.MEDIA_ROOT, "captions", f"{lesson.pk}-en-captions.vtt")
    legacy.parent.mkdir(parents=True)
    legacy.write_text(VTT)
    avatar = Path(django_settings.MEDIA_ROOT, "avatars", "a.webp")
    avatar.parent.mkdir(parents=True)
    avatar.write_bytes(b"RIFF")

    assert _public("avatars/a.webp").status_code == 200
    for path in (
        f"captions/{lesson.pk}-en-captions.vtt",
        f"./captions/{lesson.pk}-en-captions.vtt",
        f"avatars/../captions/{lesson.pk}-en-captions.vtt",
        f"lesson-videos/{lesson.pk}.webm",
    ):
        with pytest.raises(Http404):
            _public(path)
    if django_settings.SERVE_MEDIA:  # the route is installed: through the whole stack too
        assert Client().get(f"/media/captions/{lesson.pk}-en-captions.vtt").status_code == 404


def test_the_public_media_route_refuses_a_private_root_placed_inside_media_root(settings, lesson):
    settings.PRIVATE_MEDIA_ROOT = Path(settings.MEDIA_ROOT) / "private"
    track = _add_track(lesson)

    assert Path(track.file.path).is_file()
    with pytest.raises(Http404):
        _public(f"private/{track.file.name}")


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"MEDIA_ACCEL": "apache"}, "MEDIA_ACCEL must be"),
        (
            {"MEDIA_ROOT": "/srv/ot/media", "PRIVATE_MEDIA_ROOT": "/srv/ot/media/private"},
            "PRIVATE_MEDIA_ROOT must not be inside MEDIA_ROOT",
        ),
    ],
)
def test_the_settings_refuse_a_private_root_under_media_or_an_unknown_accel(env, message):
    from apps.core.tests.isolated import run_python

    result = run_python("import config.settings.local", env=env)

    assert result.returncode != 0
    assert message in result.stderr


# --- Who sends the bytes: Django, nginx or Apache ---------------------------------------------


def test_behind_nginx_the_view_answers_with_x_accel_redirect_and_no_body(settings, track, enrolled):
    settings.MEDIA_ACCEL = "nginx"
    settings.PRIVATE_MEDIA_ACCEL_PREFIX = "/protected/"

    response = _client(enrolled).get(track.file.url)

    assert response.status_code == 200
    assert response["X-Accel-Redirect"] == f"/protected/{track.file.name}"
    assert response.content == b""
    assert response["Content-Type"] == "text/vtt; charset=utf-8"
    assert response["Cache-Control"].startswith("private")
    assert response["Content-Disposition"].startswith("inline")
    assert _client().get(track.file.url).status_code == 404  # still checked first


def test_behind_apache_the_view_answers_with_x_sendfile_and_no_body(settings, track, enrolled):
    settings.MEDIA_ACCEL = "sendfile"

    response = _client(enrolled).get(track.file.url)

    assert response.status_code == 200
    path = Path(response["X-Sendfile"])
    assert path.is_absolute()
    assert path.read_text() == VTT
    assert response.content == b""
    assert response["X-Content-Type-Options"] == "nosniff"


def test_without_a_front_server_django_streams_the_file(settings, track, enrolled):
    settings.MEDIA_ACCEL = ""

    response = _client(enrolled).get(track.file.url)

    assert response.streaming
    assert "X-Accel-Redirect" not in response
    assert "X-Sendfile" not in response
    assert _body(response) == VTT.encode()


def test_django_answers_a_byte_range_so_a_video_can_be_seeked(lesson, enrolled):
    client = _client(enrolled)

    middle = client.get(lesson.video_file.url, headers={"range": "bytes=4-9"})
    tail = client.get(lesson.video_file.url, headers={"range": "bytes=-4"})
    whole = client.get(lesson.video_file.url, headers={"range": "bytes=999-"})

    assert middle.status_code == 206
    assert _body(middle) == WEBM[4:10]
    assert middle["Content-Range"] == f"bytes 4-9/{len(WEBM)}"
    assert middle["Content-Type"] == "video/webm"
    assert middle["Cache-Control"].startswith("private")
    assert _body(tail) == WEBM[-4:]
    assert (whole.status_code, _body(whole)) == (200, WEBM)  # past the end: the whole file
    assert whole["Accept-Ranges"] == "bytes"
    assert _client().get(lesson.video_file.url, headers={"range": "bytes=0-3"}).status_code == 404


# --- Files stored before media was private -----------------------------------------------------


def test_old_public_files_move_to_private_random_names_and_keep_playing(
    lesson, enrolled, django_capture_on_commit_callbacks
):
    """A row from before the change: its file under MEDIA_ROOT at the guessable name."""
    old_name = f"captions/{lesson.pk}-en-captions.vtt"
    legacy = Path(django_settings.MEDIA_ROOT, old_name)
    legacy.parent.mkdir(parents=True)
    legacy.write_text(VTT)
    track = CaptionTrack.objects.create(lesson=lesson, language="en", label="EN", file=old_name)
    Lesson.objects.filter(pk=lesson.pk).update(video_file="")

    with django_capture_on_commit_callbacks(execute=True):
        moved = move_to_private_storage(caption_model=CaptionTrack, lesson_model=Lesson)

    track.refresh_from_db()
    assert moved == 1
    assert re.fullmatch(rf"captions/{RANDOM_PART}\.vtt", track.file.name)
    assert not legacy.exists()
    assert _body(_client(enrolled).get(track.file.url)) == VTT.encode()
    assert move_to_private_storage(caption_model=CaptionTrack, lesson_model=Lesson) == 0


def test_the_data_migration_moves_an_old_lesson_video(lesson, django_capture_on_commit_callbacks):
    from importlib import import_module

    from django.apps import apps

    migration = import_module("apps.courses.migrations.0004_private_media")
    old_name = "lesson-videos/talk.webm"
    legacy = Path(django_settings.MEDIA_ROOT, old_name)
    legacy.parent.mkdir(parents=True)
    legacy.write_bytes(WEBM)
    Lesson.objects.filter(pk=lesson.pk).update(video_file=old_name)

    with django_capture_on_commit_callbacks(execute=True):
        migration.move_files(apps, None)

    lesson.refresh_from_db()
    assert re.fullmatch(rf"lesson-videos/{RANDOM_PART}\.webm", lesson.video_file.name)
    assert Path(lesson.video_file.path).read_bytes() == WEBM
    assert not legacy.exists()
