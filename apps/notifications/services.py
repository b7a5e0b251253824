"""The one way to notify people, and the writes behind the bell and the preferences page.

`notify()` stores one Notification per person (skipping people already told of the same event),
then, after commit, a task pushes the new ones to open tabs and queues the emails. Other apps
call `notify()` from their tasks; they never write Notification rows themselves.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone, translation

from apps.accounts.models import User
from apps.core.tasks import enqueue_on_commit
from apps.notifications import selectors
from apps.notifications.kinds import KINDS, get_kind
from apps.notifications.models import DeliverySettings, Notification, Preference
from apps.notifications.tokens import read_unsubscribe_token

logger = logging.getLogger(__name__)

TITLE_MAX = 200
BODY_MAX = 2000


@transaction.atomic
def notify(
    *,
    recipient_ids: Iterable[int],
    kind: str,
    title: str,
    body: str = "",
    url: str = "",
    event_at: datetime | None = None,
    dedupe_key: str = "",
) -> list[Notification]:
    """Tell each recipient about one event through the channels they chose for `kind`.

    With a `dedupe_key` a person is told of the event once however often this is called (a
    redelivered task, a beat that ran twice). Returns the notifications created now. A fixed
    number of queries for any number of recipients.
    """
    get_kind(kind)  # an unknown kind is a programming error
    ids = sorted(set(recipient_ids))
    if not ids:
        return []
    if dedupe_key:
        told = set(
            Notification.objects.filter(recipient_id__in=ids, dedupe_key=dedupe_key).values_list(
                "recipient_id", flat=True
            )
        )
        ids = [uid for uid in ids if uid not in told]
    active = set(User.objects.filter(pk__in=ids, is_active=True).values_list("pk", flat=True))
    ids = [uid for uid in ids if uid in active]
    if not ids:
        return []
    choices = selectors.choices_for(ids, kind)
    digest_users = selectors.daily_digest_users(ids)
    rows = []
    for uid in ids:
        choice = choices[uid]
        if not choice.email:
            email_status = Notification.EmailStatus.NONE
        elif uid in digest_users:
            email_status = Notification.EmailStatus.DIGEST
        else:
            email_status = Notification.EmailStatus.PENDING
        rows.append(
            Notification(
                recipient_id=uid,
                kind=kind,
                title=title[:TITLE_MAX],
                body=body[:BODY_MAX],
                url=url,
                event_at=event_at,
                dedupe_key=dedupe_key,
                show_in_app=choice.in_app,
                email_status=email_status,
            )
        )
    created = _insert(rows)
    if created:
        ids_created = [n.pk for n in created]
        _forget_unread_counts([n.recipient_id for n in created])
        from apps.notifications.tasks import deliver_notifications

        enqueue_on_commit(deliver_notifications, ids_created)
        logger.info(
            "notifications.created",
            extra={"event": "notifications.created", "kind": kind, "count": len(created)},
        )
    return created


def _insert(rows: list[Notification]) -> list[Notification]:
    """Insert in one statement; if a concurrent run told some of these people first (the unique
    constraint fires), insert one by one and skip those."""
    try:
        with transaction.atomic():
            return Notification.objects.bulk_create(rows)
    except IntegrityError:
        created = []
        for row in rows:
            row.pk = None
            try:
                with transaction.atomic():
                    row.save()
            except IntegrityError:
                continue
            created.append(row)
        return created


def _forget_unread_counts(user_ids: list[int]) -> None:
    """Drop cached counts now and again after commit: a page rendered meanwhile reads the
    committed rows (without this change) and would cache that count for an hour."""
    selectors.forget_unread_counts(user_ids)
    transaction.on_commit(lambda: selectors.forget_unread_counts(user_ids))


def _push_unread(user_id: int) -> None:
    from apps.notifications import realtime

    count = selectors.unread_count(user_id)
    realtime.push([(user_id, {"type": "unread", "unread": count})])


def mark_read(*, user: User, notification: Notification) -> Notification:
    """Mark one of the user's notifications read (again: harmless) and update open tabs."""
    if notification.recipient_id != user.pk:
        raise ValueError("not the recipient's notification")  # callers load through policies
    if notification.read_at is None:
        notification.read_at = timezone.now()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
            read_at=notification.read_at
        )
        _forget_unread_counts([user.pk])
        transaction.on_commit(lambda: _push_unread(user.pk))
    return notification


def mark_all_read(*, user: User) -> int:
    changed = selectors.unread_queryset(user.pk).update(read_at=timezone.now())
    _forget_unread_counts([user.pk])
    transaction.on_commit(lambda: _push_unread(user.pk))
    return changed


