"""`manage.py seed_demo` opens office hours the demo student can join at once and schedules a
session for next week; running it again changes nothing."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from apps.accounts.models import User
from apps.videoconference import policies
from apps.videoconference.models import VideoSession

pytestmark = pytest.mark.django_db


def _seed() -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


@pytest.fixture
def seeded(settings) -> str:
    settings.DEBUG = True
    return _seed()


def _state() -> list[tuple[object, ...]]:
    return sorted(VideoSession.objects.values_list("meeting_token", "title", "status", "starts_at"))


def test_the_demo_student_can_join_the_live_office_hours_right_away(seeded):
    student = User.objects.get(email="student@example.com")
    session = VideoSession.objects.get(title="Office hours", status=VideoSession.Status.LIVE)

    ticket = policies.get_session_for_join(user=student, token=session.meeting_token)

    assert session.course is not None
    assert session.course.slug == "python-from-scratch"
    assert session.host.email == "instructor@example.com"
    assert ticket.role == "participant"
    assert not ticket.needs_admission
    client = Client()
    client.force_login(student)
    assert "This session is live." in client.get(session.meeting_url).content.decode()


def test_a_session_is_scheduled_for_next_week(seeded):
    upcoming = VideoSession.objects.get(status=VideoSession.Status.SCHEDULED)

    assert (
        timezone.now() + timedelta(days=6) < upcoming.starts_at < timezone.now() + timedelta(days=8)
    )
    assert upcoming.course is not None
    assert upcoming.course.slug == "python-from-scratch"


def test_the_seed_prints_the_meeting_addresses(seeded):
    for session in VideoSession.objects.all():
        assert session.meeting_url in seeded


def test_seeding_again_changes_nothing(seeded):
    before = _state()

    _seed()

    assert _state() == before
    assert len(before) == 2


def test_seeding_again_after_the_office_hours_ended_opens_new_ones(seeded):
    VideoSession.objects.filter(title="Office hours").update(status=VideoSession.Status.ENDED)

    _seed()

    assert VideoSession.objects.filter(title="Office hours", status="live").count() == 1
    assert VideoSession.objects.filter(title="Office hours").count() == 2
