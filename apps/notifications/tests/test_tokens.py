"""Unsubscribe tokens: the signature is the only proof, so anything not signed by us for this
purpose is refused and changes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import signing

from apps.accounts.models import User
from apps.accounts.tests.factories import make_user
from apps.notifications import selectors, services
from apps.notifications.kinds import KINDS, SESSION_REMINDER, SESSION_SCHEDULED
from apps.notifications.models import Notification, Preference
from apps.notifications.tokens import (
    UnsubscribeRequest,
    make_unsubscribe_token,
    read_unsubscribe_token,
)

SALT = "onlineteacher.notifications.unsubscribe"


def _change_one_char(token: str, index: int) -> str:
    replacement = "A" if token[index] != "A" else "B"
    return token[:index] + replacement + token[index + 1 :]


def test_a_token_names_the_person_and_the_kind() -> None:
    token = make_unsubscribe_token(user_id=42, kind=SESSION_REMINDER)

    assert read_unsubscribe_token(token) == UnsubscribeRequest(user_id=42, kind=SESSION_REMINDER)
    assert "/" not in token  # it sits in one URL path segment


def test_tokens_for_different_people_or_kinds_differ() -> None:
    tokens = {make_unsubscribe_token(user_id=uid, kind=kind) for uid in (1, 2) for kind in KINDS}

    assert len(tokens) == 2 * len(KINDS)


@pytest.mark.parametrize("where", ["payload", "timestamp", "signature", "last"])
def test_a_token_with_one_character_changed_is_refused(where: str) -> None:
    token = make_unsubscribe_token(user_id=42, kind=SESSION_REMINDER)
    payload, timestamp, _signature = token.split(":")
    index = {
        "payload": 3,
        "timestamp": len(payload) + 2,
        "signature": len(payload) + len(timestamp) + 5,
        "last": len(token) - 1,
    }[where]

    assert read_unsubscribe_token(_change_one_char(token, index)) is None


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(
            signing.dumps({"u": 42, "k": SESSION_REMINDER}, salt="another.purpose"),
            id="signed-for-another-salt",
        ),
        pytest.param(
            signing.dumps({"u": 42, "k": SESSION_REMINDER}, salt=SALT, key="another-secret" * 4),
            id="signed-with-another-key",
        ),
        pytest.param(signing.dumps({"u": 42, "k": "newsletter"}, salt=SALT), id="unknown-kind"),
        pytest.param(signing.dumps({"u": "42", "k": SESSION_REMINDER}, salt=SALT), id="id-text"),
        pytest.param(signing.dumps([42, SESSION_REMINDER], salt=SALT), id="not-a-mapping"),
        pytest.param("", id="empty"),
        pytest.param("not-a-token", id="garbage"),
    ],
)
def test_a_token_not_made_for_unsubscribing_is_refused(token: str) -> None:
    assert read_unsubscribe_token(token) is None


@pytest.fixture
def subscribed(django_capture_on_commit_callbacks: Any) -> tuple[User, Notification]:
    """A person with an email of SESSION_SCHEDULED still waiting to be sent."""
    user = make_user()
    with django_capture_on_commit_callbacks(execute=False):
        (waiting,) = services.notify(
            recipient_ids=[user.pk], kind=SESSION_SCHEDULED, title="Fractions"
        )
    return user, waiting


@pytest.mark.django_db
@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(lambda t, uid: _change_one_char(t, len(t) - 10), id="one-character-changed"),
        pytest.param(
            lambda t, uid: signing.dumps({"u": uid, "k": SESSION_SCHEDULED}, salt="password"),
            id="signed-for-another-salt",
        ),
        pytest.param(
            lambda t, uid: signing.dumps({"u": uid, "k": "newsletter"}, salt=SALT),
            id="unknown-kind",
        ),
    ],
)
def test_unsubscribe_with_a_forged_token_changes_nothing(
    subscribed: tuple[User, Notification], forge: Any
) -> None:
    user, waiting = subscribed
    genuine = make_unsubscribe_token(user_id=user.pk, kind=SESSION_SCHEDULED)

    assert services.unsubscribe(token=forge(genuine, user.pk)) is None

    assert not Preference.objects.filter(user=user).exists()
    assert selectors.preferences_of(user.pk)[SESSION_SCHEDULED].email is True
    waiting.refresh_from_db()
    assert waiting.email_status == Notification.EmailStatus.PENDING


@pytest.mark.django_db
def test_unsubscribe_for_a_deleted_person_changes_nothing() -> None:
    token = make_unsubscribe_token(user_id=987654, kind=SESSION_SCHEDULED)

    assert services.unsubscribe(token=token) is None
    assert not Preference.objects.exists()


@pytest.mark.django_db
def test_unsubscribe_turns_off_only_that_kinds_email_for_only_that_person(
    subscribed: tuple[User, Notification],
) -> None:
    user, waiting = subscribed
    other = make_user()
    services.set_preferences(user=user, choices={SESSION_SCHEDULED: (False, True)})
    token = make_unsubscribe_token(user_id=user.pk, kind=SESSION_SCHEDULED)

    assert services.unsubscribe(token=token) == (user, SESSION_SCHEDULED)
    assert services.unsubscribe(token=token) == (user, SESSION_SCHEDULED)  # again: harmless

    mine = selectors.preferences_of(user.pk)
    assert mine[SESSION_SCHEDULED].email is False
    assert mine[SESSION_SCHEDULED].in_app is False  # their earlier in-app choice is kept
    assert all(choice.email for kind, choice in mine.items() if kind != SESSION_SCHEDULED)
    assert all(choice.email for choice in selectors.preferences_of(other.pk).values())
    waiting.refresh_from_db()
    assert waiting.email_status == Notification.EmailStatus.NONE
