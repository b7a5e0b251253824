"""Liveness and readiness endpoints, as a load balancer or orchestrator sees them."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from apps.core.health import check_database_pool, database_pooled
from apps.core.tests.isolated import run_json

CLOSED_PORT_REDIS = "redis://127.0.0.1:1/0"


def expected_checks() -> set[str]:
    checks = {"database", "cache", "channel_layer"}
    if database_pooled():
        checks.add("database_pool")
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        checks.add("broker")
    return checks


def test_healthz_answers_without_touching_backing_servers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def unreachable() -> None:
        raise AssertionError("liveness must not depend on backing servers")

    monkeypatch.setattr("apps.core.health.readiness_checks", unreachable)

    response = Client().get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_readyz_reports_each_configured_server_ok() -> None:
    response = Client().get("/readyz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"] == dict.fromkeys(expected_checks(), "ok")
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_readyz_names_the_failed_check_without_its_details(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def cache_down() -> None:
        raise ConnectionError("redis://:hunter2@cache.internal:6379 refused")

    monkeypatch.setattr("apps.core.health.check_cache", cache_down)

    response = Client().get("/readyz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail"
    assert body["failed"] == ["cache"]
    assert body["checks"]["cache"] == "fail"
    assert body["checks"]["database"] == "ok"
    text = response.content.decode()
    assert "hunter2" not in text
    assert "refused" not in text


@pytest.mark.django_db
def test_readyz_fails_when_the_cache_server_is_unreachable(settings) -> None:
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CLOSED_PORT_REDIS,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }

    response = Client().get("/readyz")

    assert response.status_code == 503
    assert response.json()["failed"] == ["cache"]
    assert "Error" not in response.content.decode()


@pytest.mark.django_db
def test_readyz_fails_when_the_channel_layer_is_unreachable(settings) -> None:
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [CLOSED_PORT_REDIS]},
        }
    }

    response = Client().get("/readyz")

    assert response.status_code == 503
    assert response.json()["failed"] == ["channel_layer"]


def readyz_in_process_with(*, redis_url: str, data_dir: Path) -> dict:
    """GET /readyz in a process whose settings were read with `REDIS_URL=redis_url`."""
    code = """
        import json, django
        django.setup()
        from django.test import Client
        response = Client().get("/readyz")
        print(json.dumps({"status": response.status_code, "body": response.json()}))
    """
    return run_json(
        code,
        env={
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "REDIS_URL": redis_url,
            # As in production: with REDIS_URL tasks go to the broker (tests run them eagerly).
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "HEALTH_CHECK_TIMEOUT_SECONDS": "1",
            "DATA_DIR": str(data_dir),
            "LOG_LEVEL": "CRITICAL",
        },
    )


def test_readyz_with_redis_url_also_checks_the_broker(tmp_path: Path) -> None:
    """A process given REDIS_URL sends tasks to a broker, so readiness includes it."""
    answer = readyz_in_process_with(redis_url=CLOSED_PORT_REDIS, data_dir=tmp_path)

    assert answer["status"] == 503
    assert answer["body"]["checks"] == {
        "database": "ok",
        "cache": "fail",
        "channel_layer": "fail",
        "broker": "fail",
    }


@pytest.fixture
def hung_server() -> Iterator[str]:
    """A TCP port that accepts connections and never answers, like a wedged Redis."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)  # the kernel completes handshakes; nobody ever reads or writes
        yield f"redis://127.0.0.1:{listener.getsockname()[1]}/0"


def test_readyz_answers_promptly_when_redis_hangs(tmp_path: Path, hung_server: str) -> None:
    """A probe that hangs is as bad as no probe: each check gives up after its timeout."""
    started = time.monotonic()

    answer = readyz_in_process_with(redis_url=hung_server, data_dir=tmp_path)

    assert answer["status"] == 503
    assert answer["body"]["failed"] == ["broker", "cache", "channel_layer"]
    assert time.monotonic() - started < 20


@pytest.mark.redis
@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs a Redis server in REDIS_URL")
@pytest.mark.django_db
def test_readyz_against_real_redis(settings) -> None:
    settings.CELERY_TASK_ALWAYS_EAGER = False  # as in production with REDIS_URL: a real broker
    response = Client().get("/readyz")

    assert response.status_code == 200, response.content
    assert response.json()["checks"] == {
        "database": "ok",
        "cache": "ok",
        "channel_layer": "ok",
        "broker": "ok",
        **({"database_pool": "ok"} if database_pooled() else {}),
    }


@pytest.mark.skipif(not database_pooled(), reason="needs PostgreSQL with DATABASE_POOL")
@pytest.mark.django_db
def test_the_pool_check_fails_when_every_connection_is_lent_and_requests_wait() -> None:
    """A real psycopg pool of one connection: lent out, a second borrower queues, and the
    check says so; once it is given back the check passes again."""
    import threading

    from django.db import connection
    from psycopg_pool import ConnectionPool

    pool = ConnectionPool(
        conninfo="",
        kwargs=connection.get_connection_params(),
        min_size=1,
        max_size=1,
        open=True,
    )
    try:
        check_database_pool(pool)  # idle: fine
        held = pool.getconn()
        waiter = threading.Thread(target=lambda: pool.putconn(pool.getconn(timeout=10)))
        waiter.start()
        deadline = time.monotonic() + 5
        while pool.get_stats().get("requests_waiting", 0) == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        with pytest.raises(RuntimeError, match="exhausted"):
            check_database_pool(pool)
        pool.putconn(held)
        waiter.join(timeout=10)
        check_database_pool(pool)
    finally:
        pool.close()
    with pytest.raises(RuntimeError, match="closed"):
        check_database_pool(pool)
