"""Background work of courses: invitation emails and the notifications of course events.

Services queue these after commit with ids only; each task loads fresh data, works out who to
tell, and is safe to run twice (a redelivered message, a retry): notifications carry a dedupe
key, invitation emails are sent under a row lock and marked sent in the same transaction.
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from apps.accounts.models import User
from apps.core.logging import log_event
from apps.core.tasks import TRANSIENT_EMAIL_ERRORS
from apps.courses.models import Course, CourseInvitation, Enrollment, Lesson
from apps.courses.selectors import course_member_recipients
from apps.notifications import kinds
from apps.notifications.services import notify_in_their_language

logger = logging.getLogger(__name__)


# --- Enrollment decisions -----------------------------------------------------------------------


@shared_task(name="courses.notify_enrollment_decided")
def notify_enrollment_decided(enrollment_id: int, approved: bool, decision_stamp: str) -> int:
    """Tell the student an instructor approved or declined their request to join.

    `decision_stamp` (the enrollment's `updated_at` at the decision) tells this decision from a
    later one on the same enrollment (a declined student may ask again) and is the same when the
    task is redelivered.
    """
    enrollment = (
        Enrollment.objects.select_related("course", "student__profile")
        .filter(pk=enrollment_id)
        .first()
    )
    if enrollment is None:
        return 0
    course = enrollment.course
    language = getattr(getattr(enrollment.student, "profile", None), "language", None)

    def text() -> tuple[str, str]:
        if approved:
            return (
                _("You are in: “%(course)s”") % {"course": course.title},
                _("Your request to join “%(course)s” was approved. You can start learning now.")
                % {"course": course.title},
            )
        return (
            _("Your request to join “%(course)s” was declined") % {"course": course.title},
            _("An instructor of “%(course)s” declined your request to join.")
            % {"course": course.title},
        )

    created = notify_in_their_language(
        [(enrollment.student_id, language)],
        kind=kinds.ENROLLMENT_DECIDED,
        text=text,
        url=course.get_absolute_url(),
        dedupe_key=f"courses.enrollment.{enrollment_id}.decided.{decision_stamp}",
    )
    log_event(
        logger,
        "courses.notified.enrollment_decided",
        enrollment_id=enrollment_id,
        user_id=enrollment.student_id,
        approved=approved,
        notified=created,
    )
    return created


# --- Lessons ------------------------------------------------------------------------------------


@shared_task(name="courses.notify_lesson_published")
def notify_lesson_published(lesson_id: int, actor_id: int | None) -> int:
    """Tell the course's students a new lesson is there, once per lesson.

    The dedupe key is the lesson's, so unpublishing and publishing it again tells nobody twice.
    Nothing is sent while the lesson is unpublished again or its course is a draft (students
    could not open it); publishing it later sends then.
    """
    lesson = Lesson.objects.select_related("course").filter(pk=lesson_id).first()
    if lesson is None or not lesson.is_published or lesson.course.status == Course.Status.DRAFT:
        return 0
    course = lesson.course
    recipients = course_member_recipients(course.pk, exclude=[actor_id])

    def text() -> tuple[str, str]:
        return (
            _("New lesson in “%(course)s”: %(lesson)s")
            % {"course": course.title, "lesson": lesson.title},
            _("A new lesson is published in “%(course)s”.") % {"course": course.title},
        )

    created = notify_in_their_language(
        recipients,
        kind=kinds.LESSON_PUBLISHED,
        text=text,
        url=lesson.get_absolute_url(),
        dedupe_key=f"courses.lesson.{lesson_id}.published",
    )
    log_event(
        logger,
        "courses.notified.lesson_published",
        lesson_id=lesson_id,
        course_id=course.pk,
        notified=created,
    )
    return created


# --- CSV import ---------------------------------------------------------------------------------


@shared_task(name="courses.notify_import_finished")
def notify_import_finished(
    course_id: int, actor_id: int, enrolled: int, invited: int, already: int, import_id: str
) -> int:
    """Tell the instructor who ran a CSV import that it is done, with its counts.

    `import_id` names this import (one per run), so a redelivered task tells nobody twice.
    """
    course = Course.objects.filter(pk=course_id).first()
    actor = User.objects.select_related("profile").filter(pk=actor_id).first()
    if course is None or actor is None:
        return 0
    language = getattr(getattr(actor, "profile", None), "language", None)

    def text() -> tuple[str, str]:
        counts = [
            ngettext("%(n)d enrolled", "%(n)d enrolled", enrolled) % {"n": enrolled},
            ngettext("%(n)d invited", "%(n)d invited", invited) % {"n": invited},
            ngettext("%(n)d already enrolled", "%(n)d already enrolled", already) % {"n": already},
        ]
        return (
            _("Import finished for “%(course)s”") % {"course": course.title},
            _("Your CSV import is done: %(counts)s.") % {"counts": ", ".join(counts)},
        )

    created = notify_in_their_language(
        [(actor.pk, language)],
        kind=kinds.IMPORT_FINISHED,
        text=text,
        url=reverse("courses:roster", kwargs={"slug": course.slug}),
        dedupe_key=f"courses.import.{import_id}.finished",
    )
    log_event(
        logger,
        "courses.notified.import_finished",
        course_id=course_id,
        user_id=actor_id,
        notified=created,
    )
    return created


# --- Invitation emails --------------------------------------------------------------------------


@shared_task(name="courses.send_invitations")
def send_invitations(invitation_ids: list[int], base_url: str) -> int:
    """Queue one email per invitation not yet emailed nor accepted (each retries on its own)."""
    waiting = list(
        CourseInvitation.objects.filter(
            pk__in=invitation_ids, sent_at__isnull=True, accepted_at__isnull=True
        ).values_list("pk", flat=True)
    )
    for invitation_id in waiting:
        send_invitation_email.delay(invitation_id, base_url)
    return len(waiting)


@shared_task(
    name="courses.send_invitation_email",
    autoretry_for=TRANSIENT_EMAIL_ERRORS,
    retry_backoff=5,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=8,
)
def send_invitation_email(invitation_id: int, base_url: str) -> str:
    """Email one invitation, once.

    The row is locked while sending and marked sent in the same transaction, so a second run
    (redelivery, a duplicate queue entry) finds it sent and does nothing; a failed send leaves
    it unsent for the retry. An invitation accepted meanwhile needs no email.
    """
    with transaction.atomic():
        invitation = (
            CourseInvitation.objects.select_for_update(of=("self",))
            .select_related("course")
            .filter(pk=invitation_id)
            .first()
        )
        if invitation is None or invitation.sent_at is not None:
            return "skipped"
        if invitation.accepted_at is not None:
            return "accepted"
        context = {"invitation": invitation, "url": base_url + invitation.get_absolute_url()}
        send_mail(
            subject=_("You are invited to %(course)s") % {"course": invitation.course.title},
            message=render_to_string("courses/email/invitation.txt", context),
            from_email=None,
            recipient_list=[invitation.email],
        )
        invitation.sent_at = timezone.now()
        invitation.save(update_fields=["sent_at", "updated_at"])
    log_event(
        logger,
        "courses.invitation.emailed",
        invitation_id=invitation_id,
        course_id=invitation.course_id,
    )
    return "sent"
