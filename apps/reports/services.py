"""Asking for a report, and the hourly clean-up of expired files and abandoned reports."""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.core.tasks import enqueue_on_commit
from apps.courses.models import Course
from apps.reports import files, policies
from apps.reports.errors import InvalidReportRequest, ReportNotAllowed
from apps.reports.models import Report
from apps.videoconference.models import VideoSession

logger = logging.getLogger(__name__)

# A report still queued, or running without a heartbeat, this long after it should have moved is
# failed by the hourly clean-up ("abandoned"): its message was lost (the broker was unreachable
# when it was queued) and the person may ask again. Well past the broker's redelivery of a dead
# worker's message (CELERY_VISIBILITY_TIMEOUT, an hour by default) plus a run's time limit.
ABANDONED_AFTER = timedelta(hours=6)
EXPIRE_BATCH = 500


def _looks_stuck(report: Report, now: datetime) -> bool:
    """No worker has touched it for longer than a live run ever leaves between heartbeats."""
    last = report.heartbeat_at or report.created_at
    return now - last > timedelta(seconds=settings.REPORTS_STALE_AFTER_SECONDS)


@transaction.atomic
def request_report(
    *,
    actor: User,
    kind: str,
    file_format: str,
    course: Course | None = None,
    session: VideoSession | None = None,
    parameters: dict[str, Any] | None = None,
) -> Report:
    """A report of `kind` on `course` or `session` for `actor`, generated in the background.

    Asking again for the same report (kind, subject, format) while one is queued or running gives
    that one back instead of doing the work twice; if it looks stuck, its task is queued again
    (the task takes over a report whose worker died, and does nothing for one that is fine).
    """
    if kind not in Report.Kind.values or file_format not in Report.Format.values:
        raise InvalidReportRequest()
    parameters = dict(parameters or {})
    if (file_format == Report.Format.ZIP) != (kind == Report.Kind.DATA_EXPORT):
        raise InvalidReportRequest()
    if kind in (Report.Kind.ACTIVITY_LOG, Report.Kind.DATA_EXPORT):
        if course is not None or session is not None:
            raise InvalidReportRequest()
        allowed = (
            policies.can_request_activity_log(actor)
            if kind == Report.Kind.ACTIVITY_LOG
            else policies.can_request_data_export(actor, actor)
        )
        if not allowed:
            raise ReportNotAllowed()
    elif parameters:
        raise InvalidReportRequest()
    elif kind == Report.Kind.COURSE_PROGRESS:
        if course is None or session is not None:
            raise InvalidReportRequest()
        if not policies.can_request_course_progress(actor, course):
            raise ReportNotAllowed()
    else:
        if session is None or course is not None:
            raise InvalidReportRequest()
        if not policies.can_request_attendance(actor, session):
            raise ReportNotAllowed()
    from apps.reports.tasks import generate_report

    # One person's requests one at a time, so a double click cannot start two identical reports.
    User.objects.select_for_update().filter(pk=actor.pk).values_list("pk").first()
    existing = (
        Report.objects.filter(
            requested_by=actor,
            kind=kind,
            course=course,
            session=session,
            file_format=file_format,
            parameters=parameters,
            status__in=Report.PENDING_STATUSES,
        )
        .order_by("-created_at", "-pk")
        .first()
    )
    if existing is not None:
        if _looks_stuck(existing, timezone.now()):
            enqueue_on_commit(generate_report, existing.pk)
        return existing
    report = Report(
        requested_by=actor,
        kind=kind,
        course=course,
        session=session,
        file_format=file_format,
        parameters=parameters,
    )
    report.full_clean()
    report.save()
    enqueue_on_commit(generate_report, report.pk)
    from apps.activity.services import record

    details: dict[str, Any] = {
        "kind": kind,
        "format": file_format,
        "course": course.pk if course else None,
        "session": session.pk if session else None,
    }
    if parameters:
        # What an activity log export holds (its filters): worth keeping in the audit trail.
        details["parameters"] = parameters
    record(actor, "reports.report.requested", report, target_label=f"{kind} report", **details)
    logger.info(
        "reports.requested",
        extra={
            "event": "reports.requested",
            "report_id": report.pk,
            "user_id": actor.pk,
            "kind": kind,
            "format": file_format,
        },
    )
    return report


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
