"""Per-request account rules: the user's preferences (theme, time zone, language), and 2FA by role.

The loaded profile row is kept as `request.preferences` (None for visitors) for views.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.middleware import BaseMiddleware
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone, translation

from apps.accounts.models import Profile, Theme


class UserPreferencesMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        theme = request.COOKIES.get(settings.THEME_COOKIE_NAME, Theme.SYSTEM)
        request.preferences = None  # type: ignore[attr-defined]
        if request.user.is_authenticated:
            profile = (
                Profile.objects.filter(user=request.user)
                .only("theme", "time_zone", "language", "captions_on")
                .first()
            )
            # Views read preferences from here instead of loading the profile again.
            request.preferences = profile  # type: ignore[attr-defined]
            if profile is not None:
                theme = profile.theme
                timezone.activate(profile.zone)
                if profile.language:
                    translation.activate(profile.language)
                    request.LANGUAGE_CODE = translation.get_language()
        request.theme = theme if theme in Theme.values else Theme.SYSTEM  # type: ignore[attr-defined]
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


# Pages a person who must set up 2FA can still open: the 2FA pages themselves, signing out,
# re-authenticating (allauth asks before a factor is added), email verification (a factor
# needs a verified address), the security page that explains, health checks and static files.
SECOND_FACTOR_SETUP_PATHS = (
    "/accounts/2fa/",
    "/accounts/logout/",
    "/accounts/reauthenticate/",
    "/accounts/email/",
    "/accounts/confirm-email/",
    "/account/security/",
    # Accepting the terms comes first (apps.privacy's middleware runs before this one).
    "/privacy/consent/",
    "/privacy/terms/",
    "/privacy/notice/",
    "/theme/",
    "/healthz",
    "/readyz",
    "/favicon.ico",
)


class SecondFactorRequiredMiddleware:
    """Sends members of MFA_REQUIRED_ROLES (and admin users) without a second factor to set one up.

    Pages answer with a redirect to the security page; htmx and JSON requests get 403 with the
    stable code `mfa_required` (htmx also gets `HX-Redirect`, so the browser goes there).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated and not self._allowed(request.path):
            from apps.accounts.mfa import second_factor_missing

            if second_factor_missing(request.user):
                return self._refuse(request)
        return self.get_response(request)

    @staticmethod
    def _allowed(path: str) -> bool:
        static = settings.STATIC_URL or "/static/"
        return path.startswith(static) or path.startswith(SECOND_FACTOR_SETUP_PATHS)

    @staticmethod
    def _refuse(request: HttpRequest) -> HttpResponse:
        from apps.accounts.errors import SecondFactorRequired
        from apps.core.responses import send_first_to

        return send_first_to(
            request, reverse("accounts:security"), SecondFactorRequired(), refuse_writes=True
        )


class SecondFactorRefusedConsumer(AsyncJsonWebsocketConsumer):
    """Tells a socket client that 2FA must be set up first: an `error` frame, then close 4403."""

    async def connect(self) -> None:
        # Accept first, so the client sees the code instead of a bare HTTP 403 handshake refusal.
        await self.accept()
        from apps.accounts.errors import SecondFactorRequired
        from apps.core.responses import error_frame

        await self.send_json(error_frame(SecondFactorRequired()))
        await self.close(code=4403)


class SecondFactorSocketMiddleware(BaseMiddleware):
    """The WebSocket side of SecondFactorRequiredMiddleware (inside AuthMiddlewareStack)."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> Any:
        from apps.accounts.mfa import second_factor_missing

        user = scope.get("user")
        if user is not None and await database_sync_to_async(second_factor_missing)(user):
            return await SecondFactorRefusedConsumer.as_asgi()(scope, receive, send)
        return await super().__call__(scope, receive, send)
