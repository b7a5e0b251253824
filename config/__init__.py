"""Project configuration: settings, URLs, ASGI and Celery entry points."""

from .celery import app as celery_app

__all__ = ("celery_app",)
