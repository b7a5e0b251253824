"""Background work of notifications: fan-out after commit, emails, the daily digest.

Every task is safe to run twice (a redelivered message after a worker died, a beat that
restarted): each checks the state it would change under a row lock before acting.
"""

from __future__ import annotations

import logging
import smtplib
from datetime import date, datetime, time, tzinfo
from typing import Any

from celery import Task, shared_task
from celery.utils.time import get_exponential_backoff_interval
from django.conf import settings
from django.db import transaction
from django.db.models import Min
from django.utils import timezone

from apps.accounts.models import zone_named
from apps.core.tasks import TRANSIENT_EMAIL_ERRORS, parse_now
from apps.notifications import emails, realtime, selectors
from apps.notifications.models import Digest, Notification

logger = logging.getLogger(__name__)

# With backoff 5 s doubling up to 10 min, eight retries span about 20 minutes.
EMAIL_MAX_RETRIES = 8
EMAIL_RETRY_BACKOFF_SECONDS = 5
EMAIL_RETRY_BACKOFF_MAX_SECONDS = 600


def _refused_for_good(exc: BaseException) -> bool:
    """The mail server refused the address permanently (5xx): trying again cannot help."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused) and exc.recipients:
        return all(code >= 500 for code, _message in exc.recipients.values())
    return False


def _retry_later(task: Task[Any, Any], exc: BaseException) -> Exception:
    """The Retry to raise: the same task again after an exponential, jittered delay."""
    countdown = get_exponential_backoff_interval(
        factor=EMAIL_RETRY_BACKOFF_SECONDS,
        retries=task.request.retries,
        maximum=EMAIL_RETRY_BACKOFF_MAX_SECONDS,
        full_jitter=True,
    )
    return task.retry(exc=exc, countdown=countdown)  # type: ignore[arg-type]


def _error_fields(exc: BaseException) -> dict[str, Any]:
    # The class and SMTP code say what went wrong; the server's text can hold addresses.
    return {"error": type(exc).__name__, "smtp_code": getattr(exc, "smtp_code", None)}


@shared_task(name="notifications.deliver")
def deliver_notifications(notification_ids: list[int]) -> None:
    """Push new in-app notifications to their people's open tabs and queue their emails."""
    notifications = list(
        Notification.objects.filter(pk__in=notification_ids).only(
            "pk",
            "recipient_id",
            "kind",
            "title",
            "url",
            "show_in_app",
            "read_at",
            "email_status",
            "created_at",
        )
    )
    in_app = [n for n in notifications if n.show_in_app and n.read_at is None]
    counts = selectors.unread_counts({n.recipient_id for n in in_app})
    realtime.push(
        (
            n.recipient_id,
            {
                "type": "notification",
                "id": n.pk,
                "kind": n.kind,
                "title": n.title,
                "url": n.url,
                "unread": counts[n.recipient_id],
            },
        )
        for n in in_app
    )
    for n in notifications:
        if n.email_status == Notification.EmailStatus.PENDING:
            send_notification_email.delay(n.pk)


@shared_task(bind=True, name="notifications.send_email", max_retries=EMAIL_MAX_RETRIES)
def send_notification_email(self: Task[Any, Any], notification_id: int) -> str:
    """Send one notification's email, once; retry while the mail server cannot take it.

    A failure leaves the notification pending and the task is retried with backoff; after the
    last retry (or when the server refuses the address for good) it is marked failed. Running
    the task again later (an operator re-queueing it) sends a failed one.
    """
    try:
        return _send_notification_email(notification_id)
    except TRANSIENT_EMAIL_ERRORS as exc:
        if not _refused_for_good(exc) and self.request.retries < EMAIL_MAX_RETRIES:
            logger.warning(
                "notifications.email_retry",
                extra={
                    "event": "notifications.email_retry",
                    "notification_id": notification_id,
                    "retries": self.request.retries,
                    **_error_fields(exc),
                },
            )
            raise _retry_later(self, exc) from exc
        Notification.objects.filter(
            pk=notification_id, email_status=Notification.EmailStatus.PENDING
        ).update(email_status=Notification.EmailStatus.FAILED)
        logger.error(
            "notifications.email_failed",
            extra={
                "event": "notifications.email_failed",
                "notification_id": notification_id,
                "retries": self.request.retries,
                **_error_fields(exc),
            },
        )
        return "failed"


def _send_notification_email(notification_id: int) -> str:
    """The row is locked while sending and marked sent in the same transaction, so a second run
    (redelivery, a duplicate queue entry) finds it sent and does nothing. The person's current
    choice is checked again: an unsubscribe between queueing and sending wins.

    The one window for a second email: the mail server accepted the message but the commit
    that records it failed (or the worker died in between); the row is still pending and a
    redelivered task sends it again, with the same Message-ID.
    """
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update(of=("self",))
            .select_related("recipient__profile")
            .filter(pk=notification_id)
            .first()
        )
        if notification is None or notification.email_status not in (
            Notification.EmailStatus.PENDING,
            Notification.EmailStatus.FAILED,
        ):
            return "skipped"
        wanted = selectors.choices_for([notification.recipient_id], notification.kind)[
            notification.recipient_id
        ].email
        if not wanted or not notification.recipient.is_active:
            notification.email_status = Notification.EmailStatus.NONE
            notification.save(update_fields=["email_status"])
            return "unsubscribed"
        emails.notification_email(notification).send()
        notification.email_status = Notification.EmailStatus.SENT
        notification.emailed_at = timezone.now()
        notification.save(update_fields=["email_status", "emailed_at"])
    logger.info(
        "notifications.emailed",
        extra={
            "event": "notifications.emailed",
            "notification_id": notification_id,
            "user_id": notification.recipient_id,
            "kind": notification.kind,
        },
    )
    return "sent"


