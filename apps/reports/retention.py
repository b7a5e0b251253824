"""Retention of reports: expired files deleted, abandoned requests failed, orphan files swept
(the hourly `reports.delete_expired` task)."""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from apps.reports import files
from apps.reports.models import Report

logger = logging.getLogger(__name__)

# A report still queued, or running without a heartbeat, this long after it should have moved is
# failed by the hourly clean-up ("abandoned"): its message was lost (the broker was unreachable
# when it was queued) and the person may ask again. Well past the broker's redelivery of a dead
# worker's message (CELERY_VISIBILITY_TIMEOUT, an hour by default) plus a run's time limit.
ABANDONED_AFTER = timedelta(hours=6)
EXPIRE_BATCH = 500


def delete_expired_reports(*, now: datetime | None = None) -> dict[str, int]:
    """Delete the files of reports past their expiry and mark them expired; fail abandoned
    reports; delete files in REPORTS_DIR that no report owns. Idempotent: a file is deleted
    before its row says so, and a second run finds nothing left to do."""
    now = now or timezone.now()
    expired = 0
    while True:
        batch = list(
            Report.objects.filter(status=Report.Status.DONE, expires_at__lte=now)
            .order_by("expires_at", "pk")
            .values_list("pk", "file_name")[:EXPIRE_BATCH]
        )
        if not batch:
            break
        for _pk, name in batch:
            files.remove(name)
        expired += Report.objects.filter(
            pk__in=[pk for pk, _name in batch], status=Report.Status.DONE
        ).update(status=Report.Status.EXPIRED, file_name="", size=0)
    abandoned = _fail_abandoned(now)
    swept = _sweep_orphans()
    if expired or abandoned or swept:
        logger.info(
            "reports.cleaned",
            extra={
                "event": "reports.cleaned",
                "expired": expired,
                "abandoned": abandoned,
                "orphans": swept,
            },
        )
    return {"expired": expired, "abandoned": abandoned, "orphans": swept}


def _fail_abandoned(now: datetime) -> int:
    cutoff = now - ABANDONED_AFTER
    return (
        Report.objects.filter(status__in=Report.PENDING_STATUSES, created_at__lte=cutoff)
        .exclude(heartbeat_at__gt=cutoff)
        .update(status=Report.Status.FAILED, error_code="abandoned", finished_at=now)
    )


def _sweep_orphans() -> int:
    """Files older than the reports' lifetime that no ready report names: parts a killed worker
    left, files of reports deleted with their course or session."""
    directory = Path(settings.REPORTS_DIR)
    if not directory.is_dir():
        return 0
    # By the clock, not `now`: a `now` in the future must never make fresh files look old.
    cutoff = time.time() - settings.REPORTS_TTL_HOURS * 3600
    old: dict[str, Path] = {}
    for entry in directory.iterdir():
        if entry.is_file() and entry.stat().st_mtime < cutoff:
            old[entry.name] = entry
    if not old:
        return 0
    owned = set(
        Report.objects.filter(status=Report.Status.DONE, file_name__in=list(old)).values_list(
            "file_name", flat=True
        )
    )
    removed = 0
    for name, entry in old.items():
        if name not in owned:
            entry.unlink(missing_ok=True)
            removed += 1
    return removed
