"""Who is told about course events, and the invitation emails sent by a task.

Services queue the tasks after commit (Celery runs them eagerly in tests); each test reads the
notifications people would see in their bell and inbox. Redelivery is a second call of the
same task with the same arguments.
"""

from __future__ import annotations

import logging

import pytest
from celery.exceptions import Retry
from django.urls import reverse
from django.utils import translation

from apps.accounts.models import User
from apps.accounts.roles import Role
from apps.accounts.tests.factories import make_user
from apps.courses import services, tasks
from apps.courses.models import Course, CourseInvitation, Enrollment, Lesson
from apps.courses.tests.factories import (
    CourseFactory,
    EnrollmentFactory,
    LessonFactory,
    instructor_of,
)
from apps.notifications import services as notification_services
from apps.notifications.models import Notification

pytestmark = pytest.mark.django_db


def _told(kind: str, **filters: object) -> list[Notification]:
    return list(Notification.objects.filter(kind=kind, **filters).order_by("recipient_id"))


def _recipients(kind: str) -> list[int]:
    return [n.recipient_id for n in _told(kind)]


def _members_and_outsiders(course: Course) -> tuple[list[int], set[int]]:
    """Active and completed students (members); dropped, pending, another course's student and
    a stranger (outsiders)."""
    members = [
        EnrollmentFactory.create(course=course).student.pk,
        EnrollmentFactory.create(course=course, status=Enrollment.Status.COMPLETED).student.pk,
    ]
    outsiders = {
        EnrollmentFactory.create(course=course, status=Enrollment.Status.DROPPED).student.pk,
        EnrollmentFactory.create(course=course, status=Enrollment.Status.PENDING).student.pk,
        EnrollmentFactory.create().student.pk,
        make_user().pk,
    }
    return sorted(members), outsiders


# --- Enrollment decisions -----------------------------------------------------------------------


def _request(course: Course) -> Enrollment:
    return EnrollmentFactory.create(course=course, status=Enrollment.Status.PENDING)


def test_an_approved_student_is_told_they_are_in(django_capture_on_commit_callbacks):
    course = CourseFactory.create(enrollment_policy=Course.EnrollmentPolicy.APPROVAL)
    enrollment, other = _request(course), _request(course)

    with django_capture_on_commit_callbacks(execute=True):
        services.decide_enrollment(actor=instructor_of(course), enrollment=enrollment, approve=True)

    told = _told("enrollment_decided")
    assert [n.recipient_id for n in told] == [enrollment.student_id]
    assert told[0].title == f"You are in: “{course.title}”"
    assert "approved" in told[0].body
    assert told[0].url == course.get_absolute_url()
    assert other.student_id not in _recipients("enrollment_decided")


def test_a_declined_student_is_told_and_nobody_else(django_capture_on_commit_callbacks):
    course = CourseFactory.create(enrollment_policy=Course.EnrollmentPolicy.APPROVAL)
    teacher = instructor_of(course)
    enrollment = _request(course)
    EnrollmentFactory.create(course=course)

    with django_capture_on_commit_callbacks(execute=True):
        services.decide_enrollment(actor=teacher, enrollment=enrollment, approve=False)

    told = _told("enrollment_decided")
    assert [n.recipient_id for n in told] == [enrollment.student_id]
    assert told[0].title == f"Your request to join “{course.title}” was declined"


def test_a_redelivered_decision_is_told_once_but_a_later_decision_again(
    django_capture_on_commit_callbacks,
):
    course = CourseFactory.create(enrollment_policy=Course.EnrollmentPolicy.APPROVAL)
    teacher = instructor_of(course)
    enrollment = _request(course)
    with django_capture_on_commit_callbacks(execute=True) as first:
        services.decide_enrollment(actor=teacher, enrollment=enrollment, approve=False)
    for callback in first:  # the same task delivered again
        callback()
    assert len(_told("enrollment_decided")) == 1

    # Declined, the student asks again and is approved this time: a new decision.
    services.enroll_student(course=course, student=enrollment.student)
    with django_capture_on_commit_callbacks(execute=True):
        services.decide_enrollment(actor=teacher, enrollment=enrollment, approve=True)

    titles = [n.title for n in _told("enrollment_decided", recipient=enrollment.student)]
    assert sorted(titles) == sorted(
        [f"Your request to join “{course.title}” was declined", f"You are in: “{course.title}”"]
    )


