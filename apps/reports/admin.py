"""Reports in the admin: a read-only list for staff looking into a stuck or failed report. The
files themselves are never reachable from here (only the requester downloads them)."""

from __future__ import annotations

from django.contrib import admin

from apps.core.admin import RecordAdmin
from apps.reports.models import Report


@admin.register(Report)
class ReportAdmin(RecordAdmin):
    list_display = [
        "pk",
        "kind",
        "requested_by",
        "course",
        "session",
        "file_format",
        "status",
        "progress",
        "attempts",
        "error_code",
        "created_at",
        "expires_at",
    ]
    list_filter = ["status", "kind", "file_format", "created_at"]
    search_fields = ["requested_by__email", "course__title", "session__title"]
    list_select_related = ["requested_by", "course", "session"]
    date_hierarchy = "created_at"
    ordering = ["-created_at"]
    # Read-only (RecordAdmin), deletion too: rows and files go together, and the hourly
    # clean-up deletes files, nothing else does.
