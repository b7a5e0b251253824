"""Background work of live sessions: telling students about sessions, and the reminders.

Services queue the event tasks after commit with ids only; each task loads the session fresh,
works out who to tell, and notifies with a dedupe key, so a redelivered task tells nobody twice.
Beat runs `send_session_reminders` every REMINDER_INTERVAL_SECONDS.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from celery import shared_task
from django.db import transaction
from django.db.models import F, Q
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from apps.core.logging import log_event
from apps.core.tasks import parse_now, stamp
from apps.courses.selectors import course_member_recipients
from apps.notifications import kinds
from apps.notifications.services import notify_in_their_language
from apps.videoconference.models import VideoSession

logger = logging.getLogger(__name__)


def _key(session: VideoSession, event: str) -> str:
    return f"vc.session.{session.pk}.{event}"


def _load(session_id: int) -> VideoSession | None:
    return VideoSession.objects.select_related("course").filter(pk=session_id).first()


def _course_title(session: VideoSession) -> str:
    return session.course.title if session.course is not None else ""


def _log(event: str, session_id: int, **extra: object) -> None:
    log_event(logger, event, session_id=session_id, **extra)


# --- Lifecycle events ---------------------------------------------------------------------------


@shared_task(name="videoconference.notify_session_scheduled")
def notify_session_scheduled(session_id: int, actor_id: int | None) -> int:
    """Tell the course's students a live session is planned (not if it is over already)."""
    session = _load(session_id)
    if session is None or session.course_id is None or session.is_over:
        return 0

    def text() -> tuple[str, str]:
        return (
            _("New live session: “%(title)s”") % {"title": session.title},
            _("A live session is scheduled for “%(course)s”.") % {"course": _course_title(session)},
        )

    created = notify_in_their_language(
        course_member_recipients(session.course_id, exclude=[actor_id]),
        kind=kinds.SESSION_SCHEDULED,
        text=text,
        url=session.get_absolute_url(),
        event_at=session.starts_at,
        dedupe_key=_key(session, "scheduled"),
    )
    _log("videoconference.notified.scheduled", session_id, notified=created)
    return created


# What students are told about when it changes; the cap and the join policy are the host's.
NOTICED_CHANGES = ("title", "description", "starts_at", "ends_at")


def _change_summary(changed: list[str]) -> str:
    parts = []
    if "starts_at" in changed:
        parts.append(_("It starts at a new time."))
    elif "ends_at" in changed:
        parts.append(_("It ends at a new time."))
    if "title" in changed:
        parts.append(_("It has a new title."))
    if "description" in changed:
        parts.append(_("Its description has changed."))
    return " ".join(parts)


@shared_task(name="videoconference.notify_session_changed")
def notify_session_changed(
    session_id: int, actor_id: int | None, changed: list[str], change_stamp: str
) -> int:
    """Tell the course's students a session they can join was changed, and what changed.

    `change_stamp` (the session's `updated_at` at the change) makes each change its own event,
    and the same event when the task is redelivered. The text and time are the session's as
    it is now. Nothing is sent for a session that is over (a cancellation tells them itself).
    """
    session = _load(session_id)
    if session is None or session.course_id is None or session.is_over:
        return 0
    time_changed = "starts_at" in changed or "ends_at" in changed

    def text() -> tuple[str, str]:
        title = (
            _("Live session moved: “%(title)s”")
            if time_changed
            else _("Live session changed: “%(title)s”")
        ) % {"title": session.title}
        body = _("The live session of “%(course)s” was changed.") % {
            "course": _course_title(session)
        }
        summary = _change_summary(changed)
        return title, f"{body} {summary}" if summary else body

    created = notify_in_their_language(
        course_member_recipients(session.course_id, exclude=[actor_id]),
        kind=kinds.SESSION_CHANGED,
        text=text,
        url=session.get_absolute_url(),
        event_at=session.starts_at,
        dedupe_key=_key(session, f"changed.{change_stamp}"),
    )
    _log("videoconference.notified.changed", session_id, fields=changed, notified=created)
    return created


@shared_task(name="videoconference.notify_session_cancelled")
def notify_session_cancelled(session_id: int, actor_id: int | None) -> int:
    """Tell the course's students a session is cancelled; the link opens the course page."""
    session = _load(session_id)
    if session is None or session.course is None or session.status != VideoSession.Status.CANCELLED:
        return 0
    course = session.course

    def text() -> tuple[str, str]:
        return (
            _("Live session cancelled: “%(title)s”") % {"title": session.title},
            _("The live session of “%(course)s” will not take place.") % {"course": course.title},
        )

    created = notify_in_their_language(
        course_member_recipients(course.pk, exclude=[actor_id]),
        kind=kinds.SESSION_CANCELLED,
        text=text,
        url=course.get_absolute_url(),
        event_at=session.starts_at,
        dedupe_key=_key(session, "cancelled"),
    )
    _log("videoconference.notified.cancelled", session_id, notified=created)
    return created


@shared_task(name="videoconference.notify_session_started")
def notify_session_started(session_id: int, actor_id: int | None) -> int:
    """Tell the course's students the host opened the room (not once it has ended)."""
    session = _load(session_id)
    if session is None or session.course_id is None or not session.is_live:
        return 0

    def text() -> tuple[str, str]:
        return (
            _("Live now: “%(title)s”") % {"title": session.title},
            _("An instructor started a live session for “%(course)s”. Join now.")
            % {"course": _course_title(session)},
        )

    created = notify_in_their_language(
        course_member_recipients(session.course_id, exclude=[actor_id]),
        kind=kinds.SESSION_STARTED,
        text=text,
        url=session.get_absolute_url(),
        event_at=session.started_at or session.starts_at,
        dedupe_key=_key(session, "started"),
    )
    _log("videoconference.notified.started", session_id, notified=created)
    return created


