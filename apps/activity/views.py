"""Activity pages: a person's own security events."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from apps.activity import selectors
from apps.activity.actions import ACTIONS
from apps.core.http import AuthenticatedRequest


@login_required
@require_safe
def my_events(request: AuthenticatedRequest) -> HttpResponse:
    page = selectors.my_security_events(request.user, page=request.GET.get("page", 1))
    rows = [(event, ACTIONS[event.action].description) for event in page.object_list]
    return render(request, "activity/mine.html", {"page": page, "rows": rows})