def digest_cutoff(day: date, zone: tzinfo) -> datetime:
    """The moment of `day`'s digest in the person's zone: it holds what waited before then."""
    return datetime.combine(day, time(hour=settings.NOTIFICATIONS_DIGEST_HOUR), tzinfo=zone)


@shared_task(name="notifications.send_daily_digests")
def send_daily_digests(now_iso: str | None = None) -> int:
    """Beat runs this hourly: queue today's digest for each person whose local time has reached
    the digest hour, who has notifications that waited for it since before that hour, and who
    has not had today's. Returns how many were queued.

    What arrives after the digest hour waits for the next day's digest, so a digest comes once
    a day at the same local hour (or at the first run after it, when beat was down then).
    """
    now = parse_now(now_iso)
    waiting = (
        Notification.objects.filter(email_status=Notification.EmailStatus.DIGEST)
        .values("recipient_id", "recipient__profile__time_zone")
        .annotate(oldest=Min("created_at"))
        .order_by("recipient_id")
    )
    due: set[tuple[int, date]] = set()
    for row in waiting:
        zone = zone_named(row["recipient__profile__time_zone"])
        local = now.astimezone(zone)
        if local.hour < settings.NOTIFICATIONS_DIGEST_HOUR:
            continue
        if row["oldest"] >= digest_cutoff(local.date(), zone):
            continue  # everything waiting came after today's digest time: tomorrow's
        due.add((row["recipient_id"], local.date()))
    if not due:
        return 0
    # Two queries for everyone due: today's digest rows exist afterwards (one per person and
    # day, by the unique constraint), then the unsent ones among them are queued.
    Digest.objects.bulk_create(
        [Digest(user_id=user_id, day=day) for user_id, day in due], ignore_conflicts=True
    )
    unsent = (
        Digest.objects.filter(
            user_id__in={user_id for user_id, _ in due},
            day__in={day for _, day in due},
            sent_at__isnull=True,
        )
        .values_list("pk", "user_id", "day")
        .order_by("user_id")
    )
    queued = 0
    for digest_id, user_id, day in unsent:
        if (user_id, day) in due:
            send_digest.delay(digest_id)
            queued += 1
    return queued


@shared_task(bind=True, name="notifications.send_digest", max_retries=EMAIL_MAX_RETRIES)
def send_digest(self: Task[Any, Any], digest_id: int) -> str:
    """Send one digest, once; retry while the mail server cannot take it.

    After the last retry the digest stays unsent and the next hourly run queues it again. An
    address refused for good marks its items failed, so they are not tried every hour.
    """
    try:
        return _send_digest(digest_id)
    except TRANSIENT_EMAIL_ERRORS as exc:
        refused = _refused_for_good(exc)
        if not refused and self.request.retries < EMAIL_MAX_RETRIES:
            raise _retry_later(self, exc) from exc
        if refused:
            digest = Digest.objects.filter(pk=digest_id).first()
            if digest is not None:
                Notification.objects.filter(
                    recipient_id=digest.user_id, email_status=Notification.EmailStatus.DIGEST
                ).update(email_status=Notification.EmailStatus.FAILED)
        logger.error(
            "notifications.digest_failed",
            extra={
                "event": "notifications.digest_failed",
                "digest_id": digest_id,
                "retries": self.request.retries,
                **_error_fields(exc),
            },
        )
        return "failed"


def _send_digest(digest_id: int) -> str:
    """Send the digest of the person's unread notifications that waited for it since before the
    digest's time. Locked and recorded in one transaction like a single email (same window)."""
    with transaction.atomic():
        digest = (
            Digest.objects.select_for_update(of=("self",))
            .select_related("user__profile")
            .filter(pk=digest_id)
            .first()
        )
        if digest is None or digest.sent_at is not None:
            return "skipped"
        user = digest.user
        profile = getattr(user, "profile", None)
        cutoff = digest_cutoff(digest.day, profile.zone if profile else zone_named(None))
        waiting = list(
            Notification.objects.select_for_update()
            .filter(
                recipient_id=digest.user_id,
                email_status=Notification.EmailStatus.DIGEST,
                created_at__lt=cutoff,
            )
            .order_by("created_at", "pk")
        )
        # Choices are checked again: email may have been turned off for a kind since.
        choices = selectors.preferences_of(user.pk)
        items = [
            n
            for n in waiting
            if user.is_active and n.read_at is None and n.kind in choices and choices[n.kind].email
        ]
        kept = {n.pk for n in items}
        Notification.objects.filter(pk__in=[n.pk for n in waiting if n.pk not in kept]).update(
            email_status=Notification.EmailStatus.NONE
        )
        now = timezone.now()
        if items:
            emails.digest_email(
                user=user, day=digest.day, notifications=items, digest_id=digest.pk
            ).send()
            Notification.objects.filter(pk__in=kept).update(
                email_status=Notification.EmailStatus.IN_DIGEST, emailed_at=now, digest=digest
            )
        digest.sent_at = now
        digest.save(update_fields=["sent_at"])
    logger.info(
        "notifications.digest_sent",
        extra={
            "event": "notifications.digest_sent",
            "user_id": digest.user_id,
            "count": len(items),
        },
    )
    return "sent" if items else "empty"
