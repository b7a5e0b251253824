"""Generating report files in the background, and deleting them when they expire.

`reports.generate` is safe under redelivery (acks_late: a worker killed mid-run gets its
message back after the broker's visibility timeout):
- the report is claimed under a row lock: queued → running; running with a heartbeat older than
  REPORTS_STALE_AFTER_SECONDS → taken over (its worker died); running with a fresh heartbeat →
  retried later, so two runs never write one report at once; done, failed or expired → nothing;
- every claim bumps `attempts`, and a run writes progress or finishes only while the row still
  carries its attempt number, so a run that was taken over cannot overwrite the new one;
- the file is written under a temporary name and renamed when complete;
- done and the "report ready" notification commit in one transaction, and the notification has a
  dedupe key: the requester is told exactly once.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from celery import shared_task
from celery.exceptions import MaxRetriesExceededError, SoftTimeLimitExceeded
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.notifications.kinds import REPORT_READY
from apps.notifications.services import notify_in_their_language
from apps.reports import files, retention, sources, writers
from apps.reports.models import Report

logger = logging.getLogger(__name__)

# A report whose runs keep dying (a worker killed by the hard time limit, out of memory) is
# failed after this many claims instead of being taken over forever.
MAX_ATTEMPTS = 3
# Redelivered messages that find another run still working wait and look again, this many times;
# the working run's own message covers it if that run dies later.
MAX_BUSY_RETRIES = 20


class Superseded(Exception):
    """This run's claim was taken over by another run; it stops without writing anything."""


@dataclass(frozen=True)
class Claim:
    attempt: int = 0  # >0: this run owns the report
    retry_in: float = 0.0  # >0: another run is working on it; look again in this many seconds


def _stale_after() -> timedelta:
    return timedelta(seconds=settings.REPORTS_STALE_AFTER_SECONDS)


def claim(report_id: int) -> Claim:
    """Take the report for this run, or say why not (see the module docstring)."""
    with transaction.atomic():
        report = Report.objects.select_for_update().filter(pk=report_id).first()
        if report is None:
            return Claim()
        now = timezone.now()
        if report.status == Report.Status.RUNNING:
            age = now - report.heartbeat_at if report.heartbeat_at else None
            if age is not None and age < _stale_after():
                return Claim(retry_in=(_stale_after() - age).total_seconds() + 1)
            if report.attempts >= MAX_ATTEMPTS:
                _fail(report, "timed_out", now=now)
                return Claim()
            logger.warning(
                "reports.taken_over",
                extra={
                    "event": "reports.taken_over",
                    "report_id": report.pk,
                    "attempt": report.attempts + 1,
                },
            )
        elif report.status != Report.Status.QUEUED:
            return Claim()
        report.status = Report.Status.RUNNING
        report.attempts += 1
        report.heartbeat_at = now
        report.rows_done = 0
        report.progress = 0
        report.save(update_fields=["status", "attempts", "heartbeat_at", "rows_done", "progress"])
    if report.attempts > 1:
        files.remove_parts(report)  # what the dead run left; written only by attempts < ours
    return Claim(attempt=report.attempts)


def _percent(done: int, total: int) -> int:
    """Progress while running; 100 only once the report is done."""
    if total <= 0:
        return 0
    return min(99, math.floor(100 * done / total))


def record_progress(report_id: int, attempt: int, *, done: int, total: int) -> None:
    """Commit the rows written so far and a fresh heartbeat (one UPDATE, its own transaction)."""
    updated = Report.objects.filter(
        pk=report_id, status=Report.Status.RUNNING, attempts=attempt
    ).update(
        rows_done=done,
        rows_total=max(total, done),
        progress=_percent(done, max(total, done)),
        heartbeat_at=timezone.now(),
    )
    if not updated:
        raise Superseded()


def _fail(report: Report, code: str, *, now: Any = None) -> None:
    report.status = Report.Status.FAILED
    report.error_code = code
    report.finished_at = now or timezone.now()
    report.save(update_fields=["status", "error_code", "finished_at"])


def _mark_failed(report_id: int, attempt: int, code: str) -> None:
    with transaction.atomic():
        report = (
            Report.objects.select_for_update()
            .filter(pk=report_id, status=Report.Status.RUNNING, attempts=attempt)
            .first()
        )
        if report is not None:
            _fail(report, code)


