"""Report pages: my reports, asking for one, its progress, and the download. Thin: parse, ask a
policy, call a service, render."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import FileResponse, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from apps.core.http import AuthenticatedRequest
from apps.courses.policies import get_course_for_edit
from apps.reports import errors, files, policies, selectors, services
from apps.reports.forms import ReportRequestForm
from apps.reports.models import Report
from apps.videoconference.policies import get_session_for_host

logger = logging.getLogger(__name__)

POLL_INTERVAL = "1s"


@login_required
@require_safe
def report_list(request: AuthenticatedRequest) -> HttpResponse:
    page = selectors.my_reports(request.user, page=request.GET.get("page", 1))
    return render(request, "reports/list.html", {"page": page, "reports": page.object_list})


@login_required
@require_POST
def request_report(request: AuthenticatedRequest) -> HttpResponse:
    form = ReportRequestForm(request.POST)
    if not form.is_valid():
        raise errors.InvalidReportRequest()
    data = form.cleaned_data
    if data["kind"] == Report.Kind.COURSE_PROGRESS:
        course = get_course_for_edit(user=request.user, slug=data["course"])
        report = services.request_report(
            actor=request.user, kind=data["kind"], course=course, file_format=data["file_format"]
        )
    else:
        # The attendance CSV's own rule: hosts of the session (its course's instructors, staff).
        session = get_session_for_host(user=request.user, token=data["session"])
        report = services.request_report(
            actor=request.user, kind=data["kind"], session=session, file_format=data["file_format"]
        )
    messages.success(
        request, _("Your report is being prepared. You will be notified when it is ready.")
    )
    return redirect(report)


def _status_context(report: Report) -> dict[str, Any]:
    return {
        "report": report,
        "poll_interval": POLL_INTERVAL,
        "failure_message": errors.FAILURE_MESSAGES.get(
            report.error_code, errors.DEFAULT_FAILURE_MESSAGE
        ),
    }


@never_cache
@login_required
@require_safe
def report_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    report = policies.get_report_for_user(user=request.user, pk=pk)
    return render(request, "reports/detail.html", _status_context(report))


@never_cache
@require_safe
def report_status(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The status block alone, polled by htmx every second while the report is being made.
    Once it is finished the block comes back without its polling trigger, which stops htmx."""
    if not request.user.is_authenticated:
        if getattr(request, "htmx", False):
            # Signed out in another tab: reload the page (which asks to sign in) rather than
            # let htmx swap the sign-in page into the status block.
            return HttpResponse(status=204, headers={"HX-Refresh": "true"})
        return redirect_to_login(request.get_full_path())
    report = policies.get_report_for_user(user=request.user, pk=pk)
    context = _status_context(report)
    context["announce"] = not report.is_pending
    return render(request, "reports/_status.html", context)


def _unavailable(
    request: AuthenticatedRequest, report: Report, *, status: int, title: str, message: str
) -> HttpResponse:
    response = render(
        request,
        "reports/unavailable.html",
        {"report": report, "title": title, "message": message},
        status=status,
    )
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_safe
def download(request: AuthenticatedRequest, pk: int) -> HttpResponseBase:
    """The file, to the person who asked for it only (anyone else: 404, as for a missing one)."""
    report = policies.get_report_for_download(user=request.user, pk=pk)
    if report.is_expired:
        return _unavailable(
            request,
            report,
            status=410,
            title=_("This report has expired"),
            message=_(
                "Reports are kept for %(hours)s hours after they are ready, then deleted. "
                "Ask for a new one to get the current data."
            )
            % {"hours": settings.REPORTS_TTL_HOURS},
        )
    if report.status == Report.Status.FAILED:
        return _unavailable(
            request,
            report,
            status=409,
            title=_("This report could not be prepared"),
            message=str(_status_context(report)["failure_message"]),
        )
    if report.is_pending:
        return _unavailable(
            request,
            report,
            status=409,
            title=_("This report is not ready yet"),
            message=_("It is still being prepared; its page shows how far it has got."),
        )
    path = files.path_of(report.file_name)
    try:
        handle = path.open("rb") if path is not None else None
    except FileNotFoundError:
        handle = None
    if handle is None:
        logger.warning(
            "reports.file_missing", extra={"event": "reports.file_missing", "report_id": report.pk}
        )
        return _unavailable(
            request,
            report,
            status=410,
            title=_("This report has expired"),
            message=_("Its file is no longer available. Ask for a new one."),
        )
    logger.info(
        "reports.downloaded",
        extra={"event": "reports.downloaded", "report_id": report.pk, "user_id": request.user.pk},
    )
    from apps.activity.services import record

    record(
        request.user,
        "reports.report.downloaded",
        report,
        request=request,
        target_label=f"{report.kind} report",
        kind=report.kind,
    )
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=files.download_name(report),
        content_type=files.CONTENT_TYPES[Report.Format(report.file_format)],
    )
    response["Cache-Control"] = "private, no-store"
    return response
