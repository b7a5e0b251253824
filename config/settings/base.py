"""Every setting, with an embedded default that runs on one laptop.

Setting `DATABASE_URL`, `REDIS_URL`, `EMAIL_URL` (and later `SEARCH_URL`) switches to real servers.
`local`, `test` and `production` only adjust what differs between those modes.
"""

from __future__ import annotations

from pathlib import Path

from celery.schedules import crontab
from csp import constants as csp
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from config.env import BASE_DIR, env, redis_channel_layer, redis_url_for
from config.logs import logging_config

# --- Core -----------------------------------------------------------------------------------
DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="")
ALLOWED_HOSTS: list[str] = env.list("ALLOWED_HOSTS", default=[])
CSRF_TRUSTED_ORIGINS: list[str] = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_ID = 1
SITE_NAME = env.str("SITE_NAME", default="onlineteacher")
# Where people reach the site: links in emails (sent by tasks, outside any request) start here.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "servestatic.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "django.contrib.humanize",
    "django.forms",
    "channels",
    "django_htmx",
    "csp",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.usersessions",
    "apps.core",
    "apps.accounts",
    "apps.courses",
    "apps.videoconference",
    "apps.notifications",
    "apps.reports",
    "apps.activity",
    "apps.privacy",
]

MIDDLEWARE = [
    "apps.core.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "servestatic.middleware.ServeStaticMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "apps.accounts.middleware.UserPreferencesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # Signed-in people accept the current terms and privacy notice before other pages.
    "apps.privacy.middleware.ConsentRequiredMiddleware",
    "apps.accounts.middleware.SecondFactorRequiredMiddleware",
    "apps.core.middleware.DomainErrorMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = None
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "django.template.context_processors.tz",
                "csp.context_processors.nonce",
                "apps.core.context_processors.site",
                "apps.accounts.context_processors.nav",
                "apps.notifications.context_processors.bell",
            ],
        },
    }
]
FORM_RENDERER = "apps.core.forms.AccessibleFormRenderer"

# --- Data -----------------------------------------------------------------------------------
DATA_DIR = Path(env.str("DATA_DIR", default=str(BASE_DIR / "var")))
DATA_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{DATA_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the ASGI server's threads read while one writes; a busy timeout avoids
    # "database is locked" under the few concurrent writers a laptop sees.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
elif env.bool("DATABASE_POOL", default=True):
    # psycopg's connection pool (one per process): a request borrows a connection that is
    # already open instead of connecting (TLS, authentication, a PostgreSQL backend start) each
    # time, and gives it back when it ends. Under ASGI every request runs in a thread of its
    # own, so the pool, not CONN_MAX_AGE (a connection per thread), is the right kind of reuse.
    # Django requires CONN_MAX_AGE=0 with a pool. /readyz fails when the pool is exhausted.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True  # a pooled connection is checked on loan
    DATABASES["default"]["OPTIONS"] = {
        "pool": {
            "min_size": env.int("DATABASE_POOL_MIN_SIZE", default=2),
            "max_size": env.int("DATABASE_POOL_MAX_SIZE", default=20),
            "timeout": env.float("DATABASE_POOL_TIMEOUT", default=10.0),
        }
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=0)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="")
# How many databases the Redis server has (its `databases` setting; Redis' default is 16, numbered
# 0-15). REDIS_URL's database N and the next two must exist, or start-up stops with
# ImproperlyConfigured (see config.env.redis_url_for).
REDIS_DATABASES = env.int("REDIS_DATABASES", default=16)

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_url_for(REDIS_URL, 0, databases=REDIS_DATABASES),
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="ot"),
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
    # Redis pub/sub, not channels_redis' core layer: a message is one PUBLISH that Redis pushes
    # to the processes subscribed to that channel or group, where the core layer stores it under
    # a key per channel (a Lua script per send) for the receiving process to pop. Signaling
    # relays between processes go through the layer; with two processes (bench/signaling.py
    # --processes 2, figures in bench/README.md) pub/sub relayed ~3.5x the frames per second of
    # the core layer at a lower p99 latency, and under load the core layer stalled frames for
    # seconds. Its trade-offs suit signaling, where a late message is a useless one:
    # - at most once: a message to a channel nobody is subscribed to (a peer that has just
    #   left, a process that died) is dropped, where the core layer would keep it for nobody;
    # - no per-channel capacity (CHANNEL_LAYER_CAPACITY is not read): a slow connection's
    #   messages queue in its own process, bounded in practice by the senders' rate limit
    #   (SIGNALING_RATE_*) and the heartbeat that closes a peer that stops answering;
    # - groups are kept in each process's memory, so a process that dies leaves no stale
    #   members behind; a channel is released when its consumer stops (release_channel in
    #   apps/core/channel_layers.py).
    CHANNEL_LAYERS = {
        "default": redis_channel_layer(redis_url_for(REDIS_URL, 1, databases=REDIS_DATABASES))
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "onlineteacher",
        }
    }
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels.layers.InMemoryChannelLayer",
            # A call's signaling bursts (ICE candidates, chat) exceed the default of 100 queued
            # messages per channel; past capacity the layer refuses more (ChannelFull).
            "CONFIG": {"capacity": env.int("CHANNEL_LAYER_CAPACITY", default=1000), "expiry": 60},
        }
    }

SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
SESSION_COOKIE_AGE = 60 * 60 * 24 * 14
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie

# --- Celery ---------------------------------------------------------------------------------
CELERY_BROKER_URL = (
    redis_url_for(REDIS_URL, 2, databases=REDIS_DATABASES) if REDIS_URL else "memory://"
)
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A task a worker took but never acknowledged (the worker died) goes back to the queue after
# this many seconds; tasks are idempotent, so running one twice is safe.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)
}
CELERY_TIMEZONE = "UTC"
# Periodic work; run `make beat` (one beat per deployment). Each task is safe to run twice.
CELERY_BEAT_SCHEDULE = {
    "videoconference-session-reminders": {
        "task": "videoconference.send_session_reminders",
        "schedule": env.float("REMINDER_INTERVAL_SECONDS", default=60.0),
    },
    "notifications-daily-digests": {
        "task": "notifications.send_daily_digests",
        "schedule": crontab(minute=5),  # hourly; each person gets theirs at their local hour
    },
    "reports-delete-expired": {
        "task": "reports.delete_expired",
        "schedule": crontab(minute=35),
    },
    "privacy-process-erasures": {
        "task": "privacy.process_erasures",
        "schedule": crontab(minute=50),
    },
    "privacy-apply-retention": {
        "task": "privacy.apply_retention",
        "schedule": crontab(hour=3, minute=20),  # daily
    },
}

