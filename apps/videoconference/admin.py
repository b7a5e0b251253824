"""Admin for live sessions: staff look after sessions (changes and "end" go through the
services); attendance and chat are records, read-only here."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from apps.core.admin import RecordAdmin, StaffAdmin
from apps.core.http import AuthenticatedRequest
from apps.videoconference import services
from apps.videoconference.models import Attendance, ChatMessage, VideoSession

LIFECYCLE_FIELDS = ["course", "host", "kind", "status", "meeting_token", "meeting_link"]
TIMESTAMPS = ["started_at", "ended_at", "created_at", "updated_at"]


@admin.register(VideoSession)
class VideoSessionAdmin(StaffAdmin):
    list_display = ["title", "course", "host", "kind", "status", "starts_at", "join_policy"]
    list_filter = ["status", "kind", "join_policy", "starts_at"]
    search_fields = ["title", "course__title", "host__email", "host__display_name"]
    list_select_related = ["course", "host"]
    date_hierarchy = "starts_at"
    ordering = ["-starts_at"]
    fields = [*LIFECYCLE_FIELDS, *services.EDITABLE_FIELDS, *TIMESTAMPS]
    actions = ["end_selected"]

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        # Sessions are scheduled on the site, where the scheduling rules apply.
        return False

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        if obj is not None and obj.is_over:
            return [*LIFECYCLE_FIELDS, *services.EDITABLE_FIELDS, *TIMESTAMPS]  # a record now
        return [*LIFECYCLE_FIELDS, *TIMESTAMPS]

    @admin.display(description=_("meeting address"))
    def meeting_link(self, obj: VideoSession) -> str:
        return format_html('<a href="{}">{}</a>', obj.meeting_url, obj.meeting_url)

    def save_model(self, request: HttpRequest, obj: VideoSession, form: Any, change: bool) -> None:
        changes = {
            name: form.cleaned_data[name]
            for name in form.changed_data
            if name in services.EDITABLE_FIELDS
        }
        if changes:
            services.update_session(actor=request.user, session=obj, **changes)  # type: ignore[arg-type]

    @admin.action(description=_("End selected sessions for everyone"))
    def end_selected(self, request: AuthenticatedRequest, queryset: QuerySet[VideoSession]) -> None:
        ended = 0
        for session in queryset.exclude(status__in=VideoSession.OVER_STATUSES):
            services.end_session(actor=request.user, session=session)
            ended += 1
        self.message_user(request, _("%(n)d session(s) ended.") % {"n": ended}, messages.SUCCESS)


@admin.register(Attendance)
class AttendanceAdmin(RecordAdmin):
    list_display = ["session", "user", "role", "joined_at", "left_at", "admitted", "removed"]
    list_filter = ["role", "admitted", "removed", "joined_at"]
    search_fields = ["session__title", "user__email", "user__display_name", "peer_id"]
    list_select_related = ["session", "user"]
    ordering = ["-joined_at"]


@admin.register(ChatMessage)
class ChatMessageAdmin(RecordAdmin):
    list_display = ["session", "author", "excerpt", "sent_at", "removed_at"]
    list_filter = ["sent_at", "removed_at"]
    search_fields = ["session__title", "author__email", "text"]
    list_select_related = ["session", "author"]
    ordering = ["-sent_at"]

    @admin.display(description=_("message"))
    def excerpt(self, obj: ChatMessage) -> str:
        return obj.text[:80]
