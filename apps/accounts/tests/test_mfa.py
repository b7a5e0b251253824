"""Two-factor authentication by role (MFA_REQUIRED_ROLES), sign-in with a second factor, recovery
codes, and the session rules around sign-in and password change — through allauth's real views."""

from __future__ import annotations

from typing import Any

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from django.contrib.auth import SESSION_KEY
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from apps.accounts.models import User
from apps.accounts.roles import Role
from apps.accounts.services import assign_role
from apps.accounts.tests.factories import DEFAULT_PASSWORD, give_totp, make_user, totp_code
from apps.videoconference.tests.ws_helpers import Peer, cookie_for, refused, run

pytestmark = pytest.mark.django_db

CATALOG = "/courses/"
SECURITY = "/account/security/"


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _login(client: Client, email: str, password: str = DEFAULT_PASSWORD) -> Any:
    return client.post(reverse("account_login"), {"login": email, "password": password})


def _code(client: Client, code: str) -> Any:
    return client.post(reverse("mfa_authenticate"), {"code": code})


# --- Enforcement by role ------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.INSTRUCTOR, Role.MODERATOR, Role.STAFF])
def test_a_required_role_without_a_factor_is_sent_to_set_one_up(role: Role) -> None:
    user = make_user(role, mfa=False)

    response = signed_in(user).get(CATALOG)

    assert response.status_code == 302
    assert response["Location"] == f"{SECURITY}?next=%2Fcourses%2F"


def test_the_security_page_explains_why_and_links_to_both_kinds_of_factor() -> None:
    client = signed_in(make_user(Role.INSTRUCTOR, mfa=False))

    html = client.get(f"{SECURITY}?next=/courses/").content.decode()

    assert "Set up two-factor authentication to continue" in html
    assert reverse("mfa_activate_totp") in html
    assert reverse("mfa_add_webauthn") in html


def test_the_setup_pages_stay_open_while_a_factor_is_missing() -> None:
    client = signed_in(make_user(Role.INSTRUCTOR, mfa=False))

    for path in (reverse("mfa_index"), reverse("mfa_activate_totp"), SECURITY):
        response = client.get(path)
        assert response.status_code in (200, 302), path
        if response.status_code == 302:  # allauth asks for the password again first
            assert response["Location"].startswith(reverse("account_reauthenticate")), path


def test_htmx_and_json_requests_get_403_mfa_required() -> None:
    client = signed_in(make_user(Role.INSTRUCTOR, mfa=False))

    as_json = client.get(CATALOG, headers={"Accept": "application/json"})
    as_htmx = client.get(CATALOG, headers={"HX-Request": "true"})

    assert as_json.status_code == 403
    assert as_json.json()["error"]["code"] == "mfa_required"
    assert as_htmx.status_code == 403
    assert as_htmx["HX-Redirect"] == SECURITY


def test_a_form_post_is_refused_not_redirected() -> None:
    client = signed_in(make_user(Role.INSTRUCTOR, mfa=False))

    response = client.post(reverse("accounts:profile_edit"), {"display_name": "Changed"})

    assert response.status_code == 403
    assert User.objects.filter(display_name="Changed").count() == 0


def test_students_are_not_asked_and_instructors_with_a_factor_pass() -> None:
    assert signed_in(make_user(Role.STUDENT)).get(CATALOG).status_code == 200
    assert signed_in(make_user(Role.INSTRUCTOR)).get(CATALOG).status_code == 200


def test_adding_a_factor_opens_the_site_at_once() -> None:
    user = make_user(Role.INSTRUCTOR, mfa=False)
    client = signed_in(user)
    assert client.get(CATALOG).status_code == 302

    give_totp(user)

    assert client.get(CATALOG).status_code == 200


def test_removing_the_last_factor_closes_it_again() -> None:
    user = make_user(Role.MODERATOR)
    client = signed_in(user)
    assert client.get(CATALOG).status_code == 200

    Authenticator.objects.filter(user=user).delete()

    assert client.get(CATALOG).status_code == 302


def test_being_given_a_required_role_applies_from_the_next_request() -> None:
    user = make_user(Role.STUDENT)
    client = signed_in(user)
    assert client.get(CATALOG).status_code == 200

    assign_role(user=user, role=Role.INSTRUCTOR)

    assert client.get(CATALOG).status_code == 302


def test_the_roles_are_a_setting(settings: Any) -> None:
    settings.MFA_REQUIRED_ROLES = ["staff"]
    cache.clear()

    assert signed_in(make_user(Role.INSTRUCTOR, mfa=False)).get(CATALOG).status_code == 200
    assert signed_in(make_user(Role.STAFF, mfa=False)).get(CATALOG).status_code == 302


