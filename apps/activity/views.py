"""Activity pages: a person's own security events, and the whole log for staff."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from apps.activity import selectors
from apps.activity.actions import ACTIONS
from apps.activity.forms import ActivityLogExportForm, ActivityLogFilterForm
from apps.activity.policies import can_view_activity_log
from apps.core.errors import InvalidInput, NotAllowed
from apps.core.http import AuthenticatedRequest
from apps.reports import services as report_services
from apps.reports.models import Report


@login_required
@require_safe
def my_events(request: AuthenticatedRequest) -> HttpResponse:
    page = selectors.my_security_events(request.user, page=request.GET.get("page", 1))
    rows = [(event, ACTIONS[event.action].description) for event in page.object_list]
    return render(request, "activity/mine.html", {"page": page, "rows": rows})


def _require_log_reader(request: AuthenticatedRequest) -> None:
    if not can_view_activity_log(request.user):
        raise NotAllowed(_("Only staff can read the activity log."))


def _description(action: str) -> str:
    # An event may outlive its action's entry in the list (renamed, retired).
    known = ACTIONS.get(action)
    return known.description if known is not None else action


@login_required
@require_safe
def staff_log(request: AuthenticatedRequest) -> HttpResponse:
    _require_log_reader(request)
    form = ActivityLogFilterForm(request.GET)
    if not form.is_valid():
        # Bad filters show the form's errors, not an unfiltered (misleading) log.
        return render(request, "activity/log.html", {"form": form, "page": None}, status=400)
    filters = form.filters()
    page = selectors.staff_log(
        filters, zone=timezone.get_current_timezone(), page=request.GET.get("page", 1)
    )
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "rows": [(event, _description(event.action)) for event in page.object_list],
        "filters": filters.as_parameters(),
        "querystring": query.urlencode(),
    }
    return render(request, "activity/log.html", context)


@login_required
@require_POST
def export_log(request: AuthenticatedRequest) -> HttpResponse:
    """Ask for the log, filtered as on the page, as a report (built in the background)."""
    _require_log_reader(request)
    form = ActivityLogExportForm(request.POST)
    if not form.is_valid():
        raise InvalidInput(_("Choose a file format, and check the filters."))
    report = report_services.request_report(
        actor=request.user,
        kind=Report.Kind.ACTIVITY_LOG,
        file_format=form.cleaned_data["file_format"],
        parameters=form.filters().as_parameters(),
    )
    messages.success(
        request, _("Your export is being prepared. You will be notified when it is ready.")
    )
    return redirect(report)
