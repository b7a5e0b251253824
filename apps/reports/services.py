"""Asking for a report (the hourly clean-up is apps.reports.retention, re-exported here)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.core.tasks import enqueue_on_commit
from apps.courses.models import Course
from apps.reports import policies
from apps.reports.errors import InvalidReportRequest, ReportNotAllowed
from apps.reports.models import Report
from apps.reports.retention import delete_expired_reports
from apps.reports.tasks import generate_report
from apps.videoconference.models import VideoSession

logger = logging.getLogger(__name__)

__all__ = ["delete_expired_reports", "request_report"]


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
