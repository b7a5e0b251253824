"""Notifications, each person's delivery preferences and the daily digests sent."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from apps.notifications.kinds import KIND_CHOICES


class Notification(models.Model):
    """One event told to one person. The row exists whatever the channels: it is the record
    that the person was notified, and what makes a repeated event (a redelivered task, a
    restarted beat) a no-op through `dedupe_key`."""

    class EmailStatus(models.TextChoices):
        NONE = "none", _("not emailed")  # email off for this kind
        PENDING = "pending", _("waiting to be sent")
        SENT = "sent", _("sent")
        DIGEST = "digest", _("waiting for the daily digest")
        IN_DIGEST = "in_digest", _("sent in a digest")
        FAILED = "failed", _("could not be sent")

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(_("kind"), max_length=40, choices=KIND_CHOICES)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"), blank=True, max_length=2000)
    # A path on this site ("/live/…"); emails make it absolute with SITE_URL.
    url = models.CharField(_("link"), max_length=500, blank=True)
    # When the thing happens (a session's start), shown in the reader's time zone.
    event_at = models.DateTimeField(_("event time"), null=True, blank=True)
    # Same key for the same event and person: the second notify() of it does nothing.
    dedupe_key = models.CharField(max_length=200, blank=True)
    show_in_app = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)
    email_status = models.CharField(
        max_length=12, choices=EmailStatus.choices, default=EmailStatus.NONE
    )
    emailed_at = models.DateTimeField(null=True, blank=True)
    digest = models.ForeignKey(
        "notifications.Digest",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="notifications",
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "dedupe_key"],
                condition=~Q(dedupe_key=""),
                name="notification_once_per_event",
            )
        ]
        indexes = [
            # The bell's unread count and the list page.
            models.Index(
                fields=["recipient", "show_in_app", "read_at"], name="notification_unread"
            ),
            models.Index(fields=["recipient", "-created_at"], name="notification_recent"),
            # The digest task's scan.
            models.Index(fields=["email_status", "recipient"], name="notification_email"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} → {self.recipient_id}: {self.title}"

    @property
    def is_unread(self) -> bool:
        return self.read_at is None


class Preference(models.Model):
    """A person's choice for one kind; no row means the kind's defaults."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    kind = models.CharField(max_length=40, choices=KIND_CHOICES)
    in_app = models.BooleanField(_("in the app"), default=True)
    email = models.BooleanField(_("by email"), default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="preference_once_per_kind")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind}: app={self.in_app} email={self.email}"


class DeliverySettings(models.Model):
    """How a person's emails are batched."""

    class Frequency(models.TextChoices):
        IMMEDIATE = "immediate", _("Send each email at once")
        DAILY = "daily", _("One daily digest of what I have not read")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_delivery"
    )
    email_frequency = models.CharField(
        _("email frequency"), max_length=10, choices=Frequency.choices, default=Frequency.IMMEDIATE
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.user_id}: {self.email_frequency}"


class Digest(models.Model):
    """One daily digest email; at most one per person per local day."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_digests"
    )
    day = models.DateField()  # in the person's time zone
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "day"], name="digest_once_per_day")]

    def __str__(self) -> str:
        return f"digest {self.user_id} {self.day}"
