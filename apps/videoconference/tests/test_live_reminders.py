"""Session reminders with real parts: beat queues `videoconference.send_session_reminders` every
second, a worker runs it and sends the emails over SMTP; beat and the worker are killed and
restarted on the way, and still everyone is reminded exactly once."""

from __future__ import annotations

import os
from collections import Counter
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from apps.accounts.models import User
from apps.core.tests.smtp import SmtpSink
from apps.core.tests.worker import RealCelery, real_celery_fixture  # noqa: F401
from apps.courses.tests.factories import CourseFactory, EnrollmentFactory, instructor_of
from apps.notifications.kinds import SESSION_REMINDER
from apps.notifications.models import Notification
from apps.videoconference.models import VideoSession
from apps.videoconference.tests.factories import VideoSessionFactory

pytestmark = [
    pytest.mark.redis,
    pytest.mark.skipif(
        not os.environ.get("REDIS_URL"),
        reason="beat and a worker process share the broker only through Redis (set REDIS_URL)",
    ),
    pytest.mark.django_db(transaction=True),
]

TASK = "videoconference.send_session_reminders"
MORE_RUNS = 3  # beat sends after each step; each run would repeat a reminder if it could


def test_each_person_is_reminded_once_per_reminder_across_beat_and_worker_restarts(
    real_celery: RealCelery, smtp_sink: SmtpSink
) -> None:
    # Given a course with two students and sessions whose 15-minute and 24-hour reminders are
    # due; the 24-hour one goes only for a session planned more than 25 hours ahead.
    course = CourseFactory.create(title="Fractions")
    students = [EnrollmentFactory.create(course=course).student for _ in range(2)]
    host = instructor_of(course)
    now = timezone.now()
    soon = VideoSessionFactory.create(course=course, starts_at=now + timedelta(minutes=10))
    tomorrow = VideoSessionFactory.create(course=course, starts_at=now + timedelta(hours=23))
    VideoSession.objects.filter(pk__in=[soon.pk, tomorrow.pk]).update(
        created_at=now - timedelta(days=2)
    )
    people: list[User] = [*students, host]
    expected = {
        (session.pk, reminder, person.email)
        for session, reminder in ((soon, "15m"), (tomorrow, "24h"))
        for person in people
    }
    # A task a killed worker took comes back after 5 s (CELERY_VISIBILITY_TIMEOUT) instead
    # of an hour, so a redelivery, if any, happens within the test.
    worker_env = {"EMAIL_URL": smtp_sink.email_url, "CELERY_VISIBILITY_TIMEOUT": "5"}

    # When a worker and beat run,
    worker = real_celery.worker(ready=False, **worker_env)
    beat = real_celery.beat(ready=False, REMINDER_INTERVAL_SECONDS="1")
    real_celery.wait_ready(worker, beat)
    with real_celery.explained():
        real_celery.wait_until(
            lambda: len(smtp_sink.received()) >= len(expected), f"{len(expected)} reminder emails"
        )
        # beat keeps sending the task,
        beat.wait_sent(beat.sent(TASK) + MORE_RUNS, TASK)
        # beat dies without a word and another takes over from its schedule file,
        beat.kill()
        beat = real_celery.beat(schedule_path=beat.schedule_path, REMINDER_INTERVAL_SECONDS="1")
        beat.wait_sent(MORE_RUNS, TASK)
        # the worker dies (pool child and all) and comes back,
        worker.kill()
        worker.start()
        worker.wait_succeeded(TASK, MORE_RUNS, this_run=True)
        beat.stop()

        # Then each person got each reminder once: one notification and one email.
        reminders = list(
            Notification.objects.filter(kind=SESSION_REMINDER).select_related("recipient")
        )
        told = Counter(
            (
                int(n.dedupe_key.split(".")[2]),
                n.dedupe_key.split(".")[4],
                n.recipient.email,
            )
            for n in reminders
        )
        assert set(told) == expected
        assert set(told.values()) == {1}, told
        # (Django folds long headers after the colon; unfolding leaves a leading space.)
        emails = Counter(
            (received.to, received.subject.strip()) for received in smtp_sink.received()
        )
        assert emails == Counter(
            (n.recipient.email, f"[{settings.SITE_NAME}] {n.title}") for n in reminders
        )
        assert {n.email_status for n in reminders} == {Notification.EmailStatus.SENT}
        subjects = {received.subject.strip() for received in smtp_sink.to(students[0].email)}
        assert any("starts in 10 minutes" in s or "starts in 9 minutes" in s for s in subjects)
        assert any("starts in 23 hours" in s for s in subjects)
        worker.assert_no_task_failures()
        beat.assert_no_task_failures()
