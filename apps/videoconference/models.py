"""Live sessions and what happens in them: who is connected (Attendance) and what was said (chat).

Room state lives here and in the channel layer, never in a process: every uvicorn process behind
the load balancer reads the same rows. An Attendance row is one WebSocket connection.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from apps.core.models import TimeStampedModel


def new_meeting_token() -> str:
    """256 random bits, URL-safe (43 characters)."""
    return secrets.token_urlsafe(32)


def new_peer_id() -> str:
    return secrets.token_urlsafe(12)


def new_feed_token() -> str:
    return secrets.token_urlsafe(32)


class VideoSession(TimeStampedModel):
    class Kind(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        INSTANT = "instant", _("Instant")

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        LIVE = "live", _("Live")
        ENDED = "ended", _("Ended")
        CANCELLED = "cancelled", _("Cancelled")

    # A session in one of these can no longer be joined, started or changed.
    OVER_STATUSES = (Status.ENDED, Status.CANCELLED)

    class JoinPolicy(models.TextChoices):
        MEMBERS = "members", _("Course members only")
        LINK = "link", _("Anyone signed in who has the link")
        LOBBY = "lobby", _("Anyone signed in with the link, admitted by a host")

    course = models.ForeignKey(
        "courses.Course",
        on_delete=models.CASCADE,
        related_name="video_sessions",
        null=True,
        blank=True,
        verbose_name=_("course"),
    )
    host = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="hosted_sessions",
        verbose_name=_("host"),
    )
    title = models.CharField(_("title"), max_length=160)
    description = models.TextField(_("description"), blank=True, max_length=2000)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.SCHEDULED)
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.SCHEDULED)
    started_at = models.DateTimeField(null=True, blank=True, editable=False)
    ended_at = models.DateTimeField(null=True, blank=True, editable=False)
    meeting_token = models.CharField(
        max_length=64, unique=True, default=new_meeting_token, editable=False
    )
    join_policy = models.CharField(
        _("who may join"), max_length=16, choices=JoinPolicy.choices, default=JoinPolicy.MEMBERS
    )
    participant_cap = models.PositiveSmallIntegerField(
        _("participant limit"),
        default=50,
        help_text=_("The most people connected at once, hosts included (2 to 500)."),
    )
    # The start time each reminder was sent for (apps/videoconference/tasks.py): a run of the
    # reminder task skips sessions already reminded, and a session moved to another time is
    # reminded again for its new time.
    reminder_24h_sent_for = models.DateTimeField(null=True, blank=True, editable=False)
    reminder_15m_sent_for = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["starts_at", "id"]
        indexes = [
            models.Index(fields=["course", "status", "starts_at"], name="vsession_course_status"),
            models.Index(fields=["host", "status", "starts_at"], name="vsession_host_status"),
            models.Index(fields=["status", "starts_at"], name="vsession_status_start"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="vsession_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(participant_cap__gte=2) & Q(participant_cap__lte=500),
                name="vsession_cap_range",
            ),
            models.CheckConstraint(
                condition=Q(kind="instant") | Q(course__isnull=False),
                name="vsession_scheduled_has_course",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        errors: dict[str, Any] = {}
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            errors["ends_at"] = _("The end must be after the start.")
        if not 2 <= (self.participant_cap or 0) <= 500:
            errors["participant_cap"] = _("Choose between 2 and 500 people.")
        if self.kind == self.Kind.SCHEDULED and self.course_id is None:
            errors["course"] = _("A scheduled session belongs to a course.")
        if errors:
            raise ValidationError(errors)

    @property
    def meeting_url(self) -> str:
        """The join page's path; derived from the token, so nobody can edit it."""
        return reverse("videoconference:room", kwargs={"token": self.meeting_token})

    def get_absolute_url(self) -> str:
        return self.meeting_url

    @property
    def websocket_path(self) -> str:
        return f"/ws/videoconference/{self.meeting_token}/"

    @property
    def is_live(self) -> bool:
        return self.status == self.Status.LIVE

    @property
    def is_over(self) -> bool:
        return self.status in self.OVER_STATUSES


class Attendance(models.Model):
    """One WebSocket connection to a session; with `left_at` empty it is a peer in the room."""

    class Role(models.TextChoices):
        HOST = "host", _("Host")
        PARTICIPANT = "participant", _("Participant")

    session = models.ForeignKey(VideoSession, on_delete=models.CASCADE, related_name="attendance")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="attendance"
    )
    peer_id = models.CharField(max_length=32, unique=True, default=new_peer_id, editable=False)
    channel_name = models.CharField(max_length=200, editable=False)
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.PARTICIPANT)
    joined_at = models.DateTimeField(auto_now_add=True)
    left_at = models.DateTimeField(null=True, blank=True)
    last_seen = models.DateTimeField(auto_now_add=True)
    admitted = models.BooleanField(default=True)
    removed = models.BooleanField(default=False)
    audio = models.BooleanField(default=True)
    video = models.BooleanField(default=True)
    screen = models.BooleanField(default=False)
    hand = models.BooleanField(default=False)

    class Meta:
        ordering = ["joined_at", "id"]
        indexes = [
            models.Index(fields=["session", "left_at", "admitted"], name="attendance_room"),
            models.Index(fields=["session", "user"], name="attendance_session_user"),
            models.Index(fields=["left_at", "last_seen"], name="attendance_stale"),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.session} ({self.peer_id})"


class ChatMessage(models.Model):
    session = models.ForeignKey(VideoSession, on_delete=models.CASCADE, related_name="chat")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="chat_messages"
    )
    text = models.TextField(max_length=2000)
    sent_at = models.DateTimeField(auto_now_add=True)
    removed_at = models.DateTimeField(null=True, blank=True)
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["sent_at", "id"]
        indexes = [models.Index(fields=["session", "sent_at"], name="chat_session_sent")]

    def __str__(self) -> str:
        return f"{self.author}: {self.text[:40]}"


class CalendarFeed(models.Model):
    """A user's secret calendar-feed address; rotating the token revokes the old address."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed"
    )
    token = models.CharField(max_length=64, unique=True, default=new_feed_token)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Calendar feed of {self.user}"
