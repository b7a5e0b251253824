"""The email task against a real SMTP server: once, not after an unsubscribe, retried while the
server is down, given up on an address refused for good. And the fan-out's fixed cost."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from celery.exceptions import Retry

from apps.accounts.models import User
from apps.accounts.tests.factories import make_user
from apps.core.tests.smtp import SmtpSink
from apps.notifications import services
from apps.notifications.kinds import SESSION_SCHEDULED
from apps.notifications.models import Notification
from apps.notifications.tasks import (
    EMAIL_MAX_RETRIES,
    deliver_notifications,
    send_notification_email,
)

pytestmark = pytest.mark.django_db

Email = Notification.EmailStatus


def _queued(user: User, capture: Any, title: str = "Fractions") -> Notification:
    """A notification whose email is pending: stored, its tasks not run yet."""
    with capture(execute=False):
        (notification,) = services.notify(
            recipient_ids=[user.pk], kind=SESSION_SCHEDULED, title=title
        )
    assert notification.email_status == Email.PENDING
    return notification


def _status(notification: Notification) -> str:
    notification.refresh_from_db()
    return notification.email_status


@pytest.fixture
def closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens: connecting is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_running_the_email_task_twice_sends_one_email(
    smtp_sink: SmtpSink, django_capture_on_commit_callbacks: Any
) -> None:
    ada = make_user()
    notification = _queued(ada, django_capture_on_commit_callbacks)

    first = send_notification_email.apply(args=(notification.pk,))
    second = send_notification_email.apply(args=(notification.pk,))

    assert (first.get(), second.get()) == ("sent", "skipped")
    assert [m.to for m in smtp_sink.wait_for(1)] == [ada.email]
    assert len(smtp_sink.received()) == 1
    notification.refresh_from_db()
    assert notification.email_status == Email.SENT
    assert notification.emailed_at is not None


def test_turning_email_off_after_queueing_means_no_email(
    smtp_sink: SmtpSink, django_capture_on_commit_callbacks: Any
) -> None:
    ada = make_user()
    with django_capture_on_commit_callbacks(execute=False) as queued:
        services.notify(recipient_ids=[ada.pk], kind=SESSION_SCHEDULED, title="Fractions")
    # On the settings page, before the worker gets to it.
    services.set_preferences(user=ada, choices={SESSION_SCHEDULED: (True, False)})

    for callback in queued:
        callback()

    assert smtp_sink.received() == []
    assert Notification.objects.get(recipient=ada).email_status == Email.NONE


def test_a_person_deactivated_after_queueing_gets_no_email(
    smtp_sink: SmtpSink, django_capture_on_commit_callbacks: Any
) -> None:
    ada = make_user()
    notification = _queued(ada, django_capture_on_commit_callbacks)
    ada.is_active = False
    ada.save(update_fields=["is_active"])

    assert send_notification_email.apply(args=(notification.pk,)).get() == "unsubscribed"
    assert smtp_sink.received() == []


def test_mail_server_down_retries_later_and_keeps_the_email_pending(
    settings: Any, smtp_sink: SmtpSink, closed_port: int, django_capture_on_commit_callbacks: Any
) -> None:
    """A worker would queue the retry with a countdown; run eagerly (tests propagate errors),
    the Retry Celery raises for it comes out of apply()."""
    ada = make_user()
    notification = _queued(ada, django_capture_on_commit_callbacks)
    settings.EMAIL_PORT = closed_port

    with pytest.raises(Retry) as retry:
        send_notification_email.apply(args=(notification.pk,))

    assert isinstance(retry.value.exc, ConnectionRefusedError)
    assert _status(notification) == Email.PENDING
    assert smtp_sink.received() == []
    # The server is back when the retry runs.
    settings.EMAIL_PORT = smtp_sink.port
    assert send_notification_email.apply(args=(notification.pk,), retries=1).get() == "sent"
    assert send_notification_email.apply(args=(notification.pk,), retries=1).get() == "skipped"
    assert [m.to for m in smtp_sink.wait_for(1)] == [ada.email]
    assert len(smtp_sink.received()) == 1
    assert _status(notification) == Email.SENT


def test_mail_server_still_down_at_the_last_retry_marks_the_email_failed_and_a_later_run_sends_it(
    settings: Any, smtp_sink: SmtpSink, closed_port: int, django_capture_on_commit_callbacks: Any
) -> None:
    ada = make_user()
    notification = _queued(ada, django_capture_on_commit_callbacks)
    settings.EMAIL_PORT = closed_port

    last = send_notification_email.apply(args=(notification.pk,), retries=EMAIL_MAX_RETRIES)

    assert last.get() == "failed"
    assert _status(notification) == Email.FAILED
    assert smtp_sink.received() == []
    # The server is back; an operator queues it again.
    settings.EMAIL_PORT = smtp_sink.port
    assert send_notification_email.apply(args=(notification.pk,)).get() == "sent"
    assert send_notification_email.apply(args=(notification.pk,)).get() == "skipped"
    assert len(smtp_sink.wait_for(1)) == 1
    assert _status(notification) == Email.SENT


class _RefusingHandler:
    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        return "550 5.1.1 No such mailbox"


@pytest.fixture
def refusing_server(settings: Any) -> Iterator[Controller]:
    """A real SMTP server that refuses every recipient for good (5xx)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    controller = Controller(_RefusingHandler(), hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    try:
        yield controller
    finally:
        controller.stop()


def test_an_address_refused_for_good_is_marked_failed_without_retrying(
    refusing_server: Controller, django_capture_on_commit_callbacks: Any
) -> None:
    notification = _queued(make_user(), django_capture_on_commit_callbacks)

    # A retry would raise Retry here (see above); the first attempt gives up instead.
    assert send_notification_email.apply(args=(notification.pk,)).get() == "failed"

    assert _status(notification) == Email.FAILED


def test_deliver_costs_the_same_queries_for_one_or_forty_notifications(
    django_assert_num_queries: Any,
) -> None:
    """The notifications and everyone's unread count; emails are off here (none queued)."""

    def stored(count: int) -> list[int]:
        rows = Notification.objects.bulk_create(
            Notification(recipient=make_user(), kind=SESSION_SCHEDULED, title="Fractions")
            for _ in range(count)
        )
        return [n.pk for n in rows]

    few, many = stored(1), stored(40)

    with django_assert_num_queries(2):
        deliver_notifications(few)
    with django_assert_num_queries(2):
        deliver_notifications(many)


def test_operators_see_each_step_in_the_logs(
    caplog: pytest.LogCaptureFixture,
    smtp_sink: SmtpSink,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """At INFO (production's level; the tests' default is WARNING) the structured fields must
    not clash with LogRecord's own attributes, or logging raises inside the task."""
    caplog.set_level(logging.INFO, logger="apps.notifications")
    ada = make_user()

    with django_capture_on_commit_callbacks(execute=True):
        services.notify(recipient_ids=[ada.pk], kind=SESSION_SCHEDULED, title="Fractions")

    smtp_sink.wait_for(1)
    events = {getattr(r, "event", None): r for r in caplog.records}
    assert events["notifications.created"].count == 1  # type: ignore[attr-defined]
    assert events["notifications.emailed"].user_id == ada.pk  # type: ignore[attr-defined]
