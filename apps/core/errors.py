"""The one error family: every expected failure is a `DomainError` with a stable code.

The code is for programs (JSON and WebSocket clients match on it), the message is safe to show
to a user, and the status is what HTTP answers. Apps subclass these; nothing else is raised to
signal a user-facing failure.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    code: str = "error"
    status: int = 400
    message: Any = _("The request could not be completed.")

    def __init__(
        self, message: Any = None, *, code: str | None = None, status: int | None = None
    ) -> None:
        if message is not None:
            self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        super().__init__(str(self.message))

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": str(self.message)}


class InvalidInput(DomainError):
    code = "invalid"
    status = 400
    message = _("Some of the information sent is not valid.")


class NotSignedIn(DomainError):
    code = "not_signed_in"
    status = 401
    message = _("Please sign in first.")


class NotAllowed(DomainError):
    code = "not_allowed"
    status = 403
    message = _("You are not allowed to do that.")


class NotFound(DomainError):
    """Also raised for objects the user may not see, so their existence cannot be probed."""

    code = "not_found"
    status = 404
    message = _("We could not find that.")


class Conflict(DomainError):
    code = "conflict"
    status = 409
    message = _("That conflicts with the current state; reload and try again.")


class RateLimited(DomainError):
    code = "rate_limited"
    status = 429
    message = _("Too many requests; please wait a moment and try again.")


class ServiceUnavailable(DomainError):
    code = "unavailable"
    status = 503
    message = _("This service is temporarily unavailable; please try again shortly.")
