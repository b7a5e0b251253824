"""Lessons of a course: add, edit, remove and reorder them (positions stay 1..n)."""

from __future__ import annotations

from typing import Any

from django.core.files.base import File
from django.db import transaction
from django.db.models import Max

from apps.accounts.models import User
from apps.core.errors import NotAllowed
from apps.core.slugs import unique_slug
from apps.core.tasks import enqueue_on_commit
from apps.courses import page_cache, policies, tasks
from apps.courses.models import Course, Lesson
from apps.courses.services.catalog import UNCHANGED, Unchanged
from apps.courses.services.counters import recount_completion, refresh_lesson_count


@transaction.atomic
def create_lesson(
    *,
    actor: User,
    course: Course,
    title: str,
    slug: str = "",
    body: str = "",
    video_file: File | None = None,
    video_url: str = "",
    is_free_preview: bool = False,
    is_published: bool = True,
) -> Lesson:
    if not policies.can_edit_course(actor, course):
        raise NotAllowed()
    Course.objects.select_for_update().filter(pk=course.pk).first()
    last = Lesson.objects.filter(course=course).aggregate(m=Max("position"))["m"]
    lesson = Lesson(
        course=course,
        title=title,
        position=(last or 0) + 1,
        slug=slug,
        body=body,
        video_url=video_url,
        is_free_preview=is_free_preview,
        is_published=is_published,
    )
    if video_file is not None:
        lesson.video_file = video_file
    if not lesson.slug:
        lesson.slug = unique_slug(Lesson, title, scope={"course": course})
    lesson.full_clean()
    lesson.save()
    refresh_lesson_count(course)
    if lesson.is_published:
        enqueue_on_commit(tasks.notify_lesson_published, lesson.pk, actor.pk)
    return lesson


@transaction.atomic
def update_lesson(
    *,
    actor: User,
    lesson: Lesson,
    title: str | Unchanged = UNCHANGED,
    slug: str | Unchanged = UNCHANGED,
    body: str | Unchanged = UNCHANGED,
    video_file: File | Unchanged | None = UNCHANGED,
    video_url: str | Unchanged = UNCHANGED,
    is_free_preview: bool | Unchanged = UNCHANGED,
    is_published: bool | Unchanged = UNCHANGED,
) -> Lesson:
    """Change the given fields; the others stay as they are."""
    if not policies.can_edit_course(actor, lesson.course):
        raise NotAllowed()
    was_published = lesson.is_published
    changes: dict[str, Any] = {
        "title": title,
        "slug": slug,
        "body": body,
        "video_file": video_file,
        "video_url": video_url,
        "is_free_preview": is_free_preview,
        "is_published": is_published,
    }
    for name, value in changes.items():
        if value is not UNCHANGED:
            setattr(lesson, name, value)
    lesson.full_clean()
    lesson.save()
    refresh_lesson_count(lesson.course)
    if lesson.is_published != was_published:
        # Progress counts published lessons only, so every student's count may change.
        recount_completion(lesson.course)
    if lesson.is_published and not was_published:
        # Told once per lesson (the task's dedupe key), however often it is republished.
        enqueue_on_commit(tasks.notify_lesson_published, lesson.pk, actor.pk)
    return lesson


@transaction.atomic
def delete_lesson(*, actor: User, lesson: Lesson) -> None:
    if not policies.can_edit_course(actor, lesson.course):
        raise NotAllowed()
    course = lesson.course
    lesson.delete()
    _renumber(course)
    refresh_lesson_count(course)
    recount_completion(course)


def _renumber(course: Course) -> None:
    for index, lesson in enumerate(
        Lesson.objects.filter(course=course).order_by("position", "id"), 1
    ):
        if lesson.position != index:
            Lesson.objects.filter(pk=lesson.pk).update(position=index)
    page_cache.changed(page_cache.course_scope(course.slug))  # update() sends no signal


@transaction.atomic
def move_lesson(*, actor: User, lesson: Lesson, direction: str) -> Lesson:
    """Move a lesson one place up or down; positions stay 1..n without gaps."""
    if not policies.can_edit_course(actor, lesson.course):
        raise NotAllowed()
    if direction not in ("up", "down"):
        raise ValueError(direction)
    course = Course.objects.select_for_update().get(pk=lesson.course_id)
    ordered = list(Lesson.objects.filter(course=course).order_by("position", "id"))
    index = next(i for i, item in enumerate(ordered) if item.pk == lesson.pk)
    target = index - 1 if direction == "up" else index + 1
    if 0 <= target < len(ordered):
        ordered[index], ordered[target] = ordered[target], ordered[index]
    for position, item in enumerate(ordered, 1):
        if item.position != position:
            Lesson.objects.filter(pk=item.pk).update(position=position)
            item.position = position
    lesson.position = next(item.position for item in ordered if item.pk == lesson.pk)
    page_cache.changed(page_cache.course_scope(course.slug))  # update() sends no signal
    return lesson
