"""The report pages cost a fixed number of queries, however many reports or rows there are.

My reports is measured with 3 and with 30 reports (course and session reports, every status);
a report's page and its polled status block with a report of 5 and of 50 enrollments, among 3
and 30 other reports of the same person.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.accounts.models import User
from apps.courses.tests.factories import EnrollmentFactory
from apps.reports.models import Report
from apps.reports.tests.factories import make_report, teacher_of
from apps.videoconference.tests.factories import VideoSessionFactory

pytestmark = pytest.mark.django_db

STATUSES = [Report.Status.DONE, Report.Status.RUNNING, Report.Status.FAILED, "queued", "expired"]


def _queries(user: User, url: str) -> int:
    client = Client()
    client.force_login(user)
    client.get(url)  # warm up: the session, content types and the like
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(captured.captured_queries)


def _reports(n: int) -> tuple[User, Report]:
    session = VideoSessionFactory.create()
    course = session.course
    assert course is not None
    teacher = teacher_of(course)
    for _ in range(n * 5 // 3):
        EnrollmentFactory.create(course=course)
    reports = []
    for i in range(n):
        status = STATUSES[i % len(STATUSES)]
        fields: dict[str, Any] = {"heartbeat_at": timezone.now()} if status == "running" else {}
        subject: dict[str, Any] = {"course": course} if i % 2 else {"session": session}
        reports.append(make_report(requested_by=teacher, status=status, **subject, **fields))
    return teacher, reports[-1]


@pytest.mark.parametrize("page", ["list", "detail", "status"])
def test_report_pages_cost_the_same_queries_for_few_and_many(page: str) -> None:
    counts = []
    for n in (3, 30):
        teacher, report = _reports(n)
        url = {
            "list": "/reports/",
            "detail": f"/reports/{report.pk}/",
            "status": f"/reports/{report.pk}/status/",
        }[page]
        counts.append(_queries(teacher, url))
        Report.objects.all().delete()

    assert counts[0] == counts[1], counts
    assert counts[0] == {"list": 5, "detail": 4, "status": 3}[page], counts
