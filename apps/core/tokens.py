"""The shape of every secret token in a URL or a frame, checked in one place before any query.

Meeting, calendar-feed and invitation tokens come from `secrets.token_urlsafe` (URL-safe
base64: letters, digits, `-` and `_`); unsubscribe tokens are Django-signed values (the same
alphabet plus `:`). Anything else (a NUL byte, `%ff`, 10,000 characters, `..`, other unicode)
cannot be a token: URL converters refuse it (404) and loaders treat it as "not found" without
asking the database, which would refuse NUL in text with an error instead of an answer.
"""

from __future__ import annotations

import re
from typing import Any

TOKEN_MAX_LENGTH = 64
SIGNED_TOKEN_MAX_LENGTH = 512

_TOKEN = rf"[A-Za-z0-9_-]{{1,{TOKEN_MAX_LENGTH}}}"
_SIGNED_TOKEN = rf"[A-Za-z0-9_:-]{{1,{SIGNED_TOKEN_MAX_LENGTH}}}"
_TOKEN_RE = re.compile(_TOKEN)
_SIGNED_TOKEN_RE = re.compile(_SIGNED_TOKEN)


def is_token(value: Any) -> bool:
    """True when `value` has the shape of a random URL-safe token."""
    return isinstance(value, str) and _TOKEN_RE.fullmatch(value) is not None


def is_signed_token(value: Any) -> bool:
    """True when `value` has the shape of a Django-signed token."""
    return isinstance(value, str) and _SIGNED_TOKEN_RE.fullmatch(value) is not None


class TokenConverter:
    """`<token:name>` in a URL pattern: only a token's alphabet and length match."""

    regex = _TOKEN

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


class SignedTokenConverter(TokenConverter):
    """`<signed:name>`: a Django-signed token."""

    regex = _SIGNED_TOKEN


def register_converters() -> None:
    from django.urls import register_converter

    register_converter(TokenConverter, "token")
    register_converter(SignedTokenConverter, "signed")
