"""Reading the activity log: a person's own security events, and the staff's filtered log."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet

from apps.activity.models import ActivityEvent

# Sign-ins, from the actor's own events.
SIGN_IN_ACTIONS = ("accounts.login.succeeded", "accounts.login.failed")


def recent_sign_ins(user: Any, *, limit: int = 10) -> list[ActivityEvent]:
    """The person's latest sign-ins (and failed attempts on their account), newest first."""
    if not getattr(user, "is_authenticated", False):
        return []
    return list(
        ActivityEvent.objects.filter(actor_id=user.pk, action__in=SIGN_IN_ACTIONS).order_by(
            "-created_at", "-pk"
        )[:limit]
    )


def events_of(user: Any) -> QuerySet[ActivityEvent]:
    return ActivityEvent.objects.filter(actor_id=user.pk)


PAGE_SIZE = 25


def my_security_events(user: Any, *, page: Any = 1) -> Page:
    """The person's own security events, newest first, one page (2 queries: count and page)."""
    from apps.activity.actions import SECURITY_ACTIONS

    events = ActivityEvent.objects.filter(actor_id=user.pk, action__in=SECURITY_ACTIONS).order_by(
        "-created_at", "-pk"
    )
    return Paginator(events, PAGE_SIZE).get_page(page)
