"""The denormalised counters services keep on courses and enrollments (lessons, active
students, completed lessons), so catalog pages and rosters need no counting joins."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from apps.courses import page_cache
from apps.courses.models import Course, Enrollment, Lesson, LessonProgress


def refresh_lesson_count(course: Course) -> None:
    count = Lesson.objects.filter(course=course, is_published=True).count()
    Course.objects.filter(pk=course.pk).update(lesson_count=count)
    course.lesson_count = count
    page_cache.changed(page_cache.CATALOG)  # catalog cards show it; update() sends no signal


def refresh_enrollment_count(course: Course) -> None:
    count = Enrollment.objects.filter(course=course, status=Enrollment.Status.ACTIVE).count()
    Course.objects.filter(pk=course.pk).update(active_enrollment_count=count)
    course.active_enrollment_count = count
    # The course page shows the count and the popular sort orders by it; the rest of the
    # catalog does not change.
    page_cache.changed(page_cache.POPULARITY, page_cache.course_scope(course.slug))


def recount_completion(course: Course) -> None:
    """Recount every student's completed (published) lessons in two queries.

    Runs after the course's `lesson_count` is fresh. Students who have now done every published
    lesson complete the course; a completion is never taken back here (only by the student).
    """
    done = (
        LessonProgress.objects.filter(enrollment=OuterRef("pk"), lesson__is_published=True)
        .order_by()
        .values("enrollment")
        .annotate(n=Count("pk"))
        .values("n")
    )
    Enrollment.objects.filter(course=course).update(
        completed_lesson_count=Coalesce(Subquery(done), 0)
    )
    if course.lesson_count:
        Enrollment.objects.filter(
            course=course,
            status=Enrollment.Status.ACTIVE,
            completed_lesson_count__gte=course.lesson_count,
        ).update(status=Enrollment.Status.COMPLETED, completed_at=timezone.now())


def update_completion(enrollment: Enrollment) -> None:
    published = Lesson.objects.filter(course_id=enrollment.course_id, is_published=True)
    done = LessonProgress.objects.filter(enrollment=enrollment, lesson__in=published).count()
    total = published.count()
    enrollment.completed_lesson_count = done
    fields = ["completed_lesson_count", "updated_at"]
    if total and done >= total and enrollment.status == Enrollment.Status.ACTIVE:
        enrollment.status = Enrollment.Status.COMPLETED
        enrollment.completed_at = timezone.now()
        fields += ["status", "completed_at"]
    enrollment.save(update_fields=fields)


@transaction.atomic
def refresh_course_counters(*, course: Course) -> None:
    """Recount lessons, students and progress after edits that bypass the services (admin)."""
    refresh_lesson_count(course)
    refresh_enrollment_count(course)
    recount_completion(course)
