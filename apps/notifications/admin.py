"""Admin for notifications: what was sent to whom is a record (read-only); a person's settings
can be changed for them (say, after a complaint), through the same service as the settings page."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from apps.core.admin import RecordAdmin, StaffAdmin
from apps.notifications import services
from apps.notifications.models import DeliverySettings, Digest, Notification, Preference


@admin.register(Notification)
class NotificationAdmin(RecordAdmin):
    list_display = ["title", "recipient", "kind", "created_at", "read_at", "email_status"]
    list_filter = ["kind", "email_status", "show_in_app", "created_at"]
    search_fields = ["recipient__email"]
    list_select_related = ["recipient"]
    date_hierarchy = "created_at"
    ordering = ["-created_at"]
    show_full_result_count = False  # the table grows large; counting it all is slow


@admin.register(Digest)
class DigestAdmin(RecordAdmin):
    list_display = ["user", "day", "created_at", "sent_at"]
    list_filter = ["day"]
    search_fields = ["user__email"]
    list_select_related = ["user"]
    ordering = ["-day"]


class SettingsAdmin(StaffAdmin):
    """Settings are made on the site (defaults need no row); staff may change an existing one."""

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Preference)
class PreferenceAdmin(SettingsAdmin):
    list_display = ["user", "kind", "in_app", "email", "updated_at"]
    list_filter = ["kind", "in_app", "email"]
    search_fields = ["user__email"]
    list_select_related = ["user"]
    fields = ["user", "kind", "in_app", "email", "updated_at"]
    readonly_fields = ["user", "kind", "updated_at"]
    ordering = ["user", "kind"]

    def save_model(self, request: HttpRequest, obj: Preference, form: Any, change: bool) -> None:
        services.set_preferences(user=obj.user, choices={obj.kind: (obj.in_app, obj.email)})


@admin.register(DeliverySettings)
class DeliverySettingsAdmin(SettingsAdmin):
    list_display = ["user", "email_frequency", "updated_at"]
    list_filter = ["email_frequency"]
    search_fields = ["user__email"]
    list_select_related = ["user"]
    fields = ["user", "email_frequency", "updated_at"]
    readonly_fields = ["user", "updated_at"]
    ordering = ["user"]

    def save_model(
        self, request: HttpRequest, obj: DeliverySettings, form: Any, change: bool
    ) -> None:
        services.set_preferences(user=obj.user, choices={}, email_frequency=obj.email_frequency)
