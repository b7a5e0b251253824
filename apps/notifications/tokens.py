"""Signed one-click unsubscribe tokens: they name a person and a kind, and cannot be forged.

They do not expire: an unsubscribe link in an old email must still work (RFC 8058 asks that it
keep working for a reasonable time; there is nothing to protect by expiring it).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core import signing

from apps.core.tokens import is_signed_token
from apps.notifications.kinds import KINDS

_SALT = "onlineteacher.notifications.unsubscribe"


@dataclass(frozen=True)
class UnsubscribeRequest:
    user_id: int
    kind: str


def make_unsubscribe_token(*, user_id: int, kind: str) -> str:
    return signing.dumps({"u": user_id, "k": kind}, salt=_SALT, compress=False)


def read_unsubscribe_token(token: str) -> UnsubscribeRequest | None:
    """The request the token carries, or None for a tampered, truncated or unknown one."""
    if not is_signed_token(token):
        return None
    try:
        data = signing.loads(token, salt=_SALT)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict):
        return None
    user_id, kind = data.get("u"), data.get("k")
    if not isinstance(user_id, int) or not isinstance(kind, str) or kind not in KINDS:
        return None
    return UnsubscribeRequest(user_id=user_id, kind=kind)
