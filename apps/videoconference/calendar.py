"""iCalendar (RFC 5545) for live sessions: one session's .ics and a person's feed.

Each session is one VEVENT whose UID never changes, so calendars update it in place when it moves
and drop it when it is cancelled (STATUS:CANCELLED). Times are written in UTC.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC

from django.utils import timezone
from icalendar import Calendar, Event

from apps.videoconference.models import VideoSession

PRODUCT_ID = "-//onlineteacher//live sessions//EN"
CONTENT_TYPE = "text/calendar; charset=utf-8"

STATUS = {
    VideoSession.Status.SCHEDULED: "CONFIRMED",
    VideoSession.Status.LIVE: "CONFIRMED",
    VideoSession.Status.ENDED: "CONFIRMED",
    VideoSession.Status.CANCELLED: "CANCELLED",
}


def session_uid(session: VideoSession) -> str:
    return f"videosession-{session.pk}@onlineteacher"


def _event(session: VideoSession, url: str) -> Event:
    event = Event()
    event.add("uid", session_uid(session))
    event.add("dtstamp", timezone.now().astimezone(UTC))
    event.add("dtstart", session.starts_at.astimezone(UTC))
    event.add("dtend", session.ends_at.astimezone(UTC))
    event.add("summary", session.title)
    lines = [session.description] if session.description else []
    if session.course_id is not None and session.course is not None:
        lines.append(f"Course: {session.course.title}")
    lines.append(f"Join: {url}")
    event.add("description", "\n\n".join(lines))
    event.add("url", url)
    event.add("location", url)
    event.add("status", STATUS[VideoSession.Status(session.status)])
    if session.updated_at:
        event.add("last-modified", session.updated_at.astimezone(UTC))
    return event


def build_calendar(
    sessions: Iterable[VideoSession], *, meeting_url: Callable[[VideoSession], str], name: str
) -> bytes:
    """The calendar as bytes (UTF-8, CRLF lines); `meeting_url` makes each session's absolute
    join address."""
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    for session in sessions:
        calendar.add_component(_event(session, meeting_url(session)))
    return calendar.to_ical()
