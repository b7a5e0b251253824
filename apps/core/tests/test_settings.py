"""Settings come from the environment, and every setting name is one some code actually reads."""

from __future__ import annotations

import ast
import importlib
import json
import re
from collections.abc import Iterable
from functools import cache
from pathlib import Path

import pytest
from django.conf import global_settings
from django.core.exceptions import ImproperlyConfigured

from apps.core.tests.isolated import run_python, settings_values
from config.env import BASE_DIR, redis_url_for

# --- From the environment -------------------------------------------------------------------

SWITCHED = [
    "DEBUG",
    "DATABASES",
    "CACHES",
    "CHANNEL_LAYERS",
    "CELERY_BROKER_URL",
    "CELERY_TASK_ALWAYS_EAGER",
    "SESSION_ENGINE",
    "EMAIL_BACKEND",
    "EMAIL_HOST",
    "EMAIL_PORT",
    "EMAIL_HOST_USER",
    "EMAIL_HOST_PASSWORD",
    "EMAIL_USE_TLS",
]


def local_settings(**env: str) -> dict:
    return settings_values("config.settings.local", SWITCHED, env=env)


def test_without_environment_everything_runs_on_one_laptop() -> None:
    values = local_settings()

    assert values["DEBUG"] is True
    database = values["DATABASES"]["default"]
    assert database["ENGINE"] == "django.db.backends.sqlite3"
    assert Path(database["NAME"]) == BASE_DIR / "var" / "db.sqlite3"
    assert values["CACHES"]["default"]["BACKEND"] == (
        "django.core.cache.backends.locmem.LocMemCache"
    )
    assert values["CHANNEL_LAYERS"]["default"]["BACKEND"] == "channels.layers.InMemoryChannelLayer"
    assert values["CELERY_TASK_ALWAYS_EAGER"] is True
    assert values["CELERY_BROKER_URL"] == "memory://"
    assert values["EMAIL_BACKEND"] == "django.core.mail.backends.console.EmailBackend"


def test_data_dir_moves_the_sqlite_database(tmp_path: Path) -> None:
    values = local_settings(DATA_DIR=str(tmp_path))

    assert Path(values["DATABASES"]["default"]["NAME"]) == tmp_path / "db.sqlite3"


def test_database_url_switches_to_postgresql() -> None:
    values = local_settings(DATABASE_URL="postgres://teacher:pw@db.internal:5433/classroom")

    database = values["DATABASES"]["default"]
    assert database["ENGINE"] == "django.db.backends.postgresql"
    assert (database["HOST"], database["PORT"], database["NAME"]) == (
        "db.internal",
        5433,
        "classroom",
    )
    assert (database["USER"], database["PASSWORD"]) == ("teacher", "pw")
    assert database["CONN_HEALTH_CHECKS"] is True


