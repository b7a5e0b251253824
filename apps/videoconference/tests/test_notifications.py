"""Who is told about live sessions: scheduled, changed, cancelled, started, and the reminders.

Services queue the tasks after commit (Celery runs them eagerly in tests); each test then reads
the notifications people would see in their bell and inbox. Redelivery is a second call of the
same task with the same arguments.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from apps.accounts.models import User
from apps.accounts.roles import Role
from apps.accounts.tests.factories import make_user
from apps.core.tests.callbacks import feature_callbacks
from apps.courses.models import Course, Enrollment
from apps.courses.tests.factories import CourseFactory, EnrollmentFactory, instructor_of
from apps.notifications.models import Notification
from apps.videoconference import services, tasks
from apps.videoconference.models import VideoSession
from apps.videoconference.tests.factories import VideoSessionFactory

pytestmark = pytest.mark.django_db


@dataclass
class Cast:
    """A course and who is who around it."""

    course: Course
    teacher: User
    members: list[User]  # active and completed
    outsiders: list[User]  # dropped, pending, another course's student, a stranger


def _course() -> Cast:
    course = CourseFactory.create()
    active = EnrollmentFactory.create(course=course).student
    completed = EnrollmentFactory.create(course=course, status=Enrollment.Status.COMPLETED).student
    dropped = EnrollmentFactory.create(course=course, status=Enrollment.Status.DROPPED).student
    pending = EnrollmentFactory.create(course=course, status=Enrollment.Status.PENDING).student
    elsewhere = EnrollmentFactory.create().student
    return Cast(
        course=course,
        teacher=instructor_of(course),
        members=[active, completed],
        outsiders=[dropped, pending, elsewhere, make_user()],
    )


def _told(kind: str, **filters: object) -> list[Notification]:
    return list(Notification.objects.filter(kind=kind, **filters).order_by("recipient_id"))


def _recipients(kind: str, **filters: object) -> list[int]:
    return [n.recipient_id for n in _told(kind, **filters)]


def _ids(users: list[User]) -> list[int]:
    return sorted(u.pk for u in users)


def _schedule(c: Cast, *, in_hours: float = 48, title: str = "Office hour") -> VideoSession:
    start = (timezone.now() + timedelta(hours=in_hours)).replace(microsecond=0)
    return services.schedule_session(
        actor=c.teacher,
        course=c.course,
        title=title,
        starts_at=start,
        ends_at=start + timedelta(hours=1),
    )


# --- Scheduled ----------------------------------------------------------------------------------


def test_scheduling_a_session_tells_the_course_members_with_its_page_and_start(
    django_capture_on_commit_callbacks,
):
    c = _course()

    with django_capture_on_commit_callbacks(execute=True):
        session = _schedule(c, title="Office hour")

    told = _told("session_scheduled")
    assert [n.recipient_id for n in told] == _ids(c.members)
    assert {n.title for n in told} == {"New live session: “Office hour”"}
    assert all(c.course.title in n.body for n in told)
    assert {n.url for n in told} == {session.get_absolute_url()}
    assert {n.event_at for n in told} == {session.starts_at}


def test_scheduling_tells_neither_the_instructor_nor_dropped_pending_or_other_students(
    django_capture_on_commit_callbacks,
):
    c = _course()
    # The instructor is also enrolled in their own course: still not told of their own act.
    EnrollmentFactory.create(course=c.course, student=c.teacher)

    with django_capture_on_commit_callbacks(execute=True):
        _schedule(c)

    told = set(_recipients("session_scheduled"))
    assert c.teacher.pk not in told
    assert not told & {u.pk for u in c.outsiders}


def test_a_redelivered_scheduled_task_tells_nobody_twice(django_capture_on_commit_callbacks):
    c = _course()
    with django_capture_on_commit_callbacks(execute=True):
        session = _schedule(c)

    assert tasks.notify_session_scheduled(session.pk, c.teacher.pk) == 0
    assert tasks.notify_session_scheduled(session.pk, c.teacher.pk) == 0

    assert _recipients("session_scheduled") == _ids(c.members)


def test_nothing_is_sent_until_the_schedule_is_committed(django_capture_on_commit_callbacks):
    c = _course()

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        _schedule(c)

    assert _told("session_scheduled") == []
    assert len(feature_callbacks(callbacks)) == 1


def test_a_scheduled_notice_is_email_too(django_capture_on_commit_callbacks, mailoutbox):
    c = _course()

    with django_capture_on_commit_callbacks(execute=True):
        _schedule(c, title="Exam prep")

    assert sorted(m.to[0] for m in mailoutbox) == sorted(u.email for u in c.members)
    assert all("Exam prep" in m.subject for m in mailoutbox)


# --- Changed ------------------------------------------------------------------------------------


def test_moving_a_session_tells_members_it_moved_and_when_it_now_starts(
    django_capture_on_commit_callbacks,
):
    c = _course()
    session = VideoSessionFactory.create(course=c.course, host=c.teacher, title="Lab")
    new_start = session.starts_at + timedelta(hours=3)

    with django_capture_on_commit_callbacks(execute=True):
        services.update_session(
            actor=c.teacher,
            session=session,
            starts_at=new_start,
            ends_at=new_start + timedelta(hours=1),
        )

    told = _told("session_changed")
    assert [n.recipient_id for n in told] == _ids(c.members)
    assert {n.title for n in told} == {"Live session moved: “Lab”"}
    assert all("starts at a new time" in n.body for n in told)
    assert {n.event_at for n in told} == {new_start}
    assert {n.url for n in told} == {session.get_absolute_url()}


def test_renaming_a_session_says_it_has_a_new_title(django_capture_on_commit_callbacks):
    c = _course()
    session = VideoSessionFactory.create(course=c.course, host=c.teacher, title="Lab")

    with django_capture_on_commit_callbacks(execute=True):
        services.update_session(actor=c.teacher, session=session, title="Lab (room 2)")

    told = _told("session_changed")
    assert {n.title for n in told} == {"Live session changed: “Lab (room 2)”"}
    assert all("new title" in n.body and "new time" not in n.body for n in told)
    assert c.teacher.pk not in {n.recipient_id for n in told}


def test_each_change_is_told_once_even_when_its_task_is_redelivered(
    django_capture_on_commit_callbacks,
):
    c = _course()
    session = VideoSessionFactory.create(course=c.course, host=c.teacher)

    with django_capture_on_commit_callbacks(execute=True) as first:
        services.update_session(actor=c.teacher, session=session, title="First change")
    with django_capture_on_commit_callbacks(execute=True):
        services.update_session(actor=c.teacher, session=session, title="Second change")
    for callback in first:  # the first change's task delivered again
        callback()

    assert len(_told("session_changed")) == 2 * len(c.members)
    for member in c.members:
        assert {n.title for n in _told("session_changed", recipient=member)} == {
            "Live session changed: “First change”",
            "Live session changed: “Second change”",
        }


def test_changing_only_the_participant_limit_tells_nobody(django_capture_on_commit_callbacks):
    c = _course()
    session = VideoSessionFactory.create(course=c.course, host=c.teacher)

    with django_capture_on_commit_callbacks(execute=True):
        services.update_session(actor=c.teacher, session=session, participant_cap=20)

    assert _told("session_changed") == []


# --- Cancelled ----------------------------------------------------------------------------------


def test_cancelling_tells_members_once_and_links_to_the_course(
    django_capture_on_commit_callbacks,
):
    c = _course()
    session = VideoSessionFactory.create(course=c.course, host=c.teacher, title="Lab")

    with django_capture_on_commit_callbacks(execute=True):
        services.cancel_session(actor=c.teacher, session=session)
    tasks.notify_session_cancelled(session.pk, c.teacher.pk)  # redelivered

    told = _told("session_cancelled")
    assert [n.recipient_id for n in told] == _ids(c.members)
    assert {n.title for n in told} == {"Live session cancelled: “Lab”"}
    assert {n.url for n in told} == {c.course.get_absolute_url()}


def test_a_change_told_after_the_cancellation_is_not_sent(django_capture_on_commit_callbacks):
    c = _course()
    session = VideoSessionFactory.create(course=c.course, host=c.teacher)
    with django_capture_on_commit_callbacks(execute=False) as change:
        services.update_session(actor=c.teacher, session=session, title="Moved")
    with django_capture_on_commit_callbacks(execute=True):
        services.cancel_session(actor=c.teacher, session=session)

    for callback in change:  # the change's task runs late, after the cancellation
        callback()

    assert _told("session_changed") == []
    assert len(_told("session_cancelled")) == len(c.members)


# --- Started ------------------------------------------------------------------------------------


def test_starting_a_session_tells_members_it_is_live_once(django_capture_on_commit_callbacks):
    c = _course()
    session = VideoSessionFactory.create(course=c.course, host=c.teacher, title="Lab")

    with django_capture_on_commit_callbacks(execute=True):
        services.start_session(actor=c.teacher, session=session)
    with django_capture_on_commit_callbacks(execute=True):
        services.start_session(actor=c.teacher, session=session)  # already live: harmless
    tasks.notify_session_started(session.pk, c.teacher.pk)  # redelivered

    told = _told("session_started")
    assert [n.recipient_id for n in told] == _ids(c.members)
    assert {n.title for n in told} == {"Live now: “Lab”"}
    assert {n.url for n in told} == {session.get_absolute_url()}


def test_an_instant_session_for_a_course_tells_its_members(django_capture_on_commit_callbacks):
    c = _course()

    with django_capture_on_commit_callbacks(execute=True):
        session = services.start_instant_session(host=c.teacher, course=c.course)

    assert _recipients("session_started") == _ids(c.members)
    assert {n.url for n in _told("session_started")} == {session.get_absolute_url()}


def test_an_instant_session_without_a_course_tells_nobody(django_capture_on_commit_callbacks):
    _course()

    with django_capture_on_commit_callbacks(execute=True):
        services.start_instant_session(host=make_user(role=Role.INSTRUCTOR))

    assert not Notification.objects.exists()


def test_a_session_that_ended_before_its_started_task_ran_is_not_announced(
    django_capture_on_commit_callbacks,
):
    c = _course()
    session = VideoSessionFactory.create(course=c.course, host=c.teacher)
    with django_capture_on_commit_callbacks(execute=False) as started:
        services.start_session(actor=c.teacher, session=session)
    services.end_session(actor=c.teacher, session=session)

    for callback in started:
        callback()

    assert _told("session_started") == []


# --- Reminders ----------------------------------------------------------------------------------


def _session_at(c: Cast, start: datetime, *, created: datetime, **fields: object) -> VideoSession:
    session = VideoSessionFactory.create(
        course=c.course,
        host=c.teacher,
        starts_at=start,
        ends_at=start + timedelta(hours=1),
        **fields,
    )
    VideoSession.objects.filter(pk=session.pk).update(created_at=created)
    session.refresh_from_db()
    return session


def _reminded(session: VideoSession, which: str) -> list[int]:
    return _recipients(
        "session_reminder", dedupe_key__startswith=f"vc.session.{session.pk}.reminder.{which}."
    )


def _run(at: datetime, times: int = 3) -> None:
    for _ in range(times):
        tasks.send_session_reminders(now_iso=at.isoformat())


def test_reminders_go_once_to_members_and_host_24_hours_and_15_minutes_before():
    c = _course()
    now = timezone.now().replace(microsecond=0)
    long_ago = now - timedelta(days=5)
    soon = _session_at(c, now + timedelta(minutes=10), created=now)
    tomorrow = _session_at(c, now + timedelta(hours=23), created=long_ago)
    later = _session_at(c, now + timedelta(days=3), created=now)
    cancelled = _session_at(
        c, now + timedelta(minutes=10), created=long_ago, status=VideoSession.Status.CANCELLED
    )
    everyone = _ids([*c.members, c.teacher])

    _run(now)  # several beats at the same moment (or a task run twice)

    assert _reminded(soon, "15m") == everyone
    assert _reminded(soon, "24h") == []  # within 15 minutes only the 15-minute one is sent
    assert _reminded(tomorrow, "24h") == everyone  # its moment was missed: sent late, once
    assert _reminded(later, "24h") == _reminded(later, "15m") == []
    assert _reminded(cancelled, "15m") == _reminded(cancelled, "24h") == []

    _run(tomorrow.starts_at - timedelta(minutes=14))
    _run(later.starts_at - timedelta(hours=24) + timedelta(minutes=1))
    _run(later.starts_at - timedelta(minutes=15))
    _run(later.starts_at - timedelta(minutes=1))
    _run(later.starts_at + timedelta(minutes=1))  # started: nothing more

    for session in (soon, tomorrow, later):
        assert _reminded(session, "15m") == everyone
    for session in (tomorrow, later):
        assert _reminded(session, "24h") == everyone
    assert _reminded(soon, "24h") == []
    assert _reminded(cancelled, "15m") == _reminded(cancelled, "24h") == []
    assert not Notification.objects.filter(recipient__in=c.outsiders).exists()


def test_a_reminder_says_how_long_until_the_start_and_links_to_the_session():
    c = _course()
    now = timezone.now().replace(microsecond=0)
    session = _session_at(
        c, now + timedelta(hours=24), created=now - timedelta(days=2), title="Lab"
    )

    _run(now, times=1)
    _run(session.starts_at - timedelta(minutes=15), times=1)

    titles = {n.title for n in _told("session_reminder", recipient=c.members[0])}
    assert titles == {"Reminder: “Lab” starts in 24 hours", "“Lab” starts in 15 minutes"}
    assert {n.url for n in _told("session_reminder")} == {session.get_absolute_url()}
    assert {n.event_at for n in _told("session_reminder")} == {session.starts_at}


def test_no_24_hour_reminder_for_a_session_scheduled_less_than_25_hours_ahead():
    c = _course()
    now = timezone.now().replace(microsecond=0)
    fresh = _session_at(c, now + timedelta(hours=23), created=now)
    day_ahead = _session_at(c, now + timedelta(hours=24), created=now - timedelta(minutes=30))

    _run(now)
    _run(now + timedelta(hours=10))

    assert _reminded(fresh, "24h") == _reminded(day_ahead, "24h") == []
    _run(fresh.starts_at - timedelta(minutes=5))
    assert _reminded(fresh, "15m") == _ids([*c.members, c.teacher])


def test_a_live_or_ended_session_gets_no_reminder():
    c = _course()
    now = timezone.now().replace(microsecond=0)
    live = _session_at(c, now + timedelta(minutes=10), created=now, status=VideoSession.Status.LIVE)
    ended = _session_at(
        c, now + timedelta(minutes=5), created=now, status=VideoSession.Status.ENDED
    )

    _run(now)

    assert _reminded(live, "15m") == _reminded(ended, "15m") == []


def test_the_session_records_which_start_it_was_reminded_for():
    c = _course()
    now = timezone.now().replace(microsecond=0)
    session = _session_at(c, now + timedelta(hours=20), created=now - timedelta(days=2))

    _run(now, times=1)

    session.refresh_from_db()
    assert session.reminder_24h_sent_for == session.starts_at
    assert session.reminder_15m_sent_for is None


def test_a_rerun_after_a_crash_before_marking_the_session_sends_nothing_twice():
    """A worker that died after notifying but before recording it: the next run finds the
    session unmarked and tries again; the dedupe key makes that a no-op."""
    c = _course()
    now = timezone.now().replace(microsecond=0)
    session = _session_at(c, now + timedelta(minutes=12), created=now)
    _run(now, times=1)
    VideoSession.objects.filter(pk=session.pk).update(reminder_15m_sent_for=None)

    assert tasks.send_session_reminders(now_iso=now.isoformat()) == 0

    assert _reminded(session, "15m") == _ids([*c.members, c.teacher])


def test_a_session_moved_to_another_day_is_reminded_again_for_its_new_time(
    django_capture_on_commit_callbacks,
):
    c = _course()
    now = timezone.now().replace(microsecond=0)
    session = _session_at(c, now + timedelta(hours=20), created=now - timedelta(days=3))
    _run(now, times=1)
    new_start = session.starts_at + timedelta(days=2)
    with django_capture_on_commit_callbacks(execute=True):
        services.update_session(
            actor=c.teacher,
            session=session,
            starts_at=new_start,
            ends_at=new_start + timedelta(hours=1),
        )

    _run(new_start - timedelta(hours=23))

    everyone = _ids([*c.members, c.teacher])
    reminders = _told("session_reminder", recipient=c.members[0])
    assert len(reminders) == 2
    assert {n.event_at for n in reminders} == {now + timedelta(hours=20), new_start}
    assert _reminded(session, "24h") == sorted(everyone * 2)


def test_each_reminder_run_is_logged_with_the_session_and_the_number_told(caplog):
    c = _course()
    now = timezone.now().replace(microsecond=0)
    session = _session_at(c, now + timedelta(minutes=12), created=now)

    with caplog.at_level(logging.INFO, logger="apps.videoconference.tasks"):
        _run(now, times=1)

    sent = [r for r in caplog.records if getattr(r, "event", "") == "videoconference.reminder.sent"]
    assert [(r.session_id, r.reminder, r.notified) for r in sent] == [
        (session.pk, "15m", len(c.members) + 1)
    ]


def test_each_event_task_is_logged(caplog, django_capture_on_commit_callbacks):
    c = _course()

    with caplog.at_level(logging.INFO, logger="apps.videoconference.tasks"):
        with django_capture_on_commit_callbacks(execute=True):
            session = _schedule(c)
        with django_capture_on_commit_callbacks(execute=True):
            services.update_session(actor=c.teacher, session=session, title="New")
        with django_capture_on_commit_callbacks(execute=True):
            services.start_session(actor=c.teacher, session=session)
        other = _schedule(c)
        with django_capture_on_commit_callbacks(execute=True):
            services.cancel_session(actor=c.teacher, session=other)

    events = [getattr(r, "event", "") for r in caplog.records]
    assert [e for e in events if e.startswith("videoconference.notified.")] == [
        "videoconference.notified.scheduled",
        "videoconference.notified.changed",
        "videoconference.notified.started",
        "videoconference.notified.cancelled",
    ]


# Two reads of the due sessions, then per session due: lock and load it, read its audience,
# notify (dedupe read, active users, preferences, digest choice, one insert, savepoints) and
# mark it, whatever the number of people (all reading one language here; each further
# language adds one notify()).
REMINDER_BASE_QUERIES = 2
REMINDER_QUERIES_PER_SESSION = 14


@pytest.mark.parametrize(("sessions", "students"), [(1, 2), (1, 12), (3, 2), (3, 12)])
def test_the_reminder_task_costs_a_fixed_number_of_queries_per_session_whatever_the_audience(
    django_assert_num_queries, sessions, students
):
    now = timezone.now().replace(microsecond=0)
    start = now + timedelta(minutes=10)
    for _ in range(sessions):
        course = CourseFactory.create()
        for _ in range(students):
            EnrollmentFactory.create(course=course)
        VideoSessionFactory.create(
            course=course, starts_at=start, ends_at=start + timedelta(hours=1)
        )

    with django_assert_num_queries(REMINDER_BASE_QUERIES + REMINDER_QUERIES_PER_SESSION * sessions):
        created = tasks.send_session_reminders(now_iso=now.isoformat())

    assert created == sessions * (students + 1)
