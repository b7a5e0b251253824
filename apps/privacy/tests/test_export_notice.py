"""A finished data export is announced in the app and by email, with the link to download it
(the reports app's "report ready" notification, sent once)."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client
from django.urls import reverse

from apps.accounts.tests.factories import make_user
from apps.notifications.models import Notification
from apps.privacy import services
from apps.reports.models import Report
from apps.reports.tasks import generate_report

pytestmark = pytest.mark.django_db


def test_a_finished_export_sends_one_notification_and_one_email_with_the_link(
    django_capture_on_commit_callbacks: Any,
) -> None:
    user = make_user(email="ada@example.test")
    with django_capture_on_commit_callbacks(execute=True):
        report = services.request_export(user)
    report.refresh_from_db()
    assert report.status == Report.Status.DONE

    notification = Notification.objects.get(recipient=user)
    assert notification.title == "Your report is ready: Export of your data"
    assert notification.url == reverse("reports:detail", kwargs={"pk": report.pk})
    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == [user.email]
    assert "Export of your data" in email.subject
    link = f"{str(settings.SITE_URL).rstrip('/')}{notification.url}"
    assert link in email.body

    client = Client()
    client.force_login(user)
    page = client.get(notification.url).content.decode()
    assert reverse("reports:download", kwargs={"pk": report.pk}) in page

    # A redelivered task finds the export done: nobody is told twice.
    with django_capture_on_commit_callbacks(execute=True):
        assert generate_report.delay(report.pk).get() == "skipped"
    assert Notification.objects.filter(recipient=user).count() == 1
    assert len(mail.outbox) == 1
