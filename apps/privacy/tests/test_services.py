"""Export and erasure through the real services (embedded settings: eager Celery)."""

from __future__ import annotations

import json
import zipfile
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from apps.accounts.tests.factories import DEFAULT_PASSWORD
from apps.accounts.tests.factories import UserFactory as _UserFactory
from apps.core.personal_data import declarations
from apps.privacy import services
from apps.privacy.errors import ErasureAlreadyRequested, NoErasureToCancel
from apps.privacy.models import ErasureRequest
from apps.reports import files
from apps.reports.models import Report


def UserFactory(**kwargs: Any) -> Any:
    return _UserFactory(**kwargs)


pytestmark = pytest.mark.django_db


def test_export_of_a_user_with_no_data_has_a_file_per_app_and_a_manifest() -> None:
    user = UserFactory()
    names = [name for name, _ in services.export_files(user)]
    assert names == [f"{d.app_label}.json" for d in declarations()] + ["manifest.json"]


def test_export_report_builds_the_zip(django_capture_on_commit_callbacks) -> None:
    user = UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        report = services.request_export(user)
    report.refresh_from_db()
    assert report.status == Report.Status.DONE, report.error_code
    path = files.path_of(report.file_name)
    assert path is not None
    with zipfile.ZipFile(path) as archive:
        members = set(archive.namelist())
        accounts = json.loads(archive.read("accounts.json"))
    assert {f"{d.app_label}.json" for d in declarations()} <= members
    assert accounts["user"][0]["email"] == user.email
    assert "password" not in accounts["user"][0]


def test_erasure_twice_changes_nothing_and_cancel_works() -> None:
    user = UserFactory()
    first = services.request_erasure(user)
    with pytest.raises(ErasureAlreadyRequested):
        services.request_erasure(user)
    assert ErasureRequest.objects.filter(user=user).count() == 1
    services.cancel_erasure(user)
    first.refresh_from_db()
    assert first.status == ErasureRequest.Status.CANCELLED
    with pytest.raises(NoErasureToCancel):
        services.cancel_erasure(user)


def test_grace_period_then_erased_once(django_capture_on_commit_callbacks) -> None:
    user = UserFactory(display_name="Ada Unique")
    email = user.email
    erasure = services.request_erasure(user)
    assert services.process_erasures() == 0  # not due yet
    ErasureRequest.objects.filter(pk=erasure.pk).update(
        due_at=timezone.now() - timedelta(seconds=1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert services.process_erasures() == 1
    assert services.process_erasures() == 0
    user.refresh_from_db()
    assert user.email != email
    assert user.email.endswith("@invalid.example")
    assert user.display_name == services.DELETED_NAME
    assert not user.is_active
    assert not user.has_usable_password()
    erasure.refresh_from_db()
    assert erasure.status == ErasureRequest.Status.DONE
    assert erasure.attempts == 1


def test_erasure_signs_out_other_clients() -> None:
    """Signed in through the real sign-in form in two browsers; both sessions end."""
    user = UserFactory()
    browsers = [Client(), Client()]
    for browser in browsers:
        browser.post(reverse("account_login"), {"login": user.email, "password": DEFAULT_PASSWORD})
        assert browser.get(reverse("privacy:home")).status_code == 200

    assert services.end_sessions(user) == 2

    for browser in browsers:
        assert browser.get(reverse("privacy:home")).status_code == 302


def test_privacy_page_buttons(client) -> None:
    user = UserFactory()
    client.force_login(user)
    assert client.get(reverse("privacy:home")).status_code == 200
    client.post(reverse("privacy:erasure_request"))
    response = client.post(reverse("privacy:erasure_request"), follow=True)
    assert "already asked" in response.content.decode()
    assert ErasureRequest.objects.filter(user=user).count() == 1
