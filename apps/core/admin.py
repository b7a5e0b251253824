"""Admin bases every app's admin uses: the staff role may manage, records are read-only, and
each bulk action is recorded in the activity log."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import models
from django.http import HttpRequest

from apps.accounts.policies import is_staff
from apps.activity.services import record


class StaffAdmin(admin.ModelAdmin):
    """Catalog admin for the staff role (which the `is_staff` flag implies), not only superusers:
    the roles grant no model permissions, so without this staff would see an empty admin."""

    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_staff(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_staff(request.user)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return is_staff(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_staff(request.user)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_staff(request.user)

    def response_action(self, request: HttpRequest, queryset: Any) -> Any:
        """Run a changelist action, and record it in the activity log (`admin.action.run`)."""
        from django.contrib.admin import helpers

        selected = request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)
        select_across = request.POST.get("select_across") == "1"
        response = super().response_action(request, queryset)
        if response is not None:
            record(
                request.user,
                "admin.action.run",
                request=request,
                target_label=self.model._meta.label_lower,
                action_name=request.POST.get("action", ""),
                model=self.model._meta.label_lower,
                count=queryset.count() if select_across else len(selected),
                select_across=select_across,
            )
        return response


class RecordAdmin(StaffAdmin):
    """Records (attendance, notifications sent, reports): staff may look, nobody edits them
    after the fact."""

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
