"""Who is in a course: enrolling, approving or declining requests, dropping, invitations,
and each student's progress through the lessons."""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.activity.services import record as record_activity
from apps.core.errors import NotAllowed
from apps.core.tasks import enqueue_on_commit, stamp
from apps.courses import errors, policies, tasks
from apps.courses.models import Course, CourseInvitation, Enrollment, Lesson, LessonProgress
from apps.courses.services.counters import refresh_enrollment_count, update_completion

logger = logging.getLogger(__name__)


def ensure_capacity(course: Course, extra: int = 1) -> None:
    if course.capacity is not None:
        active = Enrollment.objects.filter(course=course, status=Enrollment.Status.ACTIVE).count()
        if active + extra > course.capacity:
            raise errors.CourseFull()


@transaction.atomic
def enroll_student(*, course: Course, student: User) -> Enrollment:
    """Enroll (open), ask for approval (approval) or refuse (invite-only, closed, full)."""
    course = Course.objects.select_for_update().get(pk=course.pk)
    if course.status != Course.Status.PUBLISHED:
        raise errors.EnrollmentClosed()
    existing = Enrollment.objects.filter(course=course, student=student).first()
    if existing and existing.status in (
        Enrollment.Status.ACTIVE,
        Enrollment.Status.COMPLETED,
        Enrollment.Status.PENDING,
    ):
        raise errors.AlreadyEnrolled()
    if course.enrollment_policy == Course.EnrollmentPolicy.INVITE:
        raise errors.InvitationRequired()
    status = (
        Enrollment.Status.PENDING
        if course.enrollment_policy == Course.EnrollmentPolicy.APPROVAL
        else Enrollment.Status.ACTIVE
    )
    if status == Enrollment.Status.ACTIVE:
        ensure_capacity(course)
    enrollment = existing or Enrollment(course=course, student=student)
    enrollment.status = status
    enrollment.decided_by = None
    enrollment.save()
    refresh_enrollment_count(course)
    record_activity(
        student,
        "courses.enrollment.requested"
        if status == Enrollment.Status.PENDING
        else "courses.enrollment.self_enrolled",
        enrollment,
        target_label=course.title,
        course=course.pk,
    )
    logger.info("enrollment %s", status, extra={"course_id": course.pk, "user_id": student.pk})
    return enrollment


@transaction.atomic
def drop_enrollment(*, enrollment: Enrollment, actor: User) -> Enrollment:
    if actor.pk != enrollment.student_id and not policies.can_edit_course(actor, enrollment.course):
        raise NotAllowed()
    enrollment.status = Enrollment.Status.DROPPED
    enrollment.save(update_fields=["status", "updated_at"])
    refresh_enrollment_count(enrollment.course)
    record_activity(
        actor,
        "courses.enrollment.removed",
        enrollment,
        target_label=enrollment.course.title,
        course=enrollment.course_id,
        student=enrollment.student_id,
    )
    return enrollment


@transaction.atomic
def decide_enrollment(*, actor: User, enrollment: Enrollment, approve: bool) -> Enrollment:
    course = Course.objects.select_for_update().get(pk=enrollment.course_id)
    if not policies.can_edit_course(actor, course):
        raise NotAllowed()
    enrollment = Enrollment.objects.select_for_update().get(pk=enrollment.pk)
    if enrollment.status != Enrollment.Status.PENDING:
        raise errors.Conflict(_("This request has already been decided."))
    if approve:
        ensure_capacity(course)
    enrollment.status = Enrollment.Status.ACTIVE if approve else Enrollment.Status.DROPPED
    enrollment.decided_by = actor
    enrollment.save(update_fields=["status", "decided_by", "updated_at"])
    refresh_enrollment_count(course)
    enqueue_on_commit(
        tasks.notify_enrollment_decided, enrollment.pk, approve, stamp(enrollment.updated_at)
    )
    record_activity(
        actor,
        "courses.enrollment.approved" if approve else "courses.enrollment.declined",
        enrollment,
        target_label=course.title,
        course=course.pk,
        student=enrollment.student_id,
    )
    logger.info(
        "enrollment %s",
        "approved" if approve else "denied",
        extra={"course_id": course.pk, "user_id": enrollment.student_id, "actor_id": actor.pk},
    )
    return enrollment


