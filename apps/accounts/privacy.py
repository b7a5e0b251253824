from __future__ import annotations

from typing import Any

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.contrib.admin.models import LogEntry

from apps.accounts.models import Profile
from apps.privacy.helpers import rows
from apps.privacy.registry import PersonalData, register


def export_user_data(user: Any) -> dict[str, Any]:
    return {
        "user": rows(type(user).objects.filter(pk=user.pk), "password"),
        "profile": rows(Profile.objects.filter(user=user)),
        "email_addresses": rows(EmailAddress.objects.filter(user=user)),
        "authenticators": [
            {
                "type": a["type"],
                "created_at": a.get("created_at"),
                "last_used_at": a.get("last_used_at"),
            }
            for a in rows(Authenticator.objects.filter(user=user))
        ],
        "admin_log": rows(LogEntry.objects.filter(user=user)),
    }


def erase_user_data(user: Any) -> None:
    EmailAddress.objects.filter(user=user).delete()
    Authenticator.objects.filter(user=user).delete()
    LogEntry.objects.filter(user=user).delete()
    for profile in Profile.objects.filter(user=user):
        if profile.avatar:
            profile.avatar.delete(save=False)
        profile.delete()


register(
    PersonalData(
        app_label="accounts",
        models=(
            "accounts.User",
            "accounts.Profile",
            "account.EmailAddress",
            "mfa.Authenticator",
            "admin.LogEntry",
        ),
        purpose="Signing in and showing who a person is to their courses",
        categories=("email address", "display name", "profile", "second factors", "admin actions"),
        retention="While the account exists",
        exporter=export_user_data,
        eraser=erase_user_data,
        recipients=("course instructors and participants (display name)",),
    )
)
