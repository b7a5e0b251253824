"""The header bell's unread count, read only when a page renders the bell."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.http import HttpRequest

from apps.notifications import selectors

SOCKET_PATH = "/ws/notifications/"


class Bell:
    """What the bell shows. `unread` is read on first use (from the cache, else one query), so
    a response that never renders the header (a redirect, a CSV, JSON) pays nothing."""

    socket_path = SOCKET_PATH

    def __init__(self, user: Any) -> None:
        self._user = user

    @cached_property
    def unread(self) -> int:
        if self._user is None or not self._user.is_authenticated:
            return 0
        return selectors.unread_count(self._user.pk)


def bell(request: HttpRequest) -> dict[str, Bell]:
    return {"bell": Bell(getattr(request, "user", None))}
