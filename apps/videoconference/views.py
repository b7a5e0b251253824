"""Live-session pages: my sessions, schedule and edit, the session (join) page, lifecycle actions,
attendance report and calendars. Thin: parse, ask a policy, call a service, render.

Refusals are `DomainError`s, rendered by `apps.core.middleware.DomainErrorMiddleware` as an
HTML page or JSON: no such session 404, not allowed 403, wrong state 409.
"""

from __future__ import annotations

import csv
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django_htmx.middleware import HtmxDetails

from apps.core.errors import InvalidInput, NotFound
from apps.core.exports import csv_safe
from apps.core.http import AuthenticatedRequest
from apps.core.responses import error_response, wants_json
from apps.core.tokens import is_token
from apps.courses import policies as course_policies
from apps.courses.models import Course
from apps.videoconference import calendar, calendar_services, policies, selectors, services
from apps.videoconference.errors import HostNotAllowed, SessionEnded
from apps.videoconference.forms import InstantSessionForm, SessionForm
from apps.videoconference.models import CalendarFeed, VideoSession

PAST_PAGE_SIZE = 10


class AuthenticatedHtmxRequest(AuthenticatedRequest):
    htmx: HtmxDetails


def _wants_json(request: HttpRequest) -> bool:
    """fetch() callers asking for JSON, and htmx requests."""
    return wants_json(request) or bool(getattr(request, "htmx", False))


def _absolute_meeting_url(request: HttpRequest, session: VideoSession) -> str:
    return request.build_absolute_uri(session.meeting_url)


def _session_answer(
    request: HttpRequest, session: VideoSession, message: str, *, status: int = 200
) -> HttpResponse:
    """JSON for programs, otherwise a redirect to the session page with a message."""
    if _wants_json(request):
        response = JsonResponse(
            {
                "status": session.status,
                "title": session.title,
                "meeting_url": _absolute_meeting_url(request, session),
            },
            status=status,
        )
        if getattr(request, "htmx", False):
            response["HX-Redirect"] = session.meeting_url
        return response
    messages.success(request, message)
    return redirect(session.meeting_url)


# --- Lists ---------------------------------------------------------------------------------------


def _sessions_page(
    request: AuthenticatedRequest, *, instant_form: InstantSessionForm | None, status: int = 200
) -> HttpResponse:
    user = request.user
    upcoming = selectors.upcoming_sessions(user)
    past = Paginator(selectors.past_sessions(user), PAST_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "videoconference/sessions.html",
        {
            "live": [s for s in upcoming if s.is_live],
            "upcoming": [s for s in upcoming if not s.is_live],
            "past": past,
            "instant_form": instant_form,
        },
        status=status,
    )


@login_required
@require_safe
def my_sessions(request: AuthenticatedRequest) -> HttpResponse:
    can_instant = policies.can_start_instant(request.user)
    return _sessions_page(
        request, instant_form=InstantSessionForm(user=request.user) if can_instant else None
    )


# --- Creating sessions ---------------------------------------------------------------------------


@login_required
@require_POST
def start_instant(request: AuthenticatedHtmxRequest) -> HttpResponse:
    if not policies.can_start_instant(request.user):
        raise HostNotAllowed(_("Only instructors and staff can start an instant session."))
    form = InstantSessionForm(request.POST, user=request.user)
    if not form.is_valid():
        if _wants_json(request):
            return error_response(
                request,
                status=InvalidInput.status,
                code=InvalidInput.code,
                message=_("Check the form."),
                fields=form.errors,
                as_json=True,
            )
        return _sessions_page(request, instant_form=form, status=400)
    data = form.cleaned_data
    session = services.start_instant_session(
        host=request.user,
        title=data.get("title") or "",
        course=data.get("course"),
        join_policy=data["join_policy"],
    )
    if _wants_json(request):
        response = JsonResponse(
            {"meeting_url": _absolute_meeting_url(request, session)}, status=201
        )
        if request.htmx:
            response["HX-Redirect"] = session.meeting_url
        return response
    return redirect(session.meeting_url)


def _course_for_schedule(user: Any, slug: str) -> Course:
    course = Course.objects.filter(slug=slug).first()
    if course is None:
        raise NotFound()
    if not policies.can_schedule(user, course):
        # Someone who may see the course learns why; others learn nothing about it.
        if course_policies.can_view_course(
            user, course, course_policies.enrollment_of(user, course)
        ):
            raise HostNotAllowed()
        raise NotFound()
    return course


