"""Admin bulk actions and report requests/downloads are recorded."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from apps.accounts.roles import Role
from apps.accounts.tests.factories import make_user
from apps.activity.models import ActivityEvent
from apps.courses.models import Course
from apps.courses.tests.factories import CourseFactory, instructor_of
from apps.reports import services as report_services
from apps.reports.models import Report

pytestmark = pytest.mark.django_db(transaction=True)


def test_admin_bulk_action_is_recorded_with_name_model_and_count():
    staff = make_user(Role.STAFF)
    client = Client()
    client.force_login(staff)
    courses = [CourseFactory.create(status=Course.Status.DRAFT) for _ in range(3)]
    response = client.post(
        reverse("admin:courses_course_changelist"),
        {"action": "publish", "_selected_action": [c.pk for c in courses]},
    )
    assert response.status_code == 302
    event = ActivityEvent.objects.get(action="admin.action.run")
    assert event.actor_id == staff.pk
    assert event.context["action_name"] == "publish"
    assert event.context["model"] == "courses.course"
    assert event.context["count"] == 3


def test_report_request_and_download_are_recorded():
    course = CourseFactory.create()
    instructor = instructor_of(course)
    report = report_services.request_report(
        actor=instructor, kind=Report.Kind.COURSE_PROGRESS, file_format="csv", course=course
    )
    requested = ActivityEvent.objects.get(action="reports.report.requested")
    assert requested.actor_id == instructor.pk
    assert requested.target_id == str(report.pk)
    assert requested.context["kind"] == Report.Kind.COURSE_PROGRESS
    report.refresh_from_db()
    assert report.status == Report.Status.DONE  # generated eagerly in tests
    client = Client()
    client.force_login(instructor)
    response = client.get(reverse("reports:download", args=[report.pk]))
    assert response.status_code == 200
    downloaded = ActivityEvent.objects.get(action="reports.report.downloaded")
    assert downloaded.actor_id == instructor.pk
    assert downloaded.target_id == str(report.pk)
