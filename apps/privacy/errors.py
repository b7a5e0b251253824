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
