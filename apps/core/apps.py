from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "apps.core"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from apps.core.tokens import register_converters

        # Before any URLconf (HTTP or WebSocket routing) is imported.
        register_converters()
