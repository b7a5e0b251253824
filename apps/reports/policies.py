"""Who may ask for which report, and the loader that shows a report only to the person who asked.

The rules are the ones of the data's own pages: course progress is for whoever may edit the
course (its instructors and staff); attendance for whoever may host the session, as for the
attendance CSV on the session page.
"""

from __future__ import annotations

from typing import Any

from apps.activity.policies import can_view_activity_log
from apps.core.errors import NotFound
from apps.courses.models import Course
from apps.courses.policies import can_edit_course
from apps.reports.models import Report
from apps.videoconference.models import VideoSession
from apps.videoconference.policies import can_host


def can_request_course_progress(user: Any, course: Course) -> bool:
    return can_edit_course(user, course)


def can_request_attendance(user: Any, session: VideoSession) -> bool:
    return can_host(user, session)


def can_request_activity_log(user: Any) -> bool:
    """Whoever may read the activity log (apps.activity.policies decides: staff)."""
    return can_view_activity_log(user)


def can_request_data_export(user: Any, subject: Any) -> bool:
    """A person's data export is theirs alone (asked for through apps.privacy)."""
    return bool(getattr(user, "is_authenticated", False)) and user.pk == subject.pk


def may_still_see(user: Any, report: Report) -> bool:
    """Whether the person who asked still has access to the data (an instructor removed from
    the course since, a deactivated account) — checked again before the file is served."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if report.kind == Report.Kind.COURSE_PROGRESS:
        return report.course is not None and can_request_course_progress(user, report.course)
    if report.kind == Report.Kind.ACTIVITY_LOG:
        return can_request_activity_log(user)
    if report.kind == Report.Kind.DATA_EXPORT:
        return report.requested_by_id == user.pk
    return report.session is not None and can_request_attendance(user, report.session)


def get_report_for_user(*, user: Any, pk: int) -> Report:
    """The user's own report with what its page shows; anyone else's and a missing one raise
    the same NotFound, so report ids cannot be probed."""
    if not getattr(user, "is_authenticated", False):
        raise NotFound()
    report = (
        Report.objects.select_related("course", "session__course")
        .filter(pk=pk, requested_by_id=user.pk)
        .first()
    )
    if report is None:
        raise NotFound()
    return report


def get_report_for_download(*, user: Any, pk: int) -> Report:
    """As `get_report_for_user`, and the person must still have access to the data."""
    report = get_report_for_user(user=user, pk=pk)
    if not may_still_see(user, report):
        raise NotFound()
    return report
