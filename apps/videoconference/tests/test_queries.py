"""The live-session pages cost a fixed number of queries, however many sessions there are.

Each page is measured with 5 and with 50 sessions (half live or upcoming, half past, across
several courses): the counts must be equal and equal to the pinned number.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import User
from apps.accounts.roles import Role
from apps.accounts.tests.factories import make_user
from apps.courses.models import Course
from apps.courses.tests.factories import CourseFactory, EnrollmentFactory
from apps.videoconference.models import CalendarFeed, VideoSession
from apps.videoconference.tests.factories import VideoSessionFactory, attend

pytestmark = pytest.mark.django_db


@dataclass
class Page:
    url: str
    viewer: User | None


def _queries(page: Page) -> int:
    client = Client()
    if page.viewer is not None:
        client.force_login(page.viewer)
    client.get(page.url)  # warm up: the session, content types and the like
    with CaptureQueriesContext(connection) as captured:
        response = client.get(page.url)
    assert response.status_code == 200, page.url
    return len(captured.captured_queries)


def _sessions(n: int, *, student: User, teacher: User) -> list[VideoSession]:
    """n sessions over n // 5 + 1 courses the student is in and the teacher teaches."""
    now = timezone.now()
    courses = [CourseFactory.create(instructors=[teacher]) for _ in range(n // 5 + 1)]
    for course in courses:
        EnrollmentFactory.create(course=course, student=student)
    sessions = []
    for i in range(n):
        course = courses[i % len(courses)]
        if i % 2:
            start = now - timedelta(days=i + 1)
            status = VideoSession.Status.ENDED if i % 3 else VideoSession.Status.CANCELLED
        else:
            start = now + timedelta(hours=i + 1)
            status = VideoSession.Status.LIVE if i % 4 == 0 else VideoSession.Status.SCHEDULED
        sessions.append(
            VideoSessionFactory.create(
                course=course,
                host=teacher,
                starts_at=start,
                ends_at=start + timedelta(hours=1),
                status=status,
            )
        )
    return sessions


def sessions_page(n: int, role: Role) -> Page:
    student, teacher = make_user(), make_user(role=Role.INSTRUCTOR)
    _sessions(n, student=student, teacher=teacher)
    viewer = {Role.STUDENT: student, Role.INSTRUCTOR: teacher}.get(role) or make_user(role=role)
    return Page(reverse("videoconference:sessions"), viewer)


def room_page(n: int, role: Role) -> Page:
    student, teacher = make_user(), make_user(role=Role.INSTRUCTOR)
    session = _sessions(n, student=student, teacher=teacher)[0]
    for _ in range(n):
        attend(session, make_user(), joined_at=timezone.now())
    return Page(session.meeting_url, teacher if role is Role.INSTRUCTOR else student)


def feed(n: int, role: Role) -> Page:
    student, teacher = make_user(), make_user(role=Role.INSTRUCTOR)
    _sessions(n, student=student, teacher=teacher)
    viewer = teacher if role is Role.INSTRUCTOR else student
    token = CalendarFeed.objects.create(user=viewer).token
    return Page(reverse("videoconference:feed", args=[token]), None)


def attendance_csv(n: int, role: Role) -> Page:
    student, teacher = make_user(), make_user(role=Role.INSTRUCTOR)
    session = _sessions(n, student=student, teacher=teacher)[0]
    now = timezone.now()
    for i in range(n):
        person = make_user()
        attend(session, person, joined_at=now - timedelta(minutes=i + 2), left_at=now)
        attend(session, person, joined_at=now - timedelta(minutes=1))
    return Page(reverse("videoconference:attendance", args=[session.meeting_token]), teacher)


Builder = Callable[[int, Role], Page]

# page builder, viewer's role, pinned query count
CASES: list[tuple[Builder, Role, int]] = [
    # user, profile (time zone), roles: 3 before the page's own (the session comes from the cache)
    (sessions_page, Role.STUDENT, 6),  # upcoming, past count, past page
    (sessions_page, Role.INSTRUCTOR, 7),  # + the instant form's course choices
    (sessions_page, Role.STAFF, 7),
    (room_page, Role.STUDENT, 5),  # session with course and host, membership
    (room_page, Role.INSTRUCTOR, 5),  # session with course and host, the course's instructors
    (feed, Role.STUDENT, 2),  # the feed with its user, the sessions
    (feed, Role.INSTRUCTOR, 2),
    (attendance_csv, Role.INSTRUCTOR, 6),  # session, instructors, attendance with people
]


@pytest.mark.parametrize(
    ("build", "role", "pinned"),
    [pytest.param(b, r, p, id=f"{b.__name__}-{r.value}") for b, r, p in CASES],
)
def test_page_runs_the_same_number_of_queries_with_5_and_50_sessions(build, role, pinned):
    counts = []
    for size in (5, 50):
        counts.append(_queries(build(size, role)))
        # The next size starts from nothing.
        VideoSession.objects.all().delete()
        Course.objects.all().delete()
        User.objects.all().delete()

    assert counts[0] == counts[1], f"{build.__name__}: {counts[0]} with 5, {counts[1]} with 50"
    assert counts[0] == pinned, f"{build.__name__}: {counts[0]} queries, pinned {pinned}"
