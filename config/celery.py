"""The Celery application: configured from Django settings (`CELERY_*`), tasks found in each app.

With embedded defaults tasks run eagerly in the calling process; with `REDIS_URL` they go to
Redis and a worker (`make worker`) runs them, and `make beat` queues the periodic ones
(`CELERY_BEAT_SCHEDULE`).
"""

import os
from typing import Any

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("onlineteacher")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.setup_logging.connect
def use_django_logging(**kwargs: Any) -> None:
    """Worker and beat log through Django's LOGGING (same format, JSON lines in production)
    instead of Celery's own handlers: connecting this signal stops Celery configuring logging."""
    from logging.config import dictConfig

    from django.conf import settings

    dictConfig(settings.LOGGING)
