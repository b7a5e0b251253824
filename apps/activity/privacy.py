from __future__ import annotations

from typing import Any

from apps.activity.models import ActivityEvent
from apps.privacy.helpers import rows
from apps.privacy.registry import PersonalData, register


def export_user_data(user: Any) -> dict[str, Any]:
    return {"events": rows(ActivityEvent.objects.filter(actor=user))}


def erase_user_data(user: Any) -> None:
    # The audit trail is kept (what happened), without the person's IP and user agent.
    ActivityEvent.objects.filter(actor=user).update(ip_address=None, user_agent="")


register(
    PersonalData(
        app_label="activity",
        models=("activity.ActivityEvent",),
        purpose="Security and accountability: who did what, from where",
        categories=("actions", "IP addresses", "user agents"),
        retention="ACTIVITY_RETENTION_DAYS",
        exporter=export_user_data,
        eraser=erase_user_data,
        recipients=("staff",),
    )
)
