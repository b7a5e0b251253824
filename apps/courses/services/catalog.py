"""Courses and their catalog facts (status, instructors, category, tags), and the catalog
version that retires cached pages when any of it changes."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from enum import Enum
from typing import Any, Final

from django.core.cache import cache
from django.core.files.base import File
from django.db import connection, transaction
from django.db.models import signals
from django.utils import timezone

from apps.accounts.models import User
from apps.activity.services import record as record_activity
from apps.core.errors import NotAllowed
from apps.core.slugs import unique_slug
from apps.courses import policies, selectors
from apps.courses.models import CaptionTrack, Category, Course, Enrollment, Lesson, Tag

logger = logging.getLogger(__name__)


class Unchanged(Enum):
    """The default of an update service's field arguments: leave that field as it is."""

    UNCHANGED = "unchanged"


UNCHANGED: Final = Unchanged.UNCHANGED


def _new_catalog_version() -> None:
    cache.set(selectors.CATALOG_VERSION_KEY, uuid.uuid4().hex, timeout=None)


def catalog_changed() -> None:
    """Course data changed: pages cached under the current catalog version must not be served.

    The version changes at once (a later read in this transaction, e.g. in a test, sees the
    change) and again after the commit: another request may have cached a page from the data
    as it was before the commit in between. Model signals (models.py) call this on every save
    and delete; services call it themselves after `QuerySet.update()`, which sends no signal.
    """
    _new_catalog_version()
    if connection.in_atomic_block and not any(
        entry[1] is _new_catalog_version for entry in connection.run_on_commit
    ):
        transaction.on_commit(_new_catalog_version)


def _catalog_changed(**kwargs: Any) -> None:
    if kwargs.get("raw") or str(kwargs.get("action", "post")).startswith("pre_"):
        return  # loaddata, or the "pre_" half of an m2m change
    catalog_changed()


def connect_catalog_signals() -> None:
    """Every save or delete of what the catalog, course and lesson pages show (courses, their
    tags and instructors, lessons, captions, categories, tags, enrollments) retires the cached
    pages. Called once, from `CoursesConfig.ready()`."""
    for model in (Category, Tag, Course, Lesson, CaptionTrack, Enrollment):
        signals.post_save.connect(_catalog_changed, sender=model, dispatch_uid=f"cat-s-{model}")
        signals.post_delete.connect(_catalog_changed, sender=model, dispatch_uid=f"cat-d-{model}")
    for through in (Course.tags.through, Course.instructors.through):
        signals.m2m_changed.connect(
            _catalog_changed, sender=through, dispatch_uid=f"cat-m-{through}"
        )


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
    catalog_changed()
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
