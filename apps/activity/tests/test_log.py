"""The staff activity log page (/activity/): who may read it, its filters, and its cost."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.accounts.models import User
from apps.accounts.roles import Role
from apps.accounts.tests.factories import make_user
from apps.activity.models import ActivityEvent
from apps.activity.policies import can_view_activity_log

pytestmark = pytest.mark.django_db

LOG = reverse("activity:log")


def event(
    action: str, *, actor: User | None = None, when: datetime | None = None, **fields: Any
) -> ActivityEvent:
    created = ActivityEvent.objects.create(actor=actor, action=action, **fields)
    if when is not None:
        ActivityEvent.objects.filter(pk=created.pk).update(created_at=when)
        created.refresh_from_db()
    return created


def client_of(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def staff() -> User:
    return make_user(Role.STAFF, email="boss@example.test")


def shown(response: Any) -> list[int]:
    assert response.status_code == 200, response.content.decode()[:500]
    return [e.pk for e, _ in response.context["rows"]]


@pytest.fixture
def mixed(staff: User) -> dict[str, ActivityEvent]:
    """Events that differ in one filterable field each, a day apart (UTC, the staff's zone)."""
    ada = make_user(email="ada@example.test")
    ben = make_user(email="ben@example.test")
    day = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
    return {
        "ada_login": event(
            "accounts.login.succeeded",
            actor=ada,
            when=day,
            ip_address="198.51.100.7",
            target_label="account",
        ),
        "ben_enrol": event(
            "courses.enrollment.approved",
            actor=ben,
            when=day + timedelta(days=1),
            ip_address="203.0.113.5",
            target_label="Knitting for programmers",
        ),
        "ben_password": event(
            "accounts.password.changed",
            actor=ben,
            when=day + timedelta(days=2),
            ip_address="203.0.113.5",
            target_label="account",
        ),
        "system": event("privacy.erasure.completed", when=day + timedelta(days=3)),
    }


def test_staff_see_every_event_newest_first_with_actor_and_ip(staff, mixed):
    response = client_of(staff).get(LOG)

    assert shown(response) == [
        mixed[name].pk for name in ("system", "ben_password", "ben_enrol", "ada_login")
    ]
    body = response.content.decode()
    assert "<h1>Activity log</h1>" in body
    assert "ada@example.test" in body
    assert "198.51.100.7" in body
    assert "Enrollment approved" in body
    assert f'href="{LOG}"' in body  # the header's link for staff


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"actor": "BEN@"}, ["ben_password", "ben_enrol"]),
        ({"action": "accounts.password.changed"}, ["ben_password"]),
        ({"action": "accounts."}, ["ben_password", "ada_login"]),
        ({"target": "knitting"}, ["ben_enrol"]),
        ({"date_from": "2026-03-11"}, ["system", "ben_password", "ben_enrol"]),
        ({"date_to": "2026-03-11"}, ["ben_enrol", "ada_login"]),
        ({"date_from": "2026-03-11", "date_to": "2026-03-11"}, ["ben_enrol"]),
        ({"ip": "203.0.113.5"}, ["ben_password", "ben_enrol"]),
        ({"actor": "ben", "action": "courses."}, ["ben_enrol"]),
        ({"actor": "nobody"}, []),
    ],
)
def test_each_filter_narrows_the_log(staff, mixed, query, expected):
    response = client_of(staff).get(LOG, query)

    assert shown(response) == [mixed[name].pk for name in expected]
    if not expected:
        assert "No events match these filters." in response.content.decode()


def test_dates_are_whole_days_in_the_readers_time_zone(staff):
    staff.profile.time_zone = "Pacific/Auckland"  # UTC+13 in March
    staff.profile.save(update_fields=["time_zone"])
    late_utc = event(
        "accounts.login.succeeded", when=datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
    )  # 11 March, 01:00 in Auckland

    on_11 = client_of(staff).get(LOG, {"date_from": "2026-03-11", "date_to": "2026-03-11"})
    on_10 = client_of(staff).get(LOG, {"date_to": "2026-03-10"})

    assert shown(on_11) == [late_utc.pk]
    assert shown(on_10) == []


def test_action_choices_offer_namespaces_and_every_listed_action(staff):
    body = client_of(staff).get(LOG).content.decode()

    assert '<option value="accounts.">' in body
    assert '<option value="videoconference.participant.muted">' in body
    assert '<optgroup label="reports">' in body


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"date_from": "yesterday"}, "date_from", "Enter a valid date."),
        ({"date_to": "2026-02-30"}, "date_to", "Enter a valid date."),
        (
            {"date_from": "2026-03-12", "date_to": "2026-03-11"},
            "date_to",
            "The end date must not be before the start date.",
        ),
        ({"ip": "999.1.1.1"}, "ip", "Enter a valid IPv4 or IPv6 address."),
        ({"action": "accounts.nope.nope"}, "action", "Select a valid choice."),
        ({"actor": "a\x00b"}, "actor", "Null characters are not allowed."),
    ],
)
def test_bad_filters_show_the_form_error_not_a_server_error(staff, mixed, query, field, message):
    response = client_of(staff).get(LOG, query)

    assert response.status_code == 400
    assert message in response.context["form"].errors[field][0]
    body = response.content.decode()
    assert "There is a problem" in body
    assert "ada@example.test" not in body  # no unfiltered log under the error


@pytest.mark.parametrize("role", [Role.STUDENT, Role.INSTRUCTOR, Role.MODERATOR])
def test_everyone_but_staff_is_refused(role, mixed):
    user = make_user(role)
    client = client_of(user)

    page = client.get(LOG)
    export = client.post(reverse("activity:export"), {"file_format": "csv"})

    assert page.status_code == 403
    assert export.status_code == 403
    assert "ada@example.test" not in page.content.decode()
    assert f'href="{LOG}"' not in client.get(reverse("home")).content.decode()
    assert not can_view_activity_log(user)


def test_visitors_are_sent_to_sign_in():
    response = Client().get(LOG)

    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]


def test_pages_keep_the_filters(staff):
    for _ in range(55):
        event("accounts.login.failed", ip_address="192.0.2.1")
    event("courses.enrollment.approved", ip_address="192.0.2.1")

    first = client_of(staff).get(LOG, {"action": "accounts."})
    older = client_of(staff).get(LOG, {"action": "accounts.", "page": "2"})

    assert "action=accounts.&amp;page=2" in first.content.decode()
    assert len(shown(first)) == 50
    assert len(shown(older)) == 5
    assert older.context["page"].paginator.count == 55


def _queries(client: Client, query: dict[str, str]) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(LOG, query).status_code == 200
    return len(ctx.captured_queries)


def test_queries_do_not_grow_with_events(staff):
    client = client_of(staff)
    query = {"action": "accounts.", "ip": "192.0.2.1"}
    for _ in range(5):
        event("accounts.login.failed", actor=make_user(), ip_address="192.0.2.1")
    _queries(client, query)  # the session's first request also touches its row
    five = _queries(client, query)
    for _ in range(45):
        event("accounts.login.failed", actor=make_user(), ip_address="192.0.2.1")

    fifty = _queries(client, query)

    assert fifty == five
