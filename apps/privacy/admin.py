"""Staff publish new versions of the required documents; consent records are read-only."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from apps.core.admin import RecordAdmin, StaffAdmin
from apps.privacy.models import Consent, PolicyDocument


@admin.register(PolicyDocument)
class PolicyDocumentAdmin(StaffAdmin):
    """A new version is a new row; a version someone accepted can no longer be changed
    (their acceptance is of that text)."""

    list_display = ("kind", "version", "published_at")
    list_filter = ("kind",)
    ordering = ("kind", "-published_at")

    def _accepted(self, obj: PolicyDocument | None) -> bool:
        return obj is not None and obj.consents.exists()

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_change_permission(request, obj) and not self._accepted(obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_delete_permission(request, obj) and not self._accepted(obj)


@admin.register(Consent)
class ConsentAdmin(RecordAdmin):
    list_display = ("at", "user", "document", "purpose", "version", "given", "source")
    list_filter = ("source", "given", "purpose")
    search_fields = ("user__email",)
    list_select_related = ("user", "document")
    readonly_fields = [f.name for f in Consent._meta.fields]
    date_hierarchy = "at"
