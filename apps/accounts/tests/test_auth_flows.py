"""Sign-up, verification, sign-in, sign-out, password reset and change, and the login rate limit,
all through allauth's real views with our adapter and settings."""

from __future__ import annotations

import re
import time
import types

import pytest
from allauth.account.models import EmailAddress
from allauth.core.internal import ratelimit
from django.conf import settings as django_settings
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.urls import reverse

from apps.accounts.models import Profile, User
from apps.accounts.policies import roles_of
from apps.accounts.roles import Role
from apps.accounts.tests.factories import DEFAULT_PASSWORD, make_user

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a brand new passphrase 2026"


def _link_in(message) -> str:
    """The site path of the first link to this site in an email body."""
    match = re.search(r"https?://testserver(/\S+)", message.body)
    assert match, message.body
    return match.group(1)


def _signed_in_user_id(client: Client) -> str | None:
    return client.session.get(SESSION_KEY)


def _login(client: Client, email: str, password: str, **extra):
    return client.post(reverse("account_login"), {"login": email, "password": password}, **extra)


# --- Sign-up and email verification -------------------------------------------------------------


def _sign_up(client: Client, email: str = "new.learner@example.test"):
    return client.post(
        reverse("account_signup"),
        {
            "display_name": "  New Learner ",
            "email": email,
            "password1": DEFAULT_PASSWORD,
            "password2": DEFAULT_PASSWORD,
            "accept_documents": "on",
        },
    )


def test_signup_page_asks_for_a_display_name_first(client):
    html = client.get(reverse("account_signup")).content.decode()

    assert 'name="display_name"' in html
    assert html.index('name="display_name"') < html.index('name="email"')


def test_signup_creates_a_student_with_a_profile_and_sends_a_verification_email(client, mailoutbox):
    response = _sign_up(client)

    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    user = User.objects.get(email="new.learner@example.test")
    assert user.display_name == "New Learner"
    assert roles_of(user) == {Role.STUDENT}
    assert list(user.groups.values_list("name", flat=True)) == ["student"]
    assert Profile.objects.filter(user=user).exists()
    assert user.check_password(DEFAULT_PASSWORD)
    assert EmailAddress.objects.get(user=user).verified is False
    [message] = mailoutbox
    assert message.to == ["new.learner@example.test"]
    assert "confirm-email" in _link_in(message)
    assert _signed_in_user_id(client) is None


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"display_name": "   "}, "display_name", "This field is required."),
        ({"password1": "password", "password2": "password"}, "password1", "too common"),
        ({"password2": "something else entirely"}, "password2", "same password"),
    ],
)
def test_signup_with_invalid_details_explains_why_and_creates_nothing(
    client, mailoutbox, overrides, field, message
):
    data = {
        "display_name": "New Learner",
        "email": "new.learner@example.test",
        "password1": DEFAULT_PASSWORD,
        "password2": DEFAULT_PASSWORD,
        "accept_documents": "on",
        **overrides,
    }

    response = client.post(reverse("account_signup"), data)

    assert response.status_code == 200
    html = response.content.decode()
    errors = re.search(rf'<ul class="errorlist" id="id_{field}_errors">(.*?)</ul>', html, re.S)
    assert errors is not None, html
    assert message in errors.group(1)
    assert not User.objects.filter(email="new.learner@example.test").exists()
    assert mailoutbox == []


def test_signup_email_address_is_stored_in_lower_case(client):
    _sign_up(client, email="Mixed.Case@Example.TEST")

    assert User.objects.filter(email="mixed.case@example.test").exists()


def test_signup_with_an_address_already_taken_does_not_create_a_second_account(client, mailoutbox):
    make_user(email="taken@example.test", display_name="First Owner")

    _sign_up(client, email="taken@example.test")

    assert User.objects.filter(email="taken@example.test").count() == 1
    assert User.objects.get(email="taken@example.test").display_name == "First Owner"


def test_unverified_account_cannot_sign_in(client, mailoutbox):
    _sign_up(client)
    client.logout()
    mailoutbox.clear()

    response = _login(client, "new.learner@example.test", DEFAULT_PASSWORD)

    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    assert _signed_in_user_id(client) is None
    assert client.get(reverse("accounts:profile_edit")).status_code == 302


def test_following_the_confirmation_link_verifies_the_address_and_signs_in(client, mailoutbox):
    _sign_up(client)
    link = _link_in(mailoutbox[0])

    page = client.get(link)
    assert page.status_code == 200
    assert "new.learner@example.test" in page.content.decode()
    response = client.post(link)

    assert response.status_code == 302
    user = User.objects.get(email="new.learner@example.test")
    assert EmailAddress.objects.get(user=user).verified is True
    assert _signed_in_user_id(client) == str(user.pk)
    home = client.get(response["Location"], follow=True)
    assert "Welcome back, New Learner." in home.content.decode()