def test_redis_url_gives_cache_channel_layer_and_broker_their_own_databases() -> None:
    values = local_settings(REDIS_URL="redis://redis.internal:6379/3")

    cache = values["CACHES"]["default"]
    assert cache["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    assert cache["LOCATION"] == "redis://redis.internal:6379/3"
    layer = values["CHANNEL_LAYERS"]["default"]
    assert layer["BACKEND"] == "channels_redis.pubsub.RedisPubSubChannelLayer"
    assert layer["CONFIG"]["hosts"] == ["redis://redis.internal:6379/4"]
    # Pub/sub channels are server-wide in Redis: the prefix keeps database numbers apart.
    assert layer["CONFIG"]["prefix"] == "asgi.db4."
    assert values["CELERY_BROKER_URL"] == "redis://redis.internal:6379/5"
    assert values["CELERY_TASK_ALWAYS_EAGER"] is False
    assert values["SESSION_ENGINE"] == "django.contrib.sessions.backends.cached_db"


def test_each_test_worker_gets_its_own_redis_databases_and_channel_layer_prefix() -> None:
    """Parallel test workers flush their cache and hold rooms with the same ids: neither may
    reach the other's, and Redis pub/sub ignores database numbers, so the prefix differs too."""
    values = settings_values(
        "config.settings.test",
        ["CACHES", "CHANNEL_LAYERS", "CELERY_BROKER_URL"],
        env={"REDIS_URL": "redis://redis.internal:6379/5", "PYTEST_XDIST_WORKER": "gw1"},
    )

    assert values["CACHES"]["default"]["LOCATION"] == "redis://redis.internal:6379/8"
    layer = values["CHANNEL_LAYERS"]["default"]
    assert layer["BACKEND"] == "channels_redis.pubsub.RedisPubSubChannelLayer"
    assert layer["CONFIG"] == {"hosts": ["redis://redis.internal:6379/9"], "prefix": "asgi.db9."}
    assert values["CELERY_BROKER_URL"] == "redis://redis.internal:6379/10"


def test_email_url_configures_smtp() -> None:
    values = local_settings(EMAIL_URL="smtp://user:pw@mail.internal:2525")

    assert values["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert (values["EMAIL_HOST"], values["EMAIL_PORT"]) == ("mail.internal", 2525)
    assert (values["EMAIL_HOST_USER"], values["EMAIL_HOST_PASSWORD"]) == ("user", "pw")
    assert values["EMAIL_USE_TLS"] is False


def test_email_url_with_tls_turns_on_starttls() -> None:
    values = local_settings(EMAIL_URL="smtp+tls://user:pw@mail.internal:587")

    assert values["EMAIL_USE_TLS"] is True
    assert values["EMAIL_PORT"] == 587


def test_unknown_log_format_stops_startup_instead_of_being_ignored() -> None:
    result = run_python("import config.settings.local", env={"LOG_FORMAT": "jsonl"})

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "LOG_FORMAT" in result.stderr


@pytest.mark.parametrize(
    ("base_url", "offset", "expected"),
    [
        ("redis://127.0.0.1:6379/3", 1, "redis://127.0.0.1:6379/4"),
        ("redis://127.0.0.1:6379", 2, "redis://127.0.0.1:6379/2"),
        ("redis://:s3cret@redis.internal:6380/0", 1, "redis://:s3cret@redis.internal:6380/1"),
        (
            "rediss://user:pw@redis.internal:6379/1?ssl_cert_reqs=required",
            2,
            "rediss://user:pw@redis.internal:6379/3?ssl_cert_reqs=required",
        ),
    ],
)
def test_redis_url_for_keeps_credentials_and_options(
    base_url: str, offset: int, expected: str
) -> None:
    assert redis_url_for(base_url, offset) == expected


def test_the_highest_redis_database_that_leaves_room_for_all_three_uses_is_accepted() -> None:
    values = local_settings(REDIS_URL="redis://redis.internal:6379/13")

    assert values["CACHES"]["default"]["LOCATION"] == "redis://redis.internal:6379/13"
    assert values["CHANNEL_LAYERS"]["default"]["CONFIG"]["hosts"] == [
        "redis://redis.internal:6379/14"
    ]
    assert values["CELERY_BROKER_URL"] == "redis://redis.internal:6379/15"


def test_a_redis_url_whose_broker_database_does_not_exist_stops_start_up() -> None:
    """Redis has databases 0-15: /14 would put the broker on 16, and /readyz would fail forever."""
    result = run_python(
        "import config.settings.local", env={"REDIS_URL": "redis://redis.internal:6379/14"}
    )

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "database 16 does not exist" in result.stderr
    assert "at most 13" in result.stderr


def test_redis_databases_follows_a_server_configured_with_more() -> None:
    values = local_settings(REDIS_URL="redis://redis.internal:6379/14", REDIS_DATABASES="32")

    assert values["CELERY_BROKER_URL"] == "redis://redis.internal:6379/16"


@pytest.mark.parametrize(("base_url", "offset"), [("redis://h:6379/15", 1), ("redis://h/16", 0)])
def test_redis_url_for_refuses_a_database_past_the_last(base_url: str, offset: int) -> None:
    with pytest.raises(ImproperlyConfigured, match="does not exist"):
        redis_url_for(base_url, offset)


# --- Every setting name is known ------------------------------------------------------------
# Django ignores a setting nobody reads, so `CELERY_TASK_ACK_LATE = True` or `CHANNEL_LAYER = {}`
# would silently do nothing. Every UPPERCASE name must be one that Django, a library we use, or
# this project reads.

PROJECT_SETTINGS = {
    "BASE_DIR",
    "DATA_DIR",
    "SITE_NAME",
    "REDIS_URL",
    "REDIS_DATABASES",
    "THEME_COOKIE_NAME",
    "HEALTH_CHECK_TIMEOUT_SECONDS",
    "AVATAR_MAX_UPLOAD_BYTES",
    "AVATAR_SIZE_PX",
    "SERVE_MEDIA",
    "PRIVATE_MEDIA_ROOT",
    "MEDIA_ACCEL",
    "PRIVATE_MEDIA_ACCEL_PREFIX",
    "LOG_LEVEL",
    "LOG_FORMAT",
    "STUN_URLS",
    "TURN_URLS",
    "TURN_SECRET",
    "TURN_CREDENTIAL_TTL",
    "SIGNALING_HEARTBEAT_SECONDS",
    "SIGNALING_PEER_TIMEOUT_SECONDS",
    "SIGNALING_RATE_PER_SECOND",
    "SIGNALING_RATE_BURST",
    "SITE_URL",
    "NOTIFICATIONS_DIGEST_HOUR",
    "REPORTS_DIR",
    "REPORTS_TTL_HOURS",
    "PRIVACY_ERASURE_GRACE_DAYS",
    "REPORTS_STALE_AFTER_SECONDS",
    "REPORTS_ROWS_PER_CHUNK",
    "ACTIVITY_RETENTION_DAYS",
    "RETENTION_CHAT_DAYS",
    "RETENTION_ATTENDANCE_DAYS",
    "MFA_REQUIRED_ROLES",
}
# Read by Django but absent from global_settings, and read by Channels and django-csp.
LIBRARY_SETTINGS = {
    "ROOT_URLCONF",
    "SETTINGS_MODULE",
    "SITE_ID",
    "ASGI_APPLICATION",
    "CHANNEL_LAYERS",
    "CONTENT_SECURITY_POLICY",
    "CONTENT_SECURITY_POLICY_REPORT_ONLY",
}


def _package_dir(package: str) -> Path:
    return Path(importlib.import_module(package).__file__).parent  # type: ignore[arg-type]


def _string_literals(path: Path) -> Iterable[str]:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.value


@cache
def celery_settings() -> frozenset[str]:
    """`config.celery` reads `CELERY_` + each new-style key upper-cased (namespace="CELERY").

    Old-style names (`CELERYD_PREFETCH_MULTIPLIER`, `BROKER_URL`) are not read through the
    namespace, so they are deliberately not "known".
    """
    from celery.app.defaults import SETTING_KEYS  # every key of celery.app.defaults.NAMESPACES

    return frozenset(f"CELERY_{key.upper()}" for key in SETTING_KEYS)


@cache
def allauth_settings() -> frozenset[str]:
    """Names allauth reads: `_setting("X")` in each `AppSettings(prefix)` plus literal names."""
    prefixes = ("ACCOUNT_", "MFA_", "SOCIALACCOUNT_", "ALLAUTH_", "HEADLESS_", "USERSESSIONS_")
    literal = re.compile(rf"^(?:{'|'.join(prefixes)})[A-Z0-9_]+$")
    names: set[str] = set()
    for path in _package_dir("allauth").rglob("*.py"):
        if "tests" in path.parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call)]
        prefix = next(
            (
                call.args[0].value
                for call in calls
                if isinstance(call.func, ast.Name)
                and call.func.id == "AppSettings"
                and call.args
                and isinstance(call.args[0], ast.Constant)
                and isinstance(call.args[0].value, str)
            ),
            None,
        )
        for call in calls:
            if (
                prefix
                and isinstance(call.func, ast.Attribute)
                and call.func.attr == "_setting"
                and call.args
                and isinstance(call.args[0], ast.Constant)
                and isinstance(call.args[0].value, str)
            ):
                names.add(prefix + call.args[0].value)
        names.update(value for value in _string_literals(path) if literal.match(value))
    return frozenset(names)


