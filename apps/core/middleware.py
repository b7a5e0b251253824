"""Request ids on every request and the mapping of `DomainError` to responses."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponse

from apps.core.errors import DomainError
from apps.core.logging import new_request_id, request_id_var
from apps.core.responses import domain_error_response

logger = logging.getLogger(__name__)


class RequestIdMiddleware:
    """Gives each request an id (or keeps a proxy's), puts it on log lines and the response."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    @staticmethod
    def _assign_id(request: HttpRequest) -> str:
        request_id = new_request_id(request.headers.get("X-Request-ID"))
        request.request_id = request_id  # type: ignore[attr-defined]
        return request_id

    def __call__(self, request: HttpRequest) -> Any:
        if self.is_async:
            return self.__acall__(request)
        request_id = self._assign_id(request)
        token = request_id_var.set(request_id)
        try:
            response: HttpResponse = self.get_response(request)
            response["X-Request-ID"] = request_id
            return response
        finally:
            request_id_var.reset(token)

    async def __acall__(self, request: HttpRequest) -> HttpResponse:
        request_id = self._assign_id(request)
        token = request_id_var.set(request_id)
        try:
            get_response: Callable[[HttpRequest], Awaitable[HttpResponse]] = self.get_response
            response = await get_response(request)
            response["X-Request-ID"] = request_id
            return response
        finally:
            request_id_var.reset(token)


class DomainErrorMiddleware:
    """Turns a `DomainError` raised by a view into its HTML or JSON error response."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, DomainError):
            return None
        logger.info(
            "domain error %s",
            exception.code,
            extra={"code": exception.code, "status": exception.status, "path": request.path},
        )
        return domain_error_response(request, exception)
