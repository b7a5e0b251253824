from typing import Any

from django.apps import AppConfig


def ensure_documents(**kwargs: Any) -> None:
    """Version 1 of the terms and the privacy notice exist after every migrate and flush.

    Migration 0002 creates them; a flush (tests, `manage.py flush`) would leave a site with
    nothing to accept or link to. This runs the migration's own function again (get_or_create)."""
    from importlib import import_module

    from django.apps import apps

    import_module("apps.privacy.migrations.0002_consent").seed_documents(apps, None)


class PrivacyConfig(AppConfig):
    name = "apps.privacy"
    label = "privacy"
    verbose_name = "Privacy"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        post_migrate.connect(ensure_documents, sender=self)

        from apps.core.personal_data import autodiscover

        autodiscover()

        from apps.privacy.services import data_export_source
        from apps.reports.models import Report
        from apps.reports.sources import register_source

        register_source(Report.Kind.DATA_EXPORT, data_export_source)
