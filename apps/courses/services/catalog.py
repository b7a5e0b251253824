"""Courses and their catalog facts (status, instructors, category, tags)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from enum import Enum
from typing import Any, Final

from django.core.files.base import File
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.activity.services import record as record_activity
from apps.core.errors import NotAllowed
from apps.core.slugs import unique_slug
from apps.courses import page_cache, policies
from apps.courses.models import Category, Course, Tag

logger = logging.getLogger(__name__)


class Unchanged(Enum):
    """The default of an update service's field arguments: leave that field as it is."""

    UNCHANGED = "unchanged"


UNCHANGED: Final = Unchanged.UNCHANGED


# --- Courses --------------------------------------------------------------------------------


@transaction.atomic
def create_course(
    *,
    actor: User,
    title: str,
    tags: Iterable[Tag] = (),
    slug: str = "",
    summary: str = "",
    description: str = "",
    level: str = Course.Level.BEGINNER,
    language: str | None = None,
    category: Category | None = None,
    enrollment_policy: str = Course.EnrollmentPolicy.OPEN,
    capacity: int | None = None,
    cover_image: File | None = None,
) -> Course:
    if not policies.can_create_course(actor):
        raise NotAllowed()
    course = Course(
        title=title,
        slug=slug,
        summary=summary,
        description=description,
        level=level,
        category=category,
        enrollment_policy=enrollment_policy,
        capacity=capacity,
    )
    if language is not None:
        course.language = language
    if cover_image is not None:
        course.cover_image = cover_image
    if not course.slug:
        course.slug = unique_slug(Course, title)
    course.full_clean()
    course.save()
    course.instructors.add(actor)
    course.tags.set(list(tags))
    logger.info("course created", extra={"course_id": course.pk, "user_id": actor.pk})
    return course


@transaction.atomic
def update_course(
    *,
    actor: User,
    course: Course,
    tags: Iterable[Tag] | None = None,
    title: str | Unchanged = UNCHANGED,
    slug: str | Unchanged = UNCHANGED,
    summary: str | Unchanged = UNCHANGED,
    description: str | Unchanged = UNCHANGED,
    level: str | Unchanged = UNCHANGED,
    language: str | Unchanged = UNCHANGED,
    category: Category | Unchanged | None = UNCHANGED,
    enrollment_policy: str | Unchanged = UNCHANGED,
    capacity: int | Unchanged | None = UNCHANGED,
    cover_image: File | Unchanged | None = UNCHANGED,
) -> Course:
    """Change the given fields (the others stay as they are) and, when given, the tags."""
    if not policies.can_edit_course(actor, course):
        raise NotAllowed()
    changes: dict[str, Any] = {
        "title": title,
        "slug": slug,
        "summary": summary,
        "description": description,
        "level": level,
        "language": language,
        "category": category,
        "enrollment_policy": enrollment_policy,
        "capacity": capacity,
        "cover_image": cover_image,
    }
    for name, value in changes.items():
        if value is not UNCHANGED:
            setattr(course, name, value)
    course.full_clean()
    course.save()
    if tags is not None:
        course.tags.set(list(tags))
    logger.info("course updated", extra={"course_id": course.pk, "user_id": actor.pk})
    return course


@transaction.atomic
def set_course_status(*, actor: User, course: Course, status: str) -> Course:
    if not policies.can_edit_course(actor, course):
        raise NotAllowed()
    if status not in Course.Status.values:
        raise ValueError(status)
    course.status = status
    if status == Course.Status.PUBLISHED and course.published_at is None:
        course.published_at = timezone.now()
    course.save(update_fields=["status", "published_at", "updated_at"])
    record_activity(actor, "courses.course.status_changed", course, status=status)
    logger.info(
        "course status changed",
        extra={"course_id": course.pk, "user_id": actor.pk, "status": status},
    )
    return course


def bulk_set_status(*, actor: User, courses: Iterable[Course], status: str) -> int:
    with transaction.atomic():
        changed = 0
        for course in courses:
            set_course_status(actor=actor, course=course, status=status)
            changed += 1
        return changed


@transaction.atomic
def add_instructor(*, actor: User, course: Course, instructor: User) -> None:
    if not policies.can_edit_course(actor, course):
        raise NotAllowed()
    course.instructors.add(instructor)


# --- Categories and tags (admin bulk actions) -----------------------------------------------


@transaction.atomic
def set_category(*, courses: Iterable[Course], category: Category | None) -> int:
    ids = [c.pk for c in courses]
    page_cache.changed(page_cache.CATALOG)  # QuerySet.update() sends no signal
    return Course.objects.filter(pk__in=ids).update(category=category, updated_at=timezone.now())


@transaction.atomic
def add_tags(*, courses: Iterable[Course], tags: Iterable[Tag]) -> None:
    tag_list = list(tags)
    for course in courses:
        course.tags.add(*tag_list)


@transaction.atomic
def remove_tags(*, courses: Iterable[Course], tags: Iterable[Tag]) -> None:
    tag_list = list(tags)
    for course in courses:
        course.tags.remove(*tag_list)
