"""Readiness checks of the servers the process depends on; each returns None or a reason."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.cache import cache
from django.db import connection

from apps.core.channel_layers import release_channel

logger = logging.getLogger(__name__)


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def database_pooled() -> bool:
    """True with PostgreSQL and DATABASE_POOL on (the default there)."""
    return bool(settings.DATABASES["default"].get("OPTIONS", {}).get("pool"))


def check_database_pool(pool: Any = None) -> None:
    """With PostgreSQL's connection pool (DATABASE_POOL), fail when it is closed or exhausted:
    every connection lent out and requests queueing for one."""
    pool = pool if pool is not None else getattr(connection, "pool", None)
    if pool is None:
        return
    if pool.closed:
        raise RuntimeError("the database connection pool is closed")
    stats = pool.get_stats()
    if (
        stats.get("requests_waiting", 0) > 0
        and stats.get("pool_available", 0) == 0
        and stats.get("pool_size", 0) >= pool.max_size
    ):
        raise RuntimeError(f"the database connection pool is exhausted: {stats}")


def check_cache() -> None:
    key = f"readyz:{uuid.uuid4().hex}"
    cache.set(key, "ok", timeout=10)
    if cache.get(key) != "ok":
        raise RuntimeError("cache did not return the value just stored")
    cache.delete(key)


async def _channel_layer_roundtrip() -> None:
    layer = get_channel_layer()
    if layer is None:
        raise RuntimeError("no channel layer configured")
    channel = await layer.new_channel("readyz.")
    try:
        await layer.send(channel, {"type": "readyz.ping"})
        message = await layer.receive(channel)
    finally:
        # Each probe makes a channel; a server probed every few seconds must not keep them all.
        await release_channel(layer, channel)
    if message.get("type") != "readyz.ping":
        raise RuntimeError("channel layer returned another message")


async def _bounded_channel_layer_roundtrip() -> None:
    # The whole round trip is bounded: a Redis that accepts connections but never answers
    # would otherwise hold the probe (and a server thread) until the OS gives up on the socket.
    await asyncio.wait_for(
        _channel_layer_roundtrip(), timeout=settings.HEALTH_CHECK_TIMEOUT_SECONDS
    )


def check_channel_layer() -> None:
    async_to_sync(_bounded_channel_layer_roundtrip)()


def check_broker() -> None:
    from config.celery import app

    timeout = settings.HEALTH_CHECK_TIMEOUT_SECONDS
    # Socket timeouts for this probe only; a worker's long polls use the configured options.
    with app.connection_for_write(
        connect_timeout=timeout,
        transport_options={"socket_timeout": timeout, "socket_connect_timeout": timeout},
    ) as conn:
        conn.ensure_connection(max_retries=1, timeout=timeout)


def readiness_checks() -> dict[str, Callable[[], None]]:
    checks: dict[str, Callable[[], None]] = {
        "database": check_database,
        "cache": check_cache,
        "channel_layer": check_channel_layer,
    }
    if database_pooled():
        checks["database_pool"] = check_database_pool
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        checks["broker"] = check_broker
    return checks


def run_checks() -> dict[str, str]:
    """Run every check; the value is "ok" or "fail" (details go to the log, not the client)."""
    results: dict[str, str] = {}
    for name, check in readiness_checks().items():
        try:
            check()
        except Exception:
            logger.exception("readiness check failed", extra={"check": name})
            results[name] = "fail"
        else:
            results[name] = "ok"
    return results
