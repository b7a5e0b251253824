"""Demo accounts have accepted the current terms and privacy notice (as if they had signed up)."""

from __future__ import annotations

from typing import Any

from apps.accounts.models import User
from apps.accounts.seed import DEMO_USERS
from apps.privacy.consent import accept_current_documents
from apps.privacy.models import Consent


def seed(stdout: Any = None) -> None:
    for user in User.objects.filter(email__in=[spec["email"] for spec in DEMO_USERS]):
        accept_current_documents(user=user, source=Consent.Source.SEED)
