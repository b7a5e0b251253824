"""The notification pages: the list behind the bell, reading, settings and one-click unsubscribe."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django_htmx.middleware import HtmxDetails

from apps.core.http import AuthenticatedRequest
from apps.core.responses import error_response
from apps.notifications import policies, selectors, services
from apps.notifications.forms import PreferencesForm
from apps.notifications.kinds import get_kind
from apps.notifications.tokens import read_unsubscribe_token

PAGE_SIZE = 20
INVALID_UNSUBSCRIBE = "invalid_unsubscribe_link"
INVALID_UNSUBSCRIBE_MESSAGE = gettext_lazy(
    "This unsubscribe link is not valid: it may have been cut short or changed. Sign in and "
    "open your notification settings to choose which emails you get."
)


class AuthenticatedHtmxRequest(AuthenticatedRequest):
    htmx: HtmxDetails


def _list_url(page: str | None = None) -> str:
    url = reverse("notifications:list")
    return f"{url}?page={page}" if page and page.isdigit() and page != "1" else url


@login_required
@require_safe
def notification_list(request: AuthenticatedRequest) -> HttpResponse:
    page = Paginator(selectors.in_app(request.user.pk), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "notifications/list.html", {"page": page})


@login_required
@require_POST
def open_notification(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Mark read, then go where the notification points: only ever a path on this site."""
    notification = policies.get_notification_for_user(user=request.user, pk=pk)
    services.mark_read(user=request.user, notification=notification)
    target = notification.url
    if not (target.startswith("/") and url_has_allowed_host_and_scheme(target, allowed_hosts=None)):
        target = reverse("notifications:list")
    return HttpResponseRedirect(target)


@login_required
@require_POST
def mark_read(request: AuthenticatedHtmxRequest, pk: int) -> HttpResponse:
    notification = policies.get_notification_for_user(user=request.user, pk=pk)
    services.mark_read(user=request.user, notification=notification)
    if request.htmx:
        # The item, read now; the bell and the status line change out of band.
        return render(
            request,
            "notifications/_item_read.html",
            {"notification": notification, "page_number": request.POST.get("page", "")},
        )
    messages.success(request, _("Marked as read: %(title)s") % {"title": notification.title})
    return redirect(_list_url(request.POST.get("page")))


@login_required
@require_POST
def mark_all_read(request: AuthenticatedRequest) -> HttpResponse:
    changed = services.mark_all_read(user=request.user)
    if changed:
        messages.success(request, _("All notifications are marked as read."))
    else:
        messages.info(request, _("You had no unread notifications."))
    return redirect("notifications:list")


@login_required
@require_http_methods(["GET", "POST"])
def preferences(request: AuthenticatedRequest) -> HttpResponse:
    user = request.user
    form = PreferencesForm(
        request.POST if request.method == "POST" else None,
        choices=selectors.preferences_of(user.pk),
        email_frequency=selectors.email_frequency_of(user.pk),
    )
    if form.is_bound and form.is_valid():
        services.set_preferences(
            user=user,
            choices=form.chosen(),
            email_frequency=form.cleaned_data["email_frequency"],
        )
        messages.success(request, _("Your notification settings are saved."))
        return redirect("notifications:preferences")
    return render(
        request,
        "notifications/preferences.html",
        {"form": form},
        status=400 if form.errors else 200,
    )


@csrf_exempt  # RFC 8058: mail clients POST without a session; the signed token is the proof
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET asks to confirm (mail scanners follow links; they must not unsubscribe anyone);
    POST unsubscribes: the one-click body "List-Unsubscribe=One-Click" or the page's button."""
    if request.method == "POST":
        result = services.unsubscribe(token=token)
        if result is None:
            return _invalid_unsubscribe(request)
        _user, kind = result
        return render(
            request, "notifications/unsubscribed.html", {"kind_label": get_kind(kind).label}
        )
    found = read_unsubscribe_token(token)
    if found is None:
        return _invalid_unsubscribe(request)
    response = render(
        request,
        "notifications/unsubscribe_confirm.html",
        {"kind_label": get_kind(found.kind).label, "action": request.path},
    )
    response["X-Robots-Tag"] = "noindex"
    return response


def _invalid_unsubscribe(request: HttpRequest) -> HttpResponse:
    return error_response(
        request, status=400, code=INVALID_UNSUBSCRIBE, message=INVALID_UNSUBSCRIBE_MESSAGE
    )
