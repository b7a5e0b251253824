"""Who may see and change courses, lessons and enrollments; missing and forbidden both 404."""

from __future__ import annotations

from typing import Any

from apps.accounts.policies import AnyUser, has_role, is_staff
from apps.accounts.roles import Role
from apps.core.errors import NotFound
from apps.courses import media
from apps.courses.models import CaptionTrack, Course, Enrollment, Lesson


def instructor_ids(course: Course) -> set[int]:
    """Ids of the course's instructors, from the prefetch cache when the selector filled it."""
    cache = getattr(course, "_prefetched_objects_cache", {})
    if "instructors" in cache:
        return {u.pk for u in cache["instructors"]}
    cached: set[int] | None = getattr(course, "_instructor_ids", None)
    if cached is None:
        cached = set(course.instructors.values_list("pk", flat=True))
        course._instructor_ids = cached  # type: ignore[attr-defined]
    return cached


def is_instructor_of(user: Any, course: Course) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and user.pk in instructor_ids(course)


def can_create_course(user: Any) -> bool:
    return has_role(user, Role.INSTRUCTOR)


def can_edit_course(user: Any, course: Course) -> bool:
    """The course's own instructors and staff; another course's instructor may not."""
    return is_staff(user) or (is_instructor_of(user, course) and has_role(user, Role.INSTRUCTOR))


def is_member(enrollment: Enrollment | None) -> bool:
    return enrollment is not None and enrollment.counts_as_member


def can_view_course(user: Any, course: Course, enrollment: Enrollment | None = None) -> bool:
    if course.status == Course.Status.PUBLISHED:
        return True
    if can_edit_course(user, course):
        return True
    # Archived courses stay readable for the people who took them.
    return course.status == Course.Status.ARCHIVED and is_member(enrollment)


def can_view_lesson(
    user: Any, course: Course, lesson: Lesson, enrollment: Enrollment | None = None
) -> bool:
    if can_edit_course(user, course):
        return True
    if not lesson.is_published or not can_view_course(user, course, enrollment):
        return False
    return lesson.is_free_preview or is_member(enrollment)


def can_enroll(user: Any, course: Course) -> bool:
    return (
        bool(getattr(user, "is_authenticated", False))
        and course.status == Course.Status.PUBLISHED
        and course.enrollment_policy != Course.EnrollmentPolicy.INVITE
    )


def enrollment_of(user: Any, course: Course) -> Enrollment | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return Enrollment.objects.filter(course=course, student=user).first()


def get_course_for_view(*, user: Any, slug: str) -> tuple[Course, Enrollment | None]:
    course = Course.objects.select_related("category__parent").filter(slug=slug).first()
    if course is None:
        raise NotFound()
    enrollment = enrollment_of(user, course)
    if not can_view_course(user, course, enrollment):
        raise NotFound()
    return course, enrollment


def get_course_for_edit(*, user: Any, slug: str) -> Course:
    course = Course.objects.select_related("category").filter(slug=slug).first()
    if course is None or not can_edit_course(user, course):
        raise NotFound()
    return course


def get_lesson_for_view(
    *, user: Any, course_slug: str, lesson_slug: str
) -> tuple[Course, Lesson, Enrollment | None]:
    lesson = (
        Lesson.objects.select_related("course")
        .filter(course__slug=course_slug, slug=lesson_slug)
        .first()
    )
    if lesson is None:
        raise NotFound()
    course = lesson.course
    enrollment = enrollment_of(user, course)
    if not can_view_lesson(user, course, lesson, enrollment):
        raise NotFound()
    return course, lesson, enrollment


def get_caption_track_for_view(*, user: AnyUser, track_id: int, version: str) -> CaptionTrack:
    """A caption track whose file `user` may fetch: whoever may open its lesson. A replaced
    file's old address (another `version`) is not found either."""
    track = CaptionTrack.objects.select_related("lesson__course").filter(pk=track_id).first()
    if track is None or not media.is_current(track.file.name, version):
        raise NotFound()
    lesson = track.lesson
    if not can_view_lesson(user, lesson.course, lesson, enrollment_of(user, lesson.course)):
        raise NotFound()
    return track


def get_lesson_video_for_view(*, user: AnyUser, lesson_id: int, version: str) -> Lesson:
    """A lesson whose uploaded video `user` may watch (the lesson page's own rule)."""
    lesson = Lesson.objects.select_related("course").filter(pk=lesson_id).first()
    if lesson is None or not media.is_current(lesson.video_file.name, version):
        raise NotFound()
    if not can_view_lesson(user, lesson.course, lesson, enrollment_of(user, lesson.course)):
        raise NotFound()
    return lesson


def get_lesson_for_edit(*, user: Any, course_slug: str, lesson_id: int) -> Lesson:
    lesson = (
        Lesson.objects.select_related("course")
        .filter(course__slug=course_slug, pk=lesson_id)
        .first()
    )
    if lesson is None or not can_edit_course(user, lesson.course):
        raise NotFound()
    return lesson


def get_enrollment_for_decision(*, user: Any, course: Course, enrollment_id: int) -> Enrollment:
    enrollment = (
        Enrollment.objects.select_related("student").filter(course=course, pk=enrollment_id).first()
    )
    if enrollment is None or not can_edit_course(user, course):
        raise NotFound()
    return enrollment
