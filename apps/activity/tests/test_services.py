"""record(): validation, on-commit writing; retention deletes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.test import RequestFactory
from django.utils import timezone

from apps.accounts.tests.factories import make_user
from apps.activity.models import ActivityEvent
from apps.activity.services import delete_events_before, record, retention_cutoff

pytestmark = pytest.mark.django_db(transaction=True)


def test_unknown_or_badly_shaped_action_is_refused():
    with pytest.raises(ValueError, match="are '<app>"):
        record(None, "login")
    with pytest.raises(ValueError, match="unknown activity action"):
        record(None, "accounts.login.exploded")
    assert ActivityEvent.objects.count() == 0


def test_event_is_written_on_commit_with_ip_and_user_agent():
    user = make_user()
    request = RequestFactory().get("/", HTTP_USER_AGENT="TestBrowser/1.0", REMOTE_ADDR="10.1.2.3")
    with transaction.atomic():
        record(user, "accounts.password.changed", user, request=request, extra={"a": 1})
        assert not ActivityEvent.objects.filter(action="accounts.password.changed").exists()
    event = ActivityEvent.objects.get(action="accounts.password.changed")
    assert event.actor_id == user.pk
    assert event.target_type == "accounts.user"
    assert event.target_id == str(user.pk)
    assert event.ip_address == "10.1.2.3"
    assert event.user_agent == "TestBrowser/1.0"
    assert event.context == {"extra": {"a": 1}}


def test_rolled_back_action_leaves_no_event():
    user = make_user()
    try:
        with transaction.atomic():
            record(user, "accounts.password.changed", user)
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert not ActivityEvent.objects.filter(action="accounts.password.changed").exists()


def test_delete_events_before_deletes_only_older_events_in_batches():
    now = timezone.now()
    old = [ActivityEvent.objects.create(action="accounts.login.succeeded") for _ in range(5)]
    ActivityEvent.objects.filter(pk__in=[e.pk for e in old]).update(
        created_at=now - timedelta(days=400)
    )
    keep = ActivityEvent.objects.create(action="accounts.login.succeeded")
    assert delete_events_before(now - timedelta(days=365), batch_size=2) == 5
    assert list(ActivityEvent.objects.values_list("pk", flat=True)) == [keep.pk]
    assert delete_events_before(now - timedelta(days=365)) == 0


def test_retention_cutoff_follows_the_setting(settings):
    settings.ACTIVITY_RETENTION_DAYS = 30
    now = timezone.now()
    assert retention_cutoff(now) == now - timedelta(days=30)
