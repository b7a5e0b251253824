"""Staff manage accounts in the admin: adding users, editing profiles, uploading avatars."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse

from apps.accounts.models import Profile, User
from apps.accounts.tests import images
from apps.accounts.tests.factories import give_totp
from apps.privacy.consent import accept_current_documents
from apps.privacy.models import Consent

pytestmark = pytest.mark.django_db


class _FormValues(HTMLParser):
    """What a browser would submit for the page's main form, unchanged."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, str] = {}
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        name = a.get("name", "")
        if tag == "input" and name and "__prefix__" not in name:
            kind = a.get("type", "text")
            if kind in {"checkbox", "radio"}:
                if "checked" in a:
                    self.values[name] = a.get("value", "on")
            elif kind not in {"submit", "file", "button"}:
                self.values[name] = a.get("value", "")
        elif tag == "select" and "__prefix__" not in name:
            self._select = name
        elif tag == "option" and self._select and "selected" in a:
            self.values[self._select] = a.get("value", "")
        elif tag == "textarea" and "__prefix__" not in name:
            self._textarea = name
            self.values[name] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.values[self._textarea] += (
                data.lstrip("\n") if not self.values[self._textarea] else data
            )


def _form_values(html: str) -> dict[str, str]:
    parser = _FormValues()
    parser.feed(html)
    return parser.values


@pytest.fixture
def admin_client(client: Client) -> Client:
    admin = User.objects.create_superuser("root@example.test", "pw-123456789", display_name="Root")
    # createsuperuser skips sign-up, so the consent page would ask first (apps.privacy).
    accept_current_documents(user=admin, source=Consent.Source.SEED)
    give_totp(admin)  # admin requires a second factor (MFA_REQUIRED_ROLES, docs/security.md)
    client.force_login(admin)
    return client


def test_staff_can_add_a_user_who_then_has_a_profile(admin_client):
    add_url = reverse("admin:accounts_user_add")
    page = admin_client.get(add_url)
    assert page.status_code == 200
    assert "profile-TOTAL_FORMS" not in page.content.decode()  # profile comes after creation

    response = admin_client.post(
        add_url,
        {
            "email": "New.Teacher@Example.TEST",
            "display_name": "New Teacher",
            "password1": "a long passphrase 99",
            "password2": "a long passphrase 99",
            "_save": "Save",
        },
    )

    assert response.status_code == 302
    user = User.objects.get(email="new.teacher@example.test")
    assert user.display_name == "New Teacher"
    assert Profile.objects.filter(user=user).count() == 1
    assert user.check_password("a long passphrase 99")


def test_admin_refuses_an_address_that_differs_only_in_case(admin_client):
    User.objects.create_user("taken@example.test", display_name="Taken")

    response = admin_client.post(
        reverse("admin:accounts_user_add"),
        {
            "email": "TAKEN@example.test",
            "display_name": "Copy",
            "password1": "a long passphrase 99",
            "password2": "a long passphrase 99",
        },
    )

    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    assert User.objects.filter(email__iexact="taken@example.test").count() == 1


def test_staff_can_edit_a_users_profile_from_the_user_page(admin_client):
    user = User.objects.create_user("pat@example.test", display_name="Pat")
    change_url = reverse("admin:accounts_user_change", args=[user.pk])
    data = _form_values(admin_client.get(change_url).content.decode())
    data.update({"profile-0-bio": "Edited by staff.", "profile-0-theme": "dark", "_save": "Save"})

    response = admin_client.post(change_url, data)

    assert response.status_code == 302, re.findall(
        r"errorlist[^>]*>(.*?)</ul>", response.content.decode(), re.S
    )
    profile = Profile.objects.get(user=user)
    assert (profile.bio, profile.theme) == ("Edited by staff.", "dark")


def test_avatar_uploaded_in_the_admin_is_checked_and_re_encoded_too(admin_client):
    user = User.objects.create_user("pat@example.test", display_name="Pat")
    change_url = reverse("admin:accounts_user_change", args=[user.pk])
    data = _form_values(admin_client.get(change_url).content.decode())

    refused = admin_client.post(
        change_url, {**data, "profile-0-avatar": images.upload("evil.png", images.SVG)}
    )
    assert refused.status_code == 200
    assert not Profile.objects.get(user=user).avatar

    accepted = admin_client.post(
        change_url, {**data, "profile-0-avatar": images.upload("IMG_0001.png", images.png_bytes())}
    )
    assert accepted.status_code == 302
    name = Profile.objects.get(user=user).avatar.name
    assert re.fullmatch(r"avatars/avatar-[0-9a-f]{32}\.webp", name)
    assert (Path(django_settings.MEDIA_ROOT) / name).is_file()
