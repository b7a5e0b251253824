"""Sends a signed-in person who has not accepted the current terms or privacy notice to the
consent page before any other page. Ordinary requests cost no query (see `needs_acceptance`)."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from apps.core.responses import send_first_to
from apps.privacy.consent import needs_acceptance
from apps.privacy.errors import ConsentRequired


@cache
def allowed_prefixes() -> tuple[str, ...]:
    """Paths usable before accepting: the documents themselves and the consent page, the
    privacy page (a person who will not accept can still download their data or leave),
    sign-in/out and the rest of allauth's account pages, health checks and static files."""
    return (
        reverse("privacy:home"),  # /privacy/: consent, terms, notice, export, erasure
        "/accounts/",
        reverse("accounts:set_theme"),
        reverse("healthz"),
        reverse("readyz"),
        "/favicon.ico",
        settings.STATIC_URL,
        settings.MEDIA_URL,
        "/notifications/unsubscribe/",  # withdrawing must never need anything first
    )


class ConsentRequiredMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            request.user.is_authenticated
            and not request.path.startswith(allowed_prefixes())
            and needs_acceptance(request)
        ):
            return self.refuse(request)
        return self.get_response(request)

    @staticmethod
    def refuse(request: HttpRequest) -> HttpResponse:
        return send_first_to(request, reverse("privacy:consent"), ConsentRequired())
