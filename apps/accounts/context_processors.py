"""What the site header needs to know about the signed-in user."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from apps.accounts.policies import has_role
from apps.accounts.roles import Role
from apps.activity.policies import can_view_activity_log


def nav(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    return {
        "nav": SimpleLazyObject(
            lambda: {
                "can_teach": has_role(user, Role.INSTRUCTOR),
                "can_view_activity_log": can_view_activity_log(user),
            }
        ),
    }
