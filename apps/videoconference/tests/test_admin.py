"""Staff look after sessions in the admin: "end selected" goes through the service; the meeting
token and the records of what happened cannot be edited there."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from apps.accounts.roles import Role
from apps.accounts.tests.factories import make_user
from apps.videoconference.models import Attendance, VideoSession
from apps.videoconference.tests.factories import VideoSessionFactory, attend, live_session

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client() -> Client:
    client = Client()
    client.force_login(make_user(role=Role.STAFF))
    return client


def test_staff_end_selected_live_sessions_for_everyone(staff_client):
    live = live_session(title="Running late")
    attend(live, make_user(), joined_at=timezone.now() - timedelta(minutes=5))
    scheduled = VideoSessionFactory.create()

    response = staff_client.post(
        reverse("admin:videoconference_videosession_changelist"),
        {"action": "end_selected", "_selected_action": [live.pk, scheduled.pk]},
        follow=True,
    )

    assert response.status_code == 200
    assert "2 session(s) ended." in response.content.decode()
    live.refresh_from_db()
    assert live.status == VideoSession.Status.ENDED
    assert not Attendance.objects.filter(session=live, left_at__isnull=True).exists()


def test_the_session_list_searches_titles(staff_client):
    VideoSessionFactory.create(title="Findable lecture")
    VideoSessionFactory.create(title="Other")

    page = staff_client.get(
        reverse("admin:videoconference_videosession_changelist"), {"q": "findable"}
    ).content.decode()

    assert "Findable lecture" in page
    assert ">Other<" not in page


def test_the_meeting_token_is_shown_but_not_editable_and_saving_uses_the_service(staff_client):
    session = VideoSessionFactory.create(title="Before")
    url = reverse("admin:videoconference_videosession_change", args=[session.pk])

    page = staff_client.get(url).content.decode()
    local = timezone.localtime(session.starts_at)
    response = staff_client.post(
        url,
        {
            "title": "After",
            "description": "",
            "starts_at_0": local.strftime("%Y-%m-%d"),
            "starts_at_1": local.strftime("%H:%M:%S"),
            "ends_at_0": (local + timedelta(hours=2)).strftime("%Y-%m-%d"),
            "ends_at_1": (local + timedelta(hours=2)).strftime("%H:%M:%S"),
            "join_policy": "link",
            "participant_cap": "20",
            "meeting_token": "attacker-chosen",
        },
    )

    assert session.meeting_token in page
    assert 'name="meeting_token"' not in page
    assert response.status_code == 302
    session.refresh_from_db()
    assert (session.title, session.join_policy, session.participant_cap) == ("After", "link", 20)
    assert session.meeting_token != "attacker-chosen"


def test_sessions_are_not_added_in_the_admin(staff_client):
    response = staff_client.get(reverse("admin:videoconference_videosession_add"))

    assert response.status_code == 403


def test_attendance_and_chat_are_read_only(staff_client):
    row = attend(live_session(), make_user(), joined_at=timezone.now())

    listing = staff_client.get(reverse("admin:videoconference_attendance_changelist"))
    detail = staff_client.get(reverse("admin:videoconference_attendance_change", args=[row.pk]))
    chat = staff_client.get(reverse("admin:videoconference_chatmessage_changelist"))

    assert listing.status_code == 200
    assert row.peer_id in detail.content.decode()
    assert 'name="left_at"' not in detail.content.decode()
    assert chat.status_code == 200


def test_students_cannot_open_the_session_admin():
    client = Client()
    client.force_login(make_user())

    response = client.get(reverse("admin:videoconference_videosession_changelist"))

    assert response.status_code == 302