def test_verified_account_can_sign_in_after_confirming_from_another_browser(client, mailoutbox):
    _sign_up(client)
    other_browser = Client()
    other_browser.post(_link_in(mailoutbox[0]))

    response = _login(Client(), "new.learner@example.test", DEFAULT_PASSWORD)

    assert response.status_code == 302
    assert response["Location"] == reverse("home")


# --- Sign-in and sign-out -----------------------------------------------------------------------


def test_sign_in_with_email_and_password(client):
    user = make_user(email="learner@example.test", display_name="Lea Learner")

    response = _login(client, "LEARNER@example.test", DEFAULT_PASSWORD)

    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert _signed_in_user_id(client) == str(user.pk)
    assert "Welcome back, Lea Learner." in client.get("/").content.decode()


def test_sign_in_returns_to_the_page_that_asked_for_it(client):
    make_user(email="learner@example.test")
    next_url = reverse("accounts:profile_edit")

    response = client.post(
        f"{reverse('account_login')}?next={next_url}",
        {"login": "learner@example.test", "password": DEFAULT_PASSWORD},
    )

    assert response["Location"] == next_url


def test_wrong_password_is_refused_with_a_message(client):
    make_user(email="learner@example.test")

    response = _login(client, "learner@example.test", "not the password")

    assert response.status_code == 200
    assert "The email address and/or password you specified are not correct." in (
        response.content.decode()
    )
    assert _signed_in_user_id(client) is None


def test_deactivated_account_cannot_sign_in(client):
    make_user(email="gone@example.test", is_active=False)

    response = _login(client, "gone@example.test", DEFAULT_PASSWORD)

    assert response.status_code == 302
    assert response["Location"] == reverse("account_inactive")
    assert _signed_in_user_id(client) is None


def test_sign_out_needs_a_post_and_then_ends_the_session(client):
    user = make_user()
    client.force_login(user)

    confirm = client.get(reverse("account_logout"))
    assert confirm.status_code == 200
    assert _signed_in_user_id(client) == str(user.pk)

    response = client.post(reverse("account_logout"))

    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert _signed_in_user_id(client) is None
    assert client.get(reverse("accounts:profile_edit")).status_code == 302


# --- Password reset and change ------------------------------------------------------------------


def test_password_reset_by_email_link_sets_a_new_password(client, mailoutbox):
    user = make_user(email="forgetful@example.test")

    response = client.post(reverse("account_reset_password"), {"email": "forgetful@example.test"})

    assert response.status_code == 302
    [message] = mailoutbox
    assert message.to == ["forgetful@example.test"]
    link = _link_in(message)
    form_page = client.get(link, follow=True)
    assert form_page.status_code == 200
    assert 'name="password1"' in form_page.content.decode()
    # allauth moves the key out of the address (into the session) before showing the form.
    set_password_url = form_page.redirect_chain[-1][0]
    done = client.post(set_password_url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert done.status_code == 302

    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    fresh = Client()
    assert _login(fresh, "forgetful@example.test", DEFAULT_PASSWORD).status_code == 200
    assert _signed_in_user_id(fresh) is None
    assert _login(fresh, "forgetful@example.test", NEW_PASSWORD).status_code == 302
    assert _signed_in_user_id(fresh) == str(user.pk)


def test_password_reset_link_works_only_once(client, mailoutbox):
    make_user(email="forgetful@example.test")
    client.post(reverse("account_reset_password"), {"email": "forgetful@example.test"})
    link = _link_in(mailoutbox[0])
    form_page = client.get(link, follow=True)
    set_password_url = form_page.redirect_chain[-1][0]
    client.post(set_password_url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})

    again = Client().get(link, follow=True)

    html = again.content.decode()
    assert "The password reset link was invalid" in html
    assert 'name="password1"' not in html


def test_password_reset_for_an_unknown_address_reveals_nothing(client, mailoutbox):
    make_user(email="known@example.test")

    known = client.post(reverse("account_reset_password"), {"email": "known@example.test"})
    unknown = Client().post(reverse("account_reset_password"), {"email": "nobody@example.test"})

    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"]
    to_known = [m for m in mailoutbox if m.to == ["known@example.test"]]
    to_unknown = [m for m in mailoutbox if m.to == ["nobody@example.test"]]
    assert "/accounts/password/reset/key/" in _link_in(to_known[0])
    assert all("/password/reset/key/" not in m.body for m in to_unknown)


