"""Every activity action name, with a short description; `record()` refuses any other name.

`SECURITY` actions are shown to the person concerned on their "Security events" page.
"""

from __future__ import annotations

from typing import NamedTuple


class Action(NamedTuple):
    description: str
    security: bool = False


ACTIONS: dict[str, Action] = {
    # accounts (allauth and Django auth signals, apps.activity.receivers)
    "accounts.login.succeeded": Action("Signed in", security=True),
    "accounts.login.failed": Action("Failed sign-in on this account", security=True),
    "accounts.logout.succeeded": Action("Signed out", security=True),
    "accounts.password.changed": Action("Password changed", security=True),
    "accounts.password.set": Action("Password set", security=True),
    "accounts.password.reset": Action("Password reset", security=True),
    "accounts.email.added": Action("Email address added", security=True),
    "accounts.email.changed": Action("Primary email address changed", security=True),
    "accounts.email.confirmed": Action("Email address confirmed", security=True),
    "accounts.email.removed": Action("Email address removed", security=True),
    "accounts.mfa.added": Action("Two-factor method added", security=True),
    "accounts.mfa.removed": Action("Two-factor method removed", security=True),
    "accounts.mfa.recovery_codes_regenerated": Action("Recovery codes regenerated", security=True),
    "accounts.mfa.failed": Action("Wrong two-factor code entered", security=True),
    "accounts.role.assigned": Action("Role assigned", security=True),
    "accounts.role.removed": Action("Role removed", security=True),
    # courses
    "courses.enrollment.requested": Action("Enrollment requested"),
    "courses.enrollment.self_enrolled": Action("Enrolled in a course"),
    "courses.enrollment.approved": Action("Enrollment approved"),
    "courses.enrollment.declined": Action("Enrollment declined"),
    "courses.enrollment.removed": Action("Enrollment removed"),
    "courses.invitation.sent": Action("Course invitation sent"),
    "courses.invitation.accepted": Action("Course invitation accepted"),
    "courses.csv_import.applied": Action("Enrollment CSV import applied"),
    "courses.course.status_changed": Action("Course published or unpublished"),
    # videoconference
    "videoconference.session.scheduled": Action("Live session scheduled"),
    "videoconference.session.changed": Action("Live session changed"),
    "videoconference.session.cancelled": Action("Live session cancelled"),
    "videoconference.session.started": Action("Live session started"),
    "videoconference.session.instant_started": Action("Instant live session started"),
    "videoconference.session.ended": Action("Live session ended"),
    "videoconference.participant.admitted": Action("Participant admitted from the lobby"),
    "videoconference.participant.denied": Action("Participant turned away from the lobby"),
    "videoconference.participant.removed": Action("Participant removed by the host"),
    "videoconference.participant.muted": Action("Participant muted by the host"),
    # admin
    "admin.action.run": Action("Admin bulk action run"),
    # reports
    "reports.report.requested": Action("Report requested"),
    "reports.report.downloaded": Action("Report downloaded"),
    # privacy (recorded by apps.privacy with record())
    "privacy.export.requested": Action("Data export requested", security=True),
    "privacy.erasure.requested": Action("Account erasure requested", security=True),
    "privacy.erasure.cancelled": Action("Account erasure cancelled", security=True),
    "privacy.erasure.completed": Action("Account erased"),
    "privacy.consent.given": Action("Terms accepted or an optional consent given"),
    "privacy.consent.withdrawn": Action("Optional consent withdrawn"),
}

SECURITY_ACTIONS: tuple[str, ...] = tuple(name for name, a in ACTIONS.items() if a.security)


def choices() -> list[tuple[str, str]]:
    return [(name, f"{name} — {a.description}") for name, a in sorted(ACTIONS.items())]