def test_django_admin_needs_a_factor_whatever_the_roles_say(settings: Any) -> None:
    settings.MFA_REQUIRED_ROLES = []
    cache.clear()
    user = make_user(Role.STUDENT, is_staff=True)
    client = signed_in(user)

    assert client.get("/admin/").status_code == 302

    give_totp(user)

    assert client.get("/admin/").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_the_call_socket_and_the_bell_refuse_a_user_without_a_required_factor() -> None:
    """Through `config.asgi.application`: an `error` frame `mfa_required`, then close 4403."""
    user = make_user(Role.INSTRUCTOR, mfa=False)

    async def scenario() -> tuple[Any, Any]:
        socket = Peer("", cookie=cookie_for(user), path="/ws/notifications/")
        try:
            return await refused(socket)
        finally:
            await socket.close()

    code, frames = run(scenario)

    assert code == 4403
    assert [frame.get("code") for frame in frames] == ["mfa_required"]


# --- Signing in with a second factor ------------------------------------------------------------


def test_sign_in_asks_for_the_code_after_the_password_and_rotates_the_session() -> None:
    user = make_user(Role.INSTRUCTOR, mfa=False, email="teacher@example.test")
    secret = give_totp(user)
    client = Client()
    client.get(reverse("account_login"))
    before = client.cookies["sessionid"].value if "sessionid" in client.cookies else None

    after_password = _login(client, "teacher@example.test")

    assert after_password.status_code == 302
    assert after_password["Location"] == reverse("mfa_authenticate")
    assert client.session.get(SESSION_KEY) is None  # not signed in on the password alone

    after_code = _code(client, totp_code(secret))

    assert after_code.status_code == 302
    assert client.session.get(SESSION_KEY) == str(user.pk)
    assert client.cookies["sessionid"].value != before
    assert client.get(CATALOG).status_code == 200


def test_a_wrong_code_is_refused_with_a_message() -> None:
    user = make_user(Role.INSTRUCTOR, email="teacher@example.test")
    client = Client()
    _login(client, "teacher@example.test")

    response = _code(client, "000000")

    assert response.status_code == 200
    assert "Incorrect code" in response.content.decode()
    assert client.session.get(SESSION_KEY) is None
    assert user.pk  # the account is untouched


def test_a_code_is_accepted_only_once() -> None:
    """A replayed code (same 30-second window) does not sign in a second browser."""
    user = make_user(Role.INSTRUCTOR, mfa=False, email="teacher@example.test")
    secret = give_totp(user)
    code = totp_code(secret)
    first, second = Client(), Client()
    _login(first, "teacher@example.test")
    _login(second, "teacher@example.test")

    assert _code(first, code).status_code == 302
    replay = _code(second, code)

    assert replay.status_code == 200
    assert second.session.get(SESSION_KEY) is None


@pytest.mark.parametrize(("periods", "accepted"), [(-1, True), (1, True), (-3, False), (3, False)])
def test_a_code_one_period_either_side_is_accepted_for_clock_drift(
    periods: int, accepted: bool
) -> None:
    """MFA_TOTP_TOLERANCE=1: a code typed as its 30 s run out, or from a phone a few seconds
    off, still signs in; one three periods away (90 s) does not."""
    user = make_user(Role.INSTRUCTOR, mfa=False, email="teacher@example.test")
    secret = give_totp(user)
    client = Client()
    _login(client, "teacher@example.test")

    response = _code(client, totp_code(secret, periods))

    assert (response.status_code == 302) is accepted
    assert (client.session.get(SESSION_KEY) == str(user.pk)) is accepted


def test_repeated_wrong_codes_lock_the_second_step_even_for_the_right_code(settings: Any) -> None:
    from allauth.core.internal import ratelimit

    user = make_user(Role.INSTRUCTOR, mfa=False, email="teacher@example.test")
    secret = give_totp(user)
    rates = ratelimit.parse_rates(settings.ACCOUNT_RATE_LIMITS["login_failed"])
    allowed = min(rate.amount for rate in rates if rate.per == "key")
    client = Client()
    _login(client, "teacher@example.test")

    for attempt in range(allowed):
        assert "Incorrect code" in _code(client, f"{attempt:06d}").content.decode()
    response = _code(client, totp_code(secret))

    assert "Too many failed" in response.content.decode()
    assert client.session.get(SESSION_KEY) is None


