"""Retention: rows past their period are deleted per kind, recent ones kept; the daily task runs
every kind and is in the beat schedule."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from apps.accounts.tests.factories import make_user
from apps.activity.models import ActivityEvent
from apps.core.personal_data import declarations
from apps.privacy import retention, tasks
from apps.videoconference.models import Attendance, ChatMessage
from apps.videoconference.tests.factories import VideoSessionFactory, attend

pytestmark = pytest.mark.django_db

DAY = timedelta(days=1)


def _chat(session, user, text: str, *, days_ago: float) -> ChatMessage:
    message = ChatMessage.objects.create(session=session, author=user, text=text)
    ChatMessage.objects.filter(pk=message.pk).update(
        sent_at=timezone.now() - timedelta(days=days_ago)
    )
    return message


def _event(*, days_ago: float) -> ActivityEvent:
    event = ActivityEvent.objects.create(action="accounts.login.succeeded")
    ActivityEvent.objects.filter(pk=event.pk).update(
        created_at=timezone.now() - timedelta(days=days_ago)
    )
    return event


def test_chat_lines_past_the_period_are_deleted_in_batches_and_recent_ones_kept(
    settings,
) -> None:
    settings.RETENTION_CHAT_DAYS = 30
    session = VideoSessionFactory.create()
    user = make_user()
    for n in range(5):
        _chat(session, user, f"old {n}", days_ago=31)
    recent = _chat(session, user, "recent", days_ago=29)

    assert retention.delete_old_chat_messages(batch_size=2) == 5

    assert list(ChatMessage.objects.values_list("text", flat=True)) == [recent.text]
    assert retention.delete_old_chat_messages() == 0


def test_attendance_past_the_period_is_deleted_and_recent_kept(settings) -> None:
    settings.RETENTION_ATTENDANCE_DAYS = 100
    session = VideoSessionFactory.create()
    now = timezone.now()
    old = [attend(session, make_user(), joined_at=now - 101 * DAY) for _ in range(3)]
    recent = attend(session, make_user(), joined_at=now - 99 * DAY)

    assert retention.delete_old_attendance(batch_size=2) == len(old)

    assert list(Attendance.objects.values_list("pk", flat=True)) == [recent.pk]


def test_activity_events_past_the_period_are_deleted_by_the_activity_app(settings) -> None:
    settings.ACTIVITY_RETENTION_DAYS = 10
    _event(days_ago=11)
    recent = _event(days_ago=9)

    assert retention.delete_old_activity() == 1

    assert list(ActivityEvent.objects.values_list("pk", flat=True)) == [recent.pk]


def test_the_default_periods_keep_a_year_of_chat_and_two_years_of_attendance() -> None:
    assert settings.RETENTION_CHAT_DAYS == 365
    assert settings.RETENTION_ATTENDANCE_DAYS == 730


def test_the_task_applies_every_kind_and_reports_the_counts(settings) -> None:
    settings.RETENTION_CHAT_DAYS = 30
    settings.RETENTION_ATTENDANCE_DAYS = 60
    settings.ACTIVITY_RETENTION_DAYS = 90
    session = VideoSessionFactory.create()
    user = make_user()
    now = timezone.now()
    _chat(session, user, "old", days_ago=31)
    kept_chat = _chat(session, user, "kept", days_ago=1)
    attend(session, user, joined_at=now - 61 * DAY)
    attend(session, user, joined_at=now - 61 * DAY)
    kept_attendance = attend(session, user, joined_at=now - DAY)
    for _ in range(3):
        _event(days_ago=91)
    kept_event = _event(days_ago=1)

    counts = tasks.apply_retention.delay().get()

    assert counts == {"chat_messages": 1, "attendance": 2, "activity_events": 3}
    assert list(ChatMessage.objects.values_list("pk", flat=True)) == [kept_chat.pk]
    assert list(Attendance.objects.values_list("pk", flat=True)) == [kept_attendance.pk]
    assert list(ActivityEvent.objects.values_list("pk", flat=True)) == [kept_event.pk]
    assert tasks.apply_retention.delay().get() == {
        "chat_messages": 0,
        "attendance": 0,
        "activity_events": 0,
    }


def test_beat_runs_the_retention_task() -> None:
    tasks_scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "privacy.apply_retention" in tasks_scheduled


def test_every_retention_kind_is_shown_on_the_record_of_processing() -> None:
    """A period the task applies but no declaration names would be missing from the Art. 30
    record."""
    declared = {p.setting for d in declarations() for p in d.retention_periods}
    assert {kind.setting for kind in retention.KINDS} <= declared
