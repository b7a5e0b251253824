"""Privacy page: download my data, erase my account (and cancel). Thin."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from apps.core.errors import DomainError
from apps.core.http import AuthenticatedRequest
from apps.privacy import services


@login_required
@require_safe
def home(request: AuthenticatedRequest) -> HttpResponse:
    return render(
        request,
        "privacy/home.html",
        {"erasure": services.pending_erasure(request.user), "grace_days": services.grace().days},
    )


@login_required
@require_POST
def export(request: AuthenticatedRequest) -> HttpResponse:
    try:
        report = services.request_export(request.user, request=request)
    except DomainError as exc:
        messages.error(request, str(exc.message))
        return redirect("privacy:home")
    messages.success(
        request, _("Your data export is being prepared; we will tell you when it is ready.")
    )
    return redirect("reports:detail", pk=report.pk)


@login_required
@require_POST
def erasure_request(request: AuthenticatedRequest) -> HttpResponse:
    try:
        services.request_erasure(request.user, request=request)
        messages.success(request, _("Your account will be erased after the grace period."))
    except DomainError as exc:
        messages.error(request, str(exc.message))
    return redirect("privacy:home")


@login_required
@require_POST
def erasure_cancel(request: AuthenticatedRequest) -> HttpResponse:
    try:
        services.cancel_erasure(request.user, request=request)
        messages.success(request, _("Your erasure request is cancelled."))
    except DomainError as exc:
        messages.error(request, str(exc.message))
    return redirect("privacy:home")
