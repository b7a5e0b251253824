"""Reads: unread counts (cached for the site header), preferences with their defaults."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.core.cache import cache
from django.db.models import Count, QuerySet

from apps.notifications.kinds import KINDS, get_kind
from apps.notifications.models import DeliverySettings, Notification, Preference

# Writers clear the cached count, so it is normally exact. The short life covers embedded mode,
# where the cache is per process and `make beat` (another process) creates reminders: the web
# process's bell catches up within this many seconds.
UNREAD_CACHE_SECONDS = 60


def _unread_key(user_id: int) -> str:
    return f"notifications:unread:{user_id}"


def in_app(user_id: int) -> QuerySet[Notification]:
    """What the person sees in the app (the list page): their in-app notifications, newest first."""
    return Notification.objects.filter(recipient_id=user_id, show_in_app=True).order_by(
        "-created_at", "-pk"
    )


def _unread() -> QuerySet[Notification]:
    return Notification.objects.filter(show_in_app=True, read_at__isnull=True)


def unread_queryset(user_id: int) -> QuerySet[Notification]:
    return _unread().filter(recipient_id=user_id)


def unread_count(user_id: int) -> int:
    """The bell's number: from the cache (shared by every process with Redis), else one query."""
    key = _unread_key(user_id)
    count = cache.get(key)
    if count is None:
        count = unread_queryset(user_id).count()
        cache.set(key, count, UNREAD_CACHE_SECONDS)
    return int(count)


def unread_counts(user_ids: Iterable[int]) -> dict[int, int]:
    """Unread counts of many people in one query (for pushing to each of them)."""
    ids = list(user_ids)
    counts = dict.fromkeys(ids, 0)
    rows = (
        _unread()
        .filter(recipient_id__in=ids)
        .values("recipient_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for row in rows:
        counts[row["recipient_id"]] = row["n"]
    cache.set_many({_unread_key(uid): n for uid, n in counts.items()}, UNREAD_CACHE_SECONDS)
    return counts


def forget_unread_counts(user_ids: Iterable[int]) -> None:
    cache.delete_many([_unread_key(uid) for uid in user_ids])


@dataclass(frozen=True)
class Choice:
    in_app: bool
    email: bool


def choices_for(user_ids: Iterable[int], kind: str) -> dict[int, Choice]:
    """Each person's channels for `kind` (their saved choice or the kind's default); one query."""
    ids = list(user_ids)
    default = get_kind(kind)
    chosen = {
        p.user_id: Choice(p.in_app, p.email)
        for p in Preference.objects.filter(user_id__in=ids, kind=kind)
    }
    return {uid: chosen.get(uid, Choice(default.in_app, default.email)) for uid in ids}


def preferences_of(user_id: int) -> dict[str, Choice]:
    """Every kind's channels for one person, in registry order; one query."""
    saved = {p.kind: p for p in Preference.objects.filter(user_id=user_id)}
    result = {}
    for key, kind in KINDS.items():
        pref = saved.get(key)
        result[key] = Choice(pref.in_app, pref.email) if pref else Choice(kind.in_app, kind.email)
    return result


def daily_digest_users(user_ids: Iterable[int]) -> set[int]:
    """Those of `user_ids` who asked for a daily digest instead of immediate emails; one query."""
    return set(
        DeliverySettings.objects.filter(
            user_id__in=list(user_ids), email_frequency=DeliverySettings.Frequency.DAILY
        ).values_list("user_id", flat=True)
    )


def email_frequency_of(user_id: int) -> str:
    value = (
        DeliverySettings.objects.filter(user_id=user_id)
        .values_list("email_frequency", flat=True)
        .first()
    )
    return value or DeliverySettings.Frequency.IMMEDIATE
