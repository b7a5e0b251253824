"""Who may read the activity log; the one place that decides it (pages, export, download)."""

from __future__ import annotations

from typing import Any

from apps.accounts.policies import is_staff


def can_view_activity_log(user: Any) -> bool:
    """The whole site's log is for staff: the staff role, whose group holds `manage_site`
    (staff accounts and superusers hold it too). A person's own security events are not this
    log: everyone sees theirs on /activity/mine/."""
    return is_staff(user)