@transaction.atomic
def mark_lesson_complete(*, enrollment: Enrollment, lesson: Lesson) -> LessonProgress:
    """Idempotent: completing a lesson twice keeps the first completion time."""
    enrollment = Enrollment.objects.select_for_update().get(pk=enrollment.pk)
    if not enrollment.counts_as_member or lesson.course_id != enrollment.course_id:
        raise NotAllowed()
    progress, _created = LessonProgress.objects.get_or_create(
        enrollment=enrollment, lesson=lesson, defaults={"completed_at": timezone.now()}
    )
    update_completion(enrollment)
    return progress


@transaction.atomic
def mark_lesson_incomplete(*, enrollment: Enrollment, lesson: Lesson) -> None:
    enrollment = Enrollment.objects.select_for_update().get(pk=enrollment.pk)
    if not enrollment.counts_as_member or lesson.course_id != enrollment.course_id:
        raise NotAllowed()
    LessonProgress.objects.filter(enrollment=enrollment, lesson=lesson).delete()
    if enrollment.status == Enrollment.Status.COMPLETED:
        enrollment.status = Enrollment.Status.ACTIVE
        enrollment.completed_at = None
        enrollment.save(update_fields=["status", "completed_at", "updated_at"])
    update_completion(enrollment)


@transaction.atomic
def invite_by_emails(
    *, actor: User, course: Course, emails: list[str], base_url: str
) -> list[CourseInvitation]:
    """Invite each address (once per course); the emails go out after commit, by a task that
    emails each invitation once (an address invited before is not emailed again).

    A fixed number of queries however many addresses: one insert for the new invitations and
    one read of them all.
    """
    if not policies.can_edit_course(actor, course):
        raise NotAllowed()
    wanted = sorted({email.lower() for email in emails})
    CourseInvitation.objects.bulk_create(
        [CourseInvitation(course=course, email=email, invited_by=actor) for email in wanted],
        ignore_conflicts=True,
    )
    invitations = list(CourseInvitation.objects.filter(course=course, email__in=wanted))
    ids = [invitation.pk for invitation in invitations]
    enqueue_on_commit(tasks.send_invitations, ids, base_url)
    # Invited addresses are not kept in the log, only how many were invited.
    record_activity(actor, "courses.invitation.sent", course, count=len(ids))
    return invitations


def invite_by_email(*, actor: User, course: Course, email: str, base_url: str) -> CourseInvitation:
    return invite_by_emails(actor=actor, course=course, emails=[email], base_url=base_url)[0]


@transaction.atomic
def accept_invitation(*, invitation: CourseInvitation, user: User) -> Enrollment:
    invitation = CourseInvitation.objects.select_for_update().get(pk=invitation.pk)
    course = Course.objects.select_for_update().get(pk=invitation.course_id)
    if course.status != Course.Status.PUBLISHED:
        raise errors.EnrollmentClosed()
    enrollment = Enrollment.objects.filter(course=course, student=user).first()
    if enrollment is None or not enrollment.counts_as_member:
        ensure_capacity(course)
        enrollment = enrollment or Enrollment(course=course, student=user)
        enrollment.status = Enrollment.Status.ACTIVE
        enrollment.save()
    if invitation.accepted_at is None:
        invitation.accepted_at = timezone.now()
        invitation.accepted_by = user
        invitation.save(update_fields=["accepted_at", "accepted_by", "updated_at"])
    refresh_enrollment_count(course)
    record_activity(
        user, "courses.invitation.accepted", enrollment, target_label=course.title, course=course.pk
    )
    return enrollment
