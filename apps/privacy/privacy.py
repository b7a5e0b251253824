from __future__ import annotations

from typing import Any

from apps.privacy.helpers import rows
from apps.privacy.models import ErasureRequest
from apps.privacy.registry import PersonalData, register


def export_user_data(user: Any) -> dict[str, Any]:
    return {"erasure_requests": rows(ErasureRequest.objects.filter(user=user))}


def erase_user_data(user: Any) -> None:
    # The request rows stay (proof the erasure was asked for and ran), detached after commit by
    # nothing: the user row itself is anonymised, so they point at "Deleted user".
    return None


register(
    PersonalData(
        app_label="privacy",
        models=("privacy.ErasureRequest",),
        purpose="Answering a person's data protection requests",
        categories=("erasure requests",),
        retention="Kept as proof, without personal data once erased",
        exporter=export_user_data,
        eraser=erase_user_data,
    )
)
