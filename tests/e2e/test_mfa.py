"""Two-factor authentication in a real browser: an instructor forced to set up TOTP, signing in
with password + code, a recovery code that works once, and a passkey registered and used through
Chromium's virtual authenticator (CDP `WebAuthn.addVirtualAuthenticator`)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from apps.accounts.roles import Role
from apps.accounts.tests.factories import DEFAULT_PASSWORD, make_user, totp_code

pytestmark = pytest.mark.browser


def _password_step(page: Any, email: str) -> None:
    page.goto(reverse("account_login"))
    form = page.locator("main form").first
    form.get_by_label("Email").fill(email)
    form.get_by_label("Password").fill(DEFAULT_PASSWORD)
    form.get_by_role("button", name="Sign In").click()
    expect(page).not_to_have_url(re.compile(reverse("account_login")))


def _sign_out(page: Any) -> None:
    page.get_by_role("navigation", name="Account").get_by_role("button", name="Sign out").click()
    expect(
        page.get_by_role("navigation", name="Account").get_by_role("link", name="Sign in")
    ).to_be_visible()


def _reauthenticate(page: Any) -> None:
    expect(page).to_have_url(re.compile(reverse("account_reauthenticate")))
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Confirm").click()
    expect(page).not_to_have_url(re.compile(reverse("account_reauthenticate")))


def _code_step(page: Any, code: str) -> None:
    expect(page).to_have_url(re.compile(reverse("mfa_authenticate")))
    page.get_by_label("Code").fill(code)
    page.get_by_role("button", name="Sign In").click()


def test_instructor_is_made_to_set_up_totp_then_signs_in_with_a_code_and_a_recovery_code(
    new_context: Any,
) -> None:
    make_user(Role.INSTRUCTOR, mfa=False, email="teacher@example.test", display_name="Tess Teacher")
    page = new_context().new_page()

    _password_step(page, "teacher@example.test")
    # Any page sends them to set up a second factor first.
    page.goto(reverse("courses:catalog"))
    expect(page).to_have_url(re.compile(r"/account/security/\?next="))
    expect(page.get_by_role("alert")).to_contain_text("Set up two-factor authentication")

    page.get_by_role("link", name="Set up an authenticator app").click()
    _reauthenticate(page)  # adding a factor asks for the password again, always
    secret = page.locator("#authenticator_secret").input_value()
    assert re.fullmatch(r"[A-Z2-7]{16,}", secret), secret
    page.get_by_label("Authenticator code").fill(totp_code(secret))
    page.get_by_role("button", name="Activate").click()

    # allauth shows the recovery codes right away; keep two of them.
    expect(page).to_have_url(re.compile(reverse("mfa_view_recovery_codes")))
    codes = page.locator("#recovery_codes").input_value().split()
    assert len(codes) >= 2, codes
    page.goto(reverse("courses:catalog"))
    expect(page).to_have_url(re.compile(reverse("courses:catalog")))

    _sign_out(page)
    _password_step(page, "teacher@example.test")
    _code_step(page, totp_code(secret))
    expect(page.get_by_role("navigation", name="Account")).to_contain_text("Tess Teacher")

    _sign_out(page)
    _password_step(page, "teacher@example.test")
    _code_step(page, codes[0])
    expect(page.get_by_role("navigation", name="Account")).to_contain_text("Tess Teacher")

    _sign_out(page)
    _password_step(page, "teacher@example.test")
    _code_step(page, codes[0])  # the same recovery code a second time
    expect(page.locator("main")).to_contain_text("Incorrect code")
    expect(page).to_have_url(re.compile(reverse("mfa_authenticate")))


def test_a_passkey_is_registered_and_then_signs_in_without_a_password(
    new_context: Any, live_url: str
) -> None:
    """On http://localhost: WebAuthn refuses an IP address as the relying party."""
    make_user(Role.STUDENT, email="pat@example.test", display_name="Pat Passkey")
    context = new_context(base_url=live_url.replace("127.0.0.1", "localhost"))
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    authenticator = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )

    _password_step(page, "pat@example.test")
    page.goto(reverse("accounts:security"))
    page.get_by_role("link", name="Add a passkey").click()
    _reauthenticate(page)
    page.get_by_label("Name").fill("Laptop")
    passwordless = page.get_by_label(re.compile("[Pp]asswordless"))
    if passwordless.count():
        passwordless.check()
    page.get_by_role("button", name="Add", exact=True).click()
    page.wait_for_load_state()
    expect(page).not_to_have_url(re.compile(reverse("mfa_add_webauthn")))
    credentials = cdp.send(
        "WebAuthn.getCredentials", {"authenticatorId": authenticator["authenticatorId"]}
    )
    assert len(credentials["credentials"]) == 1

    page.goto(reverse("accounts:security"))
    expect(page.locator("main")).to_contain_text("Passkey “Laptop”")

    _sign_out(page)
    page.goto(reverse("account_login"))
    page.get_by_role("button", name=re.compile("Sign in with a passkey", re.I)).click()
    expect(page.get_by_role("navigation", name="Account")).to_contain_text("Pat Passkey")
