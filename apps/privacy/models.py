"""Erasure requests (Art. 17): asked for, cancellable during a grace period, then run once.
Policy documents (terms, privacy notice) in versions; the append-only consent record (Art. 7)."""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ErasureRequest(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    # SET_NULL keeps the request (without personal data) as proof the erasure ran.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="erasure_requests",
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    requested_at = models.DateTimeField(auto_now_add=True)
    due_at = models.DateTimeField()
    cancelled_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-requested_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=models.Q(status__in=["pending", "running"]),
                name="one_open_erasure_per_user",
            )
        ]

    def __str__(self) -> str:
        return f"erasure {self.pk} ({self.status})"


# The current documents are cached (apps.privacy.consent.current_documents) under this key;
# saving a document forgets them, at once and again after the commit.
CURRENT_CACHE_KEY = "privacy:current-documents"


def forget_current_documents() -> None:
    cache.delete(CURRENT_CACHE_KEY)
    transaction.on_commit(lambda: cache.delete(CURRENT_CACHE_KEY))


class PolicyDocument(models.Model):
    """One version of a document every account must accept. The current version of a kind is the
    one published last (`published_at` not in the future); publishing a new version makes every
    signed-in person accept it again (apps.privacy.middleware). Versions are never edited once
    people have accepted them: add a new one."""

    class Kind(models.TextChoices):
        TERMS = "terms", _("Terms of use")
        PRIVACY_NOTICE = "privacy_notice", _("Privacy notice")

    kind = models.CharField(_("document"), max_length=20, choices=Kind.choices)
    version = models.CharField(_("version"), max_length=20)
    published_at = models.DateTimeField(_("published"), default=timezone.now)
    # What changed since the previous version, shown when people are asked to accept again.
    summary = models.TextField(_("summary of changes"), blank=True, max_length=1000)
    body = models.TextField(_("text"))

    class Meta:
        ordering = ["kind", "-published_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "version"], name="policy_document_version")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.version}"

    def save(self, *args: object, **kwargs: object) -> None:
        super().save(*args, **kwargs)  # type: ignore[arg-type]
        forget_current_documents()


class Consent(models.Model):
    """One giving or withdrawing of consent, never changed or deleted while the account exists:
    the history is the proof (Art. 7(1)). Either the acceptance of one version of a required
    document (`document` set, always given) or an optional purpose (`purpose` set, given or
    withdrawn; `version` is the version of the purpose's wording)."""

    class Source(models.TextChoices):
        SIGNUP = "signup", _("Sign-up form")
        CONSENT_PAGE = "consent_page", _("Asked to accept a new version")
        PRIVACY_PAGE = "privacy_page", _("Privacy page")
        NOTIFICATION_SETTINGS = "notifications", _("Notification settings or unsubscribe link")
        SEED = "seed", _("Created with the account by staff tooling")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="consents"
    )
    document = models.ForeignKey(
        PolicyDocument, on_delete=models.PROTECT, null=True, blank=True, related_name="consents"
    )
    purpose = models.CharField(_("purpose"), max_length=40, blank=True)
    version = models.CharField(_("version"), max_length=20)
    given = models.BooleanField(_("given"))
    at = models.DateTimeField(_("when"), default=timezone.now)
    source = models.CharField(max_length=20, choices=Source.choices)
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [
            models.Index(fields=["user", "purpose", "-at"], name="consent_user_purpose"),
            models.Index(fields=["user", "document"], name="consent_user_document"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(Q(document__isnull=False, purpose="", given=True))
                | (Q(document__isnull=True) & ~Q(purpose="")),
                name="consent_document_xor_purpose",
            )
        ]

    def __str__(self) -> str:
        what = self.purpose or f"document {self.document_id}"
        return f"{self.user_id} {what} v{self.version}: {'given' if self.given else 'withdrawn'}"
