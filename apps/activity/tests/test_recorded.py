"""Each recorded family, through the real views and services."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group  # noqa: F401
from django.urls import reverse

from apps.accounts.roles import Role
from apps.accounts.services import assign_role, remove_role
from apps.accounts.tests.factories import DEFAULT_PASSWORD, make_user
from apps.activity.models import ActivityEvent
from apps.courses import services as course_services
from apps.courses.models import Course, Enrollment
from apps.courses.tests.factories import CourseFactory, instructor_of

pytestmark = pytest.mark.django_db(transaction=True)


def _login(client, email, password):
    return client.post(
        reverse("account_login"),
        {"login": email, "password": password},
        HTTP_USER_AGENT="ActivityTest/2.0",
        REMOTE_ADDR="192.0.2.7",
    )


def test_sign_in_success_is_recorded_with_ip_and_browser(client):
    user = make_user(email="learner@example.test")
    _login(client, "learner@example.test", DEFAULT_PASSWORD)
    event = ActivityEvent.objects.get(action="accounts.login.succeeded")
    assert event.actor_id == user.pk
    assert event.ip_address == "192.0.2.7"
    assert event.user_agent == "ActivityTest/2.0"


def test_failed_sign_in_names_the_account_but_never_stores_the_address(client):
    user = make_user(email="learner@example.test")
    _login(client, "learner@example.test", "wrong password")
    _login(client, "nobody@example.test", "wrong password")
    events = list(ActivityEvent.objects.filter(action="accounts.login.failed").order_by("pk"))
    assert [e.actor_id for e in events] == [user.pk, None]
    for event in ActivityEvent.objects.all():
        blob = f"{event.context} {event.target_label} {event.user_agent}"
        assert "example.test" not in blob
    assert not ActivityEvent.objects.filter(action="accounts.login.succeeded").exists()


def test_sign_out_and_password_change_are_recorded(client):
    user = make_user(email="learner@example.test")
    client.force_login(user)
    response = client.post(
        reverse("account_change_password"),
        {
            "oldpassword": DEFAULT_PASSWORD,
            "password1": "another long passphrase 42",
            "password2": "another long passphrase 42",
        },
    )
    assert response.status_code in (200, 302)
    assert ActivityEvent.objects.filter(action="accounts.password.changed", actor=user).exists()
    client.post(reverse("account_logout"))
    assert ActivityEvent.objects.filter(action="accounts.logout.succeeded", actor=user).exists()


def test_role_changes_are_recorded_with_the_actor():
    staff = make_user(Role.STAFF)
    user = make_user()
    assign_role(user=user, role=Role.INSTRUCTOR, actor=staff)
    remove_role(user=user, role=Role.INSTRUCTOR, actor=staff)
    events = ActivityEvent.objects.filter(target_id=str(user.pk), actor=staff).order_by("pk")
    assert [(e.action, e.context["role"]) for e in events] == [
        ("accounts.role.assigned", Role.INSTRUCTOR.value),
        ("accounts.role.removed", Role.INSTRUCTOR.value),
    ]


def test_enrollment_request_and_decisions_are_recorded():
    course = CourseFactory.create(enrollment_policy=Course.EnrollmentPolicy.APPROVAL)
    instructor = instructor_of(course)
    first, second = make_user(), make_user()
    a = course_services.enroll_student(course=course, student=first)
    b = course_services.enroll_student(course=course, student=second)
    course_services.decide_enrollment(actor=instructor, enrollment=a, approve=True)
    course_services.decide_enrollment(actor=instructor, enrollment=b, approve=False)
    actions = list(
        ActivityEvent.objects.filter(target_type="courses.enrollment")
        .order_by("pk")
        .values_list("action", "actor_id")
    )
    assert actions == [
        ("courses.enrollment.requested", first.pk),
        ("courses.enrollment.requested", second.pk),
        ("courses.enrollment.approved", instructor.pk),
        ("courses.enrollment.declined", instructor.pk),
    ]
    assert Enrollment.objects.get(pk=a.pk).status == Enrollment.Status.ACTIVE


def test_mfa_and_email_signals_are_recorded_as_the_owners_security_events():
    from allauth.account import signals as account_signals
    from allauth.account.models import EmailAddress
    from allauth.mfa import signals as mfa_signals
    from allauth.mfa.models import Authenticator
    from django.test import RequestFactory

    from apps.accounts.tests.factories import give_totp

    user = make_user()
    give_totp(user)
    authenticator = Authenticator.objects.get(user=user, type=Authenticator.Type.TOTP)
    request = RequestFactory().post("/", REMOTE_ADDR="192.0.2.9")
    mfa_signals.authenticator_added.send(
        sender=Authenticator, request=request, user=user, authenticator=authenticator
    )
    mfa_signals.authenticator_removed.send(
        sender=Authenticator, request=request, user=user, authenticator=authenticator
    )
    address = EmailAddress.objects.create(user=user, email="second@example.test")
    account_signals.email_added.send(
        sender=EmailAddress, request=request, user=user, email_address=address
    )
    events = list(
        ActivityEvent.objects.filter(actor=user, action__startswith="accounts.m")
        .order_by("pk")
        .values_list("action", "context")
    )
    assert events == [
        ("accounts.mfa.added", {"factor": "totp"}),
        ("accounts.mfa.removed", {"factor": "totp"}),
    ]
    added = ActivityEvent.objects.get(action="accounts.email.added")
    assert added.actor_id == user.pk
    assert "second@example.test" not in f"{added.context} {added.target_label}"
