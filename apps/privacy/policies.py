"""Who may see the privacy pages that are not about oneself."""

from __future__ import annotations

from typing import Any

from apps.accounts.policies import is_staff
from apps.core.errors import NotAllowed


def can_view_record_of_processing(user: Any) -> bool:
    """The record of processing (Art. 30) is for staff: the staff role, or a group that grants
    the `manage_site` permission."""
    if is_staff(user):
        return True
    return (
        bool(getattr(user, "is_authenticated", False))
        and user.is_active
        and user.has_perm("accounts.manage_site")
    )


def check_record_of_processing_access(user: Any) -> None:
    if not can_view_record_of_processing(user):
        raise NotAllowed()
