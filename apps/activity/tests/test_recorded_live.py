"""Live session lifecycle and host actions are recorded."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.activity.models import ActivityEvent
from apps.courses.tests.factories import CourseFactory, EnrollmentFactory, instructor_of
from apps.videoconference import room, services
from apps.videoconference.tests.factories import live_session

pytestmark = pytest.mark.django_db(transaction=True)


def test_session_lifecycle_is_recorded():
    course = CourseFactory.create()
    host = instructor_of(course)
    starts = timezone.now() + timedelta(minutes=5)
    session = services.schedule_session(
        actor=host,
        course=course,
        title="Algebra",
        starts_at=starts,
        ends_at=starts + timedelta(hours=1),
    )
    services.update_session(actor=host, session=session, title="Algebra II")
    services.start_session(actor=host, session=session)
    services.end_session(actor=host, session=session)
    actions = list(
        ActivityEvent.objects.filter(
            target_type="videoconference.videosession", target_id=str(session.pk)
        )
        .order_by("pk")
        .values_list("action", "actor_id")
    )
    assert actions == [
        ("videoconference.session.scheduled", host.pk),
        ("videoconference.session.changed", host.pk),
        ("videoconference.session.started", host.pk),
        ("videoconference.session.ended", host.pk),
    ]


def test_host_removing_a_participant_is_recorded():
    session = live_session()
    host = session.host
    student = EnrollmentFactory.create(course=session.course).student
    entry = room.join(
        session=session,
        user=student,
        channel_name="test.channel!x",
        is_host=False,
        needs_admission=False,
    )
    room.remove(session_id=session.pk, peer_id=entry.peer_id, by_user_id=host.pk)
    event = ActivityEvent.objects.get(action="videoconference.participant.removed")
    assert event.actor_id == host.pk
    assert event.target_id == str(session.pk)
    assert event.context["participant"] == student.pk
