"""Users log in by email and always have exactly one profile with sensible defaults."""

from __future__ import annotations

import pytest
from django.contrib.auth import authenticate
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from apps.accounts.models import Profile, Theme, User
from apps.accounts.tests.factories import DEFAULT_PASSWORD, make_user

pytestmark = pytest.mark.django_db


def test_new_user_gets_exactly_one_profile_with_default_preferences():
    user = User.objects.create_user("pat@example.test", "pw-123456789", display_name="Pat")
    user.save()  # saving again must not add a second profile

    assert Profile.objects.filter(user=user).count() == 1
    profile = user.profile
    assert (profile.time_zone, profile.language, profile.theme) == ("UTC", "en", Theme.SYSTEM)
    assert profile.bio == ""
    assert not profile.avatar


def test_email_is_stored_in_lower_case_so_sign_in_ignores_case():
    user = User.objects.create_user("Pat.Doe@Example.TEST", DEFAULT_PASSWORD, display_name="Pat")

    assert user.email == "pat.doe@example.test"
    assert authenticate(email="PAT.DOE@example.test", password=DEFAULT_PASSWORD) == user


def test_two_accounts_cannot_share_an_email_address_in_any_case():
    User.objects.create_user("pat@example.test", display_name="Pat")

    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create_user("PAT@example.test", display_name="Other Pat")


def test_full_clean_normalises_an_email_typed_with_capitals():
    """Forms (the admin, allauth) validate with full_clean; the stored address must match
    what create_user would store, or the same person could end up with two accounts."""
    make_user(email="pat@example.test")
    other = User(email="PAT@Example.TEST", display_name="Pat again")

    with pytest.raises(ValidationError) as excinfo:
        other.full_clean(exclude=["password"])

    assert "email" in excinfo.value.message_dict
    assert other.email == "pat@example.test"


def test_an_email_address_is_required():
    with pytest.raises(ValueError, match="email address is required"):
        User.objects.create_user("", display_name="Nobody")


def test_superuser_is_staff_and_has_every_permission():
    admin = User.objects.create_superuser("root@example.test", "pw-123456789", display_name="Root")

    assert admin.is_staff
    assert admin.is_superuser
    assert admin.has_perm("accounts.manage_site")
    assert admin.profile.theme == Theme.SYSTEM


def test_regular_user_is_neither_staff_nor_superuser():
    user = User.objects.create_user("u@example.test", display_name="U")

    assert not user.is_staff
    assert not user.is_superuser
    assert not user.has_perm("accounts.manage_site")


def test_user_is_shown_by_display_name_or_else_email():
    assert str(User(email="a@example.test", display_name="Ada")) == "Ada"
    assert str(User(email="a@example.test", display_name="")) == "a@example.test"
    assert User(email="a@example.test", display_name="Ada").get_full_name() == "Ada"
    assert User(email="a@example.test", display_name="Ada").get_short_name() == "Ada"


def test_user_without_usable_password_cannot_sign_in():
    user = User.objects.create_user("nopw@example.test", None, display_name="No Password")

    assert not user.has_usable_password()
    assert authenticate(email="nopw@example.test", password="") is None


def test_profile_rejects_unknown_time_zone_language_and_theme():
    profile = make_user().profile
    profile.time_zone = "Mars/Olympus_Mons"
    profile.language = "xx"
    profile.theme = "neon"

    with pytest.raises(ValidationError) as excinfo:
        profile.full_clean()

    assert set(excinfo.value.message_dict) == {"time_zone", "language", "theme"}


def test_profile_time_zone_choices_are_readable_names():
    choices = dict(Profile._meta.get_field("time_zone").choices or [])

    assert choices["America/New_York"] == "America/New York"
    assert "UTC" in choices


def test_deleting_a_user_deletes_their_profile():
    user = make_user()
    profile_id = user.profile.pk

    user.delete()

    assert not Profile.objects.filter(pk=profile_id).exists()