# --- Lessons ------------------------------------------------------------------------------------


def test_a_new_published_lesson_is_told_to_members_only(django_capture_on_commit_callbacks):
    course = CourseFactory.create()
    members, outsiders = _members_and_outsiders(course)
    teacher = instructor_of(course)

    with django_capture_on_commit_callbacks(execute=True):
        lesson = services.create_lesson(actor=teacher, course=course, title="Loops")

    told = _told("lesson_published")
    assert [n.recipient_id for n in told] == members
    assert {n.title for n in told} == {f"New lesson in “{course.title}”: Loops"}
    assert {n.url for n in told} == {lesson.get_absolute_url()}
    assert not set(_recipients("lesson_published")) & (outsiders | {teacher.pk})


def test_a_draft_lesson_is_told_when_first_published_and_never_again(
    django_capture_on_commit_callbacks,
):
    course = CourseFactory.create()
    members, _ = _members_and_outsiders(course)
    teacher = instructor_of(course)
    with django_capture_on_commit_callbacks(execute=True):
        lesson = services.create_lesson(
            actor=teacher, course=course, title="Recursion", is_published=False
        )
    assert _told("lesson_published") == []

    for published in (True, False, True, True):
        with django_capture_on_commit_callbacks(execute=True):
            services.update_lesson(actor=teacher, lesson=lesson, is_published=published)
    tasks.notify_lesson_published(lesson.pk, teacher.pk)  # redelivered

    assert _recipients("lesson_published") == members


def test_editing_a_published_lesson_tells_nobody(django_capture_on_commit_callbacks):
    course = CourseFactory.create()
    _members_and_outsiders(course)
    lesson = LessonFactory.create(course=course)

    with django_capture_on_commit_callbacks(execute=True):
        services.update_lesson(actor=instructor_of(course), lesson=lesson, title="Better title")

    assert _told("lesson_published") == []


def test_a_lesson_of_a_draft_course_is_not_announced(django_capture_on_commit_callbacks):
    course = CourseFactory.create(status=Course.Status.DRAFT)
    _members_and_outsiders(course)

    with django_capture_on_commit_callbacks(execute=True):
        services.create_lesson(actor=instructor_of(course), course=course, title="Soon")

    assert _told("lesson_published") == []


def test_a_lesson_unpublished_before_its_task_ran_is_not_announced(
    django_capture_on_commit_callbacks,
):
    course = CourseFactory.create()
    _members_and_outsiders(course)
    teacher = instructor_of(course)
    with django_capture_on_commit_callbacks(execute=False) as created:
        lesson = services.create_lesson(actor=teacher, course=course, title="Oops")
    Lesson.objects.filter(pk=lesson.pk).update(is_published=False)

    for callback in created:
        callback()

    assert _told("lesson_published") == []


# --- CSV import ---------------------------------------------------------------------------------


def _import(course: Course, actor: User, text: str) -> services.ImportReport:
    return services.import_enrollments_csv(
        actor=actor, course=course, data=text.encode(), base_url="https://school.test"
    )


def test_the_instructor_who_ran_an_import_is_told_its_counts(django_capture_on_commit_callbacks):
    co_teacher = make_user(role=Role.INSTRUCTOR)
    teacher = make_user(role=Role.INSTRUCTOR)
    course = CourseFactory.create(instructors=[teacher, co_teacher])
    make_user(email="known@example.test")
    EnrollmentFactory.create(course=course, student=make_user(email="member@example.test"))

    with django_capture_on_commit_callbacks(execute=True):
        _import(course, teacher, "known@example.test\nnew@example.test\nmember@example.test\n")

    told = _told("import_finished")
    assert [n.recipient_id for n in told] == [teacher.pk]
    assert told[0].title == f"Import finished for “{course.title}”"
    assert "1 enrolled, 1 invited, 1 already enrolled" in told[0].body
    assert told[0].url == reverse("courses:roster", kwargs={"slug": course.slug})


def test_a_redelivered_import_notice_is_told_once_but_a_second_import_again(
    django_capture_on_commit_callbacks,
):
    course = CourseFactory.create()
    teacher = instructor_of(course)
    with django_capture_on_commit_callbacks(execute=True) as first:
        _import(course, teacher, "a@example.test\n")
    for callback in first:  # every task of the import delivered again
        callback()
    assert len(_told("import_finished")) == 1

    with django_capture_on_commit_callbacks(execute=True):
        _import(course, teacher, "b@example.test\n")

    assert len(_told("import_finished", recipient=teacher)) == 2


