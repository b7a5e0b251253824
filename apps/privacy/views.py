"""Privacy pages: download my data, erase my account (and cancel); the staff record of
processing. Thin."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from apps.core.errors import DomainError, InvalidInput, NotFound
from apps.core.http import AuthenticatedRequest
from apps.privacy import consent as consents
from apps.privacy import policies, selectors, services
from apps.privacy.errors import UnknownConsentVersion
from apps.privacy.models import Consent, PolicyDocument


@login_required
@require_safe
def home(request: AuthenticatedRequest) -> HttpResponse:
    return render(
        request,
        "privacy/home.html",
        {
            "erasure": services.pending_erasure(request.user),
            "grace_days": services.grace().days,
            "acceptances": consents.acceptances(request.user),
            "purposes": consents.purpose_states(request.user),
        },
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


@login_required
@require_safe
def processing(request: AuthenticatedRequest) -> HttpResponse:
    """The record of processing activities (GDPR Art. 30), generated from the registry."""
    policies.check_record_of_processing_access(request.user)
    return render(request, "privacy/processing.html", {"entries": selectors.record_of_processing()})


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return "/"


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def consent(request: AuthenticatedRequest) -> HttpResponse:
    """Accept the current documents (new ones, or ones never accepted) before going on."""
    if request.method == "POST":
        versions = {
            kind: request.POST[kind] for kind in PolicyDocument.Kind.values if kind in request.POST
        }
        try:
            if not versions:
                raise UnknownConsentVersion()
            consents.accept_documents(
                user=request.user,
                versions=versions,
                source=Consent.Source.CONSENT_PAGE,
                request=request,
            )
        except DomainError as exc:
            messages.error(request, str(exc.message))
            return redirect(request.get_full_path())
    pending = consents.pending_documents(request.user)
    if not pending:
        return redirect(_next_url(request))
    if request.method == "POST":  # some still to accept: show the page again
        return redirect(request.get_full_path())
    return render(
        request,
        "privacy/consent.html",
        {
            "pending": pending,
            "next": _next_url(request),
            "accepted_before": request.user.consents.filter(document__isnull=False).exists(),
        },
    )


@login_required
@require_POST
def purpose(request: AuthenticatedRequest) -> HttpResponse:
    """Give or withdraw one optional consent: one button each way."""
    given = request.POST.get("given")
    try:
        if given not in ("yes", "no"):
            raise InvalidInput()
        consents.set_purpose(
            user=request.user,
            purpose=request.POST.get("purpose", ""),
            version=request.POST.get("version", ""),
            given=given == "yes",
            source=Consent.Source.PRIVACY_PAGE,
            request=request,
        )
    except DomainError as exc:
        messages.error(request, str(exc.message))
        return redirect("privacy:home")
    if given == "yes":
        messages.success(request, _("Thank you: your consent is recorded."))
    else:
        messages.success(request, _("Your consent is withdrawn; this stops from now on."))
    return redirect("privacy:home")


def _document_page(request: HttpRequest, kind: str) -> HttpResponse:
    document = consents.current_document(kind)
    if document is None:
        raise NotFound()
    return render(request, "privacy/document.html", {"document": document})


@require_safe
def terms(request: HttpRequest) -> HttpResponse:
    return _document_page(request, PolicyDocument.Kind.TERMS)


@require_safe
def notice(request: HttpRequest) -> HttpResponse:
    return _document_page(request, PolicyDocument.Kind.PRIVACY_NOTICE)