@login_required
@require_http_methods(["GET", "POST"])
def schedule(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    course = _course_for_schedule(request.user, slug)
    form = SessionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            session = services.schedule_session(
                actor=request.user, course=course, **form.cleaned_data
            )
        except ValidationError as error:
            form.add_model_errors(error)
        else:
            messages.success(
                request, _("The session is scheduled. Share this page with your students.")
            )
            return redirect(session.meeting_url)
    return render(
        request,
        "videoconference/session_form.html",
        {"form": form, "course": course, "session": None},
        status=400 if form.is_bound and form.errors else 200,
    )


# --- The session page ----------------------------------------------------------------------------


@never_cache
@login_required
@require_safe
def room(request: AuthenticatedRequest, token: str) -> HttpResponse:
    ticket = policies.get_session_for_join(user=request.user, token=token, require_live=False)
    session = ticket.session
    return render(
        request,
        "videoconference/room.html",
        {
            "session": session,
            "ticket": ticket,
            "is_host": ticket.is_host,
            "meeting_url": _absolute_meeting_url(request, session),
        },
    )


@never_cache
@require_safe
def status(request: HttpRequest, token: str) -> JsonResponse:
    """For the pre-join screen, polled until the host starts the session."""
    ticket = policies.get_session_for_join(user=request.user, token=token, require_live=False)
    session = ticket.session
    return JsonResponse(
        {
            "status": session.status,
            "title": session.title,
            "starts_at": session.starts_at.isoformat(),
            "ends_at": session.ends_at.isoformat(),
        }
    )


# --- Host actions --------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def edit(request: AuthenticatedRequest, token: str) -> HttpResponse:
    session = policies.get_session_for_host(user=request.user, token=token)
    if session.is_over:
        raise SessionEnded(_("This session is over and can no longer be changed."))
    form = SessionForm(request.POST or None, initial=SessionForm.initial_from(session))
    if request.method == "POST" and form.is_valid():
        changes = {
            name: value
            for name, value in form.cleaned_data.items()
            if form.initial.get(name) != value
        }
        try:
            if changes:
                services.update_session(actor=request.user, session=session, **changes)
        except ValidationError as error:
            form.add_model_errors(error)
        else:
            messages.success(request, _("The session is saved."))
            return redirect(session.meeting_url)
    return render(
        request,
        "videoconference/session_form.html",
        {"form": form, "course": session.course, "session": session},
        status=400 if form.is_bound and form.errors else 200,
    )


@login_required
@require_POST
def start(request: AuthenticatedHtmxRequest, token: str) -> HttpResponse:
    session = policies.get_session_for_host(user=request.user, token=token)
    session = services.start_session(actor=request.user, session=session)
    return _session_answer(request, session, _("The session is live. People can join now."))


@login_required
@require_POST
def end(request: AuthenticatedHtmxRequest, token: str) -> HttpResponse:
    session = policies.get_session_for_host(user=request.user, token=token)
    session = services.end_session(actor=request.user, session=session)
    return _session_answer(request, session, _("The session has ended for everyone."))


@login_required
@require_POST
def cancel(request: AuthenticatedHtmxRequest, token: str) -> HttpResponse:
    session = policies.get_session_for_host(user=request.user, token=token)
    session = services.cancel_session(actor=request.user, session=session)
    return _session_answer(request, session, _("The session is cancelled."))


@login_required
@require_safe
def attendance_report(request: AuthenticatedRequest, token: str) -> HttpResponse:
    session = policies.get_session_for_host(user=request.user, token=token)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    stamp = (session.started_at or session.starts_at).strftime("%Y%m%d")
    response["Content-Disposition"] = f'attachment; filename="attendance-{stamp}-{session.pk}.csv"'
    writer = csv.writer(response)
    writer.writerow(
        ["name", "email", "first_joined", "last_left", "connections", "seconds", "minutes"]
    )
    for line in selectors.attendance_report(session):
        writer.writerow(
            [
                csv_safe(line.name),
                csv_safe(line.email),
                line.first_joined.isoformat(),
                line.last_left.isoformat() if line.last_left else "",
                line.connections,
                line.seconds,
                line.minutes,
            ]
        )
    return response


# --- Calendars -----------------------------------------------------------------------------------


def _calendar_response(body: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(body, content_type=calendar.CONTENT_TYPE)
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


@login_required
@require_safe
def session_ics(request: AuthenticatedRequest, token: str) -> HttpResponse:
    session = policies.get_session_for_join(
        user=request.user, token=token, require_live=False
    ).session
    body = calendar.build_calendar(
        [session],
        meeting_url=lambda s: _absolute_meeting_url(request, s),
        name=session.title,
    )
    return _calendar_response(body, f"session-{session.pk}.ics")


@login_required
@require_http_methods(["GET", "POST"])
def calendar_settings(request: AuthenticatedRequest) -> HttpResponse:
    if request.method == "POST":
        calendar_services.rotate_calendar_feed(user=request.user)
        messages.success(
            request, _("Your calendar has a new address. The old address no longer works.")
        )
        return redirect("videoconference:calendar")
    feed = calendar_services.get_or_create_calendar_feed(user=request.user)
    feed_path = reverse("videoconference:feed", kwargs={"token": feed.token})
    return render(
        request,
        "videoconference/calendar_settings.html",
        {"feed_url": request.build_absolute_uri(feed_path)},
    )


@never_cache
@require_safe
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The secret feed calendar apps subscribe to: no sign-in, the token is the key."""
    feed = (
        CalendarFeed.objects.select_related("user").filter(token=token).first()
        if is_token(token)
        else None
    )
    if feed is None or not feed.user.is_active:
        raise NotFound()
    body = calendar.build_calendar(
        selectors.feed_sessions(feed.user),
        meeting_url=lambda s: _absolute_meeting_url(request, s),
        name=_("Live sessions"),
    )
    return _calendar_response(body, "live-sessions.ics")
