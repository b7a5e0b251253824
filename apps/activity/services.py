"""Recording activity: `record(actor, action, target, **context)`, written after commit.

One call per thing worth auditing, from the service (or allauth signal receiver) that did it.
The row is written in `transaction.on_commit`, so an action that is rolled back leaves no event,
and the write never slows down or breaks the action itself (a failed write is logged).
"""

from __future__ import annotations

import logging
import re
from typing import Any

from django.db import models, transaction
from django.http import HttpRequest

logger = logging.getLogger(__name__)

ACTION_RE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*){2,}$")
USER_AGENT_MAX = 300
LABEL_MAX = 200


def client_ip(request: HttpRequest | None) -> str | None:
    """The client's address as the server saw it (REMOTE_ADDR; a proxy must set it right)."""
    if request is None:
        return None
    address = request.META.get("REMOTE_ADDR") or None
    return address


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

    `action` is namespaced, `<app>.<object>.<verb>` (ValueError otherwise: a typo must fail in
    tests, not vanish). `target` is a model instance (or None). With `request`, the client's IP
    address and user agent are kept. `context` holds JSON-safe details (models become their pk).
    """
    if not ACTION_RE.match(action):
        raise ValueError(f"activity action names are '<app>.<object>.<verb>': {action!r}")
    from apps.activity.models import ActivityEvent

    actor_id = actor.pk if getattr(actor, "is_authenticated", False) and actor.pk else None
    target_type = target_id = ""
    label = target_label or ""
    if isinstance(target, models.Model):
        target_type = target._meta.label_lower
        target_id = str(target.pk)
        if not label:
            label = str(target)
    if request is not None:
        ip_address = ip_address or client_ip(request)
        user_agent = user_agent or request.headers.get("User-Agent", "")
    event = ActivityEvent(
        actor_id=actor_id,
        action=action,
        target_type=target_type,
        target_id=target_id[:64],
        target_label=label[:LABEL_MAX],
        ip_address=ip_address or None,
        user_agent=(user_agent or "")[:USER_AGENT_MAX],
        context=_json_safe(context),
    )

    def write() -> None:
        try:
            event.save(force_insert=True)
        except Exception:
            logger.exception("activity.record_failed", extra={"action": action})

    transaction.on_commit(write)
