"""Errors of the accounts app (see apps.core.errors for the family)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from apps.core.errors import DomainError


class SecondFactorRequired(DomainError):
    """The person's role needs 2FA and they have no factor yet (MFA_REQUIRED_ROLES)."""

    code = "mfa_required"
    status = 403
    message = _("Your role requires two-factor authentication. Set it up first.")
