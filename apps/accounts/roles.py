"""The four roles, each a group with its permissions; `ensure_role_groups` keeps them in place."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    STUDENT = "student"
    INSTRUCTOR = "instructor"
    MODERATOR = "moderator"
    STAFF = "staff"


# Permission codenames on the accounts.User model (see Meta.permissions) granted by each role.
ROLE_PERMISSIONS: dict[Role, tuple[str, ...]] = {
    Role.STUDENT: ("learn",),
    Role.INSTRUCTOR: ("learn", "teach"),
    Role.MODERATOR: ("learn", "moderate"),
    Role.STAFF: ("learn", "teach", "moderate", "manage_site"),
}


def ensure_role_groups(**kwargs: object) -> None:
    """Create or repair each role's group and its permissions (runs after every migrate/flush)."""
    from django.contrib.auth.models import Group, Permission
    from django.contrib.contenttypes.models import ContentType

    from apps.accounts.models import User

    content_type = ContentType.objects.get_for_model(User)
    for role, codenames in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role.value)
        perms = []
        for codename in codenames:
            perm, _ = Permission.objects.get_or_create(
                content_type=content_type,
                codename=codename,
                defaults={"name": f"Can {codename.replace('_', ' ')}"},
            )
            perms.append(perm)
        group.permissions.set(perms)
