"""The activity log: who did what to which object, when, and from where.

Rows are written once (on commit, by `apps.activity.services.record`) and never edited; the
retention task deletes them after `ACTIVITY_RETENTION_DAYS`. The actor is kept as a nullable
foreign key so an erased person's events stay (for the audit trail) without pointing at them.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ActivityEvent(models.Model):
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="activity_events",
    )
    # Namespaced: "<app>.<object>.<verb>", e.g. "accounts.login.failed".
    action = models.CharField(_("action"), max_length=80)
    # The object acted on: "<app_label>.<model>" and its primary key (or token) as text.
    target_type = models.CharField(_("target type"), max_length=80, blank=True)
    target_id = models.CharField(_("target id"), max_length=64, blank=True)
    # A short human label of the target at the time (a course title, a session title); never an
    # email address or a person's name unless the target is that person's own account.
    target_label = models.CharField(_("target"), max_length=200, blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=300, blank=True)
    # Anything else worth keeping about the event (JSON-safe values only).
    context = models.JSONField(_("details"), default=dict, blank=True)
    created_at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("activity event")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["actor", "-created_at"], name="activity_actor_recent"),
            models.Index(fields=["action", "-created_at"], name="activity_action_recent"),
            models.Index(fields=["target_type", "target_id"], name="activity_target"),
        ]

    def __str__(self) -> str:
        return f"{self.action} by {self.actor_id or '-'} at {self.created_at:%Y-%m-%d %H:%M}"
