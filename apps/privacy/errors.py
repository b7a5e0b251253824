from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from apps.core.errors import DomainError


class ErasureAlreadyRequested(DomainError):
    code = "erasure_already_requested"
    status = 409
    message = _("You already asked for your account to be erased; nothing was changed.")


class NoErasureToCancel(DomainError):
    code = "no_erasure_to_cancel"
    status = 409
    message = _("There is no pending erasure request to cancel.")


class UnknownConsentPurpose(DomainError):
    code = "unknown_consent_purpose"
    status = 400
    message = _("There is no such consent to give or withdraw; nothing was recorded.")


class UnknownConsentVersion(DomainError):
    code = "unknown_consent_version"
    status = 400
    message = _(
        "That version does not exist or is not the current one; nothing was recorded. "
        "Reload the page and try again."
    )


class ConsentVersionOutdated(DomainError):
    code = "consent_version_outdated"
    status = 409
    message = _(
        "A newer version was published while the page was open; nothing was recorded. "
        "Read the new version and accept it."
    )


class ConsentRequired(DomainError):
    code = "consent_required"
    status = 403
    message = _("Please accept the current terms of use and privacy notice first.")
