from django.apps import AppConfig


class VideoconferenceConfig(AppConfig):
    name = "apps.videoconference"
    label = "videoconference"
    verbose_name = "Live sessions"
