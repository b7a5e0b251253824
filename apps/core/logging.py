"""Request ids for log lines: a context variable set per request and a filter that reads it."""

from __future__ import annotations

import logging
import re
import uuid
from contextvars import ContextVar

request_id_var: ContextVar[str] = ContextVar("request_id", default="-")

_VALID_INCOMING = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def new_request_id(incoming: str | None = None) -> str:
    """Reuse a well-formed id from a proxy (`X-Request-ID`), otherwise make one."""
    if incoming and _VALID_INCOMING.match(incoming):
        return incoming
    return uuid.uuid4().hex


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every record.

    Django logs a 4xx/5xx response (`django.request`) after the middleware has returned, when the
    context variable is already reset; those records carry the request, which carries its id.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            request = getattr(record, "request", None)
            record.request_id = getattr(request, "request_id", None) or request_id_var.get()
        return True


def log_event(logger: logging.Logger, event: str, **extra: object) -> None:
    """Log a named event (`courses.invitation.emailed`) as one structured INFO line.

    The event name is both the message and the `event` field, so JSON log lines can be filtered
    by it; `extra` carries the ids (user id, course id, session id), never personal data.
    """
    logger.info(event, extra={"event": event, **extra})
