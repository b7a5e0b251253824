"""Builds the emails: HTML and plain text, in the reader's language and time zone, with the
headers mail clients use for a one-click unsubscribe (RFC 2369 and RFC 8058)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from contextlib import ExitStack
from datetime import date
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from apps.accounts.models import User, zone_named
from apps.notifications.kinds import get_kind
from apps.notifications.models import Notification
from apps.notifications.tokens import make_unsubscribe_token


def absolute(path: str) -> str:
    """`path` on this site as a full URL (emails are read outside the site)."""
    site = str(settings.SITE_URL).rstrip("/")
    if not path:
        return site
    if path.startswith(("http://", "https://")):
        return path
    return f"{site}/{path.lstrip('/')}"


def unsubscribe_url(*, user_id: int, kind: str) -> str:
    token = make_unsubscribe_token(user_id=user_id, kind=kind)
    return absolute(reverse("notifications:unsubscribe", args=[token]))


def _reader_context(user: User) -> ExitStack:
    """Language and time zone of the reader for rendering (their profile's, else the site's)."""
    stack = ExitStack()
    profile = getattr(user, "profile", None)
    zone = profile.zone if profile is not None else zone_named(None)
    language = (profile.language if profile is not None else "") or settings.LANGUAGE_CODE
    stack.enter_context(timezone.override(zone))
    stack.enter_context(translation.override(language))
    return stack


def _message_id(name: str) -> str:
    """A stable Message-ID: the same notification gives the same id, so a mail system that sees
    a message twice can tell it is one message."""
    domain = urlsplit(settings.SITE_URL).hostname or "localhost"
    digest = hashlib.sha256(f"{settings.SECRET_KEY}:{name}".encode()).hexdigest()[:16]
    return f"<{name}.{digest}@{domain}>"


def _subject(text: str) -> str:
    """One header line: a title with a line break would make Django refuse the whole email."""
    return f"[{settings.SITE_NAME}] " + " ".join(text.split())


class _Unfolded:
    """A header value written on one line as it is. Python's legacy email policy (which
    Django 5.2 uses) folds values longer than 78 characters and, for a URL with colons such as
    ours, turns it into RFC 2047 encoded words, which mail clients do not read as the
    `<https://…>` that RFC 2369 asks for. One line is allowed up to 998 characters."""

    def __init__(self, value: str) -> None:
        self.value = value

    def __str__(self) -> str:
        return self.value

    def encode(self, linesep: str = "\n", maxlinelen: int | None = None) -> str:
        return self.value


UNFOLDED_HEADERS = ("List-Unsubscribe",)


class NotificationMessage(EmailMultiAlternatives):
    def message(self) -> Any:
        msg = super().message()
        for name in UNFOLDED_HEADERS:
            if name in msg:
                msg.replace_header(name, _Unfolded(str(msg[name])))
        return msg


def _build(
    *,
    user: User,
    subject: str,
    template: str,
    context: dict[str, Any],
    unsubscribe: str | None,
    message_name: str,
) -> NotificationMessage:
    with _reader_context(user):
        context = {
            "SITE_NAME": settings.SITE_NAME,
            "site_url": settings.SITE_URL,
            "preferences_url": absolute(reverse("notifications:preferences")),
            "unsubscribe_url": unsubscribe,
            "user": user,
            **context,
        }
        text = render_to_string(f"notifications/email/{template}.txt", context)
        html = render_to_string(f"notifications/email/{template}.html", context)
    headers = {"Message-ID": _message_id(message_name), "Auto-Submitted": "auto-generated"}
    if unsubscribe:
        headers["List-Unsubscribe"] = f"<{unsubscribe}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message = NotificationMessage(
        subject=_subject(subject),
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[user.email],
        headers=headers,
    )
    message.attach_alternative(html, "text/html")
    return message


def notification_email(notification: Notification) -> NotificationMessage:
    user = notification.recipient
    return _build(
        user=user,
        subject=notification.title,
        template="notification",
        context={
            "notification": notification,
            "kind_label": get_kind(notification.kind).label,
            "link": absolute(notification.url) if notification.url else "",
        },
        unsubscribe=unsubscribe_url(user_id=user.pk, kind=notification.kind),
        message_name=f"notification.{notification.pk}",
    )


def digest_email(
    *, user: User, day: date, notifications: Sequence[Notification], digest_id: int
) -> NotificationMessage:
    items = [
        {
            "notification": n,
            "link": absolute(n.url) if n.url else "",
            "unsubscribe_url": unsubscribe_url(user_id=user.pk, kind=n.kind),
        }
        for n in notifications
    ]
    with _reader_context(user):  # the subject too is in the reader's language
        subject = translation.ngettext(
            "Your daily digest: %(count)d notification",
            "Your daily digest: %(count)d notifications",
            len(items),
        ) % {"count": len(items)}
    return _build(
        user=user,
        subject=subject,
        template="digest",
        context={"items": items, "day": day, "inbox_url": absolute(reverse("notifications:list"))},
        # A digest mixes kinds and a one-click unsubscribe must say what it stops, so the
        # header is left out and each item carries its own link.
        unsubscribe=None,
        message_name=f"digest.{digest_id}",
    )
