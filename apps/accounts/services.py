"""Changes to accounts and profiles; each a single transaction."""

from __future__ import annotations

import logging

from django.contrib.auth.models import Group
from django.core.files.base import File
from django.db import transaction
from django.utils.translation import gettext as _

from apps.accounts.models import Profile, Theme, User
from apps.accounts.roles import Role
from apps.core.errors import InvalidInput

logger = logging.getLogger(__name__)


@transaction.atomic
def update_profile(
    *,
    user: User,
    display_name: str,
    bio: str,
    time_zone: str,
    language: str,
    theme: str,
    captions_on: bool | None = None,
    avatar: File | None = None,
    remove_avatar: bool = False,
) -> Profile:
    """Save the profile; a new avatar replaces (and deletes) the old file after commit."""
    profile = Profile.objects.select_for_update().get(user=user)
    user.display_name = display_name.strip()
    user.full_clean(exclude=["password"])
    user.save(update_fields=["display_name"])
    old_avatar_name = profile.avatar.name if profile.avatar else ""
    profile.bio = bio
    profile.time_zone = time_zone
    profile.language = language
    profile.theme = theme
    if captions_on is not None:
        profile.captions_on = captions_on
    # Validate before any file is written, so a refused update leaves nothing in storage.
    profile.full_clean(exclude=["avatar"])
    if avatar is not None and avatar is not profile.avatar:
        profile.avatar.save(avatar.name or "avatar.webp", avatar, save=False)
    elif remove_avatar:
        profile.avatar = ""
    profile.save()
    new_avatar_name = profile.avatar.name if profile.avatar else ""
    if old_avatar_name and old_avatar_name != new_avatar_name:
        storage = profile.avatar.storage
        transaction.on_commit(lambda: storage.delete(old_avatar_name))
    logger.info("profile updated", extra={"user_id": user.pk})
    return profile


def set_theme(*, user: User, theme: str) -> None:
    if theme not in Theme.values:
        raise InvalidInput(_("Choose one of the offered themes."))
    Profile.objects.filter(user=user).update(theme=theme)


@transaction.atomic
def assign_role(*, user: User, role: Role, actor: User | None = None) -> None:
    from apps.activity.services import record

    group = Group.objects.get(name=role.value)
    user.groups.add(group)
    record(
        actor, "accounts.role.assigned", user, target_label=f"account {user.pk}", role=role.value
    )
    if hasattr(user, "_onlineteacher_roles"):
        del user._onlineteacher_roles
    logger.info("role assigned", extra={"user_id": user.pk, "role": role.value})


@transaction.atomic
def remove_role(*, user: User, role: Role, actor: User | None = None) -> None:
    from apps.activity.services import record

    user.groups.remove(Group.objects.get(name=role.value))
    record(actor, "accounts.role.removed", user, target_label=f"account {user.pk}", role=role.value)
    if hasattr(user, "_onlineteacher_roles"):
        del user._onlineteacher_roles
    logger.info("role removed", extra={"user_id": user.pk, "role": role.value})
