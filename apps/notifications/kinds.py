"""The registry of notification kinds: what each is called and how it is delivered by default.

Every app that notifies registers its kinds here (one line each), so preferences, the
unsubscribe link and the admin know them all. A kind's key is stored in the database: never
rename one, add a new one.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Kind:
    key: str
    label: str | Promise
    in_app: bool = True  # default when the user has not chosen
    email: bool = True
    # An optional consent (apps.privacy.consent.PURPOSES) that switches this kind's email:
    # giving or withdrawing it turns the email on or off, and turning the email on or off in
    # the settings (or an unsubscribe link) is recorded as giving or withdrawing it.
    email_consent: str = ""


SESSION_SCHEDULED = "session_scheduled"
SESSION_CHANGED = "session_changed"
SESSION_CANCELLED = "session_cancelled"
SESSION_REMINDER = "session_reminder"
SESSION_STARTED = "session_started"
ENROLLMENT_DECIDED = "enrollment_decided"
LESSON_PUBLISHED = "lesson_published"
IMPORT_FINISHED = "import_finished"
REPORT_READY = "report_ready"

KINDS: dict[str, Kind] = {
    kind.key: kind
    for kind in (
        Kind(SESSION_SCHEDULED, _("A live session is scheduled for your course")),
        Kind(SESSION_CHANGED, _("A live session you can join is changed")),
        Kind(SESSION_CANCELLED, _("A live session you can join is cancelled")),
        Kind(
            SESSION_REMINDER,
            _("Reminders 24 hours and 15 minutes before a live session"),
            email_consent="reminder_emails",
        ),
        Kind(SESSION_STARTED, _("An instructor started a live session for your course")),
        Kind(ENROLLMENT_DECIDED, _("Your enrollment request is approved or declined")),
        Kind(LESSON_PUBLISHED, _("A new lesson is published in your course")),
        Kind(IMPORT_FINISHED, _("A CSV enrollment import you ran has finished")),
        Kind(REPORT_READY, _("A report you asked for is ready")),
    )
}

KIND_CHOICES = [(kind.key, kind.label) for kind in KINDS.values()]


def get_kind(key: str) -> Kind:
    """The registered kind; an unknown key is a programming error (KeyError)."""
    return KINDS[key]


def kinds_needing_consent(purpose: str) -> list[str]:
    """The kinds whose email the optional consent `purpose` switches."""
    return [kind.key for kind in KINDS.values() if kind.email_consent == purpose]
