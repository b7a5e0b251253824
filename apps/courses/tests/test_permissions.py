"""The permission matrix: every course view by seven kinds of visitor, with the status each sees.

Object pages answer 404 both for what does not exist and for what the visitor may not see, so
nobody can probe for drafts or other people's courses. The teaching dashboard and "create a
course" are not object pages: they answer 403 to people who are not instructors.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import resolve, reverse

from apps.accounts.models import User
from apps.accounts.roles import Role
from apps.accounts.tests.factories import make_user
from apps.courses.models import (
    CaptionTrack,
    Course,
    CourseInvitation,
    Enrollment,
    Lesson,
    LessonProgress,
)
from apps.courses.tests.factories import (
    CategoryFactory,
    CourseFactory,
    EnrollmentFactory,
    LessonFactory,
    TagFactory,
    caption_track,
    vtt_upload,
)

pytestmark = pytest.mark.django_db

ACTORS = (
    "anonymous",
    "student",
    "enrolled",
    "other_instructor",
    "instructor",
    "moderator",
    "staff",
)
LOGIN = "login"  # a 302 to the sign-in page


@dataclass
class World:
    instructor: User
    other_instructor: User
    student: User
    enrolled: User
    moderator: User
    staff: User
    published: Course
    draft: Course
    archived: Course
    lesson: Lesson
    preview: Lesson
    unpublished: Lesson
    draft_preview: Lesson
    archived_lesson: Lesson
    archived_preview: Lesson
    track: CaptionTrack
    pending: Enrollment
    invitation: CourseInvitation

    def actor(self, name: str) -> User | None:
        return None if name == "anonymous" else getattr(self, name)


@pytest.fixture
def world() -> World:
    instructor = make_user(role=Role.INSTRUCTOR, email="teacher@example.test")
    other_instructor = make_user(role=Role.INSTRUCTOR, email="other.teacher@example.test")
    CourseFactory.create(instructors=[other_instructor], title="Someone else's course")
    student = make_user(email="student@example.test")
    enrolled = make_user(email="enrolled@example.test")
    category = CategoryFactory.create(slug="music")
    tag = TagFactory.create(slug="guitar")

    published = CourseFactory.create(
        slug="published", instructors=[instructor], category=category, tags=[tag]
    )
    lesson = LessonFactory.create(course=published, slug="lesson")
    lesson.video_file.save("talk.webm", ContentFile(b"\x1a\x45\xdf\xa3 video"), save=True)
    preview = LessonFactory.create(course=published, slug="preview", is_free_preview=True)
    unpublished = LessonFactory.create(course=published, slug="unpublished", is_published=False)
    draft = CourseFactory.create(
        slug="draft", status=Course.Status.DRAFT, published_at=None, instructors=[instructor]
    )
    draft_preview = LessonFactory.create(course=draft, slug="preview", is_free_preview=True)
    archived = CourseFactory.create(
        slug="archived", status=Course.Status.ARCHIVED, instructors=[instructor]
    )
    archived_lesson = LessonFactory.create(course=archived, slug="lesson")
    archived_preview = LessonFactory.create(course=archived, slug="preview", is_free_preview=True)
    for course in (published, draft, archived):
        # Enrolled while it was open; a draft stays hidden even from its students.
        EnrollmentFactory.create(course=course, student=enrolled)
    pending = EnrollmentFactory.create(
        course=published, student=make_user(), status=Enrollment.Status.PENDING
    )
    return World(
        instructor=instructor,
        other_instructor=other_instructor,
        student=student,
        enrolled=enrolled,
        moderator=make_user(role=Role.MODERATOR),
        staff=make_user(role=Role.STAFF),
        published=published,
        draft=draft,
        archived=archived,
        lesson=lesson,
        preview=preview,
        unpublished=unpublished,
        draft_preview=draft_preview,
        archived_lesson=archived_lesson,
        archived_preview=archived_preview,
        track=caption_track(lesson, is_default=True),
        pending=pending,
        invitation=CourseInvitation.objects.create(course=published, email=student.email),
    )


def _lesson_url(lesson: Lesson) -> str:
    return reverse("courses:lesson", args=[lesson.course.slug, lesson.slug])


def _teach(name: str, course: str = "published", **ids: Callable[[World], int]) -> Any:
    def url(w: World) -> str:
        kwargs: dict[str, Any] = {"slug": course}
        kwargs.update({key: get(w) for key, get in ids.items()})
        return reverse(f"courses:{name}", kwargs=kwargs)

    return url


def _lesson_id(w: World) -> int:
    return w.lesson.pk


def _track_id(w: World) -> int:
    return w.track.pk


def _pending_id(w: World) -> int:
    return w.pending.pk


URLS: dict[str, Callable[[World], str]] = {
    "catalog": lambda w: reverse("courses:catalog"),
    "category": lambda w: reverse("courses:category", args=["music"]),
    "tag": lambda w: reverse("courses:tag", args=["guitar"]),
    "detail": lambda w: reverse("courses:detail", args=["published"]),
    "detail of a draft": lambda w: reverse("courses:detail", args=["draft"]),
    "detail of an archived course": lambda w: reverse("courses:detail", args=["archived"]),
    "detail of a missing course": lambda w: reverse("courses:detail", args=["no-such-course"]),
    "lesson": lambda w: _lesson_url(w.lesson),
    "free preview": lambda w: _lesson_url(w.preview),
    "unpublished lesson": lambda w: _lesson_url(w.unpublished),
    "free preview of a draft": lambda w: _lesson_url(w.draft_preview),
    "lesson of an archived course": lambda w: _lesson_url(w.archived_lesson),
    "free preview of an archived course": lambda w: _lesson_url(w.archived_preview),
    "missing lesson": lambda w: reverse("courses:lesson", args=["published", "no-such-lesson"]),
    "caption file": lambda w: w.track.file.url,
    "caption file of a replaced file": lambda w: reverse(
        "courses:caption_file", args=[w.track.pk, "0" * 16]
    ),
    "lesson video": lambda w: w.lesson.video_file.url,
    "my learning": lambda w: reverse("courses:my_learning"),
    "invitation": lambda w: reverse("courses:invitation", args=[w.invitation.token]),
    "missing invitation": lambda w: reverse("courses:invitation", args=["no-such-token"]),
    "teach": lambda w: reverse("courses:teach"),
    "course create": lambda w: reverse("courses:course_create"),
    "course edit": _teach("course_edit"),
    "course edit of a draft": _teach("course_edit", "draft"),
    "course edit of a missing course": _teach("course_edit", "no-such-course"),
    "course status": _teach("course_status"),
    "lesson create": _teach("lesson_create"),
    "lesson edit": _teach("lesson_edit", lesson_id=_lesson_id),
    "lesson edit of a missing lesson": _teach("lesson_edit", lesson_id=lambda w: 999_999),
    "lesson edit through another course": _teach("lesson_edit", "draft", lesson_id=_lesson_id),
    "lesson move": _teach("lesson_move", lesson_id=_lesson_id),
    "lesson delete": _teach("lesson_delete", lesson_id=_lesson_id),
    "caption upload": _teach("caption_upload", lesson_id=_lesson_id),
    "caption delete": _teach("caption_delete", lesson_id=_lesson_id, track_id=_track_id),
    "roster": _teach("roster"),
    "roster csv": _teach("roster_csv"),
    "enrollment decide": _teach("enrollment_decide", enrollment_id=_pending_id),
    "enrollment import": _teach("enrollment_import"),
    "enroll": lambda w: reverse("courses:enroll", args=["published"]),
    "enroll in a draft": lambda w: reverse("courses:enroll", args=["draft"]),
    "drop": lambda w: reverse("courses:drop", args=["published"]),
    "lesson complete": lambda w: reverse("courses:lesson_complete", args=["published", "lesson"]),
}

# Each row lists what the ACTORS see, in order: anonymous, student, enrolled, other_instructor,
# instructor, moderator, staff.
EVERYONE = (200, 200, 200, 200, 200, 200, 200)
NOBODY = (404, 404, 404, 404, 404, 404, 404)
SIGNED_IN_NOBODY = (LOGIN, 404, 404, 404, 404, 404, 404)
EDITORS = (LOGIN, 404, 404, 404, 200, 404, 200)
TEACHERS = (LOGIN, 403, 403, 200, 200, 403, 200)
POST_ONLY = (LOGIN, 405, 405, 405, 405, 405, 405)

GET_MATRIX: dict[str, tuple[Any, ...]] = {
    "catalog": EVERYONE,
    "category": EVERYONE,
    "tag": EVERYONE,
    "detail": EVERYONE,
    "detail of a draft": (404, 404, 404, 404, 200, 404, 200),
    "detail of an archived course": (404, 404, 200, 404, 200, 404, 200),
    "detail of a missing course": NOBODY,
    "lesson": (404, 404, 200, 404, 200, 404, 200),
    "free preview": EVERYONE,
    "unpublished lesson": (404, 404, 404, 404, 200, 404, 200),
    "free preview of a draft": (404, 404, 404, 404, 200, 404, 200),
    "lesson of an archived course": (404, 404, 200, 404, 200, 404, 200),
    "free preview of an archived course": (404, 404, 200, 404, 200, 404, 200),
    "missing lesson": NOBODY,
    # Lesson media: whoever may open the lesson (test_private_media.py has the details).
    "caption file": (404, 404, 200, 404, 200, 404, 200),
    "caption file of a replaced file": NOBODY,
    "lesson video": (404, 404, 200, 404, 200, 404, 200),
    "my learning": (LOGIN, 200, 200, 200, 200, 200, 200),
    "invitation": (LOGIN, 200, 404, 404, 404, 404, 404),
    "missing invitation": SIGNED_IN_NOBODY,
    "teach": TEACHERS,
    "course create": TEACHERS,
    "course edit": EDITORS,
    "course edit of a draft": EDITORS,
    "course edit of a missing course": SIGNED_IN_NOBODY,
    "lesson create": EDITORS,
    "lesson edit": EDITORS,
    "lesson edit of a missing lesson": SIGNED_IN_NOBODY,
    "lesson edit through another course": SIGNED_IN_NOBODY,
    "roster": EDITORS,
    "roster csv": EDITORS,
    "enrollment import": EDITORS,
    # Actions only answer POST; a signed-in GET is told so without looking anything up.
    "course status": POST_ONLY,
    "lesson move": POST_ONLY,
    "lesson delete": POST_ONLY,
    "caption upload": POST_ONLY,
    "caption delete": POST_ONLY,
    "enrollment decide": POST_ONLY,
    "enroll": POST_ONLY,
    "drop": POST_ONLY,
    "lesson complete": POST_ONLY,
}


def _csv_file() -> SimpleUploadedFile:
    return SimpleUploadedFile("people.csv", b"email\nnewcomer@example.test\n", "text/csv")


POST_DATA: dict[str, Callable[[World], dict[str, Any]]] = {
    "course create": lambda w: {
        "title": "Brand new",
        "level": "beginner",
        "language": "en",
        "enrollment_policy": "open",
    },
    "course edit": lambda w: {
        "title": "Renamed",
        "slug": "published",
        "level": "beginner",
        "language": "en",
        "enrollment_policy": "open",
    },
    "course status": lambda w: {"status": "archived"},
    "lesson create": lambda w: {"title": "One more lesson", "is_published": "on"},
    "lesson edit": lambda w: {"title": "Retitled", "slug": "lesson", "is_published": "on"},
    "lesson move": lambda w: {"direction": "down"},
    "lesson delete": lambda w: {},
    "caption upload": lambda w: {
        "language": "de",
        "label": "Deutsch",
        "kind": "subtitles",
        "file": vtt_upload(),
    },
    "caption delete": lambda w: {},
    "enrollment decide": lambda w: {"decision": "approve"},
    "enrollment import": lambda w: {"file": _csv_file()},
    "enroll": lambda w: {},
    "enroll in a draft": lambda w: {},
    "drop": lambda w: {},
    "lesson complete": lambda w: {"completed": "1"},
    "invitation": lambda w: {},
    "teach": lambda w: {},
    "caption file": lambda w: {},
    "lesson video": lambda w: {},
    "roster csv": lambda w: {},
}

EDITOR_ACTION = (LOGIN, 404, 404, 404, 302, 404, 302)
POST_MATRIX: dict[str, tuple[Any, ...]] = {
    "course create": (LOGIN, 403, 403, 302, 302, 403, 302),
    "course edit": EDITOR_ACTION,
    "course status": EDITOR_ACTION,
    "lesson create": EDITOR_ACTION,
    "lesson edit": EDITOR_ACTION,
    "lesson move": EDITOR_ACTION,
    "lesson delete": EDITOR_ACTION,
    "caption upload": EDITOR_ACTION,
    "caption delete": EDITOR_ACTION,
    "enrollment decide": EDITOR_ACTION,
    "enrollment import": (LOGIN, 404, 404, 404, 200, 404, 200),
    "enroll": (LOGIN, 302, 409, 302, 302, 302, 302),
    "enroll in a draft": (LOGIN, 404, 404, 404, 403, 404, 403),
    "drop": (LOGIN, 404, 302, 404, 404, 404, 404),
    "lesson complete": (LOGIN, 404, 302, 404, 404, 404, 404),
    "invitation": (LOGIN, 302, 404, 404, 404, 404, 404),
    # Pages only answer GET (and HEAD).
    "teach": POST_ONLY,
    "roster csv": POST_ONLY,
    "caption file": (405,) * 7,
    "lesson video": (405,) * 7,
}


def _client_for(world: World, actor: str) -> Client:
    client = Client()
    user = world.actor(actor)
    if user is not None:
        client.force_login(user)
    return client


def _assert_status(response: Any, expected: Any, what: str) -> None:
    if expected == LOGIN:
        assert response.status_code == 302, what
        assert response["Location"].startswith(reverse("account_login")), what
    elif expected == 302:
        assert response.status_code == 302, what
        assert not response["Location"].startswith(reverse("account_login")), what
    else:
        assert response.status_code == expected, what


def _state() -> tuple[Any, ...]:
    """What a forbidden request must leave exactly as it was."""
    return (
        sorted(Course.objects.values_list("slug", "title", "status")),
        sorted(Lesson.objects.values_list("course__slug", "slug", "title", "position")),
        sorted(
            Enrollment.objects.values_list(
                "course__slug", "student__email", "status", "completed_lesson_count"
            )
        ),
        sorted(LessonProgress.objects.values_list("enrollment_id", "lesson_id")),
        sorted(CaptionTrack.objects.values_list("lesson_id", "language", "kind")),
        sorted(CourseInvitation.objects.values_list("email", "accepted_at")),
        sorted(Course.objects.values_list("slug", "lesson_count", "active_enrollment_count")),
    )


def _cases(matrix: dict[str, tuple[Any, ...]]) -> list[Any]:
    return [
        pytest.param(view, actor, expected[i], id=f"{view}-{actor}")
        for view, expected in matrix.items()
        for i, actor in enumerate(ACTORS)
    ]


def test_the_matrix_covers_every_course_url_for_get_and_every_action_for_post(world):
    from apps.courses.urls import urlpatterns

    every_name = {pattern.name for pattern in urlpatterns}
    got = {resolve(URLS[view](world)).url_name for view in GET_MATRIX}
    posted = {resolve(URLS[view](world)).url_name for view in POST_MATRIX}

    assert got == every_name
    assert posted == every_name - {
        "catalog",
        "category",
        "tag",
        "detail",
        "lesson",
        "my_learning",
        "roster",
    }


@pytest.mark.parametrize(("view", "actor", "expected"), _cases(GET_MATRIX))
def test_get(world, view, actor, expected):
    response = _client_for(world, actor).get(URLS[view](world))

    _assert_status(response, expected, f"GET {view} as {actor}")


@pytest.mark.parametrize(("view", "actor", "expected"), _cases(POST_MATRIX))
def test_post(world, view, actor, expected):
    client = _client_for(world, actor)
    before = _state()

    response = client.post(URLS[view](world), POST_DATA[view](world))

    _assert_status(response, expected, f"POST {view} as {actor}")
    if expected in (LOGIN, 403, 404, 405, 409):
        assert _state() == before, f"a refused POST {view} as {actor} changed something"
    else:
        assert _state() != before, f"POST {view} as {actor} changed nothing"


def _normalised(response: Any, path: str) -> str:
    """The page without what differs on every request: tokens, nonces, ids and its own path."""
    page = response.content.decode().replace(path, "")
    page = re.sub(r"csrfmiddlewaretoken\" value=\"[^\"]+\"", "", page)
    page = re.sub(r"X-CSRFToken\": \"[^\"]+\"", "", page)
    page = re.sub(r"(?i)nonce\W+[A-Za-z0-9+/=_-]+", "", page)
    return re.sub(r"[0-9a-f]{32}|req-[0-9a-zA-Z-]+", "", page)


@pytest.mark.parametrize(
    ("actor", "hidden", "missing"),
    [
        ("student", "detail of a draft", "detail of a missing course"),
        ("enrolled", "detail of a draft", "detail of a missing course"),
        ("moderator", "lesson", "missing lesson"),
        ("enrolled", "unpublished lesson", "missing lesson"),
        ("other_instructor", "course edit", "course edit of a missing course"),
        ("other_instructor", "lesson edit", "lesson edit of a missing lesson"),
        ("instructor", "lesson edit through another course", "lesson edit of a missing lesson"),
        ("enrolled", "invitation", "missing invitation"),
    ],
)
def test_a_hidden_object_answers_exactly_like_a_missing_one(world, actor, hidden, missing):
    """Nobody can tell a draft (or a page they may not open) from one that never existed."""
    client = _client_for(world, actor)

    hidden_url, missing_url = URLS[hidden](world), URLS[missing](world)

    hidden_response = client.get(hidden_url)
    missing_response = client.get(missing_url)

    assert hidden_response.status_code == missing_response.status_code == 404
    assert _normalised(hidden_response, hidden_url) == _normalised(missing_response, missing_url)


def test_a_hidden_object_answers_programs_like_a_missing_one(world):
    client = _client_for(world, "student")

    hidden = client.get(URLS["detail of a draft"](world), HTTP_ACCEPT="application/json")
    missing = client.get(URLS["detail of a missing course"](world), HTTP_ACCEPT="application/json")

    assert hidden.status_code == missing.status_code == 404
    assert (
        hidden.json()["error"]
        == missing.json()["error"]
        == {
            "code": "not_found",
            "message": "We could not find that.",
        }
    )


def test_the_teaching_dashboard_tells_students_why_they_cannot_use_it(world):
    response = _client_for(world, "student").get(reverse("courses:teach"))

    assert response.status_code == 403
    assert "Only instructors can use the teaching dashboard." in response.content.decode()


def test_a_draft_course_is_not_listed_in_the_catalog_for_anyone(world):
    for actor in ACTORS:
        page = _client_for(world, actor).get(reverse("courses:catalog")).content.decode()
        assert "/courses/draft/" not in page, actor
        assert "/courses/archived/" not in page, actor
        assert "/courses/published/" in page, actor


def test_the_syllabus_links_only_the_lessons_the_visitor_may_open(world):
    student_page = _client_for(world, "student").get(URLS["detail"](world)).content.decode()
    enrolled_page = _client_for(world, "enrolled").get(URLS["detail"](world)).content.decode()
    teacher_page = _client_for(world, "instructor").get(URLS["detail"](world)).content.decode()

    assert _lesson_url(world.preview) in student_page
    assert _lesson_url(world.lesson) not in student_page
    assert world.unpublished.title not in student_page
    assert _lesson_url(world.lesson) in enrolled_page
    assert world.unpublished.title not in enrolled_page
    assert _lesson_url(world.unpublished) in teacher_page
