"""The notification pages cost a fixed number of queries, however many notifications and saved
settings a person has.

Each page is measured with 5 and with 50 notifications (and with no saved settings and with all
of them saved): the counts must be equal and equal to the pinned number. Measured twice: with
the bell's count cached (what nearly every page view sees) and with the cache cleared.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import User
from apps.accounts.tests.factories import make_user
from apps.notifications import kinds, services
from apps.notifications.models import DeliverySettings, Notification

pytestmark = pytest.mark.django_db


def _person_with(n: int) -> User:
    """Someone with n notifications (a third read, kinds mixed); with 50, every setting saved."""
    user = make_user()
    keys = list(kinds.KINDS)
    if n >= 50:
        services.set_preferences(
            user=user,
            choices={key: (True, i % 2 == 0) for i, key in enumerate(keys)},
            email_frequency=DeliverySettings.Frequency.DAILY,
        )
    for i in range(n):
        services.notify(
            recipient_ids=[user.pk],
            kind=keys[i % len(keys)],
            title=f"Notification {i}",
            body="Something happened.",
            url=f"/somewhere/{i}/",
            dedupe_key=str(i),
        )
    ids = list(Notification.objects.filter(recipient=user).values_list("pk", flat=True))
    Notification.objects.filter(pk__in=ids[::3]).update(read_at=timezone.now())
    return user


def _queries(url: str, viewer: User, *, cold_bell: bool) -> int:
    client = Client()
    client.force_login(viewer)
    client.get(url)  # warm up: the session and the bell's count are cached now
    if cold_bell:
        cache.clear()
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(captured.captured_queries)


# user, preferences (middleware), roles (header nav): 3 before the page's own
CASES: list[tuple[str, Callable[[], str], int]] = [
    ("list", lambda: reverse("notifications:list"), 5),  # + count, page
    ("preferences", lambda: reverse("notifications:preferences"), 5),  # + choices, frequency
]


@pytest.mark.parametrize("cold_bell", [False, True], ids=["bell-cached", "bell-not-cached"])
@pytest.mark.parametrize(("name", "url", "pinned"), CASES, ids=[c[0] for c in CASES])
def test_page_runs_the_same_number_of_queries_with_5_and_50_notifications(
    name: str, url: Callable[[], str], pinned: int, cold_bell: bool
) -> None:
    counts = [_queries(url(), _person_with(size), cold_bell=cold_bell) for size in (5, 50)]

    # A cold cache also loses the session, the bell's count and the current terms and privacy
    # notice (apps.privacy.consent): one query each.
    expected = pinned + (3 if cold_bell else 0)
    assert counts[0] == counts[1], f"{name}: {counts[0]} queries with 5, {counts[1]} with 50"
    assert counts[0] == expected, f"{name}: {counts[0]} queries, pinned {expected}"