def _finish(report_id: int, attempt: int, part: Any, *, done: int) -> Report:
    """Publish the file, mark the report done and tell the requester, all or nothing."""
    with transaction.atomic():
        report = (
            Report.objects.select_for_update(of=("self",))
            .select_related("course", "session", "requested_by__profile")
            .filter(pk=report_id, status=Report.Status.RUNNING, attempts=attempt)
            .first()
        )
        if report is None:
            raise Superseded()
        name, size = files.publish(part, report)
        now = timezone.now()
        report.status = Report.Status.DONE
        report.file_name = name
        report.size = size
        report.rows_done = report.rows_total = done
        report.progress = 100
        report.heartbeat_at = report.finished_at = now
        report.expires_at = now + timedelta(hours=settings.REPORTS_TTL_HOURS)
        report.error_code = ""
        report.save(
            update_fields=[
                "status",
                "file_name",
                "size",
                "rows_done",
                "rows_total",
                "progress",
                "heartbeat_at",
                "finished_at",
                "expires_at",
                "error_code",
            ]
        )
        profile = getattr(report.requested_by, "profile", None)
        notify_in_their_language(
            [(report.requested_by_id, getattr(profile, "language", None))],
            kind=REPORT_READY,
            text=lambda: (_("Your report is ready: %(title)s") % {"title": report.title}, ""),
            url=report.get_absolute_url(),
            dedupe_key=f"reports.report.{report.pk}.ready",
        )
    return report


def _generate(report_id: int, attempt: int) -> Report:
    report = Report.objects.select_related("course", "session", "requested_by__profile").get(
        pk=report_id
    )
    source = sources.source_for(report, chunk_size=max(1, settings.REPORTS_ROWS_PER_CHUNK))
    record_progress(report_id, attempt, done=0, total=source.total)
    part = files.part_path(report, attempt)
    writer = writers.open_writer(report, part, title=source.title)
    try:
        writer.write_header(source.columns)
        done = 0
        for chunk in source.chunks:
            writer.write_rows(chunk)
            done += len(chunk)
            record_progress(report_id, attempt, done=done, total=source.total)
        writer.close()
        return _finish(report_id, attempt, part, done=done)
    except BaseException:
        writer.abort()
        part.unlink(missing_ok=True)
        raise


@shared_task(bind=True, name="reports.generate", max_retries=MAX_BUSY_RETRIES)
def generate_report(self: Any, report_id: int) -> str:
    """Write the report's file and tell the requester it is ready. Returns what happened.

    Runs under the global CELERY_TASK_SOFT_TIME_LIMIT / CELERY_TASK_TIME_LIMIT: the soft limit
    fails the report ("timed_out"); a run killed by the hard one is taken over when its message
    comes back, at most MAX_ATTEMPTS times.
    """
    ticket = claim(report_id)
    if ticket.retry_in:
        if self.request.is_eager:
            return "busy"  # run in-process (no worker): a retry would only run again at once
        try:
            raise self.retry(countdown=math.ceil(ticket.retry_in))
        except MaxRetriesExceededError:
            return "busy"
    if not ticket.attempt:
        return "skipped"
    log = {"report_id": report_id, "attempt": ticket.attempt}
    try:
        report = _generate(report_id, ticket.attempt)
    except Superseded:
        logger.warning("reports.superseded", extra={"event": "reports.superseded", **log})
        return "superseded"
    except SoftTimeLimitExceeded:
        logger.error("reports.timed_out", extra={"event": "reports.timed_out", **log})
        _mark_failed(report_id, ticket.attempt, "timed_out")
        return "failed"
    except Exception:
        logger.exception("reports.failed", extra={"event": "reports.failed", **log})
        _mark_failed(report_id, ticket.attempt, "generation_failed")
        return "failed"
    logger.info(
        "reports.done",
        extra={"event": "reports.done", "rows": report.rows_done, "size": report.size, **log},
    )
    return "done"


@shared_task(name="reports.delete_expired")
def delete_expired() -> dict[str, int]:
    """Beat runs this hourly: delete expired files, give up on abandoned reports, sweep files
    no report owns. Safe to run twice or at once."""
    return retention.delete_expired_reports()
