"""`manage.py seed_demo`: demo accounts anyone can sign in with, never on a real site."""

from __future__ import annotations

import io
import re

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from apps.accounts.models import Profile, User
from apps.accounts.policies import has_role, roles_of
from apps.accounts.roles import Role

pytestmark = pytest.mark.django_db

LINE = re.compile(r"^\s+(?P<role>\w+)\s+(?P<email>\S+@\S+)\s+password: (?P<password>\S+)$", re.M)


def _seed(*args: str) -> list[dict[str, str]]:
    out = io.StringIO()
    call_command("seed_demo", *args, stdout=out)
    accounts = [m.groupdict() for m in LINE.finditer(out.getvalue())]
    assert accounts, out.getvalue()
    return accounts


def test_seed_refuses_to_run_with_debug_off(settings):
    settings.DEBUG = False

    with pytest.raises(CommandError, match="--allow-production"):
        call_command("seed_demo", stdout=io.StringIO())

    assert not User.objects.exists()


def test_seed_runs_with_debug_on_without_any_flag(settings):
    settings.DEBUG = True

    accounts = _seed()

    assert User.objects.count() == len(accounts)


def test_seed_runs_with_debug_off_when_explicitly_allowed(settings):
    settings.DEBUG = False

    accounts = _seed("--allow-production")

    assert User.objects.count() == len(accounts)


def test_seed_covers_every_role():
    accounts = _seed("--allow-production")

    assert {a["role"] for a in accounts} == {r.value for r in Role}


def test_each_demo_account_has_its_role_a_verified_email_and_a_profile():
    for account in _seed("--allow-production"):
        user = User.objects.get(email=account["email"])
        role = Role(account["role"])
        assert role in roles_of(user), account
        assert user.groups.filter(name=role.value).exists(), account
        assert EmailAddress.objects.get(user=user, email=user.email).verified, account
        assert EmailAddress.objects.get(user=user, email=user.email).primary, account
        assert Profile.objects.filter(user=user).exists()
        assert user.display_name
        if role is Role.STAFF:
            assert user.is_staff


def test_only_the_staff_demo_account_can_open_the_admin():
    accounts = _seed("--allow-production")

    for account in accounts:
        user = User.objects.get(email=account["email"])
        assert user.is_staff is (account["role"] == Role.STAFF), account
        assert has_role(user, Role.STAFF) is (account["role"] == Role.STAFF), account


def test_every_demo_account_can_sign_in_with_the_printed_password():
    """Students with the password alone; the others with the password and the demo 2FA code."""
    from apps.accounts.seed import DEMO_TOTP_SECRET
    from apps.accounts.tests.factories import totp_code

    for account in _seed("--allow-production"):
        browser = Client()
        response = browser.post(
            reverse("account_login"), {"login": account["email"], "password": account["password"]}
        )
        assert response.status_code == 302, account
        if account["role"] != Role.STUDENT.value:
            assert response["Location"] == reverse("mfa_authenticate"), account
            response = browser.post(
                reverse("mfa_authenticate"), {"code": totp_code(DEMO_TOTP_SECRET)}
            )
        assert response["Location"] == reverse("home"), account
        user = User.objects.get(email=account["email"])
        assert browser.session["_auth_user_id"] == str(user.pk)


def test_seeding_twice_changes_nothing():
    first = _seed("--allow-production")
    counts = (
        User.objects.count(),
        EmailAddress.objects.count(),
        Profile.objects.count(),
        Group.objects.count(),
        User.groups.through.objects.count(),
    )

    second = _seed("--allow-production")

    assert second == first
    assert (
        User.objects.count(),
        EmailAddress.objects.count(),
        Profile.objects.count(),
        Group.objects.count(),
        User.groups.through.objects.count(),
    ) == counts
    for account in second:
        user = User.objects.get(email=account["email"])
        assert user.groups.filter(name=account["role"]).exists()


def test_reseeding_keeps_a_bio_the_demo_user_wrote_themselves():
    accounts = _seed("--allow-production")
    email = accounts[0]["email"]
    Profile.objects.filter(user__email=email).update(bio="My own words.")

    _seed("--allow-production")

    assert Profile.objects.get(user__email=email).bio == "My own words."


def test_seed_leaves_other_accounts_alone():
    other = User.objects.create_user(
        "real.person@example.test", "pw-123456789", display_name="Real"
    )

    _seed("--allow-production")

    other.refresh_from_db()
    assert other.display_name == "Real"
    assert not other.groups.exists()


def test_demo_accounts_that_must_use_2fa_have_it_and_demo_code_prints_their_code(settings) -> None:
    from apps.accounts.seed import DEMO_PASSWORD, DEMO_TOTP_SECRET
    from apps.accounts.tests.factories import totp_code

    settings.DEBUG = True
    _seed()
    out = io.StringIO()
    call_command("demo_code", stdout=out)
    code = out.getvalue().split()[0]
    assert code == totp_code(DEMO_TOTP_SECRET)

    client = Client()
    client.post("/accounts/login/", {"login": "instructor@example.com", "password": DEMO_PASSWORD})
    response = client.post("/accounts/2fa/authenticate/", {"code": code})
    assert response.status_code == 302
    assert client.get("/courses/").status_code == 200
