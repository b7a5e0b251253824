from __future__ import annotations

from typing import Any

from apps.core.personal_data import PersonalData, register, rows
from apps.privacy.models import Consent, ErasureRequest


def export_user_data(user: Any) -> dict[str, Any]:
    return {
        "erasure_requests": rows(ErasureRequest.objects.filter(user=user)),
        "consents": rows(Consent.objects.filter(user=user).order_by("at", "pk")),
    }


def erase_user_data(user: Any) -> None:
    # The request rows stay (proof the erasure was asked for and ran), detached after commit by
    # nothing: the user row itself is anonymised, so they point at "Deleted user".
    # Consent records go: with the account gone there is nothing left that they justify.
    Consent.objects.filter(user=user).delete()


register(
    PersonalData(
        app_label="privacy",
        models=("privacy.ErasureRequest", "privacy.Consent"),
        purpose="Answering a person's data protection requests; proof of what they accepted and "
        "consented to (Art. 7)",
        categories=(
            "erasure requests",
            "accepted document versions",
            "consents given or withdrawn",
        ),
        retention="Erasure requests: kept as proof, without personal data once erased; "
        "consents: while the account exists",
        exporter=export_user_data,
        eraser=erase_user_data,
        erasure="Erasure requests kept as proof that the erasure ran, pointing at the anonymised "
        "account; consent records deleted",
    )
)
