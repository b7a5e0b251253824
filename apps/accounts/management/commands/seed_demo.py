"""Demo data for trying the product: idempotent, safe to run on every `make run`."""

from __future__ import annotations

from typing import Any

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from apps.accounts.models import Profile, User
from apps.accounts.roles import Role, ensure_role_groups
from apps.accounts.services import assign_role

DEMO_PASSWORD = "teach-demo-2026"

DEMO_USERS: list[dict[str, Any]] = [
    {"email": "admin@example.com", "name": "Ada Admin", "role": Role.STAFF, "superuser": True,
     "bio": "Runs this onlineteacher site."},
    {"email": "instructor@example.com", "name": "Ines Instructor", "role": Role.INSTRUCTOR,
     "bio": "Teaches programming and data science."},
    {"email": "instructor2@example.com", "name": "Omar Okafor", "role": Role.INSTRUCTOR,
     "bio": "Teaches languages and music."},
    {"email": "moderator@example.com", "name": "Mia Moderator", "role": Role.MODERATOR,
     "bio": "Keeps the forums friendly."},
    {"email": "student@example.com", "name": "Sam Student", "role": Role.STUDENT,
     "bio": "Learning Python in the evenings."},
    {"email": "student2@example.com", "name": "Lena Learner", "role": Role.STUDENT, "bio": ""},
    {"email": "student3@example.com", "name": "Kofi Mensah", "role": Role.STUDENT, "bio": ""},
    {"email": "student4@example.com", "name": "Yuki Tanaka", "role": Role.STUDENT, "bio": ""},
    {"email": "student5@example.com", "name": "Priya Patel", "role": Role.STUDENT, "bio": ""},
]


class Command(BaseCommand):
    help = "Create (or refresh) demo accounts and content. Safe to run repeatedly."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--allow-production",
            action="store_true",
            help="Seed even when DEBUG is off (demo passwords are public: never on a real site).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG and not options["allow_production"]:
            raise CommandError("Refusing to seed demo accounts with DEBUG off (use --allow-production).")
        with transaction.atomic():
            ensure_role_groups()
            users = [self._user(spec) for spec in DEMO_USERS]
        self.stdout.write(self.style.SUCCESS("Demo data ready. Sign in at /accounts/login/ with:"))
        for spec, user in zip(DEMO_USERS, users, strict=True):
            self.stdout.write(f"  {spec['role'].value:<11} {user.email:<26} password: {DEMO_PASSWORD}")

    def _user(self, spec: dict[str, Any]) -> User:
        user = User.objects.filter(email=spec["email"]).first()
        if user is None:
            user = User.objects.create_user(
                spec["email"], DEMO_PASSWORD, display_name=spec["name"],
                is_staff=spec.get("superuser", False), is_superuser=spec.get("superuser", False),
            )
        EmailAddress.objects.update_or_create(
            user=user, email=user.email, defaults={"verified": True, "primary": True}
        )
        Profile.objects.filter(user=user, bio="").update(bio=spec["bio"])
        assign_role(user=user, role=spec["role"])
        return user
