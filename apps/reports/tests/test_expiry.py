"""Report files expire: the hourly clean-up deletes them, and a download then says so (410)."""

from __future__ import annotations

import os
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from apps.courses.tests.factories import CourseFactory
from apps.reports import services, tasks
from apps.reports.models import Report
from apps.reports.tests.factories import make_report, teacher_of

pytestmark = pytest.mark.django_db


def _expired_report(**fields: Any) -> tuple[Report, Path]:
    course = CourseFactory.create()
    report = make_report(
        requested_by=teacher_of(course),
        course=course,
        status=Report.Status.DONE,
        expires_at=timezone.now() - timedelta(minutes=1),
        **fields,
    )
    return report, Path(settings.REPORTS_DIR) / report.file_name


def test_the_clean_up_deletes_expired_files_and_a_download_then_says_expired() -> None:
    report, path = _expired_report()
    assert path.exists()

    assert tasks.delete_expired.delay().get() == {"expired": 1, "abandoned": 0, "orphans": 0}

    assert not path.exists()
    report.refresh_from_db()
    assert (report.status, report.file_name, report.size) == (Report.Status.EXPIRED, "", 0)
    client = Client()
    client.force_login(report.requested_by)
    response = client.get(f"/reports/{report.pk}/download/")
    assert response.status_code == 410
    text = response.content.decode()
    assert "This report has expired" in text
    assert f"kept for {settings.REPORTS_TTL_HOURS} hours" in text
    assert "no-store" in response["Cache-Control"]
    page = client.get(f"/reports/{report.pk}/").content.decode()
    assert "Status: Expired" in page
    assert "/download/" not in page


def test_running_the_clean_up_twice_changes_nothing_the_second_time() -> None:
    _expired_report()
    services.delete_expired_reports()

    assert services.delete_expired_reports() == {"expired": 0, "abandoned": 0, "orphans": 0}


def test_a_report_past_its_expiry_is_refused_even_before_the_clean_up_ran() -> None:
    report, path = _expired_report()
    client = Client()
    client.force_login(report.requested_by)

    response = client.get(f"/reports/{report.pk}/download/")

    assert response.status_code == 410
    assert path.exists()  # the clean-up deletes it; the view never serves it


def test_reports_not_yet_expired_are_kept() -> None:
    course = CourseFactory.create()
    report = make_report(requested_by=teacher_of(course), course=course, status="done")

    services.delete_expired_reports()

    report.refresh_from_db()
    assert report.status == Report.Status.DONE
    assert (Path(settings.REPORTS_DIR) / report.file_name).exists()


def test_a_missing_file_is_answered_as_expired_not_as_an_error() -> None:
    course = CourseFactory.create()
    report = make_report(requested_by=teacher_of(course), course=course, status="done")
    (Path(settings.REPORTS_DIR) / report.file_name).unlink()
    client = Client()
    client.force_login(report.requested_by)

    response = client.get(f"/reports/{report.pk}/download/")

    assert response.status_code == 410


def test_reports_nobody_worked_on_for_hours_are_failed_so_they_can_be_asked_for_again() -> None:
    course = CourseFactory.create()
    teacher = teacher_of(course)
    lost = make_report(requested_by=teacher, course=course)
    Report.objects.filter(pk=lost.pk).update(created_at=timezone.now() - timedelta(hours=7))
    waiting = make_report(requested_by=teacher, course=course, file_format="xlsx")

    assert services.delete_expired_reports()["abandoned"] == 1

    lost.refresh_from_db()
    waiting.refresh_from_db()
    assert (lost.status, lost.error_code) == (Report.Status.FAILED, "abandoned")
    assert waiting.status == Report.Status.QUEUED
    client = Client()
    client.force_login(teacher)
    assert "Please ask for it again." in client.get(f"/reports/{lost.pk}/").content.decode()


def test_old_files_no_report_owns_are_swept_and_owned_ones_kept() -> None:
    course = CourseFactory.create()
    owned = make_report(requested_by=teacher_of(course), course=course, status="done")
    directory = Path(settings.REPORTS_DIR)
    leftover = directory / ".report-999-a1.part"
    leftover.write_text("half a file")
    fresh_part = directory / ".report-1000-a1.part"
    fresh_part.write_text("a run writing right now")
    long_ago = time.time() - (settings.REPORTS_TTL_HOURS + 1) * 3600
    for path in (leftover, directory / owned.file_name):
        os.utime(path, (long_ago, long_ago))

    assert services.delete_expired_reports()["orphans"] == 1

    assert not leftover.exists()
    assert fresh_part.exists()
    assert (directory / owned.file_name).exists()
