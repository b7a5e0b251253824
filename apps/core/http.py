"""Request types for views: `AuthenticatedRequest` for views behind `login_required`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest

if TYPE_CHECKING:
    from apps.accounts.models import User


class AuthenticatedRequest(HttpRequest):
    user: User