# --- Email ----------------------------------------------------------------------------------
_email = env.email_url("EMAIL_URL", default="consolemail://")
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_HOST = _email.get("EMAIL_HOST", "localhost")
EMAIL_PORT = _email.get("EMAIL_PORT", 25)
EMAIL_HOST_USER = _email.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = _email.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = _email.get("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = _email.get("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="onlineteacher <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Notifications and reports --------------------------------------------------------------
# The local hour (in each person's time zone) at which daily digests go out.
NOTIFICATIONS_DIGEST_HOUR = env.int("NOTIFICATIONS_DIGEST_HOUR", default=7)
# Generated report files: kept outside MEDIA_ROOT (never served directly), deleted after the TTL.
REPORTS_DIR = Path(env.str("REPORTS_DIR", default=str(DATA_DIR / "reports")))
REPORTS_TTL_HOURS = env.int("REPORTS_TTL_HOURS", default=72)
# Days between an erasure request and the erasure (the user can cancel meanwhile).
PRIVACY_ERASURE_GRACE_DAYS = env.int("PRIVACY_ERASURE_GRACE_DAYS", default=14)
# A report whose worker has not written progress for this long is taken over by a new run.
REPORTS_STALE_AFTER_SECONDS = env.int("REPORTS_STALE_AFTER_SECONDS", default=60)
# Rows a report run writes between two progress (and heartbeat) commits.
REPORTS_ROWS_PER_CHUNK = env.int("REPORTS_ROWS_PER_CHUNK", default=200)
# Activity log events older than this are deleted by the retention task (docs/activity.md).
ACTIVITY_RETENTION_DAYS = env.int("ACTIVITY_RETENTION_DAYS", default=365)
# Session chat lines and attendance records older than this many days are deleted by the daily
# retention task `privacy.apply_retention` (docs/privacy.md).
RETENTION_CHAT_DAYS = env.int("RETENTION_CHAT_DAYS", default=365)
RETENTION_ATTENDANCE_DAYS = env.int("RETENTION_ATTENDANCE_DAYS", default=730)

# --- Auth and accounts ----------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
ACCOUNT_LOGOUT_REDIRECT_URL = "home"
ACCOUNT_ADAPTER = "apps.accounts.adapters.AccountAdapter"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_SIGNUP_FORM_CLASS = "apps.accounts.forms.SignupForm"
ACCOUNT_EMAIL_VERIFICATION = env.str("ACCOUNT_EMAIL_VERIFICATION", default="mandatory")
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_SESSION_REMEMBER = None
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_PRESERVE_USERNAME_CASING = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = f"[{SITE_NAME}] "
ACCOUNT_RATE_LIMITS = {
    # allauth counts failures in the cache; with REDIS_URL this is shared by every process.
    "login_failed": env.str("LOGIN_RATE_LIMIT", default="10/m/ip,5/5m/key"),
    "login": "30/m/ip",
    "signup": "20/m/ip",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "confirm_email": "1/3m/key",
    "change_password": "5/m/user",
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
MFA_TOTP_ISSUER = SITE_NAME
# Accept the code of the period before and after the current one (RFC 6238 section 5.2): a
# phone a few seconds off, or a code typed as its 30 s run out, still works. A code is still
# good only once (allauth remembers used codes in the cache).
MFA_TOTP_TOLERANCE = env.int("MFA_TOTP_TOLERANCE", default=1)
# Passkeys can sign in on their own (no password), and count as a second factor.
MFA_PASSKEY_LOGIN_ENABLED = True
# Passkeys need HTTPS, or http://localhost (not 127.0.0.1: an IP address cannot be a WebAuthn
# relying party), so open the site at http://localhost:8000 to try them in development.
# Roles whose members must set up a second factor before using the site (docs/security.md).
# Anyone who may open Django admin (is_staff) needs one as well, whatever this says.
# allauth.usersessions keeps a row per signed-in session (written at sign-in, not per request),
# so a person sees and ends their other sessions, and an erasure finds them all by user.
USERSESSIONS_TRACK_ACTIVITY = False
MFA_REQUIRED_ROLES = env.list("MFA_REQUIRED_ROLES", default=["staff", "moderator", "instructor"])

AVATAR_MAX_UPLOAD_BYTES = env.int("AVATAR_MAX_UPLOAD_BYTES", default=2 * 1024 * 1024)
AVATAR_SIZE_PX = 256
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- Internationalisation -------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", _("English")),
    ("de", _("German")),
    ("es", _("Spanish")),
    ("fr", _("French")),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static and media -----------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(DATA_DIR / "media")))
SERVE_MEDIA = env.bool("SERVE_MEDIA", default=True)
# Lesson videos and caption files: outside MEDIA_ROOT, handed out only by the permission-checked
# views in apps/courses (docs/deployment.md, "Private media"), never by the /media/ route.
PRIVATE_MEDIA_ROOT = Path(env.str("PRIVATE_MEDIA_ROOT", default=str(DATA_DIR / "private-media")))
if PRIVATE_MEDIA_ROOT.resolve().is_relative_to(MEDIA_ROOT.resolve()):
    # A web server's /media/ location would serve it to anyone.
    raise ImproperlyConfigured("PRIVATE_MEDIA_ROOT must not be inside MEDIA_ROOT.")
