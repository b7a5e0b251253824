"""Who holds which role, and who may see or edit which profile."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser, Group

from apps.accounts.models import User
from apps.accounts.policies import (
    can_edit_profile,
    can_view_profile,
    get_profile_owner_for_view,
    has_role,
    is_staff,
    roles_of,
)
from apps.accounts.roles import ROLE_PERMISSIONS, Role, ensure_role_groups
from apps.accounts.tests.factories import make_user
from apps.core.errors import NotFound

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("role", [Role.STUDENT, Role.INSTRUCTOR, Role.MODERATOR, Role.STAFF])
def test_roles_of_reports_the_users_role(role):
    user = make_user(role=role)

    assert roles_of(user) == {role}


def test_roles_of_combines_several_roles():
    user = make_user(role=Role.INSTRUCTOR)
    Group.objects.get(name="moderator").user_set.add(user)

    assert roles_of(User.objects.get(pk=user.pk)) == {Role.INSTRUCTOR, Role.MODERATOR}


def test_staff_flag_alone_gives_the_staff_role():
    user = make_user(role=Role.STUDENT, is_staff=True)

    assert roles_of(user) == {Role.STUDENT, Role.STAFF}
    assert is_staff(user)


def test_superuser_has_the_staff_role_without_any_group():
    user = User.objects.create_superuser("root@example.test", display_name="Root")

    assert Role.STAFF in roles_of(user)


@pytest.mark.parametrize("role", list(Role))
def test_staff_hold_every_roles_powers(role):
    assert has_role(make_user(role=Role.STAFF), role)


def test_roles_do_not_imply_each_other_below_staff():
    instructor = make_user(role=Role.INSTRUCTOR)
    moderator = make_user(role=Role.MODERATOR)
    student = make_user(role=Role.STUDENT)

    assert not has_role(instructor, Role.MODERATOR)
    assert not has_role(moderator, Role.INSTRUCTOR)
    assert not has_role(student, Role.INSTRUCTOR)
    assert not has_role(student, Role.MODERATOR)
    assert not is_staff(instructor)


def test_deactivated_users_have_no_roles_even_if_staff():
    user = make_user(role=Role.STAFF)
    user.is_active = False

    assert roles_of(user) == frozenset()
    assert not has_role(user, Role.STUDENT)
    assert not is_staff(user)


def test_visitors_have_no_roles():
    assert roles_of(AnonymousUser()) == frozenset()
    assert not has_role(AnonymousUser(), Role.STUDENT)


def test_roles_are_read_with_one_query_per_user_object(django_assert_num_queries):
    user = User.objects.get(pk=make_user(role=Role.INSTRUCTOR).pk)

    with django_assert_num_queries(1):
        roles_of(user)
        roles_of(user)
        has_role(user, Role.MODERATOR)


@pytest.mark.parametrize(
    ("role", "perms"), [(role, perms) for role, perms in ROLE_PERMISSIONS.items()]
)
def test_each_role_grants_its_permissions_and_no_others(role, perms):
    user = make_user(role=role)
    user = User.objects.get(pk=user.pk)

    for codename in ("learn", "teach", "moderate", "manage_site"):
        assert user.has_perm(f"accounts.{codename}") is (codename in perms), codename


def test_ensure_role_groups_repairs_missing_groups_and_permissions():
    Group.objects.filter(name="instructor").delete()
    Group.objects.get(name="student").permissions.clear()

    ensure_role_groups()

    assert set(Group.objects.values_list("name", flat=True)) >= {r.value for r in Role}
    assert set(
        Group.objects.get(name="instructor").permissions.values_list("codename", flat=True)
    ) == {"learn", "teach"}
    assert list(
        Group.objects.get(name="student").permissions.values_list("codename", flat=True)
    ) == ["learn"]


# --- Profiles -----------------------------------------------------------------------------------


def test_only_the_owner_can_edit_a_profile():
    owner, other = make_user(), make_user()

    assert can_edit_profile(owner, owner)
    assert not can_edit_profile(other, owner)
    assert not can_edit_profile(AnonymousUser(), owner)
    assert not can_edit_profile(make_user(role=Role.STAFF), owner)


def test_active_profiles_are_public():
    owner = make_user()

    assert can_view_profile(AnonymousUser(), owner)
    assert can_view_profile(make_user(), owner)


def test_deactivated_profiles_are_visible_to_staff_only():
    owner = make_user(is_active=False)

    assert not can_view_profile(AnonymousUser(), owner)
    assert not can_view_profile(make_user(role=Role.MODERATOR), owner)
    assert can_view_profile(make_user(role=Role.STAFF), owner)


def test_get_profile_owner_for_view_loads_owner_and_profile_in_one_query(
    django_assert_num_queries,
):
    owner = make_user(display_name="Olu Owner")

    with django_assert_num_queries(1):
        loaded = get_profile_owner_for_view(viewer=AnonymousUser(), user_id=owner.pk)
        assert loaded.profile.time_zone == "UTC"

    assert loaded == owner


@pytest.mark.parametrize("user_id", [0, -1, 123_456_789, 2**63])
def test_get_profile_owner_for_view_raises_not_found_for_missing_users(user_id):
    with pytest.raises(NotFound):
        get_profile_owner_for_view(viewer=AnonymousUser(), user_id=user_id)


def test_deactivated_profile_is_not_found_for_non_staff_but_loads_for_staff():
    owner = make_user(is_active=False)

    with pytest.raises(NotFound) as excinfo:
        get_profile_owner_for_view(viewer=make_user(), user_id=owner.pk)
    assert excinfo.value.status == 404  # the same answer as for a missing id
    assert get_profile_owner_for_view(viewer=make_user(role=Role.STAFF), user_id=owner.pk) == owner
