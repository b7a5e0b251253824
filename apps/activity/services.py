"""Recording activity: `record(actor, action, target, **context)`, written after commit.

One call per thing worth auditing, from the service (or allauth signal receiver) that did it.
The row is written in `transaction.on_commit`, so an action that is rolled back leaves no event,
and the write never slows down or breaks the action itself (a failed write is logged).
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.http import HttpRequest
from django.utils import timezone

logger = logging.getLogger(__name__)

ACTION_RE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*){2,}$")
USER_AGENT_MAX = 300
LABEL_MAX = 200


def client_ip(request: HttpRequest | None) -> str | None:
    """The client's address as the server saw it (REMOTE_ADDR; a proxy must set it right)."""
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def _json_safe(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple | set | frozenset):
        return [_json_safe(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, models.Model):
        return value.pk
    return str(value)


def record(
    actor: Any,
    action: str,
    target: Any = None,
    *,
    request: HttpRequest | None = None,
    ip_address: str | None = None,
    user_agent: str | None = None,
    target_label: str | None = None,
    **context: Any,
) -> None:
    """Record that `actor` (a user, or None for the system/anonymous) did `action` to `target`.

    `action` is namespaced, `<app>.<object>.<verb>` and listed in apps/activity/actions.py
    (ValueError otherwise: a typo must fail in tests, not vanish). `actor` may also be a user
    id. `target` is a model instance, a `("<app>.<model>", pk)` pair, or None. With `request`,
    the client's IP address and user agent are kept. `context` holds JSON-safe details (models
    become their pk).
    """
    if not ACTION_RE.match(action):
        raise ValueError(f"activity action names are '<app>.<object>.<verb>': {action!r}")
    from apps.activity.actions import ACTIONS

    if action not in ACTIONS:
        raise ValueError(
            f"unknown activity action (add it to apps/activity/actions.py): {action!r}"
        )
    from apps.activity.models import ActivityEvent

    if isinstance(actor, int) and not isinstance(actor, bool):
        actor_id: int | None = actor  # an actor known only by id (e.g. from a socket)
    else:
        actor_id = actor.pk if getattr(actor, "is_authenticated", False) and actor.pk else None
    target_type = target_id = ""
    label = target_label or ""
    if isinstance(target, models.Model):
        target_type = target._meta.label_lower
        target_id = str(target.pk)
        if not label:
            label = str(target)
    elif isinstance(target, tuple) and len(target) == 2:
        # ("<app_label>.<model>", pk) when only the id is at hand.
        target_type, target_id = str(target[0]), str(target[1])
    if request is not None:
        ip_address = ip_address or client_ip(request)
        user_agent = user_agent or request.headers.get("User-Agent", "")
    fields = {
        "actor_id": actor_id,
        "action": action,
        "target_type": target_type,
        "target_id": target_id[:64],
        "target_label": label[:LABEL_MAX],
        "ip_address": ip_address or None,
        "user_agent": (user_agent or "")[:USER_AGENT_MAX],
        "context": _json_safe(context),
    }

    def write() -> None:
        # A fresh row per call (a callback run twice, as a redelivery test does, writes two
        # events rather than failing on one primary key), in a savepoint so a failed write
        # never breaks a transaction the caller is still in.
        try:
            with transaction.atomic():
                ActivityEvent.objects.create(**fields)
        except Exception:
            logger.exception("activity.record_failed", extra={"action": action})

    transaction.on_commit(write)


def delete_events_before(cutoff: datetime, *, batch_size: int = 1000) -> int:
    """Delete every event created before `cutoff`, in batches by pk; returns how many went."""
    from apps.activity.models import ActivityEvent

    deleted = 0
    while True:
        pks = list(
            ActivityEvent.objects.filter(created_at__lt=cutoff)
            .order_by("pk")
            .values_list("pk", flat=True)[:batch_size]
        )
        if not pks:
            return deleted
        count, _ = ActivityEvent.objects.filter(pk__in=pks).delete()
        deleted += count


def retention_cutoff(now: datetime | None = None) -> datetime:
    """The moment before which events are past `ACTIVITY_RETENTION_DAYS`."""
    return (now or timezone.now()) - timedelta(days=settings.ACTIVITY_RETENTION_DAYS)
