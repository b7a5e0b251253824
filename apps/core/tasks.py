"""Queueing Celery tasks from services: always after the transaction commits.

A task queued inside a transaction could run before the data it needs is committed (a worker
is another process), or run for data that is then rolled back; `on_commit` prevents both.
"""

from __future__ import annotations

import smtplib
from datetime import UTC, datetime
from typing import Any

from celery import Task, current_app
from django.db import transaction
from django.utils import timezone

# Failures worth another try later: the mail server is down, busy or slow.
TRANSIENT_EMAIL_ERRORS = (smtplib.SMTPException, OSError)


def enqueue_on_commit(task: Task, *args: Any, **kwargs: Any) -> None:
    """`task.delay(*args, **kwargs)` once the current transaction commits (at once outside one).

    With a real broker a failure to queue is logged, not raised: the request's data is already
    committed and the user should not see an error page for it. Eager runs (embedded defaults,
    tests) raise, so a broken task fails the request or test that ran it.
    """
    transaction.on_commit(
        lambda: task.delay(*args, **kwargs), robust=not current_app.conf.task_always_eager
    )


def stamp(moment: datetime) -> str:
    """A row's `updated_at` as a short text naming one change of it, for dedupe keys: the same
    when a task is redelivered, another for the next change."""
    return str(int(moment.timestamp() * 1_000_000))


def parse_now(now_iso: str | None) -> datetime:
    """The clock of a periodic task: `now_iso` when given (tests, a manual catch-up run), else
    now. A time without an offset is UTC (beat and the tests pass UTC), not the machine's zone."""
    if not now_iso:
        return timezone.now()
    now = datetime.fromisoformat(now_iso)
    return now if timezone.is_aware(now) else now.replace(tzinfo=UTC)
