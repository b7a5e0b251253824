from django.apps import AppConfig


class CoursesConfig(AppConfig):
    name = "apps.courses"
    label = "courses"
    verbose_name = "Courses"

    def ready(self) -> None:
        from apps.courses.services.catalog import connect_catalog_signals

        connect_catalog_signals()
