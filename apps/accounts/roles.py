"""The four roles, each a group with its permissions; `ensure_role_groups` keeps them in place."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.contrib.auth.models import Permission


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


# Django admin model permissions of the staff role. Admin classes built on StaffAdmin
# (apps/courses/admin.py) let staff in by role already; without these grants the rest (the user
# list) answered staff with 403. Staff may look at every model of the project and change the
# catalog and live sessions; changing accounts stays with superusers, because the user form can
# grant superuser status.
STAFF_CHANGES_APPS = ("courses", "videoconference")


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
        if role is Role.STAFF:
            perms.extend(staff_model_permissions())
        group.permissions.set(perms)


def staff_model_permissions() -> list[Permission]:
    """`view_*` of every model of the project's apps, `change_*` of STAFF_CHANGES_APPS."""
    from django.apps import apps
    from django.contrib.auth.management import create_permissions
    from django.contrib.auth.models import Permission
    from django.db.models import Q

    project = [config for config in apps.get_app_configs() if config.name.startswith("apps.")]
    for config in project:
        # Accounts' post_migrate (which calls us) comes before later apps': make theirs now.
        create_permissions(config, verbosity=0)
    labels = [config.label for config in project]
    wanted = Q(content_type__app_label__in=labels, codename__startswith="view_") | Q(
        content_type__app_label__in=STAFF_CHANGES_APPS, codename__startswith="change_"
    )
    return list(Permission.objects.filter(wanted))
