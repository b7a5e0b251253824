"""Every signed-in session has an allauth.usersessions row, whichever way the person signed in.

allauth writes the row for its own sign-in flows; Django's `login()` used elsewhere (tests'
`force_login`, any future flow) sends only Django's signal, so this adds the row there too. The
rows let a person see and end their other sessions, and an erasure end all of them by user.
"""

from __future__ import annotations

from typing import Any


def _track(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    from allauth.usersessions.models import UserSession

    if request is None or not hasattr(request, "session"):
        return
    if not request.META.get("REMOTE_ADDR"):
        return  # a request made up in code (the test client's force_login), not a browser
    if getattr(request, "user", None) is None or not request.user.is_authenticated:
        request.user = user
    UserSession.objects.create_from_request(request)


def connect() -> None:
    from django.contrib.auth.signals import user_logged_in

    user_logged_in.connect(_track, dispatch_uid="accounts-track-session")
