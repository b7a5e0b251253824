from django.apps import AppConfig


class ActivityConfig(AppConfig):
    name = "apps.activity"
    label = "activity"
    verbose_name = "Activity log"

    def ready(self) -> None:
        from apps.activity import receivers

        receivers.connect()

        from apps.activity.exports import activity_log_source
        from apps.reports.models import Report
        from apps.reports.sources import register_source

        register_source(Report.Kind.ACTIVITY_LOG, activity_log_source)
