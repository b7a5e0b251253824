"""`manage.py seed_demo` fills the catalog: courses, lessons, enrollments with progress and one
lesson with a video made at seed time and English captions. Running it again changes nothing."""

from __future__ import annotations

import io
from pathlib import Path

import av
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client

from apps.accounts.models import User
from apps.courses.captions import validate_webvtt
from apps.courses.models import (
    CaptionTrack,
    Category,
    Course,
    CourseInvitation,
    Enrollment,
    Lesson,
    LessonProgress,
    Tag,
)

pytestmark = pytest.mark.django_db


def _counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (
            Category,
            Tag,
            Course,
            Lesson,
            CaptionTrack,
            Enrollment,
            LessonProgress,
            CourseInvitation,
        )
    }


@pytest.fixture
def seeded(settings) -> dict[str, int]:
    settings.DEBUG = True
    call_command("seed_demo", stdout=io.StringIO())
    return _counts()


def test_seed_creates_a_catalog_of_published_courses_with_lessons(seeded):
    published = Course.objects.filter(status=Course.Status.PUBLISHED)

    assert published.count() >= 6
    assert Category.objects.filter(parent__isnull=False).exists()
    for course in published:
        assert course.instructors.exists(), course
        assert course.tags.exists(), course
        assert course.lesson_count == course.lessons.filter(is_published=True).count() > 0
        assert course.lessons.filter(is_free_preview=True).exists(), course


def test_seed_enrolls_students_with_progress_the_counters_agree_with(seeded):
    enrollments = Enrollment.objects.select_related("course")

    assert enrollments.filter(status=Enrollment.Status.ACTIVE).exists()
    assert enrollments.filter(status=Enrollment.Status.PENDING).exists()
    assert enrollments.filter(status=Enrollment.Status.COMPLETED).exists()
    assert LessonProgress.objects.exists()
    for enrollment in enrollments:
        assert enrollment.completed_lesson_count == enrollment.progress.count(), enrollment
    for course in Course.objects.all():
        active = course.enrollments.filter(status=Enrollment.Status.ACTIVE).count()
        assert course.active_enrollment_count == active, course


def test_seed_makes_a_real_webm_video_with_english_captions(seeded):
    lesson = Lesson.objects.exclude(video_file="").get()
    track = CaptionTrack.objects.get(lesson=lesson)

    video = Path(lesson.video_file.path)
    assert video.suffix == ".webm"
    assert video.read_bytes()[:4] == b"\x1a\x45\xdf\xa3"
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "vp8"
        assert sum(1 for _ in container.decode(stream)) > 24
    assert (track.language, track.kind, track.is_default) == ("en", "captions", True)
    upload = SimpleUploadedFile("en.vtt", Path(track.file.path).read_bytes())
    assert validate_webvtt(upload) >= 1


def test_the_demo_lesson_plays_for_anyone_as_a_free_preview(seeded):
    lesson = Lesson.objects.exclude(video_file="").get()

    page = Client().get(lesson.get_absolute_url()).content.decode()

    assert "<video" in page
    assert f'src="{lesson.video_file.url}"' in page
    assert lesson.video_file.url.startswith("/courses/media/videos/")
    assert 'srclang="en"' in page


def test_demo_student_sees_progress_on_my_learning(seeded):
    student = User.objects.get(email="student@example.com")
    client = Client()
    client.force_login(student)

    page = client.get("/learning/").content.decode()

    assert "Python from scratch" in page
    assert "3 of 6 lessons" in page


def test_seeding_twice_changes_no_counts_and_keeps_one_video(seeded, settings):
    call_command("seed_demo", stdout=io.StringIO())

    assert _counts() == seeded
    videos = list(Path(settings.PRIVATE_MEDIA_ROOT, "lesson-videos").iterdir())
    captions = list(Path(settings.PRIVATE_MEDIA_ROOT, "captions").iterdir())
    assert len(videos) == 1
    assert len(captions) == 1
