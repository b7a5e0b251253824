"""The ICE servers (STUN/TURN) handed to a peer in its `welcome`.

With `TURN_SECRET` set, the TURN entry carries time-limited credentials in the TURN REST format
coturn checks with `use-auth-secret`: username `"<expiry unix time>:<user id>"`, credential
`base64(HMAC-SHA1(secret, username))`. The secret itself never leaves the server.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import Any

from django.conf import settings


def turn_credentials(*, secret: str, user_id: int | str, ttl: int, now: float) -> dict[str, str]:
    expiry = int(now) + int(ttl)
    username = f"{expiry}:{user_id}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return {"username": username, "credential": base64.b64encode(digest).decode("ascii")}


def ice_servers_for(user_id: int | str, *, now: float | None = None) -> list[dict[str, Any]]:
    """RTCIceServer dicts for `user_id`, from STUN_URLS and TURN_URLS."""
    servers: list[dict[str, Any]] = []
    stun_urls = list(settings.STUN_URLS)
    turn_urls = list(settings.TURN_URLS)
    if stun_urls:
        servers.append({"urls": stun_urls})
    if turn_urls:
        server: dict[str, Any] = {"urls": turn_urls}
        if settings.TURN_SECRET:
            server.update(
                turn_credentials(
                    secret=settings.TURN_SECRET,
                    user_id=user_id,
                    ttl=settings.TURN_CREDENTIAL_TTL,
                    now=time.time() if now is None else now,
                )
            )
        servers.append(server)
    return servers
