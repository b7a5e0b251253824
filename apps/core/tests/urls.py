"""The site's URLs plus views that fail on purpose, for the error and logging tests."""

from __future__ import annotations

import logging

from django.core.exceptions import BadRequest, PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.urls import path

from apps.core.errors import Conflict, DomainError, NotAllowed, NotFound, RateLimited
from config.urls import handler400, handler403, handler404, handler500, urlpatterns

logger = logging.getLogger(__name__)

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]


class LessonLocked(DomainError):
    """What an app's own subclass looks like."""

    code = "lesson_locked"
    status = 423
    message = "This lesson opens once you finish the previous one."


DOMAIN_ERRORS: dict[str, DomainError] = {
    "not-allowed": NotAllowed(),
    "not-found": NotFound(),
    "conflict": Conflict("Someone else edited this lesson; reload to see their changes."),
    "rate-limited": RateLimited(),
    "lesson-locked": LessonLocked(),
}


def raise_domain_error(request: HttpRequest, name: str) -> HttpResponse:
    raise DOMAIN_ERRORS[name]


def raise_unexpected(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("secret-db-password-xyz")


def raise_permission_denied(request: HttpRequest) -> HttpResponse:
    raise PermissionDenied("secret-permission-detail")


def raise_bad_request(request: HttpRequest) -> HttpResponse:
    raise BadRequest("secret-parse-detail")


def log_something(request: HttpRequest) -> HttpResponse:
    logger.warning("inside the view", extra={"lesson_id": 7})
    return HttpResponse("logged")


async def log_something_async(request: HttpRequest) -> HttpResponse:
    logger.warning("inside the async view")
    return HttpResponse("logged")


def post_form(request: HttpRequest) -> HttpResponse:
    return HttpResponse("accepted")


urlpatterns = [
    *urlpatterns,
    path("test/domain-error/<str:name>", raise_domain_error),
    path("test/unexpected", raise_unexpected),
    path("test/permission-denied", raise_permission_denied),
    path("test/bad-request", raise_bad_request),
    path("test/log", log_something),
    path("test/log-async", log_something_async),
    path("test/form", post_form),
]