# --- Reminders ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reminder:
    name: str  # in the dedupe key: "24h" or "15m"
    lead: timedelta  # due this long before the start
    field: str  # VideoSession field holding the start time it was sent for
    # Sent only for sessions created at least this long before their start (None: always).
    min_notice: timedelta | None


REMINDERS = (
    Reminder("24h", timedelta(hours=24), "reminder_24h_sent_for", timedelta(hours=25)),
    Reminder("15m", timedelta(minutes=15), "reminder_15m_sent_for", None),
)
REMINDER_15M = REMINDERS[1]


def _due(reminder: Reminder, now: datetime) -> Q:
    """Sessions `reminder` is due for at `now` (see `send_session_reminders`)."""
    sent_for = reminder.field
    due = (
        Q(status=VideoSession.Status.SCHEDULED)
        & Q(starts_at__gt=now, starts_at__lte=now + reminder.lead)
        & (Q(**{f"{sent_for}__isnull": True}) | ~Q(**{sent_for: F("starts_at")}))
    )
    if reminder is not REMINDER_15M:
        # Inside the last 15 minutes only the 15-minute reminder is worth sending.
        due &= Q(starts_at__gt=now + REMINDER_15M.lead)
    if reminder.min_notice is not None:
        due &= Q(created_at__lte=F("starts_at") - reminder.min_notice)
    return due


def _reminder_text(session: VideoSession, reminder: Reminder, now: datetime) -> tuple[str, str]:
    left = (session.starts_at - now).total_seconds()
    if reminder is REMINDER_15M:
        minutes = max(1, math.ceil(left / 60))
        title = ngettext(
            "“%(title)s” starts in %(n)d minute",
            "“%(title)s” starts in %(n)d minutes",
            minutes,
        ) % {"title": session.title, "n": minutes}
    else:
        hours = max(1, round(left / 3600))
        title = ngettext(
            "Reminder: “%(title)s” starts in %(n)d hour",
            "Reminder: “%(title)s” starts in %(n)d hours",
            hours,
        ) % {"title": session.title, "n": hours}
    body = _("A live session of “%(course)s”. The link opens the session page.") % {
        "course": _course_title(session)
    }
    return title, body


def _remind(session_id: int, reminder: Reminder, now: datetime) -> int:
    """Send one reminder of one session, if still due; mark it sent in the same transaction.

    The row lock (skipping a row another run holds) keeps two concurrent runs from doing the
    same session at once; the dedupe key makes even a second send a no-op.
    """
    with transaction.atomic():
        session = (
            VideoSession.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("course")
            .filter(_due(reminder, now), pk=session_id)
            .first()
        )
        if session is None or session.course_id is None:
            return 0  # reminded meanwhile, moved, cancelled, or another run holds it
        starts_at = session.starts_at
        created = notify_in_their_language(
            course_member_recipients(session.course_id, also=[session.host_id]),
            kind=kinds.SESSION_REMINDER,
            text=lambda: _reminder_text(session, reminder, now),
            url=session.get_absolute_url(),
            event_at=starts_at,
            dedupe_key=_key(session, f"reminder.{reminder.name}.{stamp(starts_at)}"),
        )
        # update(), not save(): a reminder is not a change of the session (updated_at).
        VideoSession.objects.filter(pk=session.pk).update(**{reminder.field: starts_at})
    _log(
        "videoconference.reminder.sent",
        session_id,
        reminder=reminder.name,
        notified=created,
    )
    return created


@shared_task(name="videoconference.send_session_reminders")
def send_session_reminders(now_iso: str | None = None) -> int:
    """Remind each scheduled session's students and host 24 hours and 15 minutes before it.

    The rule, for a session still scheduled (not live, ended or cancelled) that has not started:
    - the 15-minute reminder is due from 15 minutes before the start until the start;
    - the 24-hour reminder is due from 24 hours before the start until 15 minutes before it
      (after that, the 15-minute one says the same), and only for a session created at least
      25 hours before its start: for one scheduled less than 25 hours ahead, the "scheduled"
      notification came at most an hour before the 24-hour mark (or after it), and a
      24-hour reminder would only repeat it;
    - a reminder whose moment was missed (beat or the workers were down) is sent at the next
      run while it is still due as above.
    Each reminder goes once per session, start time and person: the dedupe key
    `vc.session.<id>.reminder.<24h|15m>.<start in µs since the epoch>` makes a repeated run
    (a restarted beat, a redelivered or concurrent task) a no-op, and the session's
    `reminder_<24h|15m>_sent_for` records the start it was sent for, so later runs skip it
    cheaply; a session moved to another time is reminded again for the new time (by the
    rules above, with the session's creation time: a long-planned session moved to tomorrow
    gets the 24-hour reminder soon after the "changed" notification).

    `now_iso` replaces the clock (tests, a manual catch-up run). Returns how many
    notifications were created. A fixed number of queries per session due, whatever the number
    of people.
    """
    now = parse_now(now_iso)
    created = 0
    for reminder in REMINDERS:
        due_ids = list(
            VideoSession.objects.filter(_due(reminder, now))
            .order_by("starts_at", "pk")
            .values_list("pk", flat=True)
        )
        for session_id in due_ids:
            created += _remind(session_id, reminder, now)
    return created
