"""People with personal data in every app that declares some, for the export and erasure tests.

`build_world()` makes what several people share (a course with a lesson and captions, a live
session in it, its teacher, a staff member); `build_person(world, ...)` a user with rows of every
kind the privacy registry declares: profile, email address, second factor, admin log entries,
enrollment and progress, a course taught and invitations, attendance, a chat line, a hosted
session, a calendar feed, notifications and their settings, a report, activity events, an erasure
request and a consent. A new kind of personal data needs a row here too: the export test fails
on an export section this builder leaves empty.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from apps.accounts.models import User
from apps.accounts.roles import Role
from apps.accounts.tests.factories import make_user
from apps.activity.models import ActivityEvent
from apps.courses.models import Course, CourseInvitation, Lesson
from apps.courses.tests.factories import (
    CourseFactory,
    EnrollmentFactory,
    LessonFactory,
    caption_track,
    complete,
)
from apps.notifications.kinds import REPORT_READY
from apps.notifications.models import DeliverySettings, Digest, Notification, Preference
from apps.privacy.models import Consent, ErasureRequest
from apps.reports.models import Report
from apps.reports.tests.factories import make_report
from apps.videoconference.models import CalendarFeed, ChatMessage, VideoSession
from apps.videoconference.tests.factories import VideoSessionFactory, attend, live_session


@dataclass(frozen=True)
class World:
    teacher: User
    staff: User
    course: Course
    lesson: Lesson
    session: VideoSession


@dataclass(frozen=True)
class Person:
    user: User
    email: str
    display_name: str
    ip_address: str
    chat_text: str
    own_course: Course
    erasure: ErasureRequest


def build_world() -> World:
    teacher = make_user(role=Role.INSTRUCTOR, display_name="Tess Teacher")
    staff = make_user(role=Role.STAFF, display_name="Sam Staff")
    course = CourseFactory.create(title="Shared course", instructors=[teacher])
    lesson = LessonFactory.create(course=course, title="First lesson")
    caption_track(lesson)
    session = live_session(course=course, host=teacher, title="Shared session")
    return World(teacher=teacher, staff=staff, course=course, lesson=lesson, session=session)


def build_person(world: World, *, key: str, display_name: str, ip_address: str) -> Person:
    """A user (an instructor, so a second factor too) with personal data in every app.

    `key` makes the email address and the person's own texts unique; `display_name` and
    `ip_address` should be too, so a test can look for them in an export or a database dump."""
    now = timezone.now()
    email = f"{key}.person@example.test"
    user = make_user(role=Role.INSTRUCTOR, email=email, display_name=display_name)
    # accounts: profile (made with the user), email address and TOTP (made by make_user).
    user.profile.bio = f"Bio of {key}"
    user.profile.save(update_fields=["bio"])
    own_course = CourseFactory.create(title=f"Course taught by {key}", instructors=[user])
    user_type = ContentType.objects.get_for_model(User)
    # accounts: a signed-in browser session, from the person's address.
    from allauth.usersessions.models import UserSession
    from django.contrib.sessions.backends.db import SessionStore

    store = SessionStore()
    store["_auth_user_id"] = str(user.pk)
    store.create()
    UserSession.objects.create(
        user=user, session_key=store.session_key, ip=ip_address, user_agent=f"Browser of {key}"
    )
    LogEntry.objects.create(  # this person acting in admin
        user=user,
        content_type=ContentType.objects.get_for_model(Course),
        object_id=str(own_course.pk),
        object_repr=own_course.title,
        action_flag=CHANGE,
        change_message="[]",
    )
    LogEntry.objects.create(  # staff changing this person's account in admin
        user=world.staff,
        content_type=user_type,
        object_id=str(user.pk),
        object_repr=str(user),
        action_flag=CHANGE,
        change_message="[]",
    )

    # courses: enrollment with progress, a course taught, invitations sent and accepted.
    enrollment = EnrollmentFactory.create(course=world.course, student=user)
    complete(enrollment, world.lesson)
    CourseInvitation.objects.create(
        course=own_course, email=f"invitee-of-{key}@example.test", invited_by=user
    )
    CourseInvitation.objects.create(
        course=world.course,
        email=email,
        invited_by=world.teacher,
        accepted_by=user,
        accepted_at=now,
    )

    # videoconference: attendance and a chat line in the shared session, a hosted session, a
    # calendar feed.
    attend(world.session, user, joined_at=now - timedelta(minutes=5))
    chat_text = f"Hello everyone, {key} here"
    ChatMessage.objects.create(session=world.session, author=user, text=chat_text)
    VideoSessionFactory.create(course=own_course, host=user, title=f"Office hours of {key}")
    CalendarFeed.objects.create(user=user)

    # notifications
    Notification.objects.create(recipient=user, kind=REPORT_READY, title=f"Ready for {key}")
    Preference.objects.create(user=user, kind=REPORT_READY, in_app=True, email=False)
    DeliverySettings.objects.create(user=user, email_frequency=DeliverySettings.Frequency.DAILY)
    Digest.objects.create(user=user, day=now.date())

    # reports: a finished report with its file.
    make_report(requested_by=user, course=own_course, status=Report.Status.DONE)

    # activity: a sign-in from the person's address, as the receivers record it.
    ActivityEvent.objects.create(
        actor=user,
        action="accounts.login.succeeded",
        target_type="accounts.user",
        target_id=str(user.pk),
        target_label=f"account {user.pk}",
        ip_address=ip_address,
        user_agent=f"Browser of {key}",
    )

    # privacy: an erasure request (due in the future) and an optional consent.
    erasure = ErasureRequest.objects.create(user=user, due_at=now + timedelta(days=14))
    Consent.objects.create(
        user=user,
        purpose="reminder_emails",
        version="1",
        given=True,
        source=Consent.Source.PRIVACY_PAGE,
        ip_address=ip_address,
    )
    return Person(
        user=user,
        email=email,
        display_name=display_name,
        ip_address=ip_address,
        chat_text=chat_text,
        own_course=own_course,
        erasure=erasure,
    )
