"""Consent (Art. 7): sign-up records what was accepted, a new version is accepted before the site
can be used, optional consents are withdrawn with one button and stop what they allowed."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import User
from apps.accounts.tests.factories import DEFAULT_PASSWORD, make_user
from apps.activity.models import ActivityEvent
from apps.courses.tests.factories import EnrollmentFactory
from apps.notifications import services as notification_services
from apps.notifications.kinds import SESSION_REMINDER
from apps.notifications.models import Notification, Preference
from apps.notifications.tasks import send_notification_email
from apps.notifications.tokens import make_unsubscribe_token
from apps.privacy import consent
from apps.privacy.models import Consent, PolicyDocument, forget_current_documents
from apps.privacy.privacy import erase_user_data, export_user_data
from apps.videoconference import tasks as session_tasks
from apps.videoconference.models import VideoSession
from apps.videoconference.tests.factories import VideoSessionFactory

pytestmark = pytest.mark.django_db

FIRST = timezone.now() - timedelta(days=30)


@pytest.fixture(autouse=True)
def documents() -> dict[str, PolicyDocument]:
    """Version 1 of each document, as migration 0002 creates them (a transactional test's
    flush may have removed those rows)."""
    docs = {
        kind: PolicyDocument.objects.get_or_create(
            kind=kind, version="1", defaults={"published_at": FIRST, "body": f"{kind} text"}
        )[0]
        for kind in PolicyDocument.Kind.values
    }
    forget_current_documents()
    return docs


def _publish(kind: str, version: str, summary: str = "", **fields: Any) -> PolicyDocument:
    return PolicyDocument.objects.create(
        kind=kind, version=version, summary=summary, body=f"{kind} text {version}", **fields
    )


def _signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _messages(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def _reminder_state(user: User) -> bool | None:
    pref = Preference.objects.filter(user=user, kind=SESSION_REMINDER).first()
    return None if pref is None else pref.email


# --- Sign-up ------------------------------------------------------------------------------------


def _sign_up(client: Client, **fields: str) -> Any:
    return client.post(
        reverse("account_signup"),
        {
            "display_name": "New Learner",
            "email": "new.learner@example.test",
            "password1": DEFAULT_PASSWORD,
            "password2": DEFAULT_PASSWORD,
            **fields,
        },
        REMOTE_ADDR="203.0.113.9",
    )


def test_signup_asks_to_accept_the_current_versions_with_links_to_them(client: Client) -> None:
    _publish(PolicyDocument.Kind.TERMS, "2")

    html = client.get(reverse("account_signup")).content.decode()

    assert "I accept the terms of use (version 2) and the privacy notice (version 1)" in html
    assert (
        f'Read the <a href="{reverse("privacy:terms")}">terms of use</a> and the '
        f'<a href="{reverse("privacy:notice")}">privacy notice</a>.'
    ) in html
    assert 'name="accept_documents"' in html
    assert 'name="reminder_emails"' in html


def test_signup_without_accepting_explains_and_creates_nothing(client: Client, mailoutbox) -> None:
    response = _sign_up(client)

    assert response.status_code == 200
    assert "Please accept the terms of use and the privacy notice." in response.content.decode()
    assert not User.objects.filter(email="new.learner@example.test").exists()
    assert Consent.objects.count() == 0


def test_signup_records_the_accepted_versions_and_the_reminder_consent(
    client: Client, documents: dict[str, PolicyDocument]
) -> None:
    _sign_up(client, accept_documents="on", reminder_emails="on")

    user = User.objects.get(email="new.learner@example.test")
    rows = Consent.objects.filter(user=user)
    assert {(r.document_id, r.version) for r in rows.filter(document__isnull=False)} == {
        (documents["terms"].pk, "1"),
        (documents["privacy_notice"].pk, "1"),
    }
    [reminders] = rows.filter(purpose=consent.REMINDER_EMAILS)
    assert reminders.given
    assert reminders.source == Consent.Source.SIGNUP
    assert {r.ip_address for r in rows} == {"203.0.113.9"}
    assert _reminder_state(user) is True


def test_signup_without_the_optional_box_turns_reminder_emails_off(client: Client) -> None:
    _sign_up(client, accept_documents="on")

    user = User.objects.get(email="new.learner@example.test")
    assert consent.purpose_states(user)[0].given is False
    assert _reminder_state(user) is False


# --- Accepting a new version --------------------------------------------------------------------


def test_a_new_version_must_be_accepted_before_other_pages(documents) -> None:
    user = make_user()
    client = _signed_in(user)
    assert client.get(reverse("accounts:profile_edit")).status_code == 200
    terms_2 = _publish(PolicyDocument.Kind.TERMS, "2", summary="Forum rules are clearer.")

    response = client.get(reverse("accounts:profile_edit"))

    consent_url = reverse("privacy:consent")
    assert response.status_code == 302
    assert response["Location"] == f"{consent_url}?next=%2Fprofile%2F"
    page = client.get(response["Location"]).content.decode()
    assert "We have published a new version" in page
    assert "Forum rules are clearer." in page
    assert 'name="privacy_notice"' not in page  # already accepted: not asked again

    done = client.post(f"{consent_url}?next=%2Fprofile%2F", {"terms": "2"})

    assert done.status_code == 302
    assert done["Location"] == "/profile/"
    assert Consent.objects.filter(user=user, document=terms_2, given=True).count() == 1
    assert client.get(reverse("accounts:profile_edit")).status_code == 200


def test_an_account_that_never_accepted_is_asked_first_but_can_reach_the_allowed_pages() -> None:
    client = _signed_in(make_user(consented=False))

    assert client.get("/").status_code == 302
    for allowed in (
        reverse("privacy:consent"),
        reverse("privacy:terms"),
        reverse("privacy:notice"),
        reverse("privacy:home"),
        reverse("account_logout"),
        reverse("healthz"),
    ):
        assert client.get(allowed).status_code == 200, allowed
    assert "Before you use the site" in client.get(reverse("privacy:consent")).content.decode()


def test_htmx_and_json_requests_get_a_json_403_instead_of_a_redirect() -> None:
    client = _signed_in(make_user(consented=False))

    htmx = client.get("/", HTTP_HX_REQUEST="true")
    api = client.get("/", HTTP_ACCEPT="application/json")

    for response in (htmx, api):
        assert response.status_code == 403
        assert json.loads(response.content)["error"]["code"] == "consent_required"
    assert htmx["HX-Redirect"] == reverse("privacy:consent")


@pytest.mark.parametrize(
    ("posted", "message"),
    [
        ({"terms": "7"}, "That version does not exist"),
        ({"terms": "2", "privacy_notice": "nope"}, "That version does not exist"),
        ({"cookies": "1"}, "That version does not exist"),  # not a document: nothing posted
        ({"terms": "1"}, "A newer version was published"),
    ],
)
def test_accepting_a_version_that_is_not_the_current_one_records_nothing(
    posted: dict[str, str], message: str
) -> None:
    user = make_user()
    _publish(PolicyDocument.Kind.TERMS, "2")
    client = _signed_in(user)
    before = Consent.objects.count()

    response = client.post(reverse("privacy:consent"), posted, follow=True)

    assert any(message in m for m in _messages(response))
    assert Consent.objects.count() == before
    assert client.get("/").status_code == 302  # still asked


def test_the_check_costs_no_query_once_the_session_is_known_to_have_accepted(
    django_assert_num_queries, rf
) -> None:
    user = make_user()
    request = rf.get("/")
    request.user = user
    request.session = {}
    assert consent.needs_acceptance(request) is False  # reads the documents and acceptances

    with django_assert_num_queries(0):
        assert consent.needs_acceptance(request) is False


def test_documents_are_public_and_show_the_current_version(client: Client) -> None:
    _publish(PolicyDocument.Kind.PRIVACY_NOTICE, "2")
    # Published ahead of the day it comes into force: not current yet.
    _publish(PolicyDocument.Kind.TERMS, "3", published_at=timezone.now() + timedelta(days=1))

    notice = client.get(reverse("privacy:notice")).content.decode()
    terms = client.get(reverse("privacy:terms")).content.decode()

    assert "Version 2, published" in notice
    assert "privacy_notice text 2" in notice
    assert "Version 1, published" in terms


# --- Optional consents --------------------------------------------------------------------------


def test_privacy_page_lists_what_was_accepted_and_withdraws_with_one_button(
    django_capture_on_commit_callbacks,
) -> None:
    user = make_user()
    consent.set_purpose(
        user=user, purpose="reminder_emails", version="1", given=True, source="signup"
    )
    client = _signed_in(user)

    page = client.get(reverse("privacy:home")).content.decode()
    assert "Terms of use" in page
    assert "Privacy notice" in page
    assert "Current version" in page
    assert "Given on" in page
    assert "Withdraw consent" in page

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("privacy:purpose"),
            {"purpose": "reminder_emails", "version": "1", "given": "no"},
            follow=True,
        )

    assert "Your consent is withdrawn" in " ".join(_messages(response))
    assert "Give consent" in response.content.decode()
    latest = Consent.objects.filter(user=user, purpose="reminder_emails").first()
    assert latest is not None
    assert latest.given is False
    assert Consent.objects.filter(user=user, purpose="reminder_emails").count() == 2  # history
    assert _reminder_state(user) is False
    assert ActivityEvent.objects.filter(actor=user, action="privacy.consent.withdrawn").exists()


def test_giving_consent_again_turns_reminder_emails_back_on(
    django_capture_on_commit_callbacks,
) -> None:
    user = make_user()
    client = _signed_in(user)
    for given in ("no", "yes", "yes"):  # the second "yes" changes nothing
        with django_capture_on_commit_callbacks(execute=True):
            client.post(
                reverse("privacy:purpose"),
                {"purpose": "reminder_emails", "version": "1", "given": given},
            )

    assert _reminder_state(user) is True
    assert list(
        Consent.objects.filter(user=user, purpose="reminder_emails")
        .order_by("pk")
        .values_list("given", flat=True)
    ) == [False, True]
    assert ActivityEvent.objects.filter(actor=user, action="privacy.consent.given").count() == 1


@pytest.mark.parametrize(
    ("posted", "message"),
    [
        ({"purpose": "marketing", "version": "1", "given": "yes"}, "no such consent"),
        ({"purpose": "reminder_emails", "version": "9", "given": "yes"}, "does not exist"),
        ({"purpose": "reminder_emails", "version": "1", "given": "maybe"}, "is not valid"),
    ],
)
def test_an_unknown_purpose_or_version_is_refused_and_nothing_is_recorded(
    posted: dict[str, str], message: str
) -> None:
    user = make_user()
    client = _signed_in(user)
    before = Consent.objects.count()

    response = client.post(reverse("privacy:purpose"), posted, follow=True)

    assert any(message in m for m in _messages(response))
    assert Consent.objects.count() == before
    assert _reminder_state(user) is None


def test_consent_changes_need_a_csrf_token() -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user())

    response = client.post(
        reverse("privacy:purpose"), {"purpose": "reminder_emails", "version": "1", "given": "no"}
    )

    assert response.status_code == 403
    assert Consent.objects.filter(purpose="reminder_emails").count() == 0


# --- Withdrawn consent stops the reminder emails ------------------------------------------------


def _reminder_due_for(student: User) -> VideoSession:
    enrollment = EnrollmentFactory.create(student=student)
    now = timezone.now()
    session = VideoSessionFactory.create(
        course=enrollment.course,
        starts_at=now + timedelta(minutes=10),
        ends_at=now + timedelta(minutes=70),
    )
    VideoSession.objects.filter(pk=session.pk).update(created_at=now - timedelta(days=2))
    return session


def test_a_withdrawn_consent_stops_reminder_emails(
    django_capture_on_commit_callbacks, mailoutbox
) -> None:
    given, withdrawn = make_user(), make_user()
    for user, choice in ((given, True), (withdrawn, False)):
        consent.set_purpose(
            user=user, purpose="reminder_emails", version="1", given=choice, source="signup"
        )
        _reminder_due_for(user)

    with django_capture_on_commit_callbacks(execute=True):
        session_tasks.send_session_reminders()

    reminded = {n.recipient_id: n for n in Notification.objects.filter(kind=SESSION_REMINDER)}
    assert reminded[withdrawn.pk].email_status == Notification.EmailStatus.NONE
    assert reminded[withdrawn.pk].show_in_app  # the in-app reminder is not a consent matter
    assert reminded[given.pk].email_status == Notification.EmailStatus.SENT
    emailed = {address for message in mailoutbox for address in message.to}
    assert given.email in emailed
    assert withdrawn.email not in emailed


def test_withdrawing_stops_a_reminder_email_already_waiting(mailoutbox) -> None:
    user = make_user()
    [waiting] = notification_services.notify(
        recipient_ids=[user.pk], kind=SESSION_REMINDER, title="Soon", dedupe_key="r1"
    )
    assert waiting.email_status == Notification.EmailStatus.PENDING

    consent.set_purpose(
        user=user, purpose="reminder_emails", version="1", given=False, source="privacy_page"
    )
    send_notification_email(waiting.pk)

    waiting.refresh_from_db()
    assert waiting.email_status == Notification.EmailStatus.NONE
    assert mailoutbox == []


def test_turning_reminder_emails_off_elsewhere_is_recorded_as_a_withdrawal(client) -> None:
    user = make_user()
    consent.set_purpose(
        user=user, purpose="reminder_emails", version="1", given=True, source="signup"
    )

    notification_services.unsubscribe(
        token=make_unsubscribe_token(user_id=user.pk, kind=SESSION_REMINDER)
    )
    assert consent.purpose_states(user)[0].given is False

    notification_services.set_preferences(user=user, choices={SESSION_REMINDER: (True, True)})
    state = consent.purpose_states(user)[0]
    assert state.given is True
    assert state.latest is not None
    assert state.latest.source == Consent.Source.NOTIFICATION_SETTINGS


# --- Export and erasure -------------------------------------------------------------------------


def test_export_includes_the_consent_history_and_erasure_deletes_it() -> None:
    user = make_user()
    consent.set_purpose(
        user=user, purpose="reminder_emails", version="1", given=False, source="privacy_page"
    )

    exported = export_user_data(user)["consents"]
    assert {(row["purpose"], row["given"]) for row in exported} == {
        ("", True),
        ("reminder_emails", False),
    }
    erase_user_data(user)
    assert not Consent.objects.filter(user=user).exists()


def test_demo_accounts_have_accepted_the_current_versions() -> None:
    from apps.accounts.seed import seed as seed_accounts
    from apps.privacy.seed import seed as seed_privacy

    seed_accounts()
    seed_privacy()
    seed_privacy()  # idempotent

    student = User.objects.get(email="student@example.com")
    assert consent.pending_documents(student) == []
    assert Consent.objects.filter(user=student).count() == len(PolicyDocument.Kind.values)


# --- The live session's notice ------------------------------------------------------------------


def test_the_pre_join_screen_says_what_the_session_keeps(settings) -> None:
    settings.RETENTION_ATTENDANCE_DAYS = 30
    settings.RETENTION_CHAT_DAYS = 90
    student = make_user()
    session = _reminder_due_for(student)

    html = _signed_in(student).get(session.get_absolute_url()).content.decode()

    start = html.index('id="session-privacy-notice"')
    notice = html[start : html.index("</p>", start)]
    assert "attendance (when you join and leave) for 30 days" in notice
    assert "chat messages for 90 days" in notice
    assert f'href="{reverse("privacy:notice")}"' in notice
    assert html.index(notice) < html.index('id="join-button"')  # read before Join
    assert 'aria-describedby="session-privacy-notice"' in html


@pytest.mark.django_db(transaction=True)
def test_the_documents_are_back_after_a_flush() -> None:
    """Tests and `manage.py flush` empty every table; post_migrate puts version 1 back."""
    from django.core.management import call_command

    call_command("flush", "--noinput", verbosity=0)

    assert Client().get(reverse("privacy:terms")).status_code == 200
    assert Client().get(reverse("privacy:notice")).status_code == 200
