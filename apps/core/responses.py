"""Renders errors the same way everywhere: HTML page, JSON for programs, WebSocket `error` frame."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext_lazy as _

from apps.core.errors import DomainError
from apps.core.logging import request_id_var

TITLES: dict[int, Any] = {
    400: _("Bad request"),
    401: _("Please sign in"),
    403: _("Access denied"),
    404: _("Page not found"),
    405: _("Method not allowed"),
    409: _("Conflict"),
    429: _("Too many requests"),
    500: _("Something went wrong"),
    503: _("Service unavailable"),
}


def wants_json(request: HttpRequest) -> bool:
    if request.path.startswith("/api/"):
        return True
    accept = request.headers.get("Accept", "")
    return "application/json" in accept and "text/html" not in accept


def error_response(
    request: HttpRequest,
    *,
    status: int,
    code: str,
    message: Any,
    fields: Mapping[str, Iterable[Any]] | None = None,
    as_json: bool | None = None,
) -> HttpResponse:
    """Every HTTP error answer: our error page, or `{"error": {...}, "request_id": ...}` as JSON.

    `fields` (JSON only) names the form fields at fault with their messages; `as_json` forces the
    JSON answer (for htmx callers that read it), otherwise the request's Accept header decides.
    """
    if wants_json(request) if as_json is None else as_json:
        error: dict[str, Any] = {"code": code, "message": str(message)}
        if fields is not None:
            error["fields"] = {
                name: [str(text) for text in texts] for name, texts in fields.items()
            }
        return JsonResponse({"error": error, "request_id": request_id_var.get()}, status=status)
    context = {
        "status": status,
        "code": code,
        "title": TITLES.get(status, TITLES[400 if status < 500 else 500]),
        "message": message,
        "request_id": request_id_var.get(),
    }
    try:
        html = render_to_string("errors/error.html", context, request=request)
    except Exception:  # the error page must render even when the site's templates cannot
        html = render_to_string("errors/minimal.html", context)
    finally:
        # Under ASGI Django renders a 404 for an unmatched URL on a worker thread that is not the
        # request's; the end-of-request cleanup never reaches the connection the page opened
        # there (the header asks for the user's roles), so it would leak. Close it here.
        if connection.connection is not None and not connection.in_atomic_block:
            connection.close()
    return HttpResponse(html, status=status)


def domain_error_response(
    request: HttpRequest, error: DomainError, *, as_json: bool | None = None
) -> HttpResponse:
    """`error_response` for a DomainError: its status, code and user-safe message."""
    return error_response(
        request, status=error.status, code=error.code, message=error.message, as_json=as_json
    )


def error_frame(error: DomainError) -> dict[str, str]:
    """The WebSocket frame for `error`: `{"type": "error", "code": ..., "message": ...}`."""
    return {"type": "error", **error.as_dict()}


def send_first_to(
    request: HttpRequest, url: str, error: DomainError, *, refuse_writes: bool = False
) -> HttpResponse:
    """Answer a request that must wait until the person has been to `url` (accepting the terms,
    setting up 2FA): a page load is redirected there with `?next=` back; htmx and JSON requests
    get `error` as JSON (htmx also `HX-Redirect`, so the browser goes there). With
    `refuse_writes`, any other method is refused with `error` too instead of redirected."""
    from urllib.parse import urlencode

    from django.http import HttpResponseRedirect

    is_htmx = request.headers.get("HX-Request") == "true"
    as_json = is_htmx or wants_json(request)
    if as_json or (refuse_writes and request.method not in ("GET", "HEAD")):
        response = domain_error_response(request, error, as_json=as_json or None)
        if is_htmx:
            response["HX-Redirect"] = url
        return response
    if request.method in ("GET", "HEAD"):
        url = f"{url}?{urlencode({'next': request.get_full_path()})}"
    return HttpResponseRedirect(url)