def test_signed_in_user_can_change_their_password_and_stays_signed_in(client):
    user = make_user()
    client.force_login(user)

    response = client.post(
        reverse("account_change_password"),
        {"oldpassword": DEFAULT_PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )

    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert _signed_in_user_id(client) == str(user.pk)
    assert client.get(reverse("accounts:profile_edit")).status_code == 200


def test_password_change_needs_the_current_password(client):
    user = make_user()
    client.force_login(user)

    response = client.post(
        reverse("account_change_password"),
        {"oldpassword": "a wrong guess", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )

    assert response.status_code == 200
    assert "Please type your current password." in response.content.decode()
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)


# --- Login rate limit (acceptance item) ---------------------------------------------------------


def _login_failure_limits() -> dict[str, ratelimit.Rate]:
    """The configured `login_failed` limits, e.g. {"ip": 10/60s, "key": 5/300s}."""
    rates = ratelimit.parse_rates(django_settings.ACCOUNT_RATE_LIMITS["login_failed"])
    return {rate.per: rate for rate in rates}


def test_login_failure_limit_is_configured_per_account_and_per_address():
    limits = _login_failure_limits()

    assert {"ip", "key"} <= set(limits)
    assert limits["key"].amount <= limits["ip"].amount


def test_repeated_failed_logins_lock_the_account_even_for_the_right_password(client):
    """After `key` limit failures for one account, the right password is refused with 429."""
    user = make_user(email="target@example.test")
    allowed_failures = min(rate.amount for rate in _login_failure_limits().values())

    for attempt in range(allowed_failures):
        response = _login(client, "target@example.test", f"guess {attempt}")
        assert response.status_code == 200, f"attempt {attempt + 1} was refused too early"

    response = _login(client, "target@example.test", DEFAULT_PASSWORD)

    assert response.status_code == 429
    assert "429.html" in [t.name for t in response.templates]
    html = response.content.decode()
    assert "<h1>Too many requests</h1>" in html
    assert "Please wait a few minutes and try again." in html
    assert _signed_in_user_id(client) is None
    assert Client().get(reverse("accounts:profile_edit")).status_code == 302
    user.refresh_from_db()
    assert user.last_login is None


def test_account_lock_applies_from_any_address(client):
    """The per-account limit is not escaped by switching IP address."""
    make_user(email="target@example.test")
    key_limit = _login_failure_limits()["key"].amount

    for attempt in range(key_limit):
        _login(Client(), "target@example.test", f"guess {attempt}", REMOTE_ADDR=f"10.0.0.{attempt}")

    response = _login(Client(), "target@example.test", DEFAULT_PASSWORD, REMOTE_ADDR="10.9.9.9")

    assert response.status_code == 429


def test_many_failures_from_one_address_are_refused_for_every_account(client):
    ip_limit = _login_failure_limits()["ip"].amount
    key_limit = _login_failure_limits()["key"].amount
    make_user(email="bystander@example.test")

    for attempt in range(ip_limit):
        # Spread over accounts so no single account reaches its own limit.
        account = f"victim{attempt // key_limit}@example.test"
        assert _login(client, account, "guess").status_code == 200

    response = _login(client, "bystander@example.test", DEFAULT_PASSWORD)

    assert response.status_code == 429
    assert _signed_in_user_id(client) is None
    # Another address is not affected.
    assert (
        _login(
            Client(), "bystander@example.test", DEFAULT_PASSWORD, REMOTE_ADDR="10.1.1.1"
        ).status_code
        == 302
    )


def test_a_successful_login_does_not_count_towards_the_limit(client):
    make_user(email="regular@example.test")
    allowed_failures = min(rate.amount for rate in _login_failure_limits().values())

    for _ in range(allowed_failures + 2):
        browser = Client()
        assert _login(browser, "regular@example.test", DEFAULT_PASSWORD).status_code == 302


def test_account_unlocks_once_the_window_has_passed(client, monkeypatch):
    make_user(email="target@example.test")
    limits = _login_failure_limits()
    allowed_failures = min(rate.amount for rate in limits.values())
    for attempt in range(allowed_failures):
        _login(client, "target@example.test", f"guess {attempt}")
    assert _login(client, "target@example.test", DEFAULT_PASSWORD).status_code == 429

    longest_window = max(rate.duration for rate in limits.values())
    later = time.time() + longest_window + 1
    # Only the rate limiter's clock moves on; the cache entries are still there.
    monkeypatch.setattr(
        ratelimit,
        "time",
        types.SimpleNamespace(time=lambda: later, monotonic=time.monotonic, sleep=time.sleep),
    )

    assert _login(client, "target@example.test", DEFAULT_PASSWORD).status_code == 302


def test_changing_the_case_of_the_address_does_not_reset_the_count(client):
    make_user(email="target@example.test")
    key_limit = _login_failure_limits()["key"].amount
    spellings = ["target@example.test", "TARGET@example.test", "Target@Example.Test"]

    for attempt in range(key_limit):
        email = spellings[attempt % len(spellings)]
        _login(Client(), email, f"guess {attempt}", REMOTE_ADDR=f"10.0.1.{attempt}")

    response = _login(Client(), "TaRgEt@example.test", DEFAULT_PASSWORD, REMOTE_ADDR="10.9.9.9")

    assert response.status_code == 429
