"""Exporting the staff activity log: a report of the page's filters, built by the reports task."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from apps.accounts.roles import Role
from apps.accounts.tests.factories import make_user
from apps.activity.exports import COLUMNS
from apps.activity.models import ActivityEvent
from apps.reports import services as report_services
from apps.reports.models import Report
from apps.reports.tests.factories import file_of, read_rows

pytestmark = pytest.mark.django_db

DAY = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def _event(action: str, *, days: int = 0, **fields: Any) -> ActivityEvent:
    created = ActivityEvent.objects.create(action=action, **fields)
    ActivityEvent.objects.filter(pk=created.pk).update(created_at=DAY + timedelta(days=days))
    created.refresh_from_db()
    return created


@pytest.fixture
def staff_client() -> tuple[Any, Client]:
    staff = make_user(Role.STAFF)
    client = Client()
    client.force_login(staff)
    return staff, client


def test_export_button_asks_for_a_report_of_the_filtered_log_and_the_csv_matches(
    staff_client, django_capture_on_commit_callbacks, settings
):
    settings.REPORTS_ROWS_PER_CHUNK = 2  # several chunks for a handful of rows
    staff, client = staff_client
    ben = make_user(email="ben@example.test")
    wanted = [
        _event(
            "accounts.login.failed",
            actor=ben,
            days=d,
            ip_address="203.0.113.5",
            target_label="=HYPERLINK()" if d == 3 else "account",
        )
        for d in range(1, 6)
    ]
    _event("accounts.login.failed", actor=ben, days=0)  # before the first day
    _event("courses.enrollment.approved", actor=ben, days=2)  # another namespace
    _event("accounts.login.failed", days=3)  # no actor
    filters = {"actor": "ben@", "action": "accounts.", "date_from": "2026-03-11", "ip": ""}

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("activity:export"), {**filters, "file_format": "csv"})

    report = Report.objects.get(requested_by=staff)
    assert response.status_code == 302
    assert response["Location"] == report.get_absolute_url()
    assert report.kind == Report.Kind.ACTIVITY_LOG
    assert report.parameters == {"actor": "ben@", "action": "accounts.", "date_from": "2026-03-11"}
    report.refresh_from_db()
    assert report.status == Report.Status.DONE  # the task ran eagerly after commit
    assert report.rows_total == 5
    rows = read_rows(file_of(report))
    assert rows[0] == list(COLUMNS)
    newest_first = sorted(wanted, key=lambda e: (e.created_at, e.pk), reverse=True)
    column = {name: i for i, name in enumerate(COLUMNS)}
    assert [int(r[column["actor_id"]]) for r in rows[1:]] == [ben.pk] * 5
    assert [r[column["actor_email"]] for r in rows[1:]] == ["ben@example.test"] * 5
    assert [r[column["when"]] for r in rows[1:]] == [e.created_at.isoformat() for e in newest_first]
    assert [r[column["target"]] for r in rows[1:]] == [
        "account",
        "account",
        "'=HYPERLINK()",  # text, never a formula
        "account",
        "account",
    ]

    requested = ActivityEvent.objects.get(action="reports.report.requested", actor=staff)
    assert requested.target_id == str(report.pk)
    assert requested.context["parameters"] == report.parameters

    download = client.get(reverse("reports:download", args=[report.pk]))
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith('attachment; filename="activity-log-')


def test_the_page_offers_the_export_with_its_filters(staff_client):
    _staff, client = staff_client
    _event("accounts.login.failed", ip_address="192.0.2.9")

    body = client.get(
        reverse("activity:log"), {"action": "accounts.", "ip": "192.0.2.9"}
    ).content.decode()

    assert f'action="{reverse("activity:export")}"' in body
    assert '<input type="hidden" name="action" value="accounts.">' in body
    assert '<input type="hidden" name="ip" value="192.0.2.9">' in body
    assert 'name="file_format" value="xlsx"' in body


def test_xlsx_export_holds_the_same_rows(staff_client, django_capture_on_commit_callbacks):
    staff, _client = staff_client
    shown = _event("videoconference.participant.muted", target_label="Algebra")
    _event("videoconference.session.started", target_label="Algebra")

    with django_capture_on_commit_callbacks(execute=True):
        report = report_services.request_report(
            actor=staff,
            kind=Report.Kind.ACTIVITY_LOG,
            file_format=Report.Format.XLSX,
            parameters={"action": "videoconference.participant.muted"},
        )

    rows = read_rows(file_of(report))
    assert rows[0] == list(COLUMNS)
    assert len(rows) == 2
    assert rows[1][COLUMNS.index("action")] == shown.action
    assert rows[1][COLUMNS.index("target")] == "Algebra"


def test_bad_export_input_is_refused_without_a_report(staff_client):
    staff, client = staff_client

    bad_format = client.post(reverse("activity:export"), {"file_format": "zip"})
    bad_date = client.post(reverse("activity:export"), {"file_format": "csv", "date_from": "soon"})

    assert bad_format.status_code == 400
    assert bad_date.status_code == 400
    assert not Report.objects.filter(requested_by=staff).exists()


def test_stored_filters_that_no_longer_validate_fail_the_report(
    staff_client, django_capture_on_commit_callbacks
):
    staff, _client = staff_client

    with django_capture_on_commit_callbacks(execute=True):
        report = report_services.request_report(
            actor=staff,
            kind=Report.Kind.ACTIVITY_LOG,
            file_format=Report.Format.CSV,
            parameters={"date_from": "not a date"},
        )

    report.refresh_from_db()
    assert report.status == Report.Status.FAILED
    assert report.error_code == "generation_failed"


def test_a_former_staff_member_cannot_download_the_log(
    staff_client, django_capture_on_commit_callbacks
):
    staff, client = staff_client
    _event("accounts.login.failed")
    with django_capture_on_commit_callbacks(execute=True):
        report = report_services.request_report(
            actor=staff, kind=Report.Kind.ACTIVITY_LOG, file_format=Report.Format.CSV
        )
    staff.is_staff = False
    staff.save(update_fields=["is_staff"])
    staff.groups.clear()

    assert client.get(reverse("reports:download", args=[report.pk])).status_code == 404
