"""Who may see and change a notification: only the person it was sent to."""

from __future__ import annotations

from typing import Any

from apps.core.errors import NotFound
from apps.notifications.models import Notification


def can_read(user: Any, notification: Notification) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and notification.recipient_id == user.pk


def get_notification_for_user(*, user: Any, pk: int) -> Notification:
    """The user's own notification; someone else's answers exactly like a missing one."""
    notification = Notification.objects.filter(pk=pk).first()
    if notification is None or not can_read(user, notification):
        raise NotFound()
    return notification
