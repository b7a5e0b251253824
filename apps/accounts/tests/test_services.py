"""Profile updates, theme and role changes: what is saved, what is refused, what files remain."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ValidationError

from apps.accounts import services
from apps.accounts.avatars import validate_and_reencode
from apps.accounts.models import Profile, Theme, User
from apps.accounts.policies import has_role, roles_of
from apps.accounts.roles import Role
from apps.accounts.tests import images
from apps.accounts.tests.factories import make_user
from apps.core.errors import DomainError, InvalidInput

pytestmark = pytest.mark.django_db


def _media_files() -> list[Path]:
    root = Path(django_settings.MEDIA_ROOT)
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def _update(user: User, **overrides):
    values: dict[str, Any] = {
        "display_name": user.display_name,
        "bio": "",
        "time_zone": "UTC",
        "language": "en",
        "theme": Theme.SYSTEM,
    }
    values.update(overrides)
    return services.update_profile(user=user, **values)


def _avatar():
    return validate_and_reencode(images.upload("me.png", images.png_bytes()))


# --- update_profile -----------------------------------------------------------------------------


def test_update_profile_saves_every_field():
    user = make_user(display_name="Old Name")

    _update(
        user,
        display_name="  New Name  ",
        bio="Hello.",
        time_zone="America/Sao_Paulo",
        language="es",
        theme=Theme.LIGHT,
    )

    user = User.objects.get(pk=user.pk)
    assert user.display_name == "New Name"
    profile = Profile.objects.get(user=user)
    assert (profile.bio, profile.time_zone, profile.language, profile.theme) == (
        "Hello.",
        "America/Sao_Paulo",
        "es",
        Theme.LIGHT,
    )


@pytest.mark.parametrize(
    "overrides",
    [
        {"display_name": "   "},
        {"time_zone": "Mars/Olympus_Mons"},
        {"language": "xx"},
        {"theme": "neon"},
    ],
)
def test_update_profile_refuses_invalid_values_and_changes_nothing(overrides):
    user = make_user(display_name="Kept Name")

    with pytest.raises(ValidationError):
        _update(user, **{"display_name": "Changed Name", "bio": "Changed", **overrides})

    assert User.objects.get(pk=user.pk).display_name == "Kept Name"
    assert Profile.objects.get(user=user).bio == ""


def test_refused_update_leaves_no_avatar_file_behind():
    user = make_user()

    with pytest.raises(ValidationError):
        _update(user, time_zone="Mars/Olympus_Mons", avatar=_avatar())

    assert _media_files() == []
    assert not Profile.objects.get(user=user).avatar


def test_new_avatar_is_stored_and_the_old_one_deleted_after_commit(
    django_capture_on_commit_callbacks,
):
    user = make_user()
    with django_capture_on_commit_callbacks(execute=True):
        _update(user, avatar=_avatar())
    first = Profile.objects.get(user=user).avatar.name

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        _update(user, avatar=_avatar())
    second = Profile.objects.get(user=user).avatar.name
    assert len(_media_files()) == 2  # the old file survives until the commit

    for callback in callbacks:
        callback()

    assert second != first
    assert [f"avatars/{p.name}" for p in _media_files()] == [second]


def test_remove_avatar_clears_it_and_deletes_the_file_after_commit(
    django_capture_on_commit_callbacks,
):
    user = make_user()
    with django_capture_on_commit_callbacks(execute=True):
        _update(user, avatar=_avatar())

    with django_capture_on_commit_callbacks(execute=True):
        _update(user, remove_avatar=True)

    assert not Profile.objects.get(user=user).avatar
    assert Profile.objects.get(user=user).avatar.name == ""
    assert _media_files() == []


def test_update_without_avatar_changes_keeps_the_file(django_capture_on_commit_callbacks):
    user = make_user()
    with django_capture_on_commit_callbacks(execute=True):
        _update(user, avatar=_avatar())
    name = Profile.objects.get(user=user).avatar.name

    with django_capture_on_commit_callbacks(execute=True):
        _update(user, bio="Only the bio changes.")

    assert Profile.objects.get(user=user).avatar.name == name
    assert len(_media_files()) == 1


# --- set_theme ----------------------------------------------------------------------------------


def test_set_theme_saves_the_choice():
    user = make_user()

    services.set_theme(user=user, theme=Theme.DARK)

    assert Profile.objects.get(user=user).theme == Theme.DARK


def test_set_theme_refuses_an_unknown_theme_with_a_domain_error():
    user = make_user()

    with pytest.raises(InvalidInput) as excinfo:
        services.set_theme(user=user, theme="neon")

    assert isinstance(excinfo.value, DomainError)
    assert excinfo.value.status == 400
    assert Profile.objects.get(user=user).theme == Theme.SYSTEM


# --- roles --------------------------------------------------------------------------------------


def test_assigned_role_takes_effect_immediately_even_after_roles_were_read():
    user = make_user(role=Role.STUDENT)
    assert roles_of(user) == {Role.STUDENT}  # fills the per-object cache

    services.assign_role(user=user, role=Role.INSTRUCTOR)

    assert roles_of(user) == {Role.STUDENT, Role.INSTRUCTOR}
    assert has_role(user, Role.INSTRUCTOR)
    assert User.objects.get(pk=user.pk).has_perm("accounts.teach")


def test_assigning_a_role_twice_is_harmless():
    user = make_user(role=Role.MODERATOR)

    services.assign_role(user=user, role=Role.MODERATOR)

    assert list(user.groups.values_list("name", flat=True)) == ["moderator"]


def test_removed_role_stops_applying_immediately():
    user = make_user(role=Role.INSTRUCTOR)
    assert has_role(user, Role.INSTRUCTOR)

    services.remove_role(user=user, role=Role.INSTRUCTOR)

    assert not has_role(user, Role.INSTRUCTOR)
    assert not User.objects.get(pk=user.pk).has_perm("accounts.teach")
