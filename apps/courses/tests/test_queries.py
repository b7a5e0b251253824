"""Each course page costs a fixed number of queries, however many courses, lessons or students.

Every page is measured with 5 and with 50 items: the counts must be equal (no query per item)
and equal to the pinned number, so a new query on any page is a decision, not an accident.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.accounts.models import Profile, User
from apps.accounts.roles import Role
from apps.accounts.tests.factories import make_user
from apps.courses.models import Category, Course, Enrollment, Tag
from apps.courses.tests.factories import (
    CategoryFactory,
    CourseFactory,
    EnrollmentFactory,
    LessonFactory,
    TagFactory,
    caption_track,
    complete,
)

pytestmark = pytest.mark.django_db


@dataclass
class Page:
    url: str
    viewer: User | None


def _queries(page: Page) -> int:
    client = Client()
    if page.viewer is not None:
        client.force_login(page.viewer)
    client.get(page.url)  # warm up: the session, content types and the like
    cache.clear()  # the anonymous catalog is cached as HTML; measure building it
    with CaptureQueriesContext(connection) as captured:
        response = client.get(page.url)
    assert response.status_code == 200, page.url
    return len(captured.captured_queries)


def _courses(n: int, **fields: object) -> list[Course]:
    tags = [TagFactory.create(), TagFactory.create()]
    courses = []
    for _ in range(n):
        teachers = [make_user(role=Role.INSTRUCTOR), make_user(role=Role.INSTRUCTOR)]
        courses.append(CourseFactory.create(instructors=teachers, tags=tags, **fields))
    return courses


def catalog(n: int, viewer: User | None) -> Page:
    _courses(n, category=CategoryFactory.create())
    return Page(reverse("courses:catalog") + "?sort=title", viewer)


def category_page(n: int, viewer: User | None) -> Page:
    parent = CategoryFactory.create(slug="parent")
    child = CategoryFactory.create(parent=parent)
    _courses(n, category=child)
    return Page(reverse("courses:category", args=["parent"]), viewer)


def _course_with(n: int, viewer: User) -> Course:
    course = _courses(1)[0]
    lessons = [
        LessonFactory.create(course=course, is_free_preview=i == 0, is_published=i != 1)
        for i in range(n)
    ]
    enrollment = EnrollmentFactory.create(course=course, student=viewer)
    complete(enrollment, *lessons[::2])
    return course


def course_page(n: int, viewer: User | None) -> Page:
    assert viewer is not None
    return Page(_course_with(n, viewer).get_absolute_url(), viewer)


def lesson_page(n: int, viewer: User | None) -> Page:
    assert viewer is not None
    course = _course_with(n, viewer)
    lesson = course.lessons.order_by("position")[2]
    lesson.video_url = "https://video.example.test/a.mp4"
    lesson.save()
    for language in ("en", "de", "fr"):
        caption_track(lesson, language=language, is_default=language == "en")
    Profile.objects.filter(user=viewer).update(captions_on=True)
    return Page(lesson.get_absolute_url(), viewer)


def my_learning(n: int, viewer: User | None) -> Page:
    assert viewer is not None
    for course in _courses(n):
        LessonFactory.create(course=course)
        EnrollmentFactory.create(course=course, student=viewer)
    return Page(reverse("courses:my_learning"), viewer)


def dashboard(n: int, viewer: User | None) -> Page:
    teacher = make_user(role=Role.INSTRUCTOR)
    for course in _courses(n, capacity=100):
        course.instructors.add(teacher)
    return Page(reverse("courses:teach"), teacher)


def roster(n: int, viewer: User | None) -> Page:
    teacher = make_user(role=Role.INSTRUCTOR)
    course = CourseFactory.create(instructors=[teacher], enrollment_policy="approval")
    lessons = [LessonFactory.create(course=course) for _ in range(3)]
    for i in range(n):
        status = Enrollment.Status.PENDING if i % 5 == 0 else Enrollment.Status.ACTIVE
        enrollment = EnrollmentFactory.create(course=course, status=status)
        complete(enrollment, *lessons[: i % 4])
    return Page(reverse("courses:roster", args=[course.slug]), teacher)


def roster_csv(n: int, viewer: User | None) -> Page:
    page = roster(n, viewer)
    return Page(page.url.rstrip("/") + ".csv", page.viewer)


Builder = Callable[[int, User | None], Page]

# page builder, viewer ("anonymous" or a student), pinned query count
CASES: list[tuple[Builder, str, int]] = [
    # session, user, profile (theme), roles, the bell's unread count and the current terms and
    # privacy notice (apps.privacy.consent; both cached, and the cache was cleared):
    # 6 before any course query for a signed-in viewer
    (catalog, "anonymous", 8),  # filter choices 2, category tree 2, count, page, instructors, tags
    (catalog, "student", 14),
    (category_page, "anonymous", 9),  # + the subcategory ids
    (category_page, "student", 15),
    (course_page, "student", 14),  # + the course's live and upcoming sessions (members only)
    (lesson_page, "student", 12),
    (my_learning, "student", 7),
    # instructors: + whether they have the second factor they need (apps.accounts.mfa, cached)
    (dashboard, "instructor", 8),
    (roster, "instructor", 10),
    (roster_csv, "instructor", 9),  # no page header, so no bell
]


@pytest.mark.parametrize(
    ("build", "viewer", "pinned"),
    [pytest.param(b, v, p, id=f"{b.__name__}-{v}") for b, v, p in CASES],
)
def test_page_runs_the_same_number_of_queries_with_5_and_50_items(
    django_db_blocker, build, viewer, pinned
):
    counts = []
    for size in (5, 50):
        student = None if viewer == "anonymous" else make_user()
        counts.append(_queries(build(size, student)))
        # The next size starts from an empty catalog.
        Course.objects.all().delete()
        Category.objects.filter(parent__isnull=False).delete()
        Category.objects.all().delete()
        Tag.objects.all().delete()
        User.objects.all().delete()

    assert counts[0] == counts[1], (
        f"{build.__name__}: {counts[0]} queries with 5, {counts[1]} with 50"
    )
    assert counts[0] == pinned, f"{build.__name__}: {counts[0]} queries, pinned {pinned}"
