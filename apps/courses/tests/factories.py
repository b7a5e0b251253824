"""factory_boy factories for the catalog and learning, plus helpers the course tests share.

`CourseFactory()` is a published, open course with one instructor (who holds the instructor
role); pass `instructors=[...]` to choose them. Lessons made with `LessonFactory` keep the
course's `lesson_count` the way the services do.
"""

from __future__ import annotations

from typing import Any

import factory
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from apps.accounts.models import User
from apps.accounts.roles import Role
from apps.accounts.tests.factories import make_user
from apps.courses.models import (
    CaptionTrack,
    Category,
    Course,
    Enrollment,
    Lesson,
    LessonProgress,
    Tag,
)

VTT = (
    "WEBVTT\n\n"
    "00:00:00.000 --> 00:00:02.000\nHello and welcome.\n\n"
    "00:00:02.000 --> 00:00:04.000\n[music] Let us begin.\n"
)


class CategoryFactory(factory.django.DjangoModelFactory[Category]):
    class Meta:
        model = Category

    name = factory.Sequence(lambda n: f"Category {n}")
    slug = factory.Sequence(lambda n: f"category-{n}")


class TagFactory(factory.django.DjangoModelFactory[Tag]):
    class Meta:
        model = Tag

    name = factory.Sequence(lambda n: f"tag {n}")
    slug = factory.Sequence(lambda n: f"tag-{n}")


class CourseFactory(factory.django.DjangoModelFactory[Course]):
    class Meta:
        model = Course
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"Course {n}")
    slug = factory.Sequence(lambda n: f"course-{n}")
    summary = "Learn something useful."
    description = "Some *Markdown*."
    status = Course.Status.PUBLISHED
    published_at = factory.LazyFunction(timezone.now)

    @factory.post_generation
    def instructors(self, create: bool, extracted: list[User] | None, **kwargs: Any) -> None:
        if not create:
            return
        people = extracted if extracted is not None else [make_user(role=Role.INSTRUCTOR)]
        self.instructors.set(people)

    @factory.post_generation
    def tags(self, create: bool, extracted: list[Tag] | None, **kwargs: Any) -> None:
        if create and extracted:
            self.tags.set(extracted)


class LessonFactory(factory.django.DjangoModelFactory[Lesson]):
    class Meta:
        model = Lesson

    course = factory.SubFactory(CourseFactory)
    title = factory.Sequence(lambda n: f"Lesson {n}")
    slug = factory.Sequence(lambda n: f"lesson-{n}")
    body = "Read this, then **try it**."

    position = factory.LazyAttribute(lambda o: Lesson.objects.filter(course=o.course).count() + 1)

    @classmethod
    def _create(cls, model_class: type[Lesson], *args: Any, **kwargs: Any) -> Lesson:
        lesson: Lesson = super()._create(model_class, *args, **kwargs)
        recount(lesson.course)
        return lesson


class EnrollmentFactory(factory.django.DjangoModelFactory[Enrollment]):
    class Meta:
        model = Enrollment

    course = factory.SubFactory(CourseFactory)
    student = factory.LazyFunction(make_user)
    status = Enrollment.Status.ACTIVE

    @classmethod
    def _create(cls, model_class: type[Enrollment], *args: Any, **kwargs: Any) -> Enrollment:
        enrollment: Enrollment = super()._create(model_class, *args, **kwargs)
        recount(enrollment.course)
        return enrollment


def recount(course: Course) -> None:
    """Set the denormalised counters the services keep, for rows made by factories."""
    course.lesson_count = Lesson.objects.filter(course=course, is_published=True).count()
    course.active_enrollment_count = Enrollment.objects.filter(
        course=course, status=Enrollment.Status.ACTIVE
    ).count()
    Course.objects.filter(pk=course.pk).update(
        lesson_count=course.lesson_count, active_enrollment_count=course.active_enrollment_count
    )


def instructor_of(course: Course) -> User:
    instructor: User = course.instructors.order_by("id").first()  # type: ignore[assignment]
    return instructor


def course_with_lessons(n: int = 3, **course_fields: Any) -> tuple[Course, list[Lesson]]:
    course = CourseFactory.create(**course_fields)
    lessons = [LessonFactory.create(course=course) for _ in range(n)]
    course.refresh_from_db()
    return course, lessons


def complete(enrollment: Enrollment, *lessons: Lesson) -> None:
    """Record progress directly (as if done earlier) and keep the counter in step."""
    for lesson in lessons:
        LessonProgress.objects.get_or_create(
            enrollment=enrollment, lesson=lesson, defaults={"completed_at": timezone.now()}
        )
    enrollment.completed_lesson_count = enrollment.progress.filter(
        lesson__is_published=True
    ).count()
    enrollment.save(update_fields=["completed_lesson_count"])


def vtt_upload(text: str = VTT, name: str = "captions.vtt") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/vtt")


def caption_track(
    lesson: Lesson, *, language: str = "en", is_default: bool = False
) -> CaptionTrack:
    track = CaptionTrack(
        lesson=lesson,
        language=language,
        label=language.upper(),
        kind=CaptionTrack.Kind.CAPTIONS,
        is_default=is_default,
    )
    track.file.save(f"{lesson.pk}-{language}.vtt", vtt_upload(), save=False)
    track.save()
    return track
