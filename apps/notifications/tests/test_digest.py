"""The daily digest as a real SMTP server receives it: at the digest hour of each person's time
zone, once per local day, unread notifications only, each with its own unsubscribe link."""

from __future__ import annotations

import logging
import re
import socket
from datetime import UTC, datetime
from typing import Any

import pytest
from celery.exceptions import Retry
from django.conf import settings
from django.test import Client

from apps.accounts.models import User
from apps.accounts.tests.factories import make_user
from apps.core.tests.smtp import SmtpSink
from apps.notifications import services
from apps.notifications.kinds import LESSON_PUBLISHED, SESSION_SCHEDULED
from apps.notifications.models import Digest, Notification
from apps.notifications.tasks import send_daily_digests
from apps.notifications.tokens import UnsubscribeRequest, read_unsubscribe_token

pytestmark = pytest.mark.django_db

SITE = "https://school.example"
Email = Notification.EmailStatus
# January: Berlin is UTC+1, New York UTC-5. With the digest at 07:00 local time, Berlin's
# goes out at 06:00 UTC and New York's at 12:00 UTC.
EVENING_BEFORE = datetime(2030, 1, 14, 20, 0, tzinfo=UTC)
UNSUBSCRIBE_LINK = re.compile(re.escape(SITE) + r"/notifications/unsubscribe/([^/\s\"]+)/")


@pytest.fixture(autouse=True)
def _digest_settings(settings: Any) -> None:
    settings.SITE_URL = SITE
    settings.NOTIFICATIONS_DIGEST_HOUR = 7


def _daily_reader(time_zone: str) -> User:
    user = make_user()
    user.profile.time_zone = time_zone
    user.profile.save(update_fields=["time_zone"])
    services.set_preferences(user=user, choices={}, email_frequency="daily")
    return user


def _waiting(
    user: User,
    capture: Any,
    *,
    title: str,
    at: datetime = EVENING_BEFORE,
    kind: str = SESSION_SCHEDULED,
    **kwargs: Any,
) -> Notification:
    """A notification that waits for `user`'s digest, created at `at`."""
    with capture(execute=True):
        (notification,) = services.notify(recipient_ids=[user.pk], kind=kind, title=title, **kwargs)
    Notification.objects.filter(pk=notification.pk).update(created_at=at)
    notification.refresh_from_db()
    assert notification.email_status == Email.DIGEST
    return notification


def _run_at(iso: str) -> int:
    return int(send_daily_digests.apply(kwargs={"now_iso": iso}).get())


def _subjects(sink: SmtpSink, user: User) -> list[str]:
    return [m.subject for m in sink.to(user.email)]


def test_digest_goes_out_at_the_digest_hour_of_each_persons_time_zone(
    smtp_sink: SmtpSink, django_capture_on_commit_callbacks: Any
) -> None:
    berlin = _daily_reader("Europe/Berlin")
    new_york = _daily_reader("America/New_York")
    for person in (berlin, new_york):
        _waiting(person, django_capture_on_commit_callbacks, title="Fractions")

    assert _run_at("2030-01-15T05:05:00+00:00") == 0  # Berlin 06:05, New York 00:05
    assert smtp_sink.received() == []

    assert _run_at("2030-01-15T06:05:00+00:00") == 1  # Berlin 07:05
    assert [m.to for m in smtp_sink.wait_for(1)] == [berlin.email]

    assert _run_at("2030-01-15T11:05:00+00:00") == 0  # New York 06:05
    assert _run_at("2030-01-15T12:05:00+00:00") == 1  # New York 07:05
    smtp_sink.wait_for(2)
    assert len(smtp_sink.to(berlin.email)) == 1
    assert len(smtp_sink.to(new_york.email)) == 1
    assert Notification.objects.filter(email_status=Email.IN_DIGEST).count() == 2