@transaction.atomic
def set_preferences(
    *, user: User, choices: Mapping[str, tuple[bool, bool]], email_frequency: str | None = None
) -> None:
    """Save the user's (in_app, email) choice per kind, and optionally the email frequency."""
    unknown = set(choices) - set(KINDS)
    if unknown:
        raise ValueError(f"unknown notification kinds: {sorted(unknown)}")
    gated = [kind for kind in choices if get_kind(kind).email_consent]
    before = {kind: selectors.choices_for([user.pk], kind)[user.pk].email for kind in gated}
    for kind, (in_app, email) in choices.items():
        Preference.objects.update_or_create(
            user=user, kind=kind, defaults={"in_app": in_app, "email": email}
        )
    for kind in gated:
        if choices[kind][1] != before[kind]:
            _note_consent(user=user, kind=kind, email=choices[kind][1])
    if email_frequency is not None:
        if email_frequency not in DeliverySettings.Frequency.values:
            raise ValueError(f"unknown email frequency: {email_frequency}")
        DeliverySettings.objects.update_or_create(
            user=user, defaults={"email_frequency": email_frequency}
        )
    logger.info(
        "notifications.preferences_changed",
        extra={"event": "notifications.preferences_changed", "user_id": user.pk},
    )


@transaction.atomic
def unsubscribe(*, token: str) -> tuple[User, str] | None:
    """Turn off email for the kind the signed token names; None when the token is not valid.

    No sign-in is needed: the signature is the proof. Doing it twice is harmless. Emails of
    that kind still waiting to be sent are not sent.
    """
    request = read_unsubscribe_token(token)
    if request is None:
        return None
    user = User.objects.filter(pk=request.user_id).first()
    if user is None:
        return None
    pref, _ = Preference.objects.get_or_create(
        user=user,
        kind=request.kind,
        defaults={"in_app": get_kind(request.kind).in_app, "email": False},
    )
    if pref.email:
        pref.email = False
        pref.save(update_fields=["email", "updated_at"])
    if get_kind(request.kind).email_consent:
        _note_consent(user=user, kind=request.kind, email=False)
    _stop_waiting_emails(user=user, kind=request.kind)
    logger.info(
        "notifications.unsubscribed",
        extra={"event": "notifications.unsubscribed", "user_id": user.pk, "kind": request.kind},
    )
    return user, request.kind


def _stop_waiting_emails(*, user: User, kind: str) -> None:
    """Emails of `kind` not sent yet are not sent (the send task checks the choice again too)."""
    Notification.objects.filter(
        recipient=user,
        kind=kind,
        email_status__in=[Notification.EmailStatus.PENDING, Notification.EmailStatus.DIGEST],
    ).update(email_status=Notification.EmailStatus.NONE)


def _note_consent(*, user: User, kind: str, email: bool) -> None:
    from apps.privacy.consent import note_purpose_change
    from apps.privacy.models import Consent

    note_purpose_change(
        user=user,
        purpose=get_kind(kind).email_consent,
        given=email,
        source=Consent.Source.NOTIFICATION_SETTINGS,
    )


@transaction.atomic
def set_email_for_kind(*, user: User, kind: str, email: bool) -> None:
    """Switch email for one kind on or off (an optional consent given or withdrawn, see
    apps.privacy.consent); off also stops the emails of that kind still waiting."""
    pref, created = Preference.objects.get_or_create(
        user=user, kind=kind, defaults={"in_app": get_kind(kind).in_app, "email": email}
    )
    if not created and pref.email != email:
        pref.email = email
        pref.save(update_fields=["email", "updated_at"])
    if not email:
        _stop_waiting_emails(user=user, kind=kind)


def notify_in_their_language(
    recipients: Iterable[tuple[int, str | None]],
    *,
    kind: str,
    text: Callable[[], tuple[str, str]],
    url: str,
    dedupe_key: str,
    event_at: datetime | None = None,
) -> int:
    """`notify()` each recipient with the title and body `text()` gives in their language.

    One `notify()` per language present (a handful at most), not per person. Returns how many
    notifications were created (0 when everyone was told already).
    """
    by_language: dict[str, set[int]] = {}
    for user_id, language in recipients:
        by_language.setdefault(language or settings.LANGUAGE_CODE, set()).add(user_id)
    created = 0
    for language, user_ids in sorted(by_language.items()):
        with translation.override(language):
            title, body = text()
        created += len(
            notify(
                recipient_ids=user_ids,
                kind=kind,
                title=title,
                body=body,
                url=url,
                event_at=event_at,
                dedupe_key=dedupe_key,
            )
        )
    return created
