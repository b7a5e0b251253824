"""Reports people ask for (course progress, session attendance): their state and their file.

The file lives under `settings.REPORTS_DIR` (outside MEDIA_ROOT, never served directly); the
row keeps its name relative to that directory, and only the download view reads it.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Report(models.Model):
    class Kind(models.TextChoices):
        COURSE_PROGRESS = "course_progress", _("Course progress")
        SESSION_ATTENDANCE = "session_attendance", _("Session attendance")
        # Staff: the activity log, filtered by `parameters` (apps.activity registers the source).
        ACTIVITY_LOG = "activity_log", _("Activity log")
        # A person's own data (Art. 15/20): a zip of JSON per app (apps.privacy's source).
        DATA_EXPORT = "data_export", _("Your data")

    class Format(models.TextChoices):
        CSV = "csv", _("CSV (comma-separated values)")
        XLSX = "xlsx", _("Excel workbook (.xlsx)")
        ZIP = "zip", _("Zip archive of JSON files")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Waiting to start")
        RUNNING = "running", _("Being prepared")
        DONE = "done", _("Ready")
        FAILED = "failed", _("Failed")
        EXPIRED = "expired", _("Expired")

    # Statuses in which a task still has work to do.
    PENDING_STATUSES = (Status.QUEUED, Status.RUNNING)

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reports"
    )
    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices)
    course = models.ForeignKey(
        "courses.Course", null=True, blank=True, on_delete=models.CASCADE, related_name="reports"
    )
    session = models.ForeignKey(
        "videoconference.VideoSession",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="reports",
    )
    # What a kind without a course or session is about: the activity log's filters.
    parameters = models.JSONField(default=dict, blank=True)
    file_format = models.CharField(
        _("format"), max_length=8, choices=Format.choices, default=Format.CSV
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    progress = models.PositiveSmallIntegerField(default=0, validators=[MaxValueValidator(100)])
    rows_done = models.PositiveIntegerField(default=0)
    rows_total = models.PositiveIntegerField(default=0)
    # Relative to settings.REPORTS_DIR; empty until the file is complete.
    file_name = models.CharField(max_length=200, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    error_code = models.CharField(max_length=40, blank=True)
    # Written with every chunk; a running report whose heartbeat is older than
    # REPORTS_STALE_AFTER_SECONDS lost its worker and may be taken over.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # Runs that claimed the report; also the fencing token: a run writes only while the row
    # still carries its own attempt number.
    attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("report")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["requested_by", "-created_at"], name="report_mine"),
            models.Index(fields=["status", "expires_at"], name="report_expiry"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(progress__lte=100), name="report_progress_max"),
            models.CheckConstraint(
                condition=(
                    Q(kind="course_progress", course__isnull=False, session__isnull=True)
                    | Q(kind="session_attendance", session__isnull=False, course__isnull=True)
                    | Q(
                        kind__in=["activity_log", "data_export"],
                        course__isnull=True,
                        session__isnull=True,
                    )
                ),
                name="report_subject_matches_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} ({self.status})"

    def get_absolute_url(self) -> str:
        return reverse("reports:detail", kwargs={"pk": self.pk})

    @property
    def title(self) -> str:
        """What the report is about, for its page, the list and the notification."""
        if self.kind == self.Kind.COURSE_PROGRESS and self.course is not None:
            return str(_("Progress report: %(title)s") % {"title": self.course.title})
        if self.session is not None:
            return str(_("Attendance report: %(title)s") % {"title": self.session.title})
        if self.kind == self.Kind.DATA_EXPORT:
            return str(_("Export of your data"))
        return str(self.get_kind_display())

    @property
    def is_pending(self) -> bool:
        return self.status in self.PENDING_STATUSES

    @property
    def is_done(self) -> bool:
        return self.status == self.Status.DONE

    @property
    def is_expired(self) -> bool:
        """Past its expiry: marked so by the hourly clean-up, or due and not yet cleaned up."""
        if self.status == self.Status.EXPIRED:
            return True
        return self.is_done and self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def is_downloadable(self) -> bool:
        return self.is_done and not self.is_expired

    @property
    def progress_text(self) -> str:
        """`40% — 200 of 500 rows`: what the bar shows, in words."""
        return str(
            _("%(percent)s%% — %(done)s of %(total)s rows")
            % {"percent": self.progress, "done": self.rows_done, "total": self.rows_total}
        )
