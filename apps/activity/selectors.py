"""Reading the activity log: a person's own security events, and the staff's filtered log."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta, tzinfo
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


@dataclass(frozen=True)
class LogFilters:
    """The staff log's filters, validated (apps.activity.forms.ActivityLogFilterForm); empty
    values filter nothing. `action` is a full name, or a namespace ending in "." ("accounts.")."""

    actor: str = ""  # part of the actor's email address
    action: str = ""
    target: str = ""  # part of the target's label
    date_from: date | None = None  # first day, in the reader's time zone
    date_to: date | None = None  # last day (included)
    ip: str = ""  # one address, exactly

    def as_parameters(self) -> dict[str, str]:
        """JSON-safe, without the empty ones: what a report of the log keeps in `parameters`."""
        return {
            name: value.isoformat() if isinstance(value, date) else value
            for name, value in asdict(self).items()
            if value
        }


def _start_of(day: date, zone: tzinfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone)


def filter_events(
    events: QuerySet[ActivityEvent], filters: LogFilters, *, zone: tzinfo
) -> QuerySet[ActivityEvent]:
    """`events` narrowed by `filters`; the days are whole days in `zone`. The staff page and
    the activity log report both filter through here, so a file holds what the page showed."""
    if filters.actor:
        events = events.filter(actor__email__icontains=filters.actor)
    if filters.action.endswith("."):
        events = events.filter(action__startswith=filters.action)
    elif filters.action:
        events = events.filter(action=filters.action)
    if filters.target:
        events = events.filter(target_label__icontains=filters.target)
    if filters.date_from is not None:
        events = events.filter(created_at__gte=_start_of(filters.date_from, zone))
    if filters.date_to is not None:
        events = events.filter(created_at__lt=_start_of(filters.date_to + timedelta(days=1), zone))
    if filters.ip:
        events = events.filter(ip_address=filters.ip)
    return events


LOG_PAGE_SIZE = 50


def staff_log(filters: LogFilters, *, zone: tzinfo, page: Any = 1) -> Page:
    """One page of the whole log, filtered, newest first, with each event's actor (2 queries:
    count and page, whatever the page holds)."""
    events = filter_events(
        ActivityEvent.objects.select_related("actor"), filters, zone=zone
    ).order_by("-created_at", "-pk")
    return Paginator(events, LOG_PAGE_SIZE).get_page(page)
