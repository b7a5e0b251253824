"""Services: enrollment, progress, lesson order, captions, CSV import and invitations."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.db import close_old_connections
from django.utils import timezone

from apps.accounts.models import User
from apps.accounts.roles import Role
from apps.accounts.tests.factories import make_user
from apps.core.errors import Conflict, NotAllowed
from apps.courses import errors, services
from apps.courses.models import (
    CaptionTrack,
    Course,
    CourseInvitation,
    Enrollment,
    Lesson,
    LessonProgress,
)
from apps.courses.tests.factories import (
    VTT,
    CourseFactory,
    EnrollmentFactory,
    LessonFactory,
    course_with_lessons,
    instructor_of,
    vtt_upload,
)

pytestmark = pytest.mark.django_db


def _media_files() -> list[Path]:
    """Every stored upload, public (covers) and private (videos, captions)."""
    roots = [Path(django_settings.MEDIA_ROOT), Path(django_settings.PRIVATE_MEDIA_ROOT)]
    return sorted(p for root in roots if root.exists() for p in root.rglob("*") if p.is_file())


# --- enroll_student -------------------------------------------------------------------------


def test_enroll_student_in_open_course_makes_an_active_enrollment():
    course = CourseFactory.create()
    student = make_user()

    enrollment = services.enroll_student(course=course, student=student)

    assert enrollment.status == Enrollment.Status.ACTIVE
    course.refresh_from_db()
    assert course.active_enrollment_count == 1


def test_enroll_student_in_approval_course_waits_for_an_instructor():
    course = CourseFactory.create(enrollment_policy=Course.EnrollmentPolicy.APPROVAL)

    enrollment = services.enroll_student(course=course, student=make_user())

    assert enrollment.status == Enrollment.Status.PENDING
    course.refresh_from_db()
    assert course.active_enrollment_count == 0


def test_enroll_student_refuses_invite_only_course():
    course = CourseFactory.create(enrollment_policy=Course.EnrollmentPolicy.INVITE)

    with pytest.raises(errors.InvitationRequired):
        services.enroll_student(course=course, student=make_user())

    assert not Enrollment.objects.exists()


@pytest.mark.parametrize("status", [Course.Status.DRAFT, Course.Status.ARCHIVED])
def test_enroll_student_refuses_course_that_is_not_published(status):
    course = CourseFactory.create(status=status)

    with pytest.raises(errors.EnrollmentClosed):
        services.enroll_student(course=course, student=make_user())

    assert not Enrollment.objects.exists()


def test_enroll_student_rejects_full_course():
    course = CourseFactory.create(capacity=1)
    services.enroll_student(course=course, student=make_user())
    latecomer = make_user()

    with pytest.raises(errors.CourseFull):
        services.enroll_student(course=course, student=latecomer)

    assert not Enrollment.objects.filter(student=latecomer).exists()
    course.refresh_from_db()
    assert course.active_enrollment_count == 1


def test_enroll_student_counts_only_active_students_towards_capacity():
    course = CourseFactory.create(capacity=1)
    EnrollmentFactory.create(course=course, status=Enrollment.Status.DROPPED)
    EnrollmentFactory.create(course=course, status=Enrollment.Status.PENDING)

    enrollment = services.enroll_student(course=course, student=make_user())

    assert enrollment.status == Enrollment.Status.ACTIVE


def test_enroll_student_rejects_someone_already_enrolled():
    course = CourseFactory.create()
    student = make_user()
    services.enroll_student(course=course, student=student)

    with pytest.raises(errors.AlreadyEnrolled):
        services.enroll_student(course=course, student=student)

    assert Enrollment.objects.filter(course=course, student=student).count() == 1


def test_enroll_student_rejects_a_second_request_while_one_is_pending():
    course = CourseFactory.create(enrollment_policy=Course.EnrollmentPolicy.APPROVAL)
    student = make_user()
    services.enroll_student(course=course, student=student)

    with pytest.raises(errors.AlreadyEnrolled):
        services.enroll_student(course=course, student=student)


def test_student_who_dropped_can_enroll_again_and_keeps_one_enrollment():
    course = CourseFactory.create()
    student = make_user()
    enrollment = services.enroll_student(course=course, student=student)
    services.drop_enrollment(enrollment=enrollment, actor=student)

    again = services.enroll_student(course=course, student=student)

    assert again.pk == enrollment.pk
    assert again.status == Enrollment.Status.ACTIVE
    course.refresh_from_db()
    assert course.active_enrollment_count == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_enrollments_never_exceed_capacity():
    """Two students press "Enroll" at once for the last place: exactly one gets it."""
    course = CourseFactory.create(capacity=1)
    students = [make_user(), make_user()]
    barrier = threading.Barrier(len(students))
    outcomes: list[str] = []

    def attempt(student: User) -> None:
        try:
            barrier.wait(timeout=10)
            services.enroll_student(course=course, student=student)
            outcomes.append("enrolled")
        except errors.CourseFull:
            outcomes.append("full")
        finally:
            close_old_connections()

    threads = [threading.Thread(target=attempt, args=(s,)) for s in students]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == ["enrolled", "full"]
    assert Enrollment.objects.filter(course=course, status=Enrollment.Status.ACTIVE).count() == 1
    course.refresh_from_db()
    assert course.active_enrollment_count == 1


# --- decide_enrollment and drop -------------------------------------------------------------


def test_instructor_approves_a_pending_request():
    course = CourseFactory.create(enrollment_policy=Course.EnrollmentPolicy.APPROVAL)
    pending = services.enroll_student(course=course, student=make_user())

    decided = services.decide_enrollment(
        actor=instructor_of(course), enrollment=pending, approve=True
    )

    assert decided.status == Enrollment.Status.ACTIVE
    assert decided.decided_by == instructor_of(course)
    course.refresh_from_db()
    assert course.active_enrollment_count == 1


def test_instructor_denies_a_pending_request():
    course = CourseFactory.create(enrollment_policy=Course.EnrollmentPolicy.APPROVAL)
    pending = services.enroll_student(course=course, student=make_user())

    decided = services.decide_enrollment(
        actor=instructor_of(course), enrollment=pending, approve=False
    )

    assert decided.status == Enrollment.Status.DROPPED
    course.refresh_from_db()
    assert course.active_enrollment_count == 0


def test_approving_a_request_for_a_full_course_is_refused():
    course = CourseFactory.create(enrollment_policy=Course.EnrollmentPolicy.APPROVAL, capacity=1)
    EnrollmentFactory.create(course=course)
    pending = services.enroll_student(course=course, student=make_user())

    with pytest.raises(errors.CourseFull):
        services.decide_enrollment(actor=instructor_of(course), enrollment=pending, approve=True)

    pending.refresh_from_db()
    assert pending.status == Enrollment.Status.PENDING


def test_a_request_cannot_be_decided_twice():
    course = CourseFactory.create(enrollment_policy=Course.EnrollmentPolicy.APPROVAL)
    pending = services.enroll_student(course=course, student=make_user())
    services.decide_enrollment(actor=instructor_of(course), enrollment=pending, approve=False)

    with pytest.raises(Conflict):
        services.decide_enrollment(actor=instructor_of(course), enrollment=pending, approve=True)


def test_another_courses_instructor_cannot_decide_a_request():
    course = CourseFactory.create(enrollment_policy=Course.EnrollmentPolicy.APPROVAL)
    pending = services.enroll_student(course=course, student=make_user())
    outsider = instructor_of(CourseFactory.create())

    with pytest.raises(NotAllowed):
        services.decide_enrollment(actor=outsider, enrollment=pending, approve=True)

    pending.refresh_from_db()
    assert pending.status == Enrollment.Status.PENDING


def test_dropping_frees_the_place():
    course = CourseFactory.create(capacity=1)
    student = make_user()
    enrollment = services.enroll_student(course=course, student=student)

    services.drop_enrollment(enrollment=enrollment, actor=student)

    enrollment.refresh_from_db()
    assert enrollment.status == Enrollment.Status.DROPPED
    assert services.enroll_student(course=course, student=make_user()).status == "active"


def test_a_student_cannot_drop_someone_else():
    enrollment = EnrollmentFactory.create()

    with pytest.raises(NotAllowed):
        services.drop_enrollment(enrollment=enrollment, actor=make_user())

    enrollment.refresh_from_db()
    assert enrollment.status == Enrollment.Status.ACTIVE


# --- progress -------------------------------------------------------------------------------


def test_marking_a_lesson_complete_twice_keeps_one_record_and_the_first_time():
    course, lessons = course_with_lessons(3)
    enrollment = EnrollmentFactory.create(course=course)
    first = services.mark_lesson_complete(enrollment=enrollment, lesson=lessons[0])

    again = services.mark_lesson_complete(enrollment=enrollment, lesson=lessons[0])

    assert again.pk == first.pk
    assert again.completed_at == first.completed_at
    enrollment.refresh_from_db()
    assert enrollment.completed_lesson_count == 1


def test_completed_lesson_count_follows_progress():
    course, lessons = course_with_lessons(3)
    enrollment = EnrollmentFactory.create(course=course)

    services.mark_lesson_complete(enrollment=enrollment, lesson=lessons[0])
    services.mark_lesson_complete(enrollment=enrollment, lesson=lessons[2])

    enrollment.refresh_from_db()
    assert enrollment.completed_lesson_count == 2
    assert enrollment.status == Enrollment.Status.ACTIVE


def test_course_is_completed_when_every_published_lesson_is_done():
    course, lessons = course_with_lessons(2)
    LessonFactory.create(course=course, is_published=False)
    enrollment = EnrollmentFactory.create(course=course)

    for lesson in lessons:
        services.mark_lesson_complete(enrollment=enrollment, lesson=lesson)

    enrollment.refresh_from_db()
    assert enrollment.status == Enrollment.Status.COMPLETED
    assert enrollment.completed_at is not None


def test_marking_a_lesson_incomplete_reopens_a_completed_course():
    course, lessons = course_with_lessons(2)
    enrollment = EnrollmentFactory.create(course=course)
    for lesson in lessons:
        services.mark_lesson_complete(enrollment=enrollment, lesson=lesson)

    services.mark_lesson_incomplete(enrollment=enrollment, lesson=lessons[1])

    enrollment.refresh_from_db()
    assert enrollment.status == Enrollment.Status.ACTIVE
    assert enrollment.completed_at is None
    assert enrollment.completed_lesson_count == 1
    assert not LessonProgress.objects.filter(enrollment=enrollment, lesson=lessons[1]).exists()


def test_a_student_who_dropped_cannot_record_progress():
    course, lessons = course_with_lessons(1)
    enrollment = EnrollmentFactory.create(course=course, status=Enrollment.Status.DROPPED)

    with pytest.raises(NotAllowed):
        services.mark_lesson_complete(enrollment=enrollment, lesson=lessons[0])

    assert not LessonProgress.objects.exists()


def test_progress_cannot_be_recorded_for_another_courses_lesson():
    course, _lessons = course_with_lessons(1)
    _other, other_lessons = course_with_lessons(1)
    enrollment = EnrollmentFactory.create(course=course)

    with pytest.raises(NotAllowed):
        services.mark_lesson_complete(enrollment=enrollment, lesson=other_lessons[0])


# --- lessons --------------------------------------------------------------------------------


def _positions(course: Course) -> list[tuple[str, int]]:
    return list(
        Lesson.objects.filter(course=course).order_by("position").values_list("title", "position")
    )


def test_moving_a_lesson_up_swaps_it_with_the_one_before():
    course, lessons = course_with_lessons(3)

    moved = services.move_lesson(actor=instructor_of(course), lesson=lessons[2], direction="up")

    assert moved.position == 2
    assert _positions(course) == [
        (lessons[0].title, 1),
        (lessons[2].title, 2),
        (lessons[1].title, 3),
    ]


def test_moving_a_lesson_down_swaps_it_with_the_one_after():
    course, lessons = course_with_lessons(3)

    services.move_lesson(actor=instructor_of(course), lesson=lessons[0], direction="down")

    assert [t for t, _ in _positions(course)] == [
        lessons[1].title,
        lessons[0].title,
        lessons[2].title,
    ]
    assert [p for _, p in _positions(course)] == [1, 2, 3]


def test_moving_the_first_lesson_up_changes_nothing():
    course, lessons = course_with_lessons(3)

    services.move_lesson(actor=instructor_of(course), lesson=lessons[0], direction="up")

    assert _positions(course) == [(lesson.title, i) for i, lesson in enumerate(lessons, 1)]


def test_moving_repairs_gaps_in_positions():
    course, lessons = course_with_lessons(3)
    Lesson.objects.filter(pk=lessons[1].pk).update(position=7)
    Lesson.objects.filter(pk=lessons[2].pk).update(position=9)

    services.move_lesson(actor=instructor_of(course), lesson=lessons[2], direction="up")

    assert _positions(course) == [
        (lessons[0].title, 1),
        (lessons[2].title, 2),
        (lessons[1].title, 3),
    ]


def test_creating_lessons_numbers_them_and_counts_published_ones():
    course = CourseFactory.create()
    teacher = instructor_of(course)

    first = services.create_lesson(actor=teacher, course=course, title="Intro")
    second = services.create_lesson(actor=teacher, course=course, title="Intro")
    services.create_lesson(actor=teacher, course=course, title="Draft", is_published=False)

    assert (first.position, second.position) == (1, 2)
    assert (first.slug, second.slug) == ("intro", "intro-2")
    course.refresh_from_db()
    assert course.lesson_count == 2


def test_unpublishing_a_lesson_updates_the_lesson_count_and_students_progress():
    course, lessons = course_with_lessons(2)
    enrollment = EnrollmentFactory.create(course=course)
    services.mark_lesson_complete(enrollment=enrollment, lesson=lessons[0])

    services.update_lesson(actor=instructor_of(course), lesson=lessons[0], is_published=False)

    course.refresh_from_db()
    enrollment.refresh_from_db()
    assert course.lesson_count == 1
    assert enrollment.completed_lesson_count == 0


def test_deleting_a_lesson_renumbers_the_rest_and_updates_counts():
    course, lessons = course_with_lessons(3)
    enrollment = EnrollmentFactory.create(course=course)
    for lesson in lessons[:2]:
        services.mark_lesson_complete(enrollment=enrollment, lesson=lesson)

    services.delete_lesson(actor=instructor_of(course), lesson=lessons[2])

    course.refresh_from_db()
    enrollment.refresh_from_db()
    assert course.lesson_count == 2
    assert _positions(course) == [(lessons[0].title, 1), (lessons[1].title, 2)]
    assert enrollment.status == Enrollment.Status.COMPLETED
    assert enrollment.completed_lesson_count == 2


def test_another_courses_instructor_cannot_change_lessons():
    course, lessons = course_with_lessons(2)
    outsider = instructor_of(CourseFactory.create())

    with pytest.raises(NotAllowed):
        services.delete_lesson(actor=outsider, lesson=lessons[0])
    with pytest.raises(NotAllowed):
        services.create_lesson(actor=outsider, course=course, title="Sneaky")

    assert Lesson.objects.filter(course=course).count() == 2


# --- course status --------------------------------------------------------------------------


def test_publishing_sets_published_at_once():
    course = CourseFactory.create(status=Course.Status.DRAFT, published_at=None)
    teacher = instructor_of(course)

    services.set_course_status(actor=teacher, course=course, status=Course.Status.PUBLISHED)
    first = course.published_at
    services.set_course_status(actor=teacher, course=course, status=Course.Status.DRAFT)
    services.set_course_status(actor=teacher, course=course, status=Course.Status.PUBLISHED)

    course.refresh_from_db()
    assert first is not None
    assert course.published_at == first
    assert course.status == Course.Status.PUBLISHED


def test_create_course_makes_a_draft_taught_by_its_creator_with_a_unique_slug():
    teacher = make_user(role=Role.INSTRUCTOR)
    CourseFactory.create(slug="intro-to-chess")

    course = services.create_course(actor=teacher, title="Intro to chess")

    assert course.status == Course.Status.DRAFT
    assert course.slug == "intro-to-chess-2"
    assert list(course.instructors.all()) == [teacher]


def test_students_cannot_create_courses():
    with pytest.raises(NotAllowed):
        services.create_course(actor=make_user(), title="Mine")

    assert not Course.objects.exists()


# --- captions -------------------------------------------------------------------------------


def _add_track(lesson: Lesson, **overrides: Any) -> CaptionTrack:
    options: dict[str, Any] = {
        "language": "en",
        "label": "English",
        "kind": CaptionTrack.Kind.CAPTIONS,
        "is_default": True,
        "file": vtt_upload(),
    }
    options.update(overrides)
    return services.add_caption_track(actor=instructor_of(lesson.course), lesson=lesson, **options)


def test_add_caption_track_stores_a_valid_webvtt_file():
    lesson = LessonFactory.create()

    track = _add_track(lesson)

    assert track.pk is not None
    assert Path(track.file.path).read_text(encoding="utf-8") == VTT


def test_add_caption_track_refuses_a_file_that_is_not_webvtt_and_stores_nothing():
    lesson = LessonFactory.create()

    with pytest.raises(errors.InvalidCaptionFile):
        _add_track(lesson, file=vtt_upload("1\n00:00:01,000 --> 00:00:02,000\nSRT, not VTT\n"))

    assert not CaptionTrack.objects.exists()
    assert _media_files() == []


def test_a_lesson_has_one_default_caption_track():
    lesson = LessonFactory.create()
    english = _add_track(lesson, language="en", is_default=True)

    german = _add_track(lesson, language="de", label="Deutsch", is_default=True)

    english.refresh_from_db()
    assert german.is_default
    assert not english.is_default
    assert CaptionTrack.objects.filter(lesson=lesson, is_default=True).count() == 1


def test_replacing_a_caption_track_deletes_the_old_file_after_commit(
    django_capture_on_commit_callbacks,
):
    lesson = LessonFactory.create()
    with django_capture_on_commit_callbacks(execute=True):
        first = _add_track(lesson)
    old_path = Path(first.file.path)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        second = _add_track(lesson, file=vtt_upload(VTT.replace("welcome", "hello")))
    assert old_path.exists(), "the old file must survive until the transaction commits"
    for callback in callbacks:
        callback()

    assert second.pk == first.pk
    assert CaptionTrack.objects.filter(lesson=lesson).count() == 1
    assert not old_path.exists()
    assert Path(second.file.path).exists()
    assert _media_files() == [Path(second.file.path)]


# --- CSV import and invitations -------------------------------------------------------------


def _import(course: Course, text: str | bytes, **kwargs):
    data = text.encode("utf-8") if isinstance(text, str) else text
    return services.import_enrollments_csv(
        actor=instructor_of(course), course=course, data=data, base_url="https://school.test"
    )


def test_import_enrolls_existing_users_and_invites_unknown_emails(
    django_capture_on_commit_callbacks, mailoutbox
):
    course = CourseFactory.create()
    known = make_user(email="known@example.test")

    with django_capture_on_commit_callbacks(execute=True):
        report = _import(course, "email\nKnown@Example.test\nnewcomer@example.test\n")

    assert report.applied
    assert [(r.line, r.email, r.outcome) for r in report.rows] == [
        (2, "known@example.test", "enrolled"),
        (3, "newcomer@example.test", "invited"),
    ]
    assert Enrollment.objects.get(course=course, student=known).status == "active"
    invitation = CourseInvitation.objects.get(course=course)
    assert invitation.email == "newcomer@example.test"
    invitations = [m for m in mailoutbox if m.to == ["newcomer@example.test"]]
    assert len(invitations) == 1
    assert course.title in invitations[0].subject
    assert f"https://school.test{invitation.get_absolute_url()}" in invitations[0].body
    # The other email is the instructor's "import finished" notification.
    assert [m.to for m in mailoutbox if m not in invitations] == [[instructor_of(course).email]]
    course.refresh_from_db()
    assert course.active_enrollment_count == 1


def test_import_sends_invitations_only_after_commit(django_capture_on_commit_callbacks, mailoutbox):
    course = CourseFactory.create()

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        _import(course, "someone@example.test\n")

    assert mailoutbox == []
    for callback in callbacks:
        callback()
    assert [m.to for m in mailoutbox if "invited" in m.subject] == [["someone@example.test"]]


def test_import_reports_students_already_enrolled():
    course = CourseFactory.create()
    member = make_user(email="member@example.test")
    EnrollmentFactory.create(course=course, student=member)

    report = _import(course, "member@example.test\n")

    assert report.applied
    assert [(r.outcome, r.detail) for r in report.rows] == [
        ("already_enrolled", "already enrolled")
    ]
    assert Enrollment.objects.filter(course=course).count() == 1


def _assert_nothing_written(course: Course, mailoutbox) -> None:
    assert (
        not Enrollment.objects.filter(course=course)
        .exclude(student__email="member@example.test")
        .exists()
    )
    assert not CourseInvitation.objects.exists()
    assert mailoutbox == []
    course.refresh_from_db()
    assert (
        course.active_enrollment_count
        == Enrollment.objects.filter(course=course, status="active").count()
    )


def test_import_with_a_bad_email_writes_nothing_and_reports_every_row(
    django_capture_on_commit_callbacks, mailoutbox
):
    course = CourseFactory.create()
    make_user(email="known@example.test")

    with django_capture_on_commit_callbacks(execute=True):
        report = _import(course, "known@example.test\nnot-an-email\nnew@example.test\n")

    assert not report.applied
    assert [(r.line, r.outcome) for r in report.rows] == [
        (1, "skipped"),
        (2, "error"),
        (3, "skipped"),
    ]
    assert report.rows[1].detail == "not a valid email address"
    assert "would be enrolled" in report.rows[0].detail
    assert "would be invited" in report.rows[2].detail
    _assert_nothing_written(course, mailoutbox)


def test_import_with_a_duplicate_row_writes_nothing(django_capture_on_commit_callbacks, mailoutbox):
    course = CourseFactory.create()

    with django_capture_on_commit_callbacks(execute=True):
        report = _import(course, "a@example.test\nb@example.test\nA@example.test\n")

    assert not report.applied
    assert [(r.line, r.outcome) for r in report.rows][2] == (3, "error")
    assert report.rows[2].detail == "listed more than once"
    _assert_nothing_written(course, mailoutbox)


def test_import_over_capacity_writes_nothing_and_names_the_rows_that_do_not_fit(
    django_capture_on_commit_callbacks, mailoutbox
):
    course = CourseFactory.create(capacity=2)
    EnrollmentFactory.create(course=course, student=make_user(email="member@example.test"))
    for name in ("x", "y"):
        make_user(email=f"{name}@example.test")

    with django_capture_on_commit_callbacks(execute=True):
        report = _import(course, "x@example.test\ny@example.test\ninvitee@example.test\n")

    assert not report.applied
    assert [(r.email, r.outcome) for r in report.rows] == [
        ("x@example.test", "skipped"),
        ("y@example.test", "error"),
        ("invitee@example.test", "skipped"),
    ]
    assert report.rows[1].detail == "the course is full"
    _assert_nothing_written(course, mailoutbox)
    assert Enrollment.objects.filter(course=course).count() == 1


def test_import_of_a_file_that_is_not_utf8_is_refused(mailoutbox):
    course = CourseFactory.create()

    with pytest.raises(errors.InvalidImport, match="UTF-8"):
        _import(course, "jos\xe9@example.test\n".encode("latin-1"))

    assert not Enrollment.objects.exists()
    assert not CourseInvitation.objects.exists()
    assert mailoutbox == []


def test_import_of_an_empty_file_is_refused():
    with pytest.raises(errors.InvalidImport, match="no email"):
        _import(CourseFactory.create(), "email\n\n")


def test_import_by_someone_who_does_not_teach_the_course_is_refused():
    course = CourseFactory.create()

    with pytest.raises(NotAllowed):
        services.import_enrollments_csv(
            actor=make_user(role=Role.INSTRUCTOR),
            course=course,
            data=b"a@example.test",
            base_url="",
        )


def test_accepting_an_invitation_enrolls_the_invited_person(
    django_capture_on_commit_callbacks, mailoutbox
):
    course = CourseFactory.create(enrollment_policy=Course.EnrollmentPolicy.INVITE)
    with django_capture_on_commit_callbacks(execute=True):
        invitation = services.invite_by_email(
            actor=instructor_of(course), course=course, email="Guest@Example.test", base_url=""
        )
    guest = make_user(email="guest@example.test")

    enrollment = services.accept_invitation(invitation=invitation, user=guest)

    assert enrollment.status == Enrollment.Status.ACTIVE
    invitation.refresh_from_db()
    assert invitation.accepted_by == guest
    assert invitation.accepted_at is not None
    assert len(mailoutbox) == 1
    course.refresh_from_db()
    assert course.active_enrollment_count == 1


def test_accepting_an_invitation_to_a_full_course_is_refused():
    course = CourseFactory.create(enrollment_policy=Course.EnrollmentPolicy.INVITE, capacity=1)
    EnrollmentFactory.create(course=course)
    invitation = CourseInvitation.objects.create(course=course, email="late@example.test")

    with pytest.raises(errors.CourseFull):
        services.accept_invitation(invitation=invitation, user=make_user(email="late@example.test"))

    invitation.refresh_from_db()
    assert invitation.accepted_at is None


def test_accepting_an_invitation_twice_keeps_one_enrollment():
    course = CourseFactory.create(enrollment_policy=Course.EnrollmentPolicy.INVITE)
    guest = make_user(email="guest@example.test")
    invitation = CourseInvitation.objects.create(course=course, email=guest.email)
    first = services.accept_invitation(invitation=invitation, user=guest)
    first_time = CourseInvitation.objects.get().accepted_at

    again = services.accept_invitation(invitation=invitation, user=guest)

    assert again.pk == first.pk
    assert CourseInvitation.objects.get().accepted_at == first_time
    assert first_time is not None
    assert first_time <= timezone.now()
