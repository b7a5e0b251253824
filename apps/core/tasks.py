"""Queueing Celery tasks from services: always after the transaction commits.

A task queued inside a transaction could run before the data it needs is committed (a worker
is another process), or run for data that is then rolled back; `on_commit` prevents both.
"""

from __future__ import annotations

import smtplib
from typing import Any

from celery import Task, current_app
from django.db import transaction

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
