"""allauth glue: display names on signup and the student role for every new account."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from django.http import HttpRequest

from apps.accounts.roles import Role
from apps.accounts.services import assign_role


class AccountAdapter(DefaultAccountAdapter):
    def save_user(self, request: HttpRequest, user: Any, form: Any, commit: bool = True) -> Any:
        user.display_name = form.cleaned_data.get("display_name", "").strip() or user.email.split(
            "@"
        )[0]
        user = super().save_user(request, user, form, commit=commit)
        if commit:
            assign_role(user=user, role=Role.STUDENT)
        return user
