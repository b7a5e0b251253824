"""Test runs: same as base, fast password hashing, a file SQLite database browsers can share."""

from pathlib import Path

from .base import *  # noqa: F403
from .base import DATABASES, DATA_DIR, env

DEBUG = False
SECRET_KEY = "test-secret-key-not-for-production-0123456789-abcdefghijklmnopqrstuvwxyz"
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file (not :memory:) so the live ASGI server thread in browser tests sees the same data.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test-db.sqlite3")}
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(DATA_DIR / "test-media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
LOG_LEVEL = "WARNING"
