"""Reads behind the course pages, each a fixed number of queries whatever the data size."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch, Q, QuerySet

from apps.accounts.models import User
from apps.courses.models import Category, Course, Enrollment, Lesson, LessonProgress, Tag

SORTS: dict[str, tuple[str, ...]] = {
    "newest": ("-published_at", "-id"),
    "title": ("title", "id"),
    "popular": ("-active_enrollment_count", "-id"),
}


@dataclass(frozen=True)
class CatalogFilters:
    q: str = ""
    category: Category | None = None
    tag: Tag | None = None
    level: str = ""
    language: str = ""
    sort: str = "newest"


def _instructors_prefetch() -> Prefetch:
    return Prefetch("instructors", queryset=User.objects.only("id", "display_name").order_by("id"))


def catalog_courses(filters: CatalogFilters) -> QuerySet[Course]:
    """Published courses matching the filters, with what a catalog card shows (3 queries)."""
    qs = Course.objects.filter(status=Course.Status.PUBLISHED)
    if filters.category is not None:
        qs = qs.filter(category__in=[filters.category.pk, *_child_ids(filters.category)])
    if filters.tag is not None:
        qs = qs.filter(tags=filters.tag)
    if filters.level:
        qs = qs.filter(level=filters.level)
    if filters.language:
        qs = qs.filter(language=filters.language)
    if filters.q:
        qs = qs.filter(title__icontains=filters.q)
    return (
        qs.select_related("category")
        .prefetch_related(
            _instructors_prefetch(), Prefetch("tags", queryset=Tag.objects.order_by("name"))
        )
        .order_by(*SORTS.get(filters.sort, SORTS["newest"]))
        .defer("description", "description_html")
    )


def _child_ids(category: Category) -> list[int]:
    cached: list[int] | None = getattr(category, "_child_ids", None)
    if cached is None:
        cached = list(Category.objects.filter(parent=category).values_list("id", flat=True))
    return cached


def category_tree() -> list[Category]:
    """Top categories with their children (2 queries)."""
    return list(
        Category.objects.filter(parent__isnull=True).prefetch_related(
            Prefetch("children", queryset=Category.objects.order_by("position", "name"))
        )
    )


def syllabus(*, course: Course, include_unpublished: bool) -> list[Lesson]:
    qs = Lesson.objects.filter(course=course)
    if not include_unpublished:
        qs = qs.filter(is_published=True)
    lessons = list(
        qs.only(
            "id", "slug", "title", "position", "is_free_preview", "is_published", "course_id"
        ).order_by("position", "id")
    )
    for lesson in lessons:
        lesson.course = course  # links (get_absolute_url) need the course slug: no query each
    return lessons


def completed_lesson_ids(enrollment: Enrollment | None) -> set[int]:
    if enrollment is None:
        return set()
    return set(
        LessonProgress.objects.filter(enrollment=enrollment).values_list("lesson_id", flat=True)
    )


def course_instructors(course: Course) -> list[User]:
    return list(course.instructors.select_related("profile").order_by("id"))


def my_enrollments(user: Any) -> list[Enrollment]:
    return list(
        Enrollment.objects.filter(
            student=user,
            status__in=[
                Enrollment.Status.ACTIVE,
                Enrollment.Status.COMPLETED,
                Enrollment.Status.PENDING,
            ],
        )
        .select_related("course")
        .order_by("-updated_at")
    )


def instructor_courses(user: Any) -> list[Course]:
    return list(
        Course.objects.filter(instructors=user)
        .select_related("category")
        .order_by("status", "title")
    )


def roster(course: Course) -> list[Enrollment]:
    return list(
        Enrollment.objects.filter(course=course)
        .select_related("student")
        .order_by("status", "student__display_name", "id")
    )


def progress_percent(enrollment: Enrollment, lesson_count: int) -> int:
    if not lesson_count:
        return 0
    return min(100, round(100 * enrollment.completed_lesson_count / lesson_count))


# (user id, the language of their profile or None): whom to notify, in which language
Recipient = tuple[int, str | None]


# --- Helpers the course and live-session tasks share --------------------------------------------


def course_member_recipients(
    course_id: int, *, exclude: Iterable[int | None] = (), also: Iterable[int] = ()
) -> list[Recipient]:
    """The course's member students (Enrollment.MEMBER_STATUSES) plus `also`, minus `exclude`,
    each with their language. One query however many there are."""
    who = Q(enrollments__course_id=course_id, enrollments__status__in=Enrollment.MEMBER_STATUSES)
    extra = list(also)
    if extra:
        who |= Q(pk__in=extra)
    excluded = [pk for pk in exclude if pk is not None]
    rows = (
        User.objects.filter(who)
        .exclude(pk__in=excluded)
        .values_list("pk", "profile__language")
        .distinct()
        .order_by("pk")
    )
    return list(rows)
