"""Who may do what with accounts and profiles; the one place role checks live."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser

from apps.accounts.models import User
from apps.accounts.roles import Role
from apps.core.errors import NotFound

AnyUser = User | AnonymousUser

_CACHE_ATTR = "_onlineteacher_roles"


def roles_of(user: Any) -> frozenset[Role]:
    """The user's roles, from their groups (one query, cached on the user object).

    Staff accounts (`is_staff`) and superusers always have the staff role.
    """
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return frozenset()
    cached: frozenset[Role] | None = getattr(user, _CACHE_ATTR, None)
    if cached is None:
        names = set(user.groups.values_list("name", flat=True))
        roles = {role for role in Role if role.value in names}
        if user.is_staff or user.is_superuser:
            roles.add(Role.STAFF)
        cached = frozenset(roles)
        setattr(user, _CACHE_ATTR, cached)
    return cached


def has_role(user: Any, role: Role) -> bool:
    """True when the user holds `role`; staff hold every role's powers."""
    roles = roles_of(user)
    return role in roles or Role.STAFF in roles


def is_staff(user: Any) -> bool:
    return Role.STAFF in roles_of(user)


def can_edit_profile(user: Any, profile_owner: User) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and user.pk == profile_owner.pk


def can_view_profile(viewer: Any, profile_owner: User) -> bool:
    """Public profiles of active users are visible to everyone; deactivated ones to staff."""
    return profile_owner.is_active or is_staff(viewer)


def get_profile_owner_for_view(*, viewer: Any, user_id: int) -> User:
    """Load a user whose public profile `viewer` may see, or raise NotFound (never 403)."""
    owner = User.objects.select_related("profile").filter(pk=user_id).first()
    if owner is None or not can_view_profile(viewer, owner):
        raise NotFound()
    return owner
