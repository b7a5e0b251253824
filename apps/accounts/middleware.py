"""Applies the user's preferences to each request: theme, time zone and language.

The loaded profile row is kept as `request.preferences` (None for visitors) for views.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
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
