"""Staff look at what was sent to whom in the admin (a record: read-only), and can change a
person's settings for them, through the same service as the settings page."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from apps.accounts.roles import Role
from apps.accounts.tests.factories import make_user
from apps.notifications import kinds, selectors, services
from apps.notifications.models import DeliverySettings, Notification, Preference

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client() -> Client:
    client = Client()
    client.force_login(make_user(role=Role.STAFF))
    return client


def test_notifications_are_found_by_recipient_email_and_cannot_be_edited(staff_client):
    alice, bob = make_user(email="alice@example.test"), make_user(email="bob@example.test")
    services.notify(recipient_ids=[alice.pk], kind=kinds.REPORT_READY, title="Alice's report")
    services.notify(recipient_ids=[bob.pk], kind=kinds.REPORT_READY, title="Bob's report")
    changelist = reverse("admin:notifications_notification_changelist")

    page = staff_client.get(changelist, {"q": "alice@"}).content.decode()

    assert "Alice&#x27;s report" in page
    assert "Bob&#x27;s report" not in page
    notification = Notification.objects.get(recipient=alice)
    change = reverse("admin:notifications_notification_change", args=[notification.pk])
    staff_client.post(change, {"title": "Rewritten"})
    notification.refresh_from_db()
    assert notification.title == "Alice's report"
    assert staff_client.get(reverse("admin:notifications_notification_add")).status_code == 403


@pytest.mark.parametrize(
    "query", [{"kind__exact": kinds.REPORT_READY}, {"email_status__exact": "pending"}]
)
def test_the_notification_list_filters_by_kind_and_email_status(staff_client, query):
    response = staff_client.get(reverse("admin:notifications_notification_changelist"), query)

    assert response.status_code == 200


def test_staff_turn_off_someones_email_for_a_kind(staff_client):
    student = make_user()
    services.set_preferences(user=student, choices={kinds.LESSON_PUBLISHED: (True, True)})
    pref = Preference.objects.get(user=student)

    staff_client.post(
        reverse("admin:notifications_preference_change", args=[pref.pk]), {"in_app": "on"}
    )

    assert selectors.preferences_of(student.pk)[kinds.LESSON_PUBLISHED] == selectors.Choice(
        in_app=True, email=False
    )


def test_staff_switch_someone_to_the_daily_digest(staff_client):
    student = make_user()
    services.set_preferences(user=student, choices={}, email_frequency="immediate")
    settings_row = DeliverySettings.objects.get(user=student)

    staff_client.post(
        reverse("admin:notifications_deliverysettings_change", args=[settings_row.pk]),
        {"email_frequency": "daily"},
    )

    assert selectors.email_frequency_of(student.pk) == DeliverySettings.Frequency.DAILY


def test_digests_are_listed(staff_client):
    response = staff_client.get(reverse("admin:notifications_digest_changelist"))

    assert response.status_code == 200
