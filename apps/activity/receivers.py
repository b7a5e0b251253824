"""Signal receivers that record account events (Django auth, allauth account and MFA)."""

from __future__ import annotations

from typing import Any

from allauth.account import signals as account_signals
from allauth.mfa import signals as mfa_signals
from django.contrib.auth import get_user_model
from django.contrib.auth import signals as auth_signals

from apps.activity.services import record


def _own_account(user: Any, action: str, request: Any, **context: Any) -> None:
    record(user, action, user, request=request, target_label=f"account {user.pk}", **context)


def on_logged_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    _own_account(user, "accounts.login.succeeded", request)


def on_logged_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None and getattr(user, "is_authenticated", False):
        _own_account(user, "accounts.logout.succeeded", request)


def on_login_failed(
    sender: Any, credentials: dict[str, Any], request: Any = None, **kw: Any
) -> None:
    # The attempted address is never stored: only the account it belongs to, if any.
    attempted = credentials.get("email") or credentials.get("username") or ""
    user = None
    if attempted:
        user = get_user_model().objects.filter(email__iexact=str(attempted)).first()
    if user is not None:
        _own_account(user, "accounts.login.failed", request)
    else:
        record(None, "accounts.login.failed", request=request, known_account=False)


def _account_receiver(action: str) -> Any:
    def receiver(sender: Any, request: Any = None, user: Any = None, **kwargs: Any) -> None:
        if user is not None:
            _own_account(user, action, request)

    receiver.__name__ = f"on_{action.replace('.', '_')}"
    return receiver


def on_email_confirmed(
    sender: Any, request: Any = None, email_address: Any = None, **kw: Any
) -> None:
    if email_address is not None:
        _own_account(email_address.user, "accounts.email.confirmed", request)


def _mfa_receiver(action: str) -> Any:
    def receiver(
        sender: Any, request: Any = None, user: Any = None, authenticator: Any = None, **kw: Any
    ) -> None:
        if user is not None:
            kind = getattr(authenticator, "type", "")
            _own_account(user, action, request, factor=kind)

    receiver.__name__ = f"on_{action.replace('.', '_')}"
    return receiver


_RECEIVERS: list[tuple[Any, Any]] = []


def connect() -> None:
    """Connect every receiver (called once from ActivityConfig.ready)."""
    if _RECEIVERS:
        return
    pairs = [
        (auth_signals.user_logged_in, on_logged_in),
        (auth_signals.user_logged_out, on_logged_out),
        (auth_signals.user_login_failed, on_login_failed),
        (account_signals.password_changed, _account_receiver("accounts.password.changed")),
        (account_signals.password_set, _account_receiver("accounts.password.set")),
        (account_signals.password_reset, _account_receiver("accounts.password.reset")),
        (account_signals.email_added, _account_receiver("accounts.email.added")),
        (account_signals.email_changed, _account_receiver("accounts.email.changed")),
        (account_signals.email_removed, _account_receiver("accounts.email.removed")),
        (account_signals.email_confirmed, on_email_confirmed),
        (mfa_signals.authenticator_added, _mfa_receiver("accounts.mfa.added")),
        (mfa_signals.authenticator_removed, _mfa_receiver("accounts.mfa.removed")),
        (
            mfa_signals.authenticator_reset,
            _mfa_receiver("accounts.mfa.recovery_codes_regenerated"),
        ),
        (mfa_signals.authentication_failed, _mfa_receiver("accounts.mfa.failed")),
    ]
    for signal, receiver in pairs:
        signal.connect(receiver, dispatch_uid=f"activity.{receiver.__name__}")
        _RECEIVERS.append((signal, receiver))
