"""`{% session_privacy_notice %}`: what a live session keeps about you, for how long (shown
before joining, so people know before any record exists)."""

from __future__ import annotations

from typing import Any

from django import template
from django.conf import settings

register = template.Library()


@register.inclusion_tag("privacy/_session_notice.html")
def session_privacy_notice() -> dict[str, Any]:
    return {
        "attendance_days": settings.RETENTION_ATTENDANCE_DAYS,
        "chat_days": settings.RETENTION_CHAT_DAYS,
    }