@cache
def servestatic_settings() -> frozenset[str]:
    """Every `"SERVESTATIC_..."` string servestatic's code looks up."""
    pattern = re.compile(r"^SERVESTATIC_[A-Z0-9_]+$")
    return frozenset(
        value
        for path in _package_dir("servestatic").rglob("*.py")
        for value in _string_literals(path)
        if pattern.match(value)
    )


@cache
def known_setting_names() -> frozenset[str]:
    django_names = {name for name in dir(global_settings) if name.isupper()}
    return frozenset(
        django_names
        | celery_settings()
        | allauth_settings()
        | servestatic_settings()
        | LIBRARY_SETTINGS
        | PROJECT_SETTINGS
    )


def unknown_setting_names(names: Iterable[str]) -> set[str]:
    """The UPPERCASE names among `names` that nothing reads."""
    return {name for name in names if name.isupper() and name not in known_setting_names()}


def test_known_names_are_derived_from_the_installed_libraries() -> None:
    assert {"CELERY_TASK_ACKS_LATE", "CELERY_BROKER_URL", "CELERY_WORKER_PREFETCH_MULTIPLIER"} <= (
        celery_settings()
    )
    assert {"ACCOUNT_LOGIN_METHODS", "ACCOUNT_SIGNUP_FIELDS", "MFA_TOTP_ISSUER"} <= (
        allauth_settings()
    )
    assert {"SERVESTATIC_USE_FINDERS", "SERVESTATIC_AUTOREFRESH"} <= servestatic_settings()


def test_checker_flags_misspelled_names() -> None:
    names = {"DEBUG", "CELERY_TASK_ACKS_LATE", "CELERY_TASK_ACK_LATE", "CHANNEL_LAYER", "_private"}

    assert unknown_setting_names(names) == {"CELERY_TASK_ACK_LATE", "CHANNEL_LAYER"}


def test_every_setting_of_this_process_is_known(settings) -> None:
    assert unknown_setting_names(dir(settings._wrapped)) == set()


@pytest.mark.parametrize(
    ("module", "env"),
    [
        ("config.settings.base", {}),
        ("config.settings.local", {}),
        ("config.settings.local", {"REDIS_URL": "redis://127.0.0.1:6379/0"}),
        ("config.settings.test", {}),
        (
            "config.settings.production",
            {
                "SECRET_KEY": "x" * 60,
                "ALLOWED_HOSTS": "teach.example.org",
                "EMAIL_URL": "smtp://mail:25",
            },
        ),
    ],
)
def test_every_setting_of_each_settings_module_is_known(module: str, env: dict[str, str]) -> None:
    code = """
        import importlib, json, sys
        settings = importlib.import_module(sys.argv[1])
        print(json.dumps(sorted(name for name in dir(settings) if name.isupper())))
    """
    result = run_python(code, env=env, args=(module,))
    assert result.returncode == 0, result.stderr
    names = json.loads(result.stdout.strip().splitlines()[-1])

    assert unknown_setting_names(names) == set()
