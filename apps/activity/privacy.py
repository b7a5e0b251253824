from __future__ import annotations

from typing import Any

from apps.activity.models import ActivityEvent
from apps.core.personal_data import PersonalData, RetentionPeriod, register, rows


def export_user_data(user: Any) -> dict[str, Any]:
    return {"events": rows(ActivityEvent.objects.filter(actor=user))}


def erase_user_data(user: Any) -> None:
    # The audit trail is kept (what happened), without the person's IP and user agent.
    ActivityEvent.objects.filter(actor=user).update(ip_address=None, user_agent="")
    # Events about the account (done by others) name it by number only.
    ActivityEvent.objects.filter(
        target_type=type(user)._meta.label_lower, target_id=str(user.pk)
    ).update(target_label=f"account {user.pk}")


register(
    PersonalData(
        app_label="activity",
        models=("activity.ActivityEvent",),
        purpose="Security and accountability: who did what, from where",
        categories=("actions", "IP addresses", "user agents"),
        retention="Deleted after a period",
        exporter=export_user_data,
        eraser=erase_user_data,
        recipients=("staff",),
        retention_periods=(RetentionPeriod("activity events", "ACTIVITY_RETENTION_DAYS"),),
        erasure="Events kept without the IP address and user agent",
    )
)
