"""The per-connection token bucket every WebSocket consumer uses (signaling, notifications)."""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import StrEnum


class Verdict(StrEnum):
    ALLOW = "allow"
    DROP_AND_TELL = "drop_and_tell"  # drop, send one `rate_limited` error
    DROP = "drop"  # drop silently (an error went out less than a second ago)
    CLOSE = "close"  # drops went on past another burst's worth: close 4429


class RateLimiter:
    """A token bucket per connection: `rate` frames per second sustained, `burst` at once.

    Over the limit a frame is dropped; the client hears `rate_limited` at most once a second.
    A flood episode lasts until the client has gone a whole second without a drop; when one
    episode drops more than `burst` frames the connection is closed (4429).
    """

    __slots__ = (
        "_clock",
        "_drops",
        "_last_drop",
        "_last_notice",
        "_tokens",
        "_updated",
        "burst",
        "rate",
    )
    NOTICE_INTERVAL = 1.0
    QUIET_PERIOD = 1.0

    def __init__(
        self, *, rate: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be positive and burst at least 1")
        self.rate = float(rate)
        self.burst = int(burst)
        self._clock = clock
        self._tokens = float(burst)
        self._updated = clock()
        self._drops = 0
        self._last_drop = float("-inf")
        self._last_notice = float("-inf")

    def check(self) -> Verdict:
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
        self._updated = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            if now - self._last_drop >= self.QUIET_PERIOD:
                self._drops = 0
            return Verdict.ALLOW
        if now - self._last_drop >= self.QUIET_PERIOD:
            self._drops = 0
        self._drops += 1
        self._last_drop = now
        if self._drops > self.burst:
            return Verdict.CLOSE
        if now - self._last_notice >= self.NOTICE_INTERVAL:
            self._last_notice = now
            return Verdict.DROP_AND_TELL
        return Verdict.DROP
