"""What the site header needs to know about the signed-in user."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from apps.accounts.policies import has_role
from apps.accounts.roles import Role


def nav(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    return {
        "nav": SimpleLazyObject(lambda: {"can_teach": has_role(user, Role.INSTRUCTOR)}),
    }
