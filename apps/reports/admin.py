"""Reports in the admin: a read-only list for staff looking into a stuck or failed report. The
files themselves are never reachable from here (only the requester downloads them)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from apps.courses.admin import StaffAdmin
from apps.reports.models import Report


@admin.register(Report)
class ReportAdmin(StaffAdmin):
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

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Rows and files go together; the hourly clean-up deletes files, nothing else does.
        return False
