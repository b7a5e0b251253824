"""Writes for a user's secret calendar-feed address: create it on first use, rotate it."""

from __future__ import annotations

import logging

from django.db import IntegrityError, transaction

from apps.accounts.models import User
from apps.videoconference.models import CalendarFeed, new_feed_token

logger = logging.getLogger(__name__)


def get_or_create_calendar_feed(*, user: User) -> CalendarFeed:
    """The user's feed, created the first time (safe against two requests at once)."""
    feed = CalendarFeed.objects.filter(user=user).first()
    if feed is not None:
        return feed
    try:
        with transaction.atomic():
            feed = CalendarFeed.objects.create(user=user)
    except IntegrityError:
        return CalendarFeed.objects.get(user=user)
    logger.info(
        "videoconference.calendar_feed.created",
        extra={"event": "videoconference.calendar_feed.created", "user_id": user.pk},
    )
    return feed


@transaction.atomic
def rotate_calendar_feed(*, user: User) -> CalendarFeed:
    """Give the feed a new secret address; the old one stops working at once."""
    feed = get_or_create_calendar_feed(user=user)
    feed = CalendarFeed.objects.select_for_update().get(pk=feed.pk)
    feed.token = new_feed_token()
    feed.full_clean()
    feed.save(update_fields=["token"])
    logger.info(
        "videoconference.calendar_feed.rotated",
        extra={"event": "videoconference.calendar_feed.rotated", "user_id": user.pk},
    )
    return feed
