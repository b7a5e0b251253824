"""The notification emails as a real SMTP server receives them: both parts, links, headers, the
reader's time zone and language, and the one-click unsubscribe their header offers."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from apps.accounts.models import User
from apps.accounts.tests.factories import make_user
from apps.core.tests.smtp import Received, SmtpSink
from apps.notifications import emails, selectors, services
from apps.notifications.kinds import LESSON_PUBLISHED, SESSION_SCHEDULED
from apps.notifications.models import Notification

pytestmark = pytest.mark.django_db

SITE = "https://school.example"
# A Tuesday in January: Berlin is UTC+1, New York UTC-5 (no daylight saving in between).
EVENT_AT = datetime(2030, 1, 15, 12, 30, tzinfo=UTC)
UNSUBSCRIBE_HEADER = re.compile(
    r"^<" + re.escape(SITE) + r"/notifications/unsubscribe/(?P<token>[A-Za-z0-9_:\-]+)/>$"
)


@pytest.fixture(autouse=True)
def _site(settings: Any) -> None:
    settings.SITE_URL = SITE


@pytest.fixture
def sink(smtp_sink: SmtpSink) -> SmtpSink:
    return smtp_sink


def _reader(*, time_zone: str = "UTC", language: str = "en") -> User:
    user = make_user()
    user.profile.time_zone = time_zone
    user.profile.language = language
    user.profile.save(update_fields=["time_zone", "language"])
    return user


def _notify_one(user: User, capture: Any, **kwargs: Any) -> Notification:
    params: dict[str, Any] = {
        "kind": SESSION_SCHEDULED,
        "title": "Fractions: live session",
        "body": "Bring your worksheet.",
        "url": "/live/7/",
        "event_at": EVENT_AT,
    }
    params.update(kwargs)
    with capture(execute=True):
        (notification,) = services.notify(recipient_ids=[user.pk], **params)
    return notification


def _only_email_to(sink: SmtpSink, user: User) -> Received:
    sink.wait_for(1)
    (received,) = sink.to(user.email)
    return received


def test_email_carries_title_body_and_an_absolute_link_in_both_parts(
    sink: SmtpSink, django_capture_on_commit_callbacks: Any
) -> None:
    ada = _reader()

    _notify_one(ada, django_capture_on_commit_callbacks)

    received = _only_email_to(sink, ada)
    assert received.subject == f"[{settings.SITE_NAME}] Fractions: live session"
    assert received.to == ada.email
    assert received.rcpt_tos == [ada.email]
    for content_type in ("text/plain", "text/html"):
        part = received.part(content_type)
        assert "Fractions: live session" in part
        assert "Bring your worksheet." in part
        assert f"{SITE}/live/7/" in part
        assert f"{SITE}/notifications/settings/" in part


def test_email_headers_offer_one_click_unsubscribe_and_mark_it_automatic(
    sink: SmtpSink, django_capture_on_commit_callbacks: Any
) -> None:
    ada = _reader()

    notification = _notify_one(ada, django_capture_on_commit_callbacks)

    message = _only_email_to(sink, ada).message
    # As sent, not as decoded: a bare <URL> on one line, which is what mail clients parse
    # (no RFC 2047 encoded words, no folding inside the URL).
    raw = dict(message.raw_items())
    assert UNSUBSCRIBE_HEADER.match(raw["List-Unsubscribe"])
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["From"] == settings.DEFAULT_FROM_EMAIL
    # The Message-ID is the notification's: building the email again (a retry) gives the same
    # one, another notification another.
    message_id = str(message["Message-ID"])
    assert message_id.endswith("@school.example>")
    notification.refresh_from_db()
    assert emails.notification_email(notification).message()["Message-ID"] == message_id
    other = _notify_one(ada, django_capture_on_commit_callbacks, title="Another")
    assert emails.notification_email(other).message()["Message-ID"] != message_id


def test_event_time_is_shown_in_each_readers_time_zone(
    sink: SmtpSink, django_capture_on_commit_callbacks: Any
) -> None:
    berlin = _reader(time_zone="Europe/Berlin")
    new_york = _reader(time_zone="America/New_York")

    with django_capture_on_commit_callbacks(execute=True):
        services.notify(
            recipient_ids=[berlin.pk, new_york.pk],
            kind=SESSION_SCHEDULED,
            title="Fractions: live session",
            event_at=EVENT_AT,
        )

    sink.wait_for(2)
    (in_berlin,) = sink.to(berlin.email)
    (in_new_york,) = sink.to(new_york.email)
    for content_type in ("text/plain", "text/html"):
        assert "13:30" in in_berlin.part(content_type)
        assert "Europe/Berlin" in in_berlin.part(content_type)
        assert "07:30" not in in_berlin.part(content_type)
        assert "07:30" in in_new_york.part(content_type)
        assert "America/New_York" in in_new_york.part(content_type)
        assert "13:30" not in in_new_york.part(content_type)


def test_email_is_written_in_the_readers_language(
    sink: SmtpSink, django_capture_on_commit_callbacks: Any
) -> None:
    """The project has no German catalogue of its own yet (no locale/ directory), so the words
    checked are the weekday and month names, which Django's own German translation provides."""
    german = _reader(language="de", time_zone="Europe/Berlin")
    english = _reader(language="en", time_zone="Europe/Berlin")

    with django_capture_on_commit_callbacks(execute=True):
        services.notify(
            recipient_ids=[german.pk, english.pk],
            kind=SESSION_SCHEDULED,
            title="Fractions",
            event_at=EVENT_AT,
        )

    sink.wait_for(2)
    (in_german,) = sink.to(german.email)
    (in_english,) = sink.to(english.email)
    for content_type in ("text/plain", "text/html"):
        assert "Dienstag 15 Januar 2030, 13:30" in in_german.part(content_type)
        assert "Tuesday 15 January 2030, 13:30" in in_english.part(content_type)
    assert '<html lang="de">' in in_german.part("text/html")
    assert '<html lang="en">' in in_english.part("text/html")


