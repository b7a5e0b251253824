"""Test runs: same as base, fast password hashing, a file SQLite database browsers can share."""

import os
import tempfile
from pathlib import Path

from config.logs import logging_config

from .base import *  # noqa: F403
from .base import (
    CACHES,
    CELERY_BROKER_TRANSPORT_OPTIONS,
    DATA_DIR,
    DATABASES,
    LOG_FORMAT,
    REDIS_DATABASES,
    REDIS_URL,
    env,
)

DEBUG = False
SECRET_KEY = "test-secret-key-not-for-production-0123456789-abcdefghijklmnopqrstuvwxyz"  # noqa: S105
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file (not :memory:) so the live ASGI server thread in browser tests sees the same data.
    # One file per test process: two test runs in one checkout must not share (and delete) one
    # database. A run that was killed can leave WAL files behind; a new process reusing its pid
    # would read them as part of its fresh database ("disk I/O error"), so they go first.
    _test_db = Path(tempfile.gettempdir()) / f"onlineteacher-test-{os.getpid()}.sqlite3"
    for _leftover in (Path(f"{_test_db}-wal"), Path(f"{_test_db}-shm")):
        _leftover.unlink(missing_ok=True)
    DATABASES["default"]["TEST"] = {"NAME": str(_test_db)}
else:
    # Likewise one PostgreSQL test database per test process.
    DATABASES["default"]["TEST"] = {"NAME": f"test_{DATABASES['default']['NAME']}_{os.getpid()}"}
_xdist_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
if REDIS_URL and _xdist_worker.startswith("gw"):
    # Tests clear the cache (a Redis FLUSHDB) before each test; parallel workers must not wipe
    # each other's rate-limit counters and sessions, so each gets its own three databases.
    from config.env import redis_channel_layer, redis_url_for

    _offset = 3 * int(_xdist_worker[2:])
    CACHES["default"]["LOCATION"] = redis_url_for(REDIS_URL, _offset, databases=REDIS_DATABASES)
    # The layer's prefix carries the database number (Redis pub/sub ignores database numbers).
    CHANNEL_LAYERS = {
        "default": redis_channel_layer(
            redis_url_for(REDIS_URL, _offset + 1, databases=REDIS_DATABASES)
        )
    }
    CELERY_BROKER_URL = redis_url_for(REDIS_URL, _offset + 2, databases=REDIS_DATABASES)
if REDIS_URL:
    # Two test runs may share one Redis (two checkouts, parallel CI jobs): the broker keys of
    # this run carry its own prefix, so a worker one run starts never takes another run's tasks.
    # Worker and server processes a test starts inherit the prefix through the environment.
    _run = os.environ.setdefault("TEST_BROKER_PREFIX", f"test{os.getpid()}.")
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        **CELERY_BROKER_TRANSPORT_OPTIONS,
        "global_keyprefix": _run,
    }
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(DATA_DIR / "test-media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# The test process keeps mail in memory whatever this says (pytest-django's test environment sets
# locmem). A worker or server process a test starts does too, unless the test gives it EMAIL_URL
# (its SMTP sink: apps/core/tests/worker.py).
if not env.str("EMAIL_URL", default=""):
    EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
LOG_LEVEL = env.str("LOG_LEVEL", default="WARNING")
LOGGING = logging_config(level=LOG_LEVEL, fmt=LOG_FORMAT)
# Tests run tasks in the calling process, with Redis too, so a test sees a task's effect at once.
# Tests of the real thing start a Celery worker process (apps/core/tests/worker.py), which does
# not run eagerly, and switch the test process to queueing for it.
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=True)
