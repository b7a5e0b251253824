"""Demo accounts: an admin, two instructors, a moderator and students (all verified)."""

from __future__ import annotations

from typing import Any

from allauth.account.models import EmailAddress
from django.db import transaction

from apps.accounts.models import Profile, User
from apps.accounts.roles import Role, ensure_role_groups
from apps.accounts.services import assign_role

DEMO_PASSWORD = "teach-demo-2026"  # noqa: S105 -- public demo password, refused with DEBUG off
# The demo's authenticator-app secret, as public as the password: staff, instructors and moderators
# must use 2FA (MFA_REQUIRED_ROLES), so their demo accounts come with it set up. `manage.py
# demo_code` prints the current code; or add this secret to any authenticator app.
DEMO_TOTP_SECRET = "ONLINETEACHERDEMOTWOFACTORSECRET"  # noqa: S105

DEMO_USERS: list[dict[str, Any]] = [
    {
        "email": "admin@example.com",
        "name": "Ada Admin",
        "role": Role.STAFF,
        "superuser": True,
        "bio": "Runs this onlineteacher site.",
    },
    {
        "email": "instructor@example.com",
        "name": "Ines Instructor",
        "role": Role.INSTRUCTOR,
        "bio": "Teaches programming and data science.",
    },
    {
        "email": "instructor2@example.com",
        "name": "Omar Okafor",
        "role": Role.INSTRUCTOR,
        "bio": "Teaches languages and music.",
    },
    {
        "email": "moderator@example.com",
        "name": "Mia Moderator",
        "role": Role.MODERATOR,
        "bio": "Keeps the forums friendly.",
    },
    {
        "email": "student@example.com",
        "name": "Sam Student",
        "role": Role.STUDENT,
        "bio": "Learning Python in the evenings.",
    },
    {"email": "student2@example.com", "name": "Lena Learner", "role": Role.STUDENT, "bio": ""},
    {"email": "student3@example.com", "name": "Kofi Mensah", "role": Role.STUDENT, "bio": ""},
    {"email": "student4@example.com", "name": "Yuki Tanaka", "role": Role.STUDENT, "bio": ""},
    {"email": "student5@example.com", "name": "Priya Patel", "role": Role.STUDENT, "bio": ""},
]


@transaction.atomic
def seed(stdout: Any = None) -> None:
    ensure_role_groups()
    users = [_user(spec) for spec in DEMO_USERS]
    if stdout is not None:
        stdout.write("Demo accounts (sign in at /accounts/login/):")
        for spec, user in zip(DEMO_USERS, users, strict=True):
            stdout.write(f"  {spec['role'].value:<11} {user.email:<26} password: {DEMO_PASSWORD}")
        stdout.write(
            "  Staff, instructors and the moderator also need a 2FA code: run "
            "`.venv/bin/python manage.py demo_code` (or add the secret "
            f"{DEMO_TOTP_SECRET} to an authenticator app)."
        )


def _user(spec: dict[str, Any]) -> User:
    user = User.objects.filter(email=spec["email"]).first()
    if user is None:
        user = User.objects.create_user(
            spec["email"],
            DEMO_PASSWORD,
            display_name=spec["name"],
            is_staff=spec.get("superuser", False),
            is_superuser=spec.get("superuser", False),
        )
    EmailAddress.objects.update_or_create(
        user=user, email=user.email, defaults={"verified": True, "primary": True}
    )
    Profile.objects.filter(user=user, bio="").update(bio=spec["bio"])
    assign_role(user=user, role=spec["role"])
    if spec["role"] is not Role.STUDENT:
        _give_demo_totp(user)
    return user


def _give_demo_totp(user: User) -> None:
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import TOTP

    if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
        TOTP.activate(user, DEMO_TOTP_SECRET)
