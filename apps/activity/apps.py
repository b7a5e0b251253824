from django.apps import AppConfig


class ActivityConfig(AppConfig):
    name = "apps.activity"
    label = "activity"
    verbose_name = "Activity log"

    def ready(self) -> None:
        from apps.activity import receivers

        receivers.connect()
