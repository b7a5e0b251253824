"""Demo catalog: categories, tags, courses with lessons, enrollments and progress, and one
lesson with a captioned video made at seed time."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.courses.demo_video import demo_captions, make_demo_video
from apps.courses.models import (
    CaptionTrack,
    Category,
    Course,
    Enrollment,
    Lesson,
    LessonProgress,
    Tag,
)

CATEGORIES = [
    ("programming", "Programming", None),
    ("python", "Python", "programming"),
    ("web", "Web development", "programming"),
    ("data", "Data science", None),
    ("languages", "Languages", None),
    ("music", "Music", None),
]
TAGS = ["beginner-friendly", "hands-on", "live-sessions", "projects", "theory", "certificate"]

COURSES: list[dict[str, Any]] = [
    {
        "slug": "python-from-scratch",
        "title": "Python from scratch",
        "category": "python",
        "instructor": "instructor@example.com",
        "level": "beginner",
        "language": "en",
        "tags": ["beginner-friendly", "hands-on"],
        "policy": "open",
        "summary": "Write your first programs, one small step at a time.",
        "lessons": [
            "Welcome and setup",
            "Values and variables",
            "Making decisions",
            "Loops",
            "Functions",
            "Your first project",
        ],
    },
    {
        "slug": "web-apps-with-django",
        "title": "Web apps with Django",
        "category": "web",
        "instructor": "instructor@example.com",
        "level": "intermediate",
        "language": "en",
        "tags": ["projects", "hands-on"],
        "policy": "approval",
        "capacity": 30,
        "summary": "Build and deploy a real web application.",
        "lessons": ["Project layout", "Models", "Views and templates", "Forms", "Deployment"],
    },
    {
        "slug": "data-analysis-with-pandas",
        "title": "Data analysis with pandas",
        "category": "data",
        "instructor": "instructor@example.com",
        "level": "intermediate",
        "language": "en",
        "tags": ["hands-on", "projects"],
        "policy": "open",
        "summary": "Clean, explore and chart real data sets.",
        "lessons": ["DataFrames", "Cleaning data", "Grouping", "Charts"],
    },
    {
        "slug": "statistics-essentials",
        "title": "Statistics essentials",
        "category": "data",
        "instructor": "instructor2@example.com",
        "level": "beginner",
        "language": "en",
        "tags": ["theory", "certificate"],
        "policy": "open",
        "summary": "The ideas behind averages, spread and uncertainty.",
        "lessons": ["Describing data", "Probability", "Sampling", "Confidence"],
    },
    {
        "slug": "deutsch-fuer-anfaenger",
        "title": "Deutsch für Anfänger",
        "category": "languages",
        "instructor": "instructor2@example.com",
        "level": "beginner",
        "language": "de",
        "tags": ["beginner-friendly", "live-sessions"],
        "policy": "open",
        "summary": "Erste Schritte auf Deutsch, mit Live-Unterricht.",
        "lessons": ["Hallo!", "Zahlen", "Im Café", "Die Familie"],
    },
    {
        "slug": "guitar-chords",
        "title": "Guitar chords in 30 days",
        "category": "music",
        "instructor": "instructor2@example.com",
        "level": "beginner",
        "language": "en",
        "tags": ["beginner-friendly", "live-sessions"],
        "policy": "invite",
        "summary": "Strum along to your favourite songs.",
        "lessons": ["Holding the guitar", "First chords", "Changing chords", "Strumming patterns"],
    },
    {
        "slug": "advanced-algorithms",
        "title": "Advanced algorithms",
        "category": "programming",
        "instructor": "instructor@example.com",
        "level": "advanced",
        "language": "en",
        "tags": ["theory"],
        "policy": "open",
        "status": "draft",
        "summary": "Graphs, dynamic programming and proofs (in preparation).",
        "lessons": ["Graph search", "Shortest paths"],
    },
]

ENROLLMENTS = [
    ("student@example.com", "python-from-scratch", 3),
    ("student@example.com", "data-analysis-with-pandas", 1),
    ("student@example.com", "statistics-essentials", 0),
    ("student2@example.com", "python-from-scratch", 6),
    ("student2@example.com", "deutsch-fuer-anfaenger", 2),
    ("student3@example.com", "python-from-scratch", 0),
    ("student3@example.com", "statistics-essentials", 4),
    ("student4@example.com", "data-analysis-with-pandas", 2),
    ("student5@example.com", "web-apps-with-django", -1),  # -1: waiting for approval
]


def _body(title: str, course_title: str) -> str:
    return (
        f"In this lesson of *{course_title}* you will learn the key ideas of "
        f"**{title.lower()}**, try them in short exercises and check your understanding.\n\n"
        "1. Read the notes\n2. Watch the video if there is one\n3. Try the exercise\n\n"
        "> Tip: ask questions in the next live session.\n"
    )


@transaction.atomic
def seed(stdout: Any = None) -> None:
    categories: dict[str, Category] = {}
    for position, (slug, name, parent) in enumerate(CATEGORIES):
        categories[slug], _ = Category.objects.update_or_create(
            slug=slug,
            defaults={
                "name": name,
                "parent": categories.get(parent) if parent else None,
                "position": position,
            },
        )
    tags = {
        slug: Tag.objects.update_or_create(slug=slug, defaults={"name": slug.replace("-", " ")})[0]
        for slug in TAGS
    }
    users = {u.email: u for u in User.objects.filter(email__endswith="@example.com")}
    now = timezone.now()
    for offset, spec in enumerate(COURSES):
        status = spec.get("status", Course.Status.PUBLISHED)
        course, _ = Course.objects.update_or_create(
            slug=spec["slug"],
            defaults={
                "title": spec["title"],
                "summary": spec["summary"],
                "description": f"# {spec['title']}\n\n{spec['summary']}\n\n"
                "This course mixes short lessons with **live classes**.",
                "category": categories[spec["category"]],
                "level": spec["level"],
                "language": spec["language"],
                "enrollment_policy": spec["policy"],
                "capacity": spec.get("capacity"),
                "status": status,
                "published_at": now - timedelta(days=offset)
                if status == Course.Status.PUBLISHED
                else None,
            },
        )
        course.instructors.set([users[spec["instructor"]]])
        course.tags.set([tags[t] for t in spec["tags"]])
        for position, title in enumerate(spec["lessons"], 1):
            Lesson.objects.update_or_create(
                course=course,
                slug=f"lesson-{position}",
                defaults={
                    "title": title,
                    "position": position,
                    "body": _body(title, spec["title"]),
                    "is_free_preview": position == 1,
                },
            )
        course.lesson_count = course.lessons.filter(is_published=True).count()
        course.save(update_fields=["lesson_count"])
    _seed_video()
    for email, slug, done in ENROLLMENTS:
        course = Course.objects.get(slug=slug)
        enrollment, _ = Enrollment.objects.update_or_create(
            course=course,
            student=users[email],
            defaults={
                "status": Enrollment.Status.PENDING if done < 0 else Enrollment.Status.ACTIVE
            },
        )
        for lesson in course.lessons.order_by("position")[: max(done, 0)]:
            LessonProgress.objects.get_or_create(
                enrollment=enrollment, lesson=lesson, defaults={"completed_at": now}
            )
        completed = enrollment.progress.count()
        enrollment.completed_lesson_count = completed
        if done >= 0 and completed >= course.lesson_count:
            enrollment.status = Enrollment.Status.COMPLETED
            enrollment.completed_at = now
        enrollment.save()
    for course in Course.objects.all():
        course.active_enrollment_count = course.enrollments.filter(
            status=Enrollment.Status.ACTIVE
        ).count()
        course.save(update_fields=["active_enrollment_count"])
    if stdout is not None:
        stdout.write(
            f"  catalog: {Course.objects.count()} courses, {Lesson.objects.count()} lessons, "
            f"{Enrollment.objects.count()} enrollments"
        )


def _seed_video() -> None:
    lesson = Lesson.objects.get(course__slug="python-from-scratch", slug="lesson-1")
    if not lesson.video_file:
        lesson.video_file.save("python-welcome.webm", ContentFile(make_demo_video()), save=True)
    if not lesson.caption_tracks.filter(language="en").exists():
        track = CaptionTrack(
            lesson=lesson,
            language="en",
            label="English",
            kind=CaptionTrack.Kind.CAPTIONS,
            is_default=True,
        )
        track.file.save(
            "python-welcome-en.vtt", ContentFile(demo_captions().getvalue()), save=False
        )
        track.save()