def test_a_title_with_a_line_break_still_makes_a_one_line_subject(
    sink: SmtpSink, django_capture_on_commit_callbacks: Any
) -> None:
    ada = _reader()

    _notify_one(ada, django_capture_on_commit_callbacks, title="Fractions:\nlive  session")

    assert _only_email_to(sink, ada).subject == f"[{settings.SITE_NAME}] Fractions: live session"


def _token_from(received: Received) -> str:
    found = UNSUBSCRIBE_HEADER.match(str(received.message["List-Unsubscribe"]))
    assert found is not None
    return found["token"]


def test_one_click_unsubscribe_from_the_email_header_stops_only_that_kind_for_that_person(
    sink: SmtpSink, django_capture_on_commit_callbacks: Any
) -> None:
    """What a mail client does (RFC 8058): POST "List-Unsubscribe=One-Click" to the header's
    URL, without a session or CSRF token."""
    ada, bob = _reader(), _reader()
    with django_capture_on_commit_callbacks(execute=True):
        services.notify(recipient_ids=[ada.pk, bob.pk], kind=SESSION_SCHEDULED, title="First")
    sink.wait_for(2)
    header = str(sink.to(ada.email)[0].message["List-Unsubscribe"])
    path = header.strip("<>").removeprefix(SITE)

    response = Client(enforce_csrf_checks=True).post(
        path,
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 200
    assert selectors.preferences_of(ada.pk)[SESSION_SCHEDULED].email is False
    assert selectors.preferences_of(ada.pk)[SESSION_SCHEDULED].in_app is True
    assert selectors.preferences_of(ada.pk)[LESSON_PUBLISHED].email is True
    assert selectors.preferences_of(bob.pk)[SESSION_SCHEDULED].email is True
    with django_capture_on_commit_callbacks(execute=True):
        services.notify(recipient_ids=[ada.pk, bob.pk], kind=SESSION_SCHEDULED, title="Second")
        services.notify(recipient_ids=[ada.pk], kind=LESSON_PUBLISHED, title="New lesson")
    sink.wait_for(4)
    subjects = {m.subject.removeprefix(f"[{settings.SITE_NAME}] ") for m in sink.to(ada.email)}
    assert subjects == {"First", "New lesson"}
    assert len(sink.to(bob.email)) == 2
    # Still on ada's bell.
    assert selectors.unread_count(ada.pk) == 3


def test_unsubscribe_with_the_header_token_keeps_pending_emails_of_that_kind_unsent(
    sink: SmtpSink, django_capture_on_commit_callbacks: Any
) -> None:
    ada = _reader()
    _notify_one(ada, django_capture_on_commit_callbacks)
    token = _token_from(_only_email_to(sink, ada))
    # Two more are stored, their emails not yet sent (the queue is slow today).
    with django_capture_on_commit_callbacks(execute=False) as queued:
        services.notify(recipient_ids=[ada.pk], kind=SESSION_SCHEDULED, title="Queued")
        services.notify(recipient_ids=[ada.pk], kind=LESSON_PUBLISHED, title="Other kind")

    assert services.unsubscribe(token=token) == (ada, SESSION_SCHEDULED)
    for callback in queued:
        callback()

    sink.wait_for(2)
    subjects = [m.subject.removeprefix(f"[{settings.SITE_NAME}] ") for m in sink.to(ada.email)]
    assert sorted(subjects) == ["Fractions: live session", "Other kind"]
    queued_one = Notification.objects.get(title="Queued")
    assert queued_one.email_status == Notification.EmailStatus.NONE
    assert queued_one.show_in_app is True
