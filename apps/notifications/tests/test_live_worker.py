"""Notifications end to end with real parts: a Celery worker process delivers, a uvicorn process
holds the students' open tabs, an SMTP server receives the emails.

The test process only writes (as a web request would); the worker pushes each new notification
to the person's tabs through the Redis channel layer and sends the emails over SMTP.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from apps.accounts.models import User
from apps.accounts.tests.factories import make_user
from apps.core.tests.smtp import SmtpSink
from apps.core.tests.worker import RealCelery, WorkerProcess, real_celery_fixture  # noqa: F401
from apps.courses.models import Course
from apps.courses.tests.factories import CourseFactory, EnrollmentFactory, instructor_of
from apps.notifications.kinds import SESSION_SCHEDULED
from apps.notifications.models import Notification
from apps.notifications.services import notify
from apps.videoconference.models import VideoSession
from apps.videoconference.services import schedule_session
from apps.videoconference.tests.live import (
    ServerProcess,
    SignalingClient,
    run_scenario,
    running_server,
    session_cookie,
)

pytestmark = [
    pytest.mark.redis,
    pytest.mark.skipif(
        not os.environ.get("REDIS_URL"),
        reason="a worker process reaches the broker and the open tabs only through Redis "
        "(set REDIS_URL)",
    ),
    pytest.mark.django_db(transaction=True),
]

NOTIFICATIONS_PATH = "/ws/notifications/"
# Time for the worker to pick the task up and push; slack for a loaded machine.
FRAME_DEADLINE_SECONDS = 20.0


@dataclass
class Audience:
    course: Course
    instructor: User
    students: list[User]
    outsider: User


@pytest.fixture
def audience(transactional_db: None) -> Audience:
    course = CourseFactory.create(title="Fractions")
    students = [EnrollmentFactory.create(course=course).student for _ in range(2)]
    return Audience(
        course=course, instructor=instructor_of(course), students=students, outsider=make_user()
    )


@pytest.fixture
def delivery(
    real_celery: RealCelery, smtp_sink: SmtpSink, tmp_path: Path
) -> Iterator[tuple[WorkerProcess, ServerProcess]]:
    """A worker that sends to the SMTP sink, and a web process serving the sockets."""
    worker = real_celery.worker(ready=False, EMAIL_URL=smtp_sink.email_url)
    with running_server(name="web", log_dir=tmp_path) as server:  # starts meanwhile
        real_celery.wait_ready(worker)
        yield worker, server


def receive_in_open_tabs(
    server: ServerProcess, audience: Audience, act: Callable[[], Any]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """With each student and the outsider connected, run `act` and return the `notification`
    frame each student received, and the frames the outsider was sent meanwhile."""
    cookies = [session_cookie(user) for user in audience.students]
    outsider_cookie = session_cookie(audience.outsider)

    async def scenario() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        clients: list[SignalingClient] = []
        try:
            for index, cookie in enumerate(cookies):
                clients.append(
                    await SignalingClient.connect(
                        server, NOTIFICATIONS_PATH, cookie=cookie, label=f"student {index}"
                    )
                )
            outsider = await SignalingClient.connect(
                server, NOTIFICATIONS_PATH, cookie=outsider_cookie, label="outsider"
            )
            clients.append(outsider)
            for client in clients:  # each tab first gets the count as of connecting
                await client.expect("unread", unread=0)
            # The sockets are subscribed (the server accepted after joining the group).
            try:
                act()  # the ORM in the event loop: DJANGO_ALLOW_ASYNC_UNSAFE is set for tests
            finally:
                # Django keeps a connection per async context; this one's would outlive the
                # test and block dropping the test database.
                connection.close()
            frames = [
                await client.expect("notification", timeout=FRAME_DEADLINE_SECONDS)
                for client in clients[:-1]
            ]
            # Give a stray frame to the outsider the same chance to arrive: one round trip on
            # its own socket after the students' frames came.
            await outsider.send({"type": "ping"})
            await outsider.expect("pong")
            return frames, list(outsider.frames)
        finally:
            for client in clients:
                await client.close()

    return run_scenario(scenario, server)


def wait_for_emails(real_celery: RealCelery, sink: SmtpSink, count: int) -> None:
    real_celery.wait_until(lambda: len(sink.received()) >= count, f"{count} emails in the sink")


def assert_each_student_told_once(
    audience: Audience,
    frames: list[dict[str, Any]],
    outsider_frames: list[dict[str, Any]],
    sink: SmtpSink,
    *,
    title: str,
    url: str,
) -> None:
    for student, frame in zip(audience.students, frames, strict=True):
        stored = Notification.objects.get(recipient=student)
        assert frame["type"] == "notification"
        assert frame["id"] == stored.pk
        assert frame["kind"] == SESSION_SCHEDULED
        assert frame["title"] == title
        assert frame["url"] == url
        assert frame["unread"] == 1

        emails = sink.to(student.email)
        assert len(emails) == 1, [(m.to, m.subject) for m in sink.received()]
        message = emails[0].message
        assert message["To"] == student.email
        assert title in str(message["Subject"])
        assert str(message["List-Unsubscribe"]).strip().startswith(f"<{settings.SITE_URL}")
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert title in emails[0].part("text/plain")
        assert url in emails[0].part("text/plain")

    assert outsider_frames == [], outsider_frames
    assert sink.to(audience.outsider.email) == []
    assert not Notification.objects.filter(recipient=audience.outsider).exists()
    assert len(sink.received()) == len(audience.students)


def test_a_scheduled_session_reaches_each_students_open_tab_and_inbox_through_the_worker(
    audience: Audience,
    delivery: tuple[WorkerProcess, ServerProcess],
    real_celery: RealCelery,
    smtp_sink: SmtpSink,
) -> None:
    """The instructor schedules a session (a web request's work, in this process); the worker
    runs the event task, which notifies, then pushes and emails: no step runs in this process."""
    worker, server = delivery
    starts_at = timezone.now() + timedelta(days=3)
    scheduled: list[VideoSession] = []

    def act() -> None:
        scheduled.append(
            schedule_session(
                actor=audience.instructor,
                course=audience.course,
                title="Fractions, live",
                starts_at=starts_at,
                ends_at=starts_at + timedelta(hours=1),
            )
        )

    with real_celery.explained():
        frames, outsider_frames = receive_in_open_tabs(server, audience, act)
        wait_for_emails(real_celery, smtp_sink, len(audience.students))

        assert_each_student_told_once(
            audience,
            frames,
            outsider_frames,
            smtp_sink,
            title="New live session: “Fractions, live”",
            url=scheduled[0].get_absolute_url(),
        )
        # The instructor who scheduled it is not told of their own act.
        assert not Notification.objects.filter(recipient=audience.instructor).exists()
        assert worker.succeeded("videoconference.notify_session_scheduled") == 1
        worker.assert_no_task_failures()


def test_a_notification_reaches_each_students_open_tab_and_inbox_through_the_worker(
    audience: Audience,
    delivery: tuple[WorkerProcess, ServerProcess],
    real_celery: RealCelery,
    smtp_sink: SmtpSink,
) -> None:
    """`notify()` called in this process: storing is here, pushing and emailing in the worker."""
    worker, server = delivery
    title = "Live session: Fractions, Monday"
    url = f"/courses/{audience.course.slug}/"

    def act() -> None:
        notify(
            recipient_ids=[s.pk for s in audience.students],
            kind=SESSION_SCHEDULED,
            title=title,
            body="Join from the course page.",
            url=url,
            dedupe_key="live-worker-test",
        )

    with real_celery.explained():
        frames, outsider_frames = receive_in_open_tabs(server, audience, act)
        wait_for_emails(real_celery, smtp_sink, len(audience.students))

        assert_each_student_told_once(
            audience, frames, outsider_frames, smtp_sink, title=title, url=url
        )
        assert worker.succeeded("notifications.deliver") == 1
        assert worker.succeeded("notifications.send_email") == len(audience.students)
        worker.assert_no_task_failures()
