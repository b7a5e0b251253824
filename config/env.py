"""Reads the environment once; every setting that may come from the environment goes through here.

A `.env` file in the project root is read too (never committed), so an operator can keep
the variables from `.env.example` beside the code. `READ_DOT_ENV_FILE=false` skips it, so a
process started with a controlled environment (tests, containers) sees exactly that environment.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
_dotenv = BASE_DIR / ".env"
if env.bool("READ_DOT_ENV_FILE", default=True) and _dotenv.is_file():
    environ.Env.read_env(str(_dotenv), overwrite=False)


# Redis' own default (`databases 16` in redis.conf): numbers 0-15 exist.
DEFAULT_REDIS_DATABASES = 16
# How many consecutive numbers from REDIS_URL's database one site uses (cache, layer, broker).
REDIS_DATABASES_USED = 3


def redis_url_for(base_url: str, offset: int, *, databases: int = DEFAULT_REDIS_DATABASES) -> str:
    """Return `base_url` pointing at its database number plus `offset`.

    One `REDIS_URL` feeds the cache (db N), the channel layer (N+1) and the Celery broker (N+2),
    so that flushing one never wipes another. A number the server does not have (it has
    `databases` of them, 0 to databases-1) would only show up later as a broker or cache that
    never answers, so it stops start-up here with ImproperlyConfigured instead; numbers are never
    wrapped round, which would put two uses on one database.
    """
    parts = urlsplit(base_url)
    path = parts.path.strip("/")
    db = int(path) if path.isdigit() else 0
    if db + offset >= databases:
        raise ImproperlyConfigured(
            f"REDIS_URL names database {db}, and the cache, channel layer and Celery broker use "
            f"databases N, N+1 and N+2 from it, but database {db + offset} does not exist: Redis "
            f"has {databases} databases (0-{databases - 1}). Use a database number of at most "
            f"{databases - REDIS_DATABASES_USED} in REDIS_URL, or set REDIS_DATABASES to the "
            "server's `databases` setting."
        )
    return urlunsplit((parts.scheme, parts.netloc, f"/{db + offset}", parts.query, parts.fragment))


def redis_channel_layer(url: str) -> dict[str, Any]:
    """The Redis pub/sub channel layer on `url` (REDIS_URL's database N+1).

    Redis pub/sub channels belong to the whole server, not to a database number, so the number
    goes into the layer's prefix: sites, test workers or benchmarks that share one Redis on
    different database numbers never hear each other's groups (room 1 of one is not room 1 of
    the other).
    """
    db = urlsplit(url).path.strip("/") or "0"
    return {
        "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
        "CONFIG": {"hosts": [url], "prefix": f"asgi.db{db}."},
    }
