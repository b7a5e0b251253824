"""Staff manage the catalog in the admin: bulk actions on the course list, and edits that keep
the catalog's counters right."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from apps.accounts.models import User
from apps.accounts.roles import Role
from apps.accounts.tests.factories import make_user
from apps.courses.models import Course, Lesson
from apps.courses.tests.factories import (
    CategoryFactory,
    CourseFactory,
    LessonFactory,
    TagFactory,
    course_with_lessons,
)

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:courses_course_changelist"


@pytest.fixture
def staff() -> User:
    return make_user(role=Role.STAFF, email="staff@example.test")


@pytest.fixture
def staff_client(staff: User) -> Client:
    client = Client()
    client.force_login(staff)
    return client


def _action(
    client: Client, action: str, courses: list[Course], *, follow: bool = False, **extra: Any
) -> Any:
    """Tick `courses` on the course list, choose `action` and press Go (the admin's own POST)."""
    return client.post(
        reverse(CHANGELIST),
        {"action": action, "_selected_action": [c.pk for c in courses], **extra},
        follow=follow,
    )


def _statuses() -> dict[str, str]:
    return dict(Course.objects.values_list("slug", "status"))


def test_staff_without_superuser_rights_can_open_the_course_list(staff_client):
    CourseFactory.create(title="Visible in the admin")

    response = staff_client.get(reverse(CHANGELIST))

    assert response.status_code == 200
    assert "Visible in the admin" in response.content.decode()


def test_an_instructor_cannot_use_the_admin():
    client = Client()
    client.force_login(make_user(role=Role.INSTRUCTOR))

    response = client.get(reverse(CHANGELIST))

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_publish_action_publishes_drafts_and_stamps_them(staff_client):
    drafts = [
        CourseFactory.create(slug=f"d{i}", status=Course.Status.DRAFT, published_at=None)
        for i in range(2)
    ]
    untouched = CourseFactory.create(slug="other", status=Course.Status.DRAFT, published_at=None)

    response = _action(staff_client, "publish", drafts, follow=True)

    assert "2 course(s) changed." in response.content.decode()
    assert _statuses() == {"d0": "published", "d1": "published", "other": "draft"}
    assert all(c.published_at for c in Course.objects.filter(slug__in=["d0", "d1"]))
    untouched.refresh_from_db()
    assert untouched.published_at is None


def test_unpublish_action_returns_courses_to_draft_and_hides_them(staff_client):
    course = CourseFactory.create(slug="live")

    _action(staff_client, "unpublish", [course])

    assert _statuses() == {"live": "draft"}
    assert Client().get(course.get_absolute_url()).status_code == 404


def test_archive_action_archives(staff_client):
    courses = [CourseFactory.create(slug="a"), CourseFactory.create(slug="b")]

    _action(staff_client, "archive", courses)

    assert _statuses() == {"a": "archived", "b": "archived"}


def test_set_category_asks_which_category_then_sets_it(staff_client):
    music = CategoryFactory.create(name="Music")
    courses = [CourseFactory.create(), CourseFactory.create()]
    other = CourseFactory.create()

    form = _action(staff_client, "set_category", courses)
    response = _action(staff_client, "set_category", courses, apply="Apply", category=music.pk)

    page = form.content.decode()
    assert form.status_code == 200
    assert "2 courses selected." in page
    assert 'name="category"' in page
    assert response.status_code == 302
    assert set(Course.objects.filter(category=music)) == set(courses)
    other.refresh_from_db()
    assert other.category is None


def test_add_tags_and_remove_tags(staff_client):
    keep, extra = TagFactory.create(name="keep"), TagFactory.create(name="extra")
    courses = [CourseFactory.create(tags=[keep]), CourseFactory.create()]

    _action(staff_client, "add_tags", courses, apply="Apply", tags=[keep.pk, extra.pk])
    after_add = [sorted(t.name for t in c.tags.all()) for c in courses]
    _action(staff_client, "remove_tags", courses, apply="Apply", tags=[extra.pk])
    after_remove = [sorted(t.name for t in c.tags.all()) for c in courses]

    assert after_add == [["extra", "keep"], ["extra", "keep"]]
    assert after_remove == [["keep"], ["keep"]]


def test_add_tags_without_choosing_a_tag_asks_again_and_changes_nothing(staff_client):
    course = CourseFactory.create()

    response = _action(staff_client, "add_tags", [course], apply="Apply")

    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert not course.tags.exists()


def test_export_csv_lists_the_selected_courses(staff_client):
    teacher = make_user(role=Role.INSTRUCTOR, email="teacher@example.test")
    course, _ = course_with_lessons(
        2,
        slug="chess",
        title="=Chess for all",
        instructors=[teacher],
        tags=[TagFactory.create(name="games")],
        category=CategoryFactory.create(name="Games"),
    )
    CourseFactory.create(slug="not-selected")

    response = _action(staff_client, "export_csv", [course])

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="courses-')
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert len(rows) == 1
    row = rows[0]
    assert row["slug"] == "chess"
    assert row["title"] == "'=Chess for all", "a title must not run as a spreadsheet formula"
    assert (row["category"], row["instructors"], row["tags"]) == (
        "Games",
        "teacher@example.test",
        "games",
    )
    assert (row["status"], row["lessons"]) == ("published", "2")


def test_unpublishing_a_lesson_in_the_admin_updates_the_lesson_count(staff_client):
    course, lessons = course_with_lessons(2)
    lesson = lessons[0]
    url = reverse("admin:courses_lesson_change", args=[lesson.pk])

    response = staff_client.post(
        url,
        {
            "course": course.pk,
            "position": lesson.position,
            "slug": lesson.slug,
            "title": lesson.title,
            "body": lesson.body,
            "video_url": "",
            "is_free_preview": "",
            # is_published left out: unticked
            "caption_tracks-TOTAL_FORMS": "0",
            "caption_tracks-INITIAL_FORMS": "0",
            "caption_tracks-MIN_NUM_FORMS": "0",
            "caption_tracks-MAX_NUM_FORMS": "1000",
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    assert not Lesson.objects.get(pk=lesson.pk).is_published
    course.refresh_from_db()
    assert course.lesson_count == 1


def test_a_caption_file_added_in_the_admin_is_checked_too(staff_client):
    lesson = LessonFactory.create()

    response = staff_client.post(
        reverse("admin:courses_lesson_change", args=[lesson.pk]),
        {
            "course": lesson.course_id,
            "position": lesson.position,
            "slug": lesson.slug,
            "title": lesson.title,
            "body": lesson.body,
            "video_url": "",
            "is_published": "on",
            "caption_tracks-TOTAL_FORMS": "1",
            "caption_tracks-INITIAL_FORMS": "0",
            "caption_tracks-MIN_NUM_FORMS": "0",
            "caption_tracks-MAX_NUM_FORMS": "1000",
            "caption_tracks-0-language": "en",
            "caption_tracks-0-label": "English",
            "caption_tracks-0-kind": "captions",
            "caption_tracks-0-file": SimpleUploadedFile("x.vtt", b"not captions"),
        },
    )

    assert response.status_code == 200
    assert "That is not a WebVTT file" in response.content.decode()
    assert not lesson.caption_tracks.exists()
