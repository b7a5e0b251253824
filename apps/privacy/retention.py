"""Retention: personal data past its period is deleted, one function per kind of data.

Each kind reads its period from a setting (`RETENTION_CHAT_DAYS`, `RETENTION_ATTENDANCE_DAYS`,
`ACTIVITY_RETENTION_DAYS`) and deletes in batches by primary key, so memory stays bounded and
no single statement locks a whole table. The daily beat task `privacy.apply_retention` runs every
kind; report files have their own hourly clean-up (`reports.delete_expired`, REPORTS_TTL_HOURS).
Every function is safe to run twice or at once: a second run finds nothing left to delete.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

BATCH_SIZE = 1000


def delete_in_batches(queryset: QuerySet[Any], *, batch_size: int = BATCH_SIZE) -> int:
    """Delete the queryset's rows `batch_size` primary keys at a time; returns how many went."""
    model = queryset.model
    deleted = 0
    while True:
        pks = list(queryset.order_by("pk").values_list("pk", flat=True)[:batch_size])
        if not pks:
            return deleted
        # Count the rows of this model only, not the rows a cascade took with them.
        deleted += model._default_manager.filter(pk__in=pks).delete()[1].get(model._meta.label, 0)


def _cutoff(setting: str, now: datetime | None) -> datetime:
    return (now or timezone.now()) - timedelta(days=getattr(settings, setting))


def delete_old_chat_messages(*, now: datetime | None = None, batch_size: int = BATCH_SIZE) -> int:
    """Session chat lines sent more than RETENTION_CHAT_DAYS ago."""
    from apps.videoconference.models import ChatMessage

    cutoff = _cutoff("RETENTION_CHAT_DAYS", now)
    return delete_in_batches(ChatMessage.objects.filter(sent_at__lt=cutoff), batch_size=batch_size)


def delete_old_attendance(*, now: datetime | None = None, batch_size: int = BATCH_SIZE) -> int:
    """Attendance records of connections that began more than RETENTION_ATTENDANCE_DAYS ago."""
    from apps.videoconference.models import Attendance

    cutoff = _cutoff("RETENTION_ATTENDANCE_DAYS", now)
    return delete_in_batches(Attendance.objects.filter(joined_at__lt=cutoff), batch_size=batch_size)


def delete_old_activity(*, now: datetime | None = None, batch_size: int = BATCH_SIZE) -> int:
    """Activity events older than ACTIVITY_RETENTION_DAYS (the activity app's own function)."""
    from apps.activity.services import delete_events_before, retention_cutoff

    return delete_events_before(retention_cutoff(now), batch_size=batch_size)


@dataclass(frozen=True)
class Kind:
    name: str
    setting: str
    apply: Callable[..., int]


KINDS: tuple[Kind, ...] = (
    Kind("chat_messages", "RETENTION_CHAT_DAYS", delete_old_chat_messages),
    Kind("attendance", "RETENTION_ATTENDANCE_DAYS", delete_old_attendance),
    Kind("activity_events", "ACTIVITY_RETENTION_DAYS", delete_old_activity),
)


def apply_retention(*, now: datetime | None = None, batch_size: int = BATCH_SIZE) -> dict[str, int]:
    """Every kind, in turn; how many rows of each were deleted."""
    now = now or timezone.now()
    return {kind.name: kind.apply(now=now, batch_size=batch_size) for kind in KINDS}
