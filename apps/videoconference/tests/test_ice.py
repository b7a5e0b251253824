"""ICE servers in the welcome: STUN/TURN from settings, TURN REST credentials with a secret.

That a real coturn accepts these credentials is proven in test_live_turn.py.
"""

from __future__ import annotations

import time
from typing import Any

from apps.videoconference.ice import ice_servers_for, turn_credentials

# Computed independently with OpenSSL:
# echo -n 1700003600:42 | openssl dgst -sha1 -hmac north-wind -binary | base64
KNOWN_CREDENTIAL = "YlpCluhk1i66cE5bZO2tP7aZqpY="


def test_no_servers_configured_gives_an_empty_list(settings: Any) -> None:
    settings.STUN_URLS = []
    settings.TURN_URLS = []

    assert ice_servers_for(42) == []


def test_stun_only(settings: Any) -> None:
    settings.STUN_URLS = ["stun:stun.example.test:3478"]
    settings.TURN_URLS = []

    assert ice_servers_for(42) == [{"urls": ["stun:stun.example.test:3478"]}]


def test_turn_without_a_secret_is_listed_without_credentials(settings: Any) -> None:
    settings.STUN_URLS = []
    settings.TURN_URLS = ["turn:turn.example.test:3478?transport=udp"]
    settings.TURN_SECRET = ""

    assert ice_servers_for(42) == [{"urls": ["turn:turn.example.test:3478?transport=udp"]}]


def test_turn_with_a_secret_carries_time_limited_rest_credentials(settings: Any) -> None:
    settings.STUN_URLS = ["stun:127.0.0.1:3478"]
    settings.TURN_URLS = ["turn:127.0.0.1:3478?transport=udp", "turn:127.0.0.1:3478?transport=tcp"]
    settings.TURN_SECRET = "north-wind"
    settings.TURN_CREDENTIAL_TTL = 3600

    servers = ice_servers_for(42, now=1_700_000_000.7)

    assert servers == [
        {"urls": ["stun:127.0.0.1:3478"]},
        {
            "urls": ["turn:127.0.0.1:3478?transport=udp", "turn:127.0.0.1:3478?transport=tcp"],
            "username": "1700003600:42",
            "credential": KNOWN_CREDENTIAL,
        },
    ]
    assert "north-wind" not in repr(servers)


def test_credentials_expire_one_ttl_from_now(settings: Any) -> None:
    settings.TURN_URLS = ["turn:127.0.0.1:3478"]
    settings.TURN_SECRET = "north-wind"
    settings.TURN_CREDENTIAL_TTL = 600
    before = int(time.time())

    (server,) = [s for s in ice_servers_for(7) if "username" in s]

    expiry, user_id = server["username"].split(":")
    assert user_id == "7"
    assert before + 600 <= int(expiry) <= int(time.time()) + 600


def test_each_user_gets_their_own_credential() -> None:
    ada = turn_credentials(secret="s", user_id=1, ttl=60, now=1000)
    bob = turn_credentials(secret="s", user_id=2, ttl=60, now=1000)
    other_secret = turn_credentials(secret="t", user_id=1, ttl=60, now=1000)

    assert ada["username"] == "1060:1"
    assert ada["credential"] != bob["credential"]
    assert ada["credential"] != other_secret["credential"]
