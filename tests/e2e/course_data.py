"""Course data for browser tests, made with the courses models and services.

Deliberately independent of apps/courses/tests/factories.py: browser tests need a small, fixed
catalog (a category with a child, tags, a published course whose free preview has a real WebM video
and a WebVTT caption track) and nothing else.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.utils.text import slugify

from apps.accounts.models import User
from apps.accounts.roles import Role
from apps.accounts.tests.factories import make_user
from apps.courses import services
from apps.courses.demo_video import demo_captions, make_demo_video
from apps.courses.models import CaptionTrack, Category, Course, Enrollment, Lesson, Tag


@functools.cache
def demo_video() -> bytes:
    """A few seconds of real VP8 WebM, encoded once per test process."""
    return make_demo_video()


def demo_vtt() -> bytes:
    return demo_captions().getvalue()


def make_category(name: str, *, parent: Category | None = None) -> Category:
    return Category.objects.create(name=name, slug=slugify(name), parent=parent)


def make_tag(name: str) -> Tag:
    return Tag.objects.create(name=name, slug=slugify(name))


def make_course(*, instructor: User, title: str, publish: bool = True, **fields: object) -> Course:
    course = services.create_course(actor=instructor, title=title, **fields)  # type: ignore[arg-type]
    if publish:
        services.set_course_status(actor=instructor, course=course, status=Course.Status.PUBLISHED)
    return course


def add_lessons(course: Course, *, instructor: User, titles: list[str]) -> list[Lesson]:
    return [
        services.create_lesson(
            actor=instructor,
            course=course,
            title=title,
            body=f"Notes for **{title}**.\n\n1. Read\n2. Watch\n3. Try it",
        )
        for title in titles
    ]


def add_video_with_captions(lesson: Lesson, *, instructor: User) -> CaptionTrack:
    """Give `lesson` the generated WebM video and an English caption track (the default)."""
    services.update_lesson(
        actor=instructor,
        lesson=lesson,
        video_file=ContentFile(demo_video(), name=f"{lesson.slug}.webm"),
    )
    return services.add_caption_track(
        actor=instructor,
        lesson=lesson,
        language="en",
        label="English",
        kind=CaptionTrack.Kind.CAPTIONS,
        is_default=True,
        file=ContentFile(demo_vtt(), name=f"{lesson.slug}-en.vtt"),
    )


@dataclass
class Catalog:
    owner: User
    top_category: Category
    category: Category  # a child of top_category
    other_category: Category
    tags: list[Tag]
    course: Course  # published, open enrollment, 3 lessons, the first a captioned free preview
    lessons: list[Lesson]
    other_course: Course  # published, needs approval, no free preview, another category

    @property
    def preview(self) -> Lesson:
        return self.lessons[0]


def build_catalog(*, owner: User | None = None) -> Catalog:
    """Two published courses in two categories; the first has a captioned free-preview video."""
    owner = owner or make_user(role=Role.INSTRUCTOR, display_name="Ines Instructor")
    top = make_category("Programming")
    python = make_category("Python", parent=top)
    art = make_category("Art")
    hands_on, theory = make_tag("hands-on"), make_tag("theory")

    other_course = make_course(
        instructor=owner,
        title="Watercolour painting",
        summary="Colour, water and paper.",
        category=art,
        level=Course.Level.INTERMEDIATE,
        enrollment_policy=Course.EnrollmentPolicy.APPROVAL,
        tags=[theory],
    )
    add_lessons(other_course, instructor=owner, titles=["Paper and brushes", "Washes"])
    # Published last, so it is the newest and heads the catalog.
    course = make_course(
        instructor=owner,
        title="Python basics",
        summary="Write your first programs.",
        description="# Python basics\n\nShort lessons with **exercises**.",
        category=python,
        level=Course.Level.BEGINNER,
        tags=[hands_on, theory],
    )
    lessons = add_lessons(
        course, instructor=owner, titles=["Welcome", "Values and names", "Making decisions"]
    )
    services.update_lesson(actor=owner, lesson=lessons[0], is_free_preview=True)
    add_video_with_captions(lessons[0], instructor=owner)
    # Someone waiting for approval, so the roster shows its approve and deny buttons.
    waiting = make_user(role=Role.STUDENT, display_name="Wendy Waiting")
    Enrollment.objects.create(course=course, student=waiting, status=Enrollment.Status.PENDING)
    course.refresh_from_db()
    return Catalog(
        owner=owner,
        top_category=top,
        category=python,
        other_category=art,
        tags=[hands_on, theory],
        course=course,
        lessons=lessons,
        other_course=other_course,
    )
