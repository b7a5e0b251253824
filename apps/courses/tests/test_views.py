"""Course pages through HTTP: catalog, course, lesson, progress, My learning and teaching."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import Profile, User
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
    complete,
    course_with_lessons,
    instructor_of,
    vtt_upload,
)

pytestmark = pytest.mark.django_db

HTMX: dict[str, Any] = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "catalog-results"}


def _client(user: User | None = None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def _titles(page: str) -> list[str]:
    """Course titles in the order the catalog shows them."""
    return re.findall(r'<h3 id="course-\d+-title"><a href="[^"]+">([^<]+)</a></h3>', page)


def _catalog(client: Client | None = None, path: str = "", **params: Any) -> str:
    response = (client or _client()).get(path or reverse("courses:catalog"), params)
    assert response.status_code == 200
    return response.content.decode()


# --- catalog --------------------------------------------------------------------------------


def test_catalog_lists_published_courses_with_their_facts():
    teacher = make_user(role=Role.INSTRUCTOR, display_name="Grace Hopper")
    CourseFactory.create(
        title="Compilers",
        instructors=[teacher],
        tags=[TagFactory.create(name="theory")],
        category=CategoryFactory.create(name="Computing"),
    )
    CourseFactory.create(title="Secret plans", status=Course.Status.DRAFT)

    page = _catalog()

    assert _titles(page) == ["Compilers"]
    assert "Grace Hopper" in page
    assert "theory" in page
    assert "Computing" in page
    assert "1 course" in page


def test_catalog_category_filter_includes_its_subcategories():
    programming = CategoryFactory.create(slug="programming", name="Programming")
    python = CategoryFactory.create(slug="python", name="Python", parent=programming)
    CourseFactory.create(title="General programming", category=programming)
    CourseFactory.create(title="Python basics", category=python)
    CourseFactory.create(title="Knitting", category=CategoryFactory.create())

    by_filter = _catalog(category="programming", sort="title")
    by_page = _catalog(path=reverse("courses:category", args=["programming"]), sort="title")
    child_page = _catalog(path=reverse("courses:category", args=["python"]))

    assert _titles(by_filter) == ["General programming", "Python basics"]
    assert _titles(by_page) == ["General programming", "Python basics"]
    assert _titles(child_page) == ["Python basics"]
    assert "All of Programming" in child_page


def test_catalog_filters_by_tag_level_and_language():
    hands_on = TagFactory.create(slug="hands-on", name="hands on")
    CourseFactory.create(title="A", tags=[hands_on], level="beginner", language="en")
    CourseFactory.create(title="B", tags=[hands_on], level="advanced", language="en")
    CourseFactory.create(title="C", level="beginner", language="de")

    assert _titles(_catalog(tag="hands-on", sort="title")) == ["A", "B"]
    assert _titles(_catalog(level="beginner", sort="title")) == ["A", "C"]
    assert _titles(_catalog(language="de")) == ["C"]
    assert _titles(_catalog(tag="hands-on", level="beginner")) == ["A"]
    assert _titles(_catalog(path=reverse("courses:tag", args=["hands-on"]), sort="title")) == [
        "A",
        "B",
    ]


def test_catalog_says_so_when_nothing_matches():
    CourseFactory.create(level="beginner")

    page = _catalog(level="advanced")

    assert _titles(page) == []
    assert "No courses match these filters." in page


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("newest", ["Zebra", "Middle", "Apple"]),
        ("title", ["Apple", "Middle", "Zebra"]),
        ("popular", ["Middle", "Apple", "Zebra"]),
        ("nonsense", ["Zebra", "Middle", "Apple"]),
    ],
)
def test_catalog_sorts(sort, expected):
    now = timezone.now()
    for days, title, students in ((3, "Apple", 5), (2, "Middle", 9), (1, "Zebra", 0)):
        course = CourseFactory.create(title=title, published_at=now - timedelta(days=days))
        Course.objects.filter(pk=course.pk).update(active_enrollment_count=students)

    assert _titles(_catalog(sort=sort)) == expected


def test_catalog_pages_through_results_and_keeps_the_filters():
    for n in range(14):
        CourseFactory.create(title=f"Course {n:02}", level="beginner")
    CourseFactory.create(title="Other level", level="advanced")

    first = _catalog(level="beginner", sort="title")
    second = _catalog(level="beginner", sort="title", page=2)

    assert _titles(first) == [f"Course {n:02}" for n in range(12)]
    assert _titles(second) == ["Course 12", "Course 13"]
    assert "Page 1 of 2" in first
    assert 'href="?level=beginner&amp;sort=title&amp;page=2" rel="next"' in first
    assert 'rel="prev"' in second
    assert "14 courses" in second


def test_catalog_htmx_request_gets_only_the_filtered_results_fragment():
    CourseFactory.create(title="Beginner course", level="beginner")
    CourseFactory.create(title="Advanced course", level="advanced")

    response = _client().get(reverse("courses:catalog"), {"level": "advanced"}, **HTMX)

    page = response.content.decode()
    assert response.status_code == 200
    assert '<section id="catalog-results"' in page
    assert "<html" not in page
    assert "<main" not in page
    assert "Filter courses" not in page
    assert _titles(page) == ["Advanced course"]


def test_catalog_without_htmx_applies_the_same_filters_on_a_full_page():
    CourseFactory.create(title="Beginner course", level="beginner")
    CourseFactory.create(title="Advanced course", level="advanced")

    page = _catalog(level="advanced")

    assert "<html" in page
    assert "Filter courses" in page
    assert _titles(page) == ["Advanced course"]
    assert '<option value="advanced" selected>' in page


def test_htmx_request_for_another_target_gets_the_full_page():
    CourseFactory.create()

    response = _client().get(
        reverse("courses:catalog"), HTTP_HX_REQUEST="true", HTTP_HX_TARGET="main"
    )

    assert "<html" in response.content.decode()


def test_unknown_category_page_is_not_found():
    assert _client().get(reverse("courses:category", args=["nope"])).status_code == 404
    assert _client().get(reverse("courses:tag", args=["nope"])).status_code == 404


# --- course page and enrollment -------------------------------------------------------------


def _course_page(course: Course, user: User | None = None) -> str:
    response = _client(user).get(course.get_absolute_url())
    assert response.status_code == 200
    return response.content.decode()


def test_course_page_shows_syllabus_instructors_and_description():
    teacher = make_user(role=Role.INSTRUCTOR, display_name="Ada Lovelace")
    course, lessons = course_with_lessons(2, instructors=[teacher], description="## Goals\n\nLearn")

    page = _course_page(course)

    assert "Ada Lovelace" in page
    assert "<h2>Goals</h2>" in page
    for lesson in lessons:
        assert lesson.title in page


def test_anonymous_visitor_is_asked_to_sign_in_to_enroll():
    course = CourseFactory.create()

    page = _course_page(course)

    assert "Sign in to enroll" in page
    assert f"?next={course.get_absolute_url()}" in page.replace("%2F", "/")


def test_student_sees_enroll_button_and_enrolls():
    course = CourseFactory.create()
    student = make_user()
    client = _client(student)

    assert "Enroll</button>" in _course_page(course, student)
    response = client.post(reverse("courses:enroll", args=[course.slug]), follow=True)

    page = response.content.decode()
    assert response.redirect_chain == [(course.get_absolute_url(), 302)]
    assert "You are enrolled. Welcome!" in page
    assert "Leave course" in page
    assert Enrollment.objects.get(course=course, student=student).status == "active"


def test_student_asks_to_join_an_approval_course_and_can_withdraw():
    course = CourseFactory.create(enrollment_policy=Course.EnrollmentPolicy.APPROVAL)
    student = make_user()
    client = _client(student)

    assert "Ask to join" in _course_page(course, student)
    page = client.post(reverse("courses:enroll", args=[course.slug]), follow=True)
    assert "Your request was sent" in page.content.decode()
    assert "waiting for an instructor" in page.content.decode()

    page = client.post(reverse("courses:drop", args=[course.slug]), follow=True)

    assert "Ask to join" in page.content.decode()
    assert Enrollment.objects.get(course=course, student=student).status == "dropped"


def test_member_sees_progress_and_can_leave():
    course, lessons = course_with_lessons(4)
    student = make_user()
    enrollment = EnrollmentFactory.create(course=course, student=student)
    complete(enrollment, lessons[0])

    page = _course_page(course, student)

    assert "You are enrolled." in page
    assert 'value="25"' in page
    response = _client(student).post(reverse("courses:drop", args=[course.slug]), follow=True)
    assert "You have left the course." in response.content.decode()
    assert "Enroll</button>" in response.content.decode()


@pytest.mark.parametrize(
    ("fields", "text"),
    [
        (
            {"enrollment_policy": Course.EnrollmentPolicy.INVITE},
            "This course is by invitation only.",
        ),
        ({"capacity": 1}, "This course is full."),
    ],
)
def test_course_page_explains_why_a_student_cannot_enroll(fields, text):
    course = CourseFactory.create(**fields)
    if fields.get("capacity"):
        EnrollmentFactory.create(course=course)

    page = _course_page(course, make_user())

    assert text in page
    assert "Enroll</button>" not in page


def test_enrolling_in_a_full_course_answers_with_a_clear_error():
    course = CourseFactory.create(capacity=1)
    EnrollmentFactory.create(course=course)

    response = _client(make_user()).post(reverse("courses:enroll", args=[course.slug]))

    assert response.status_code == 409
    assert "This course is full." in response.content.decode()


def test_instructor_sees_teaching_links_instead_of_enrollment():
    course = CourseFactory.create()

    page = _course_page(course, instructor_of(course))

    assert "You teach this course." in page
    assert reverse("courses:course_edit", args=[course.slug]) in page


def test_invited_person_joins_from_the_invitation_page():
    course = CourseFactory.create(enrollment_policy=Course.EnrollmentPolicy.INVITE)
    guest = make_user(email="guest@example.test")
    invitation = CourseInvitation.objects.create(course=course, email=guest.email)
    client = _client(guest)

    page = client.get(invitation.get_absolute_url()).content.decode()
    response = client.post(invitation.get_absolute_url(), follow=True)

    assert f"You are invited to {course.title}" in page
    assert "You are enrolled. Welcome!" in response.content.decode()
    assert Enrollment.objects.get(course=course, student=guest).status == "active"


# --- lesson page ----------------------------------------------------------------------------


def _lesson_page(lesson: Lesson, user: User | None) -> str:
    response = _client(user).get(lesson.get_absolute_url())
    assert response.status_code == 200
    return response.content.decode()


def _tracks(page: str) -> list[str]:
    return re.findall(r"<track [^>]*>", page)


@pytest.fixture
def video_lesson() -> tuple[Lesson, User]:
    course, lessons = course_with_lessons(3)
    lesson = lessons[1]
    Lesson.objects.filter(pk=lesson.pk).update(video_url="https://video.example.test/l.webm")
    lesson.refresh_from_db()
    caption_track(lesson, language="en", is_default=True)
    caption_track(lesson, language="de")
    student = make_user()
    EnrollmentFactory.create(course=course, student=student)
    return lesson, student


def test_lesson_page_plays_the_video_with_every_caption_track(video_lesson):
    lesson, student = video_lesson

    page = _lesson_page(lesson, student)

    assert '<source src="https://video.example.test/l.webm" type="video/webm">' in page
    tracks = _tracks(page)
    assert len(tracks) == 2
    assert all('kind="captions"' in t for t in tracks)
    assert {re.search(r'srclang="(\w+)"', t).group(1) for t in tracks} == {"en", "de"}  # type: ignore[union-attr]
    assert "2 caption tracks available" in page


def test_captions_are_on_by_default_only_when_the_profile_says_so(video_lesson):
    lesson, student = video_lesson

    captions_off = _tracks(_lesson_page(lesson, student))
    Profile.objects.filter(user=student).update(captions_on=True)
    captions_on = _tracks(_lesson_page(lesson, student))

    assert not any(" default" in t for t in captions_off)
    assert [" default" in t for t in captions_on] == [True, False]
    assert 'srclang="en"' in captions_on[0]


def test_lesson_page_links_to_the_previous_and_next_lessons(video_lesson):
    lesson, student = video_lesson
    first, _, third = Lesson.objects.filter(course=lesson.course).order_by("position")

    page = _lesson_page(lesson, student)

    assert f'<a href="{first.get_absolute_url()}" rel="prev">Previous: {first.title}</a>' in page
    assert f'<a href="{third.get_absolute_url()}" rel="next">Next: {third.title}</a>' in page
    first_page = _lesson_page(first, student)
    assert 'rel="prev"' not in first_page
    assert 'rel="next"' in first_page


def test_previous_and_next_skip_unpublished_lessons_for_students():
    course, lessons = course_with_lessons(3)
    Lesson.objects.filter(pk=lessons[1].pk).update(is_published=False)
    student = make_user()
    EnrollmentFactory.create(course=course, student=student)

    page = _lesson_page(lessons[0], student)

    assert f'href="{lessons[2].get_absolute_url()}" rel="next"' in page
    assert lessons[1].title not in page


def test_marking_a_lesson_complete_without_javascript_redirects_back_with_a_message():
    course, lessons = course_with_lessons(2)
    student = make_user()
    EnrollmentFactory.create(course=course, student=student)
    url = reverse("courses:lesson_complete", args=[course.slug, lessons[0].slug])

    response = _client(student).post(url, {"completed": "1"}, follow=True)

    page = response.content.decode()
    assert response.redirect_chain == [(lessons[0].get_absolute_url(), 302)]
    assert "Lesson marked complete." in page
    assert "You completed this lesson." in page
    assert 'value="50"' in page


def test_marking_a_lesson_complete_with_htmx_returns_the_progress_fragment():
    course, lessons = course_with_lessons(2)
    student = make_user()
    enrollment = EnrollmentFactory.create(course=course, student=student)
    url = reverse("courses:lesson_complete", args=[course.slug, lessons[1].slug])

    response = _client(student).post(url, {"completed": "1"}, HTTP_HX_REQUEST="true")

    page = response.content.decode()
    assert response.status_code == 200
    assert page.startswith('<section id="lesson-progress"')
    assert "<html" not in page
    assert "You completed this lesson." in page
    assert "Mark as not complete" in page
    assert "50%" in page
    assert LessonProgress.objects.filter(enrollment=enrollment, lesson=lessons[1]).exists()


def test_marking_a_lesson_not_complete_with_htmx_undoes_it():
    course, lessons = course_with_lessons(1)
    student = make_user()
    enrollment = EnrollmentFactory.create(course=course, student=student)
    complete(enrollment, lessons[0])
    url = reverse("courses:lesson_complete", args=[course.slug, lessons[0].slug])

    response = _client(student).post(url, {"completed": "0"}, HTTP_HX_REQUEST="true")

    assert "Not completed yet." in response.content.decode()
    assert "Mark lesson complete" in response.content.decode()
    assert not LessonProgress.objects.exists()


def test_completing_the_last_lesson_completes_the_course():
    course, lessons = course_with_lessons(1)
    student = make_user()
    EnrollmentFactory.create(course=course, student=student)
    url = reverse("courses:lesson_complete", args=[course.slug, lessons[0].slug])

    _client(student).post(url, {"completed": "1"})

    assert "You have completed this course." in _course_page(course, student)


# --- My learning ----------------------------------------------------------------------------


def test_my_learning_lists_my_courses_with_progress():
    student = make_user()
    course, lessons = course_with_lessons(3, title="Astronomy")
    enrollment = EnrollmentFactory.create(course=course, student=student)
    complete(enrollment, lessons[0])
    pending_course = CourseFactory.create(title="Botany", enrollment_policy="approval")
    EnrollmentFactory.create(course=pending_course, student=student, status="pending")
    dropped = CourseFactory.create(title="Chemistry")
    EnrollmentFactory.create(course=dropped, student=student, status="dropped")
    EnrollmentFactory.create(course=CourseFactory.create(title="Not mine"))

    page = _client(student).get(reverse("courses:my_learning")).content.decode()

    assert "Astronomy" in page
    assert "33%" in page
    assert "1 of 3 lessons" in page
    assert "Botany" in page
    assert "Waiting for approval" in page
    assert "Chemistry" not in page
    assert "Not mine" not in page


def test_my_learning_without_courses_points_to_the_catalog():
    page = _client(make_user()).get(reverse("courses:my_learning")).content.decode()

    assert "You are not enrolled in any course yet." in page
    assert reverse("courses:catalog") in page


# --- teaching: courses and lessons ----------------------------------------------------------


@pytest.fixture
def teacher() -> User:
    return make_user(role=Role.INSTRUCTOR)


def _course_form(**overrides: Any) -> dict[str, Any]:
    data = {
        "title": "Baking bread",
        "slug": "",
        "summary": "Flour, water, salt.",
        "description": "# Welcome",
        "level": "beginner",
        "language": "en",
        "enrollment_policy": "open",
        "capacity": "",
    }
    data.update(overrides)
    return data


def test_teaching_dashboard_lists_my_courses(teacher):
    CourseFactory.create(title="Mine", instructors=[teacher])
    CourseFactory.create(title="Theirs")

    page = _client(teacher).get(reverse("courses:teach")).content.decode()

    assert "Mine" in page
    assert "Theirs" not in page
    assert reverse("courses:course_create") in page


def test_instructor_creates_a_course_and_gets_a_slug_from_the_title(teacher):
    tag = TagFactory.create()

    response = _client(teacher).post(
        reverse("courses:course_create"), _course_form(tags=[tag.pk]), follow=True
    )

    course = Course.objects.get()
    assert course.slug == "baking-bread"
    assert course.status == Course.Status.DRAFT
    assert list(course.instructors.all()) == [teacher]
    assert list(course.tags.all()) == [tag]
    assert response.redirect_chain == [(reverse("courses:course_edit", args=["baking-bread"]), 302)]
    assert "Course created as a draft" in response.content.decode()


def test_course_form_with_errors_shows_them_and_creates_nothing(teacher):
    response = _client(teacher).post(reverse("courses:course_create"), _course_form(title=""))

    assert response.status_code == 400
    assert "There is a problem" in response.content.decode()
    assert not Course.objects.exists()


def test_instructor_edits_and_publishes_a_course(teacher):
    course = CourseFactory.create(
        instructors=[teacher], status=Course.Status.DRAFT, published_at=None
    )
    client = _client(teacher)

    client.post(
        reverse("courses:course_edit", args=[course.slug]),
        _course_form(title="Sourdough", slug=course.slug),
    )
    response = client.post(
        reverse("courses:course_status", args=[course.slug]), {"status": "published"}, follow=True
    )

    course.refresh_from_db()
    assert course.title == "Sourdough"
    assert course.status == Course.Status.PUBLISHED
    assert course.published_at is not None
    assert "The course is now Published." in response.content.decode()


def test_instructor_adds_a_lesson(teacher):
    course = CourseFactory.create(instructors=[teacher])

    response = _client(teacher).post(
        reverse("courses:lesson_create", args=[course.slug]),
        {"title": "Kneading", "body": "Push, fold, turn.", "is_published": "on"},
        follow=True,
    )

    lesson = Lesson.objects.get(course=course)
    assert (lesson.slug, lesson.position) == ("kneading", 1)
    assert "Lesson added." in response.content.decode()
    course.refresh_from_db()
    assert course.lesson_count == 1


def test_lesson_form_refuses_an_address_name_another_lesson_of_the_course_uses(teacher):
    course, lessons = course_with_lessons(2, instructors=[teacher])
    LessonFactory.create(slug="shared")  # another course may use the same name

    create = _client(teacher).post(
        reverse("courses:lesson_create", args=[course.slug]),
        {"title": "Copy", "slug": lessons[0].slug},
    )
    edit = _client(teacher).post(
        reverse("courses:lesson_edit", args=[course.slug, lessons[1].pk]),
        {"title": "Renamed", "slug": lessons[0].slug},
    )
    other = _client(teacher).post(
        reverse("courses:lesson_edit", args=[course.slug, lessons[1].pk]),
        {"title": "Renamed", "slug": "shared"},
    )

    for response in (create, edit):
        assert response.status_code == 400
        assert "Another lesson of this course already has this address name." in (
            response.content.decode()
        )
    assert other.status_code == 302
    assert Lesson.objects.filter(course=course).count() == 2


def test_instructor_reorders_lessons_with_buttons(teacher):
    course, lessons = course_with_lessons(3, instructors=[teacher])
    client = _client(teacher)
    edit_page = client.get(reverse("courses:course_edit", args=[course.slug])).content.decode()
    assert edit_page.count('name="direction" value="up"') == 3
    assert 'Move up<span class="visually-hidden">: ' + lessons[2].title in edit_page

    response = client.post(
        reverse("courses:lesson_move", args=[course.slug, lessons[2].pk]), {"direction": "up"}
    )

    assert response.status_code == 302
    assert response["Location"].endswith(f"#lesson-{lessons[2].pk}")
    page = client.get(response["Location"]).content.decode()
    assert f"“{lessons[2].title}” is now lesson 2." in page
    order = re.findall(r'<li id="lesson-(\d+)">', page)
    assert order == [str(lessons[0].pk), str(lessons[2].pk), str(lessons[1].pk)]


def test_instructor_uploads_a_caption_track(teacher):
    course, lessons = course_with_lessons(1, instructors=[teacher])
    client = _client(teacher)

    response = client.post(
        reverse("courses:caption_upload", args=[course.slug, lessons[0].pk]),
        {
            "language": "en",
            "label": "English",
            "kind": "captions",
            "is_default": "on",
            "file": vtt_upload(),
        },
        follow=True,
    )

    track = CaptionTrack.objects.get(lesson=lessons[0])
    assert track.is_default
    page = response.content.decode()
    assert "Caption track saved." in page
    assert "English (en, Captions" in page


def test_instructor_removes_a_caption_track(teacher):
    course, lessons = course_with_lessons(1, instructors=[teacher])
    track = caption_track(lessons[0])

    response = _client(teacher).post(
        reverse("courses:caption_delete", args=[course.slug, lessons[0].pk, track.pk]),
        follow=True,
    )

    assert "Caption track removed." in response.content.decode()
    assert not CaptionTrack.objects.exists()


def test_instructor_deletes_a_lesson(teacher):
    course, lessons = course_with_lessons(2, instructors=[teacher])

    response = _client(teacher).post(
        reverse("courses:lesson_delete", args=[course.slug, lessons[0].pk]), follow=True
    )

    assert "Lesson deleted." in response.content.decode()
    assert list(Lesson.objects.values_list("title", "position")) == [(lessons[1].title, 1)]


# --- roster, approvals, CSV -----------------------------------------------------------------


def test_roster_shows_each_students_progress(teacher):
    course, lessons = course_with_lessons(2, instructors=[teacher])
    student = make_user(display_name="Marie Curie", email="marie@example.test")
    complete(EnrollmentFactory.create(course=course, student=student), lessons[0])

    page = _client(teacher).get(reverse("courses:roster", args=[course.slug])).content.decode()

    assert "Marie Curie" in page
    assert "marie@example.test" in page
    assert "50%" in page
    assert "(1/2)" in page


def test_instructor_approves_and_denies_requests_from_the_roster(teacher):
    course = CourseFactory.create(instructors=[teacher], enrollment_policy="approval")
    yes = EnrollmentFactory.create(
        course=course, status="pending", student=make_user(display_name="Yes Person")
    )
    no = EnrollmentFactory.create(
        course=course, status="pending", student=make_user(display_name="No Person")
    )
    client = _client(teacher)
    roster = client.get(reverse("courses:roster", args=[course.slug])).content.decode()
    assert 'Approve<span class="visually-hidden"> Yes Person' in roster

    approved = client.post(
        reverse("courses:enrollment_decide", args=[course.slug, yes.pk]),
        {"decision": "approve"},
        follow=True,
    )
    denied = client.post(
        reverse("courses:enrollment_decide", args=[course.slug, no.pk]),
        {"decision": "deny"},
        follow=True,
    )

    assert "Yes Person is enrolled." in approved.content.decode()
    assert "No Person&#x27;s request was declined." in denied.content.decode()
    yes.refresh_from_db()
    no.refresh_from_db()
    assert (yes.status, no.status) == ("active", "dropped")


def test_deciding_twice_is_refused(teacher):
    course = CourseFactory.create(instructors=[teacher], enrollment_policy="approval")
    enrollment = EnrollmentFactory.create(course=course, status="active")

    response = _client(teacher).post(
        reverse("courses:enrollment_decide", args=[course.slug, enrollment.pk]),
        {"decision": "deny"},
    )

    assert response.status_code == 409
    enrollment.refresh_from_db()
    assert enrollment.status == "active"


def _csv_rows(response: Any) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_roster_csv_lists_students_with_progress(teacher):
    course, lessons = course_with_lessons(4, instructors=[teacher], slug="baking")
    student = make_user(display_name="Marie Curie", email="marie@example.test")
    complete(EnrollmentFactory.create(course=course, student=student), *lessons[:3])

    response = _client(teacher).get(reverse("courses:roster_csv", args=[course.slug]))

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert re.fullmatch(
        r'attachment; filename="baking-roster-\d{8}\.csv"', response["Content-Disposition"]
    )
    rows = _csv_rows(response)
    assert rows[0] == [
        "name",
        "email",
        "status",
        "enrolled",
        "lessons_completed",
        "lessons",
        "progress_percent",
    ]
    assert rows[1][:3] == ["Marie Curie", "marie@example.test", "active"]
    assert rows[1][4:] == ["3", "4", "75"]


@pytest.mark.parametrize("name", ['=HYPERLINK("http://evil.test")', "+1+1", "-2", "@SUM(A1)"])
def test_roster_csv_stops_spreadsheet_formulas_in_names(teacher, name):
    course = CourseFactory.create(instructors=[teacher])
    EnrollmentFactory.create(course=course, student=make_user(display_name=name))

    response = _client(teacher).get(reverse("courses:roster_csv", args=[course.slug]))

    assert _csv_rows(response)[1][0] == "'" + name


def _upload_csv(client: Client, course: Course, text: str) -> Any:
    upload = SimpleUploadedFile("people.csv", text.encode(), content_type="text/csv")
    return client.post(reverse("courses:enrollment_import", args=[course.slug]), {"file": upload})


def _report_rows(page: str) -> list[list[str]]:
    body = page.split("What happened to each row", 1)[1]
    rows = re.findall(
        r"<tr[^>]*><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td></tr>", body
    )
    return [list(row) for row in rows]


def test_csv_import_page_shows_what_happened_to_each_row(
    teacher, django_capture_on_commit_callbacks
):
    course = CourseFactory.create(instructors=[teacher])
    make_user(email="known@example.test")
    client = _client(teacher)

    with django_capture_on_commit_callbacks(execute=True):
        response = _upload_csv(client, course, "email\nknown@example.test\nnew@example.test\n")

    page = response.content.decode()
    assert response.status_code == 200
    assert "Import done: 1 enrolled, 1 invited, 0 already enrolled." in page
    assert "Import report" in page
    assert _report_rows(page) == [
        ["2", "known@example.test", "enrolled", "enrolled"],
        ["3", "new@example.test", "invited", "no account yet: an invitation is emailed"],
    ]
    assert [m.to for m in mail.outbox if "invited" in m.subject] == [["new@example.test"]]


def test_csv_import_with_an_error_row_imports_nothing_and_says_why(teacher):
    course = CourseFactory.create(instructors=[teacher])
    make_user(email="known@example.test")

    response = _upload_csv(_client(teacher), course, "known@example.test\nbroken\n")

    page = response.content.decode()
    assert response.status_code == 400
    assert "Nothing was imported" in page
    rows = _report_rows(page)
    assert rows[1] == ["2", "broken", "error", "not a valid email address"]
    assert rows[0][2] == "skipped"
    assert 'class="row-error"' in page
    assert not Enrollment.objects.exists()
    assert mail.outbox == []


def test_csv_import_of_a_file_that_is_not_utf8_shows_a_form_error(teacher):
    course = CourseFactory.create(instructors=[teacher])
    upload = SimpleUploadedFile("people.csv", "jos\xe9@example.test".encode("latin-1"))

    response = _client(teacher).post(
        reverse("courses:enrollment_import", args=[course.slug]), {"file": upload}
    )

    page = response.content.decode()
    assert response.status_code == 400
    assert "There is a problem" in page
    assert "The file must be UTF-8 text (CSV)." in page
    assert not Enrollment.objects.exists()


def test_instructor_public_profile_lists_their_published_courses(teacher):
    CourseFactory.create(title="Public course", instructors=[teacher])
    CourseFactory.create(title="Draft course", instructors=[teacher], status=Course.Status.DRAFT)
    CourseFactory.create(title="Someone else's")

    page = _client().get(reverse("accounts:public_profile", args=[teacher.pk])).content.decode()

    assert "Courses taught" in page
    assert "Public course" in page
    assert "Draft course" not in page
    assert "Someone else&#x27;s" not in page
