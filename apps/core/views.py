"""Site-wide pages: home, health endpoints and the error handlers."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from apps.core.health import run_checks
from apps.core.responses import error_response


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "core/home.html")


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """The process is alive and answering; checks nothing else (for liveness probes)."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_safe
def readyz(request: HttpRequest) -> JsonResponse:
    """Every configured backing server answers; 503 names those that did not."""
    checks = run_checks()
    failed = sorted(name for name, result in checks.items() if result != "ok")
    body: dict[str, Any] = {"status": "fail" if failed else "ok", "checks": checks}
    if failed:
        body["failed"] = failed
    return JsonResponse(body, status=503 if failed else 200)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_response(
        request,
        status=400,
        code="bad_request",
        message=_("The request could not be understood. Please check it and try again."),
    )


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_response(
        request,
        status=403,
        code="not_allowed",
        message=_("You do not have permission to see this page."),
    )


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_response(
        request,
        status=404,
        code="not_found",
        message=_("We could not find that page. It may have moved, or the address may be wrong."),
    )


def server_error(request: HttpRequest) -> HttpResponse:
    return error_response(
        request,
        status=500,
        code="server_error",
        message=_("Something went wrong on our side. We have been told; please try again later."),
    )


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return error_response(
        request,
        status=403,
        code="csrf_failed",
        message=_(
            "Your form expired or came from another site. Go back, reload the page and try again."
        ),
    )
