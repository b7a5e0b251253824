from __future__ import annotations

from typing import Any

from apps.core.personal_data import PersonalData, register, rows
from apps.notifications.models import DeliverySettings, Digest, Notification, Preference


def export_user_data(user: Any) -> dict[str, Any]:
    return {
        "notifications": rows(Notification.objects.filter(recipient=user)),
        "preferences": rows(Preference.objects.filter(user=user)),
        "delivery_settings": rows(DeliverySettings.objects.filter(user=user)),
        "digests": rows(Digest.objects.filter(user=user)),
    }


def erase_user_data(user: Any) -> None:
    Notification.objects.filter(recipient=user).delete()
    Digest.objects.filter(user=user).delete()
    Preference.objects.filter(user=user).delete()
    DeliverySettings.objects.filter(user=user).delete()


register(
    PersonalData(
        app_label="notifications",
        models=(
            "notifications.Notification",
            "notifications.Preference",
            "notifications.DeliverySettings",
            "notifications.Digest",
        ),
        purpose="Telling a person about their courses and sessions, in app and by email",
        categories=("notifications", "notification preferences", "email digests"),
        retention="While the account exists",
        exporter=export_user_data,
        eraser=erase_user_data,
    )
)