def test_a_recovery_code_signs_in_once_and_never_again() -> None:
    user = make_user(Role.INSTRUCTOR, email="teacher@example.test")
    codes = RecoveryCodes.activate(user)
    code = codes.get_unused_codes()[0]

    first = Client()
    _login(first, "teacher@example.test")
    assert _code(first, code).status_code == 302
    assert first.session.get(SESSION_KEY) == str(user.pk)

    second = Client()
    _login(second, "teacher@example.test")
    response = _code(second, code)

    assert response.status_code == 200
    assert second.session.get(SESSION_KEY) is None
    remaining = Authenticator.objects.get(user=user, type=Authenticator.Type.RECOVERY_CODES)
    assert code not in remaining.wrap().get_unused_codes()


def test_adding_a_factor_asks_for_the_password_again() -> None:
    """allauth asks every time (a sign-in alone does not count): a left-open tab cannot add one."""
    client = signed_in(make_user(Role.STUDENT))

    response = client.get(reverse("mfa_activate_totp"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_reauthenticate"))


def test_removing_a_factor_asks_for_the_password_again() -> None:
    user = make_user(Role.STUDENT, mfa=True)
    client = signed_in(user)

    response = client.post(reverse("mfa_deactivate_totp"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_reauthenticate"))
    assert Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


# --- Sessions -----------------------------------------------------------------------------------


def test_a_password_change_ends_every_other_session_of_the_user() -> None:
    make_user(Role.STUDENT, email="learner@example.test")
    here, elsewhere = Client(), Client()
    _login(here, "learner@example.test")
    _login(elsewhere, "learner@example.test")
    assert elsewhere.get(reverse("accounts:profile_edit")).status_code == 200

    response = here.post(
        reverse("account_change_password"),
        {
            "oldpassword": DEFAULT_PASSWORD,
            "password1": "a brand new passphrase 2026",
            "password2": "a brand new passphrase 2026",
        },
    )

    assert response.status_code == 302
    assert here.get(reverse("accounts:profile_edit")).status_code == 200
    assert elsewhere.get(reverse("accounts:profile_edit")).status_code == 302
    assert elsewhere.session.get(SESSION_KEY) is None


def test_the_security_page_lists_factors_and_recent_sign_ins(
    django_capture_on_commit_callbacks: Any,
) -> None:
    user = make_user(Role.STUDENT, email="learner@example.test")
    client = Client()
    with django_capture_on_commit_callbacks(execute=True):
        _login(client, "learner@example.test")  # recorded as a sign-in with its address
    give_totp(user)

    html = client.get(SECURITY).content.decode()

    assert "Authenticator app" in html
    assert "Recent sign-ins" in html
    assert "127.0.0.1" in html
    assert reverse("activity:mine") in html


def test_the_admin_login_form_is_replaced_by_the_sign_in_with_its_second_factor() -> None:
    response = Client().get("/admin/login/?next=/admin/")

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_each_browser_sign_in_is_listed_where_the_person_is_signed_in() -> None:
    from allauth.usersessions.models import UserSession

    user = make_user(Role.STUDENT, email="learner@example.test")
    for address in ("10.0.0.1", "10.0.0.2"):
        Client(REMOTE_ADDR=address).post(
            reverse("account_login"), {"login": user.email, "password": DEFAULT_PASSWORD}
        )

    assert sorted(s.ip for s in UserSession.objects.filter(user=user)) == ["10.0.0.1", "10.0.0.2"]
    listing = Client(REMOTE_ADDR="10.0.0.3")
    listing.post(reverse("account_login"), {"login": user.email, "password": DEFAULT_PASSWORD})
    assert "10.0.0.1" in listing.get(reverse("usersessions_list")).content.decode()


def test_a_new_instructor_is_asked_to_accept_the_terms_then_to_set_up_2fa_never_in_a_loop() -> None:
    client = signed_in(make_user(Role.INSTRUCTOR, mfa=False, consented=False))

    first = client.get(CATALOG, follow=True)

    assert first.redirect_chain[-1][0].startswith(reverse("privacy:consent"))
    assert first.status_code == 200
    for path in (reverse("privacy:terms"), reverse("privacy:notice")):
        assert client.get(path).status_code == 200
    from apps.privacy.models import PolicyDocument

    current = {
        kind: PolicyDocument.objects.filter(kind=kind).latest("published_at").version
        for kind in (PolicyDocument.Kind.TERMS, PolicyDocument.Kind.PRIVACY_NOTICE)
    }
    accepted = client.post(
        first.redirect_chain[-1][0],
        {
            "terms": current[PolicyDocument.Kind.TERMS],
            "privacy_notice": current[PolicyDocument.Kind.PRIVACY_NOTICE],
        },
        follow=True,
    )

    assert accepted.redirect_chain[-1][0].startswith(SECURITY)
    assert "Set up two-factor authentication to continue" in accepted.content.decode()
