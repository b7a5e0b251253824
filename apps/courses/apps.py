from django.apps import AppConfig


class CoursesConfig(AppConfig):
    name = "apps.courses"
    label = "courses"
    verbose_name = "Courses"

    def ready(self) -> None:
        from apps.courses.page_cache import connect_signals

        connect_signals()
