"""The activity log as a report (Report.Kind.ACTIVITY_LOG): the staff page's filters, in chunks.

Registered with apps.reports from ActivityConfig.ready(); the reports app's task writes the file
and serves it through its private, expiring download.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import tzinfo

from django.db.models import Q

from apps.activity.forms import ActivityLogFilterForm
from apps.activity.models import ActivityEvent
from apps.activity.selectors import LogFilters, filter_events
from apps.reports.models import Report
from apps.reports.sources import Row, Source

COLUMNS = (
    "when",
    "actor_id",
    "actor_email",
    "action",
    "target_type",
    "target_id",
    "target",
    "ip_address",
    "user_agent",
    "details",
)


class InvalidLogParameters(ValueError):
    """Stored filters that no longer pass the form (the report fails, nothing is leaked)."""


def filters_of(report: Report) -> LogFilters:
    """The report's stored filters, validated by the page's own form."""
    form = ActivityLogFilterForm(data=report.parameters or {})
    if not form.is_valid():
        raise InvalidLogParameters(sorted(form.errors))
    return form.filters()


def _row(event: ActivityEvent, zone: tzinfo) -> Row:
    return [
        event.created_at.astimezone(zone),
        event.actor_id,
        event.actor.email if event.actor is not None else "",
        event.action,
        event.target_type,
        event.target_id,
        event.target_label,
        event.ip_address or "",
        event.user_agent,
        json.dumps(event.context, sort_keys=True, ensure_ascii=False) if event.context else "",
    ]


def activity_log_source(report: Report, zone: tzinfo, chunk_size: int) -> Source:
    """The events the staff page shows for the report's filters, newest first. Events recorded
    after the run started are left out, so the count shown while it runs stays true."""
    events = filter_events(ActivityEvent.objects.all(), filters_of(report), zone=zone)
    last_pk = ActivityEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    events = events.filter(pk__lte=last_pk)
    total = events.count()

    def chunks() -> Iterator[list[Row]]:
        # Keyset pages on the page's own order (newest first), never OFFSET.
        page = events.select_related("actor").order_by("-created_at", "-pk")
        after: ActivityEvent | None = None
        while True:
            batch = page
            if after is not None:
                batch = batch.filter(
                    Q(created_at__lt=after.created_at)
                    | Q(created_at=after.created_at, pk__lt=after.pk)
                )
            rows = list(batch[:chunk_size])
            if not rows:
                return
            after = rows[-1]
            yield [_row(event, zone) for event in rows]

    return Source(title="Activity log", columns=COLUMNS, total=total, chunks=chunks())
