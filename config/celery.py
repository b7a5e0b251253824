"""The Celery application: configured from Django settings (`CELERY_*`), tasks found in each app.

With embedded defaults tasks run eagerly in the calling process; with `REDIS_URL` they go to
Redis and a worker (`make worker`) runs them.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("onlineteacher")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
