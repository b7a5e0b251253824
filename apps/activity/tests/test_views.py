"""The "Security events" page: only the person's own security events, fixed queries."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.accounts.tests.factories import make_user
from apps.activity.models import ActivityEvent

pytestmark = pytest.mark.django_db


def _event(user, action, **fields):
    return ActivityEvent.objects.create(actor=user, action=action, **fields)


def test_anonymous_is_sent_to_sign_in(client):
    response = client.get(reverse("activity:mine"))
    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]


def test_own_security_events_only(client):
    me, other = make_user(), make_user()
    _event(me, "accounts.login.succeeded", ip_address="198.51.100.4", user_agent="MyBrowser/9")
    _event(me, "courses.enrollment.approved")  # not a security event
    _event(other, "accounts.password.changed", ip_address="203.0.113.9")
    client.force_login(me)
    response = client.get(reverse("activity:mine"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Security events" in body
    assert "198.51.100.4" in body
    assert "MyBrowser/9" in body
    assert "203.0.113.9" not in body
    assert "Enrollment approved" not in body
    assert [e.action for e, _ in response.context["rows"]] == ["accounts.login.succeeded"]


def _count(client):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(reverse("activity:mine")).status_code == 200
    return len(ctx.captured_queries)


def test_queries_do_not_grow_with_events(client):
    me = make_user()
    client.force_login(me)
    _event(me, "accounts.login.succeeded")
    _count(client)  # the first request of a session also touches the session row
    few = _count(client)
    for _ in range(20):
        _event(me, "accounts.login.failed", ip_address="192.0.2.1")
    assert _count(client) == few