def test_a_digest_missed_at_its_hour_goes_out_at_the_next_run(
    caplog: pytest.LogCaptureFixture,
    smtp_sink: SmtpSink,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """Beat was down at 07:00: the 10:05 run sends the morning's digest."""
    caplog.set_level(logging.INFO, logger="apps.notifications")
    berlin = _daily_reader("Europe/Berlin")
    _waiting(berlin, django_capture_on_commit_callbacks, title="Fractions")

    assert _run_at("2030-01-15T09:05:00+00:00") == 1

    assert [m.to for m in smtp_sink.wait_for(1)] == [berlin.email]
    (logged,) = [
        r for r in caplog.records if getattr(r, "event", "") == "notifications.digest_sent"
    ]
    assert logged.count == 1  # type: ignore[attr-defined]


def test_one_digest_per_person_per_local_day_however_often_it_runs(
    smtp_sink: SmtpSink, django_capture_on_commit_callbacks: Any
) -> None:
    berlin = _daily_reader("Europe/Berlin")
    _waiting(berlin, django_capture_on_commit_callbacks, title="Fractions")

    runs = ["06:05", "06:05", "06:35", "09:05", "15:05", "22:59"]
    assert [_run_at(f"2030-01-15T{hhmm}:00+00:00") for hhmm in runs] == [1, 0, 0, 0, 0, 0]
    # Something new after today's digest hour waits for tomorrow's.
    _waiting(
        berlin,
        django_capture_on_commit_callbacks,
        title="Decimals",
        at=datetime(2030, 1, 15, 10, 0, tzinfo=UTC),
    )
    assert _run_at("2030-01-15T16:05:00+00:00") == 0
    assert _run_at("2030-01-15T23:05:00+00:00") == 0  # Berlin 00:05 on the 16th
    assert _run_at("2030-01-16T06:05:00+00:00") == 1
    assert _run_at("2030-01-16T07:05:00+00:00") == 0

    first, second = smtp_sink.wait_for(2)
    assert "Fractions" in first.part("text/plain")
    assert "Decimals" not in first.part("text/plain")
    assert "Decimals" in second.part("text/plain")
    assert "Fractions" not in second.part("text/plain")
    assert len(smtp_sink.received()) == 2
    days = sorted(str(d) for d in Digest.objects.filter(user=berlin).values_list("day", flat=True))
    assert days == ["2030-01-15", "2030-01-16"]


def test_the_digest_lists_each_unread_item_with_its_link_time_and_own_unsubscribe_link(
    smtp_sink: SmtpSink, django_capture_on_commit_callbacks: Any
) -> None:
    berlin = _daily_reader("Europe/Berlin")
    _waiting(
        berlin,
        django_capture_on_commit_callbacks,
        title="Fractions: live session",
        body="Bring your worksheet.",
        url="/live/7/",
        event_at=datetime(2030, 1, 15, 12, 30, tzinfo=UTC),
    )
    _waiting(
        berlin,
        django_capture_on_commit_callbacks,
        kind=LESSON_PUBLISHED,
        title="New lesson: Decimals",
        url="/courses/fractions/decimals/",
    )

    assert _run_at("2030-01-15T06:05:00+00:00") == 1

    (digest,) = smtp_sink.wait_for(1)
    assert digest.to == berlin.email
    assert digest.subject == f"[{settings.SITE_NAME}] Your daily digest: 2 notifications"
    assert digest.message["Auto-Submitted"] == "auto-generated"
    # A digest mixes kinds: no one-click header that could not say what it stops.
    assert digest.message["List-Unsubscribe"] is None
    for content_type in ("text/plain", "text/html"):
        part = digest.part(content_type)
        assert "Fractions: live session" in part
        assert "Bring your worksheet." in part
        assert f"{SITE}/live/7/" in part
        assert "New lesson: Decimals" in part
        assert f"{SITE}/courses/fractions/decimals/" in part
        assert "13:30" in part  # 12:30 UTC in Berlin
        assert f"{SITE}/notifications/" in part
        requests = {read_unsubscribe_token(token) for token in UNSUBSCRIBE_LINK.findall(part)}
        assert requests == {
            UnsubscribeRequest(user_id=berlin.pk, kind=SESSION_SCHEDULED),
            UnsubscribeRequest(user_id=berlin.pk, kind=LESSON_PUBLISHED),
        }


def test_read_notifications_are_left_out_of_the_digest(
    smtp_sink: SmtpSink, django_capture_on_commit_callbacks: Any
) -> None:
    berlin = _daily_reader("Europe/Berlin")
    read = _waiting(berlin, django_capture_on_commit_callbacks, title="Already seen")
    _waiting(berlin, django_capture_on_commit_callbacks, title="Still new")
    services.mark_read(user=berlin, notification=read)

    assert _run_at("2030-01-15T06:05:00+00:00") == 1

    (digest,) = smtp_sink.wait_for(1)
    assert digest.subject == f"[{settings.SITE_NAME}] Your daily digest: 1 notification"
    for content_type in ("text/plain", "text/html"):
        assert "Still new" in digest.part(content_type)
        assert "Already seen" not in digest.part(content_type)
    read.refresh_from_db()
    assert read.email_status == Email.NONE


def test_nothing_to_tell_sends_no_digest(
    smtp_sink: SmtpSink, django_capture_on_commit_callbacks: Any
) -> None:
    _daily_reader("Europe/Berlin")  # nothing waiting at all
    everything_read = _daily_reader("Europe/Berlin")
    seen = _waiting(everything_read, django_capture_on_commit_callbacks, title="Seen")
    services.mark_all_read(user=everything_read)

    _run_at("2030-01-15T06:05:00+00:00")
    _run_at("2030-01-15T07:05:00+00:00")

    assert smtp_sink.received() == []
    seen.refresh_from_db()
    assert seen.email_status == Email.NONE


def test_email_turned_off_for_a_kind_after_queueing_keeps_it_out_of_the_digest(
    smtp_sink: SmtpSink, django_capture_on_commit_callbacks: Any
) -> None:
    berlin = _daily_reader("Europe/Berlin")
    _waiting(berlin, django_capture_on_commit_callbacks, title="Fractions")
    lesson = _waiting(
        berlin, django_capture_on_commit_callbacks, kind=LESSON_PUBLISHED, title="Decimals"
    )
    services.set_preferences(user=berlin, choices={LESSON_PUBLISHED: (True, False)})

    assert _run_at("2030-01-15T06:05:00+00:00") == 1

    (digest,) = smtp_sink.wait_for(1)
    assert "Fractions" in digest.part("text/plain")
    assert "Decimals" not in digest.part("text/plain")
    lesson.refresh_from_db()
    assert lesson.email_status == Email.NONE


def test_an_items_unsubscribe_link_keeps_that_kind_out_of_later_digests(
    smtp_sink: SmtpSink, django_capture_on_commit_callbacks: Any
) -> None:
    berlin = _daily_reader("Europe/Berlin")
    _waiting(berlin, django_capture_on_commit_callbacks, kind=LESSON_PUBLISHED, title="Decimals")
    _run_at("2030-01-15T06:05:00+00:00")
    (digest,) = smtp_sink.wait_for(1)
    lesson_link = next(
        link
        for link in UNSUBSCRIBE_LINK.finditer(digest.part("text/plain"))
        if read_unsubscribe_token(link[1]) == UnsubscribeRequest(berlin.pk, LESSON_PUBLISHED)
    )

    # The person follows the link and confirms.
    response = Client().post(lesson_link[0].removeprefix(SITE))

    assert response.status_code == 200
    _waiting(berlin, django_capture_on_commit_callbacks, title="Fractions")
    with django_capture_on_commit_callbacks(execute=True):
        services.notify(recipient_ids=[berlin.pk], kind=LESSON_PUBLISHED, title="Percentages")
    Notification.objects.update(created_at=datetime(2030, 1, 15, 20, 0, tzinfo=UTC))
    assert _run_at("2030-01-16T06:05:00+00:00") == 1
    _first, second = smtp_sink.wait_for(2)
    assert "Fractions" in second.part("text/plain")
    assert "Percentages" not in second.part("text/plain")


def test_mail_server_down_leaves_the_digest_for_a_later_run_which_sends_it_once(
    settings: Any, smtp_sink: SmtpSink, django_capture_on_commit_callbacks: Any
) -> None:
    berlin = _daily_reader("Europe/Berlin")
    _waiting(berlin, django_capture_on_commit_callbacks, title="Fractions")
    with socket.socket() as probe:  # a port where nothing listens
        probe.bind(("127.0.0.1", 0))
        settings.EMAIL_PORT = probe.getsockname()[1]

    # Eager tests propagate the Retry that a worker would schedule.
    with pytest.raises(Retry):
        _run_at("2030-01-15T06:05:00+00:00")

    assert Digest.objects.get(user=berlin).sent_at is None
    assert Notification.objects.get(recipient=berlin).email_status == Email.DIGEST
    settings.EMAIL_PORT = smtp_sink.port
    assert _run_at("2030-01-15T07:05:00+00:00") == 1
    assert _run_at("2030-01-15T08:05:00+00:00") == 0
    assert [m.to for m in smtp_sink.wait_for(1)] == [berlin.email]
    assert len(smtp_sink.received()) == 1
