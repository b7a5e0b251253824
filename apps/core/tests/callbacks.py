"""Telling a feature's on-commit callbacks from the bookkeeping every write may add.

The activity log writes its events on commit, and the 2FA rule drops its cached answer on
commit when a user's groups or factors change; tests that count "one task per transaction" or
"nothing sent before the commit" count the feature's own callbacks only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

BOOKKEEPING_MODULES = ("apps.activity.", "apps.accounts.mfa")


def _module_of(callback: Callable[..., Any]) -> str:
    target = getattr(callback, "func", callback)  # functools.partial
    return getattr(target, "__module__", "") or ""


def feature_callbacks(callbacks: Iterable[Callable[..., Any]]) -> list[Callable[..., Any]]:
    return [c for c in callbacks if not _module_of(c).startswith(BOOKKEEPING_MODULES)]