def test_an_import_with_errors_tells_nobody(django_capture_on_commit_callbacks):
    course = CourseFactory.create()

    with django_capture_on_commit_callbacks(execute=True):
        report = _import(course, instructor_of(course), "not-an-email\n")

    assert not report.applied
    assert _told("import_finished") == []


# --- Invitation emails --------------------------------------------------------------------------


def _invitation(email: str = "guest@example.test") -> CourseInvitation:
    return CourseInvitation.objects.create(course=CourseFactory.create(), email=email)


def test_an_invitation_is_emailed_once_however_often_its_task_runs(mailoutbox):
    invitation = _invitation()

    results = [tasks.send_invitation_email(invitation.pk, "https://school.test") for _ in range(3)]

    assert results == ["sent", "skipped", "skipped"]
    assert [m.to for m in mailoutbox] == [["guest@example.test"]]
    assert f"https://school.test{invitation.get_absolute_url()}" in mailoutbox[0].body
    invitation.refresh_from_db()
    assert invitation.sent_at is not None


def test_inviting_an_address_again_does_not_email_it_twice(
    django_capture_on_commit_callbacks, mailoutbox
):
    course = CourseFactory.create()
    teacher = instructor_of(course)

    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            services.invite_by_emails(
                actor=teacher, course=course, emails=["Guest@example.test"], base_url=""
            )

    assert [m.to for m in mailoutbox] == [["guest@example.test"]]


def test_an_invitation_accepted_before_its_email_went_out_is_not_emailed(mailoutbox):
    invitation = _invitation()
    services.accept_invitation(invitation=invitation, user=make_user(email=invitation.email))

    assert tasks.send_invitation_email(invitation.pk, "") == "accepted"
    assert mailoutbox == []


def test_an_invitation_is_sent_after_the_mail_server_comes_back(settings, smtp_sink):
    """A real SMTP server, first unreachable, then up. (Eager Celery raises the retry it would
    queue, instead of waiting out the backoff.)"""
    invitation = _invitation()
    settings.EMAIL_PORT = _closed_port()

    with pytest.raises(Retry, match="Connection refused"):
        tasks.send_invitation_email.delay(invitation.pk, "https://school.test")
    invitation.refresh_from_db()
    assert invitation.sent_at is None

    settings.EMAIL_PORT = smtp_sink.port
    assert tasks.send_invitation_email.delay(invitation.pk, "https://school.test").get() == "sent"

    received = smtp_sink.wait_for(1)
    assert [m.rcpt_tos for m in received] == [["guest@example.test"]]


def _closed_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])  # closed again when the block ends


# --- Logs ---------------------------------------------------------------------------------------


def test_each_course_task_is_logged(caplog, django_capture_on_commit_callbacks):
    course = CourseFactory.create(enrollment_policy=Course.EnrollmentPolicy.APPROVAL)
    teacher = instructor_of(course)
    enrollment = _request(course)

    with caplog.at_level(logging.INFO, logger="apps.courses.tasks"):
        with django_capture_on_commit_callbacks(execute=True):
            services.decide_enrollment(actor=teacher, enrollment=enrollment, approve=True)
        with django_capture_on_commit_callbacks(execute=True):
            services.create_lesson(actor=teacher, course=course, title="One")
        with django_capture_on_commit_callbacks(execute=True):
            _import(course, teacher, "new@example.test\n")

    events = [getattr(r, "event", "") for r in caplog.records]
    assert [e for e in events if e.startswith("courses.")] == [
        "courses.notified.enrollment_decided",
        "courses.notified.lesson_published",
        "courses.invitation.emailed",
        "courses.notified.import_finished",
    ]


# --- Languages ----------------------------------------------------------------------------------


def test_each_person_is_written_to_in_their_own_language():
    readers = [make_user() for _ in range(3)]

    notification_services.notify_in_their_language(
        [(readers[0].pk, "de"), (readers[1].pk, None), (readers[2].pk, "fr")],
        kind="lesson_published",
        text=lambda: (f"title in {translation.get_language()}", ""),
        url="/",
        dedupe_key="test.languages",
    )

    titles = {n.recipient_id: n.title for n in _told("lesson_published")}
    assert titles == {
        readers[0].pk: "title in de",
        readers[1].pk: "title in en",
        readers[2].pk: "title in fr",
    }
