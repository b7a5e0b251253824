"""Two-factor authentication required by role: who must have a second factor, and whether they do.

allauth (its MFA app) does the factors themselves — TOTP, recovery codes and passkeys — and asks
for one at every sign-in once a user has it. This module adds what allauth leaves to the site:
members of the roles in `MFA_REQUIRED_ROLES` (and everyone who may open Django admin) must have
a factor before they can use any other page or socket. `apps.accounts.middleware` enforces it
for HTTP, `SecondFactorSocketMiddleware` for WebSockets; both ask `second_factor_missing()`.

The answer is cached per user (one cache read per request instead of two queries) and the cache
entry is dropped whenever something it depends on changes: a factor added or removed, the
user's groups, or `is_staff` (see `connect_invalidation`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from allauth.mfa.models import Authenticator
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils.translation import gettext as _

from apps.accounts.policies import roles_of
from apps.accounts.roles import Role

# Factors that count as a second factor; recovery codes are a fallback for one of these.
SECOND_FACTOR_TYPES = (Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN)
_CACHE_SECONDS = 10 * 60


def required_roles() -> frozenset[Role]:
    return frozenset(Role(name) for name in settings.MFA_REQUIRED_ROLES)


def second_factor_required(user: Any) -> bool:
    """True when `user` must use 2FA: a role listed in MFA_REQUIRED_ROLES, or admin access."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_staff or user.is_superuser:
        return True
    return bool(roles_of(user) & required_roles())


def has_second_factor(user: Any) -> bool:
    return Authenticator.objects.filter(user=user, type__in=SECOND_FACTOR_TYPES).exists()


@dataclass(frozen=True)
class Factor:
    type: str
    label: str
    created_at: datetime
    last_used_at: datetime | None


def factors_of(user: Any) -> list[Factor]:
    """The user's 2FA methods for the security page (one query)."""
    labels = {
        Authenticator.Type.TOTP: _("Authenticator app"),
        Authenticator.Type.RECOVERY_CODES: _("Recovery codes"),
    }
    factors = []
    for authenticator in Authenticator.objects.filter(user=user).order_by("created_at", "pk"):
        if authenticator.type == Authenticator.Type.WEBAUTHN:
            label = _("Passkey “%(name)s”") % {"name": authenticator.data.get("name", "")}
        elif authenticator.type == Authenticator.Type.RECOVERY_CODES:
            wrapped = authenticator.wrap()
            label = _("Recovery codes (%(left)d of %(total)d unused)") % {
                "left": len(wrapped.get_unused_codes()),
                "total": len(wrapped.generate_codes()),
            }
        else:
            label = str(labels.get(authenticator.type, authenticator.type))
        factors.append(
            Factor(authenticator.type, label, authenticator.created_at, authenticator.last_used_at)
        )
    return factors


def _cache_key(user_id: int) -> str:
    return f"accounts:mfa-missing:{user_id}"


def second_factor_missing(user: Any) -> bool:
    """True when `user` must use 2FA and has no factor yet (so must set one up first)."""
    if not getattr(user, "is_authenticated", False):
        return False
    key = _cache_key(user.pk)
    missing = cache.get(key)
    if missing is None:
        missing = second_factor_required(user) and not has_second_factor(user)
        cache.set(key, missing, _CACHE_SECONDS)
    return bool(missing)


def forget(user_id: int | None) -> None:
    """Drop the cached answer for `user_id` (now and again after the transaction commits)."""
    if user_id is None:
        return
    cache.delete(_cache_key(user_id))
    transaction.on_commit(lambda: cache.delete(_cache_key(user_id)))


def _on_authenticator_change(sender: Any, instance: Authenticator, **kwargs: Any) -> None:
    forget(instance.user_id)


def _on_groups_change(sender: Any, instance: Any, action: str, pk_set: Any, **kwargs: Any) -> None:
    if not action.startswith("post_"):
        return
    from apps.accounts.models import User

    if isinstance(instance, User):
        forget(instance.pk)
    else:  # changed from the group's side: `pk_set` holds the users
        for pk in pk_set or ():
            forget(pk)


def _on_user_saved(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    if not created:
        forget(instance.pk)


def connect_invalidation() -> None:
    from django.db.models.signals import m2m_changed, post_delete, post_save

    from apps.accounts.models import User

    post_save.connect(_on_authenticator_change, sender=Authenticator, dispatch_uid="mfa-auth-save")
    post_delete.connect(_on_authenticator_change, sender=Authenticator, dispatch_uid="mfa-auth-del")
    m2m_changed.connect(_on_groups_change, sender=User.groups.through, dispatch_uid="mfa-groups")
    post_save.connect(_on_user_saved, sender=User, dispatch_uid="mfa-user-save")