# Who sends a private file once the view allowed it: "" Django itself (streams it), "nginx"
# (X-Accel-Redirect to PRIVATE_MEDIA_ACCEL_PREFIX + name) or "sendfile" (Apache X-Sendfile).
MEDIA_ACCEL = env.str("MEDIA_ACCEL", default="")
if MEDIA_ACCEL not in ("", "nginx", "sendfile"):
    raise ImproperlyConfigured(
        f'MEDIA_ACCEL must be "", "nginx" or "sendfile", not {MEDIA_ACCEL!r}'
    )
# The nginx `internal` location that maps onto PRIVATE_MEDIA_ROOT (MEDIA_ACCEL=nginx only).
PRIVATE_MEDIA_ACCEL_PREFIX = env.str("PRIVATE_MEDIA_ACCEL_PREFIX", default="/private-media/")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
SERVESTATIC_USE_FINDERS = True
SERVESTATIC_AUTOREFRESH = False

# --- Security -------------------------------------------------------------------------------
X_FRAME_OPTIONS = "DENY"
CSRF_FAILURE_VIEW = "apps.core.views.csrf_failure"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [csp.SELF],
        "script-src": [csp.SELF, csp.NONCE],
        "style-src": [csp.SELF],
        "img-src": [csp.SELF, "data:", "blob:"],
        "media-src": [csp.SELF, "blob:"],
        "font-src": [csp.SELF],
        "connect-src": [csp.SELF],
        "frame-src": [csp.NONE],
        "frame-ancestors": [csp.NONE],
        "object-src": [csp.NONE],
        "base-uri": [csp.SELF],
        "form-action": [csp.SELF],
    }
}

# --- Logging --------------------------------------------------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOG_FORMAT = env.str("LOG_FORMAT", default="text")  # "text" or "json" (config.logs)
LOGGING = logging_config(level=LOG_LEVEL, fmt=LOG_FORMAT)

# --- Project settings (named in apps/core/tests/test_settings.py's known list) --------------
THEME_COOKIE_NAME = "ot_theme"
HEALTH_CHECK_TIMEOUT_SECONDS = env.float("HEALTH_CHECK_TIMEOUT_SECONDS", default=2.0)

# --- Live sessions (apps.videoconference; docs/signaling.md) ---------------------------------
# ICE servers handed to every peer in `welcome`. With TURN_SECRET set, each welcome carries
# time-limited TURN REST credentials (coturn `use-auth-secret` with the same secret).
STUN_URLS: list[str] = env.list("STUN_URLS", default=[])
TURN_URLS: list[str] = env.list("TURN_URLS", default=[])
TURN_SECRET = env.str("TURN_SECRET", default="")
TURN_CREDENTIAL_TTL = env.int("TURN_CREDENTIAL_TTL", default=6 * 60 * 60)
# The server pings each peer every SIGNALING_HEARTBEAT_SECONDS; a peer silent for
# SIGNALING_PEER_TIMEOUT_SECONDS (or whose process died) is removed and the others told. A dead
# process's peers go within timeout + one heartbeat (at most ~25.5 s with 5/20: issue 4 asks < 30).
SIGNALING_HEARTBEAT_SECONDS = env.float("SIGNALING_HEARTBEAT_SECONDS", default=5.0)
SIGNALING_PEER_TIMEOUT_SECONDS = env.float("SIGNALING_PEER_TIMEOUT_SECONDS", default=20.0)
# Per-connection token bucket: sustained frames per second and burst size.
SIGNALING_RATE_PER_SECOND = env.float("SIGNALING_RATE_PER_SECOND", default=20.0)
SIGNALING_RATE_BURST = env.int("SIGNALING_RATE_BURST", default=60)
