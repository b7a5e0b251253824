from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "apps.privacy"
    label = "privacy"
    verbose_name = "Privacy"

    def ready(self) -> None:
        from apps.privacy.registry import autodiscover

        autodiscover()

        from apps.privacy.services import data_export_source
        from apps.reports.models import Report
        from apps.reports.sources import register_source

        register_source(Report.Kind.DATA_EXPORT, data_export_source)
