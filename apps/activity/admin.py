from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from apps.activity.models import ActivityEvent
from apps.core.admin import RecordAdmin


@admin.register(ActivityEvent)
class ActivityEventAdmin(RecordAdmin):
    """Read-only, for staff: nobody edits or deletes the audit trail by hand."""

    list_display = ("created_at", "action", "actor", "target_type", "target_id", "ip_address")
    list_filter = ("action",)
    search_fields = ("action", "target_type", "target_id", "actor__email")
    list_select_related = ("actor",)
    readonly_fields = [f.name for f in ActivityEvent._meta.fields]
    date_hierarchy = "created_at"

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
