from __future__ import annotations

from typing import Any

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.usersessions.models import UserSession
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType

from apps.accounts.models import Profile
from apps.core.personal_data import PersonalData, register, rows


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
        "sessions": [
            {
                "ip": s["ip"],
                "user_agent": s["user_agent"],
                "created_at": s["created_at"],
                "last_seen_at": s["last_seen_at"],
            }
            for s in rows(UserSession.objects.filter(user=user))
        ],
    }


def erase_user_data(user: Any) -> None:
    for session in UserSession.objects.filter(user=user):
        session.end()  # the session itself, then its row (address and browser)
    EmailAddress.objects.filter(user=user).delete()
    Authenticator.objects.filter(user=user).delete()
    LogEntry.objects.filter(user=user).delete()
    # Staff's admin log entries about this account stay (what staff did), without its name.
    LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(type(user)), object_id=str(user.pk)
    ).update(object_repr=f"account {user.pk}")
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
            "usersessions.UserSession",
        ),
        purpose="Signing in and showing who a person is to their courses",
        categories=(
            "email address",
            "display name",
            "profile",
            "second factors",
            "admin actions",
            "signed-in sessions (IP address, browser)",
        ),
        retention="While the account exists",
        exporter=export_user_data,
        eraser=erase_user_data,
        recipients=("course instructors and participants (display name)",),
        erasure=(
            "Email address and name replaced, password made unusable, account deactivated; "
            "profile, email addresses, second factors, sessions and admin log entries deleted"
        ),
    )
)
