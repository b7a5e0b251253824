"""Every action name used in apps/ is in the one list (apps/activity/actions.py)."""

from __future__ import annotations

import re
from pathlib import Path

from apps.activity.actions import ACTIONS, SECURITY_ACTIONS

APPS = Path(__file__).resolve().parents[2]
# The literal action names that follow a `record(` call (within its first few lines).
LITERAL = re.compile(r"\"([a-z][a-z0-9_]*\.[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*)\"")


CALLERS = re.compile(r"\b(record|record_activity|_own_account|_account_receiver|_mfa_receiver)\(")


def _sources() -> list[Path]:
    return [p for p in APPS.rglob("*.py") if "tests" not in p.parts and "migrations" not in p.parts]


def test_every_literal_action_in_a_record_call_is_listed():
    used: set[str] = set()
    for path in _sources():
        text = path.read_text()
        for call in re.finditer(
            r"\b(record|record_activity|_own_account|_account_receiver|_mfa_receiver)\(", text
        ):
            window = text[call.end() : call.end() + 400]
            found = LITERAL.findall(window)
            if found:
                used.add(found[0])
            elif "receiver(" in window or 'f"videoconference.session.' in window:
                continue
    unknown = used - set(ACTIONS)
    assert not unknown, f"add to apps/activity/actions.py: {sorted(unknown)}"
    assert "accounts.login.failed" in used
    assert len(used) > 20


def test_names_are_namespaced_and_security_ones_are_flagged():
    for name in ACTIONS:
        assert re.fullmatch(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*){2}", name), name
    assert "accounts.login.succeeded" in SECURITY_ACTIONS
    assert "courses.enrollment.approved" not in SECURITY_ACTIONS
