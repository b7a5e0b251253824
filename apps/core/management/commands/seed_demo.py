"""`manage.py seed_demo`: demo data for trying the product; idempotent, safe on every `make run`.

Each app that has demo data provides `seed(stdout)` in its `seed.py`; they run in the order of
INSTALLED_APPS, so accounts exist before the courses that need them.
"""

from __future__ import annotations

from importlib import import_module
from importlib.util import find_spec
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction


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
            raise CommandError(
                "Refusing to seed demo accounts with DEBUG off (use --allow-production)."
            )
        with transaction.atomic():
            for config in apps.get_app_configs():
                module_name = f"{config.name}.seed"
                if config.name.startswith("apps.") and find_spec(module_name) is not None:
                    import_module(module_name).seed(stdout=self.stdout)
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
