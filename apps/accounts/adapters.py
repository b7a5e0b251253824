"""allauth glue: display names on signup, the student role for every new account, and a real
429 when sign-in attempts are rate limited."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.core.ratelimit import respond_429
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from apps.accounts.roles import Role
from apps.accounts.services import assign_role


class AccountAdapter(DefaultAccountAdapter):
    def save_user(self, request: HttpRequest, user: Any, form: Any, commit: bool = True) -> Any:
        user.display_name = (
            form.cleaned_data.get("display_name", "").strip() or user.email.split("@")[0]
        )
        user = super().save_user(request, user, form, commit=commit)
        if commit:
            assign_role(user=user, role=Role.STUDENT)
        return user

    def pre_authenticate(self, request: HttpRequest, **credentials: Any) -> None:
        """Refuse with HTTP 429 (templates/429.html) once `login_failed` is exhausted.

        allauth reports the limit as a form error with status 200, which neither clients nor
        monitoring can tell apart from a mistyped password. The check runs before the password
        is looked at, so the right password is refused too until the window has passed.
        """
        try:
            super().pre_authenticate(request, **credentials)
        except ValidationError as error:
            if error.code != "too_many_login_attempts":
                raise
            raise ImmediateHttpResponse(respond_429(request)) from None
