"""notify(): who is told, through which channel, once per event, at a fixed cost."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

from apps.accounts.models import User
from apps.accounts.tests.factories import make_user
from apps.core.tests.smtp import SmtpSink
from apps.notifications import selectors, services
from apps.notifications.kinds import LESSON_PUBLISHED, SESSION_SCHEDULED
from apps.notifications.models import Notification

pytestmark = pytest.mark.django_db

Email = Notification.EmailStatus


def _notify(recipients: Iterable[User], **kwargs: Any) -> list[Notification]:
    params: dict[str, Any] = {
        "kind": SESSION_SCHEDULED,
        "title": "Fractions: live session on Tuesday",
        "body": "Bring your worksheet.",
        "url": "/live/7/",
    }
    params.update(kwargs)
    return services.notify(recipient_ids=[u.pk for u in recipients], **params)


def test_notify_stores_one_notification_per_recipient(
    smtp_sink: SmtpSink, django_capture_on_commit_callbacks: Any
) -> None:
    ada, bob = make_user(), make_user()

    with django_capture_on_commit_callbacks(execute=True):
        created = services.notify(
            recipient_ids=[ada.pk, bob.pk, ada.pk],
            kind=SESSION_SCHEDULED,
            title="Fractions: live session on Tuesday",
            url="/live/7/",
        )

    assert sorted(n.recipient_id for n in created) == sorted([ada.pk, bob.pk])
    assert Notification.objects.filter(recipient=ada).count() == 1
    assert selectors.unread_count(ada.pk) == 1
    assert selectors.unread_count(bob.pk) == 1
    assert sorted(m.to for m in smtp_sink.wait_for(2)) == sorted([ada.email, bob.email])


def test_notify_twice_with_the_same_dedupe_key_tells_each_person_once(
    smtp_sink: SmtpSink, django_capture_on_commit_callbacks: Any
) -> None:
    ada = make_user()

    with django_capture_on_commit_callbacks(execute=True):
        first = _notify([ada], dedupe_key="session:7:scheduled")
    with django_capture_on_commit_callbacks(execute=True):
        again = _notify([ada], dedupe_key="session:7:scheduled")

    assert len(first) == 1
    assert again == []
    assert Notification.objects.filter(recipient=ada).count() == 1
    assert selectors.unread_count(ada.pk) == 1
    assert len(smtp_sink.received()) == 1


def test_notify_repeated_for_a_wider_audience_tells_only_the_new_people(
    django_capture_on_commit_callbacks: Any,
) -> None:
    ada, bob = make_user(), make_user()

    with django_capture_on_commit_callbacks(execute=True):
        _notify([ada], dedupe_key="session:7:scheduled", url="")
        created = _notify([ada, bob], dedupe_key="session:7:scheduled", url="")

    assert [n.recipient_id for n in created] == [bob.pk]
    assert Notification.objects.filter(dedupe_key="session:7:scheduled").count() == 2


def test_notify_skips_people_a_concurrent_run_told_in_the_meantime(
    monkeypatch: pytest.MonkeyPatch,
    smtp_sink: SmtpSink,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """Another process commits the same event for bob after this run checked who was told:
    the unique constraint fires and bob is skipped, everyone else is still told."""
    ada, bob, cy = make_user(), make_user(), make_user()
    real_digest_users = selectors.daily_digest_users

    def concurrent_run_commits_first(user_ids: Iterable[int]) -> set[int]:
        Notification.objects.create(
            recipient=bob, kind=SESSION_SCHEDULED, title="told by the other run", dedupe_key="k"
        )
        return real_digest_users(user_ids)

    monkeypatch.setattr(selectors, "daily_digest_users", concurrent_run_commits_first)

    with django_capture_on_commit_callbacks(execute=True):
        created = _notify([ada, bob, cy], dedupe_key="k")

    assert sorted(n.recipient_id for n in created) == sorted([ada.pk, cy.pk])
    assert Notification.objects.filter(recipient=bob, dedupe_key="k").count() == 1
    assert Notification.objects.filter(dedupe_key="k").count() == 3
    assert sorted(m.to for m in smtp_sink.wait_for(2)) == sorted([ada.email, cy.email])


@pytest.mark.skipif(
    "postgresql" not in settings.DATABASES["default"]["ENGINE"],
    reason="two transactions really overlapping need PostgreSQL (set DATABASE_URL); SQLite "
    "serialises writers, the test above covers the constraint path there",
)
@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_notify_calls_tell_each_person_once(
    monkeypatch: pytest.MonkeyPatch, smtp_sink: SmtpSink
) -> None:
    people = [make_user() for _ in range(5)]
    both_checked = threading.Barrier(2, timeout=20)
    real_choices_for = selectors.choices_for
    in_notify = threading.local()

    def wait_for_the_other_run(user_ids: Iterable[int], kind: str) -> Any:
        # Both runs have looked for earlier notifications (none yet) before either inserts.
        # (Only inside notify(): the email task asks for choices too, after the commit.)
        if getattr(in_notify, "active", False):
            in_notify.active = False
            both_checked.wait()
        return real_choices_for(user_ids, kind)

    monkeypatch.setattr(selectors, "choices_for", wait_for_the_other_run)
    results: list[list[Notification]] = []
    errors: list[BaseException] = []

    def run() -> None:
        in_notify.active = True
        try:
            results.append(_notify(people, dedupe_key="session:9:scheduled"))
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert sorted(len(r) for r in results) == [0, 5]
    for person in people:
        assert Notification.objects.filter(recipient=person).count() == 1
    assert sorted(m.to for m in smtp_sink.wait_for(5)) == sorted(p.email for p in people)


def test_notify_skips_deactivated_people(django_capture_on_commit_callbacks: Any) -> None:
    active, gone = make_user(), make_user()
    gone.is_active = False
    gone.save(update_fields=["is_active"])

    with django_capture_on_commit_callbacks(execute=True):
        created = _notify([active, gone])

    assert [n.recipient_id for n in created] == [active.pk]
    assert not Notification.objects.filter(recipient=gone).exists()


def test_in_app_turned_off_keeps_the_notification_off_the_bell(
    smtp_sink: SmtpSink, django_capture_on_commit_callbacks: Any
) -> None:
    quiet, default = make_user(), make_user()
    services.set_preferences(user=quiet, choices={SESSION_SCHEDULED: (False, True)})

    with django_capture_on_commit_callbacks(execute=True):
        _notify([quiet, default])

    assert Notification.objects.get(recipient=quiet).show_in_app is False
    assert selectors.unread_count(quiet.pk) == 0
    assert selectors.unread_count(default.pk) == 1
    # Email is still on for that kind.
    assert sorted(m.to for m in smtp_sink.wait_for(2)) == sorted([quiet.email, default.email])


def test_email_turned_off_sends_no_email_but_keeps_the_bell(
    smtp_sink: SmtpSink, django_capture_on_commit_callbacks: Any
) -> None:
    ada = make_user()
    services.set_preferences(user=ada, choices={SESSION_SCHEDULED: (True, False)})

    with django_capture_on_commit_callbacks(execute=True):
        _notify([ada])
        # Another kind still emails: the choice is per kind.
        _notify([ada], kind=LESSON_PUBLISHED, title="New lesson: Decimals")

    statuses = dict(Notification.objects.values_list("kind", "email_status"))
    assert statuses == {SESSION_SCHEDULED: Email.NONE, LESSON_PUBLISHED: Email.SENT}
    assert selectors.unread_count(ada.pk) == 2
    assert [m.subject for m in smtp_sink.received()] == [
        f"[{settings.SITE_NAME}] New lesson: Decimals"
    ]


def test_daily_digest_readers_get_no_immediate_email(
    smtp_sink: SmtpSink, django_capture_on_commit_callbacks: Any
) -> None:
    daily, immediate = make_user(), make_user()
    services.set_preferences(user=daily, choices={}, email_frequency="daily")

    with django_capture_on_commit_callbacks(execute=True):
        _notify([daily, immediate])

    assert Notification.objects.get(recipient=daily).email_status == Email.DIGEST
    assert Notification.objects.get(recipient=immediate).email_status == Email.SENT
    assert [m.to for m in smtp_sink.received()] == [immediate.email]
    assert selectors.unread_count(daily.pk) == 1


def test_notify_costs_the_same_queries_for_one_or_forty_people(
    django_assert_num_queries: Any,
) -> None:
    """Dedupe check, active people, choices, digest readers, and one insert (in savepoints)."""
    few = [make_user()]
    many = [make_user() for _ in range(40)]
    for person in many[::3]:
        services.set_preferences(user=person, choices={SESSION_SCHEDULED: (False, True)})
    for person in many[1::3]:
        services.set_preferences(user=person, choices={}, email_frequency="daily")

    with django_assert_num_queries(9):
        assert len(_notify(few, dedupe_key="a")) == 1
    with django_assert_num_queries(9):
        assert len(_notify(many, dedupe_key="a")) == 40


def test_notify_with_an_unknown_kind_is_a_programming_error() -> None:
    with pytest.raises(KeyError):
        _notify([make_user()], kind="no_such_kind")
