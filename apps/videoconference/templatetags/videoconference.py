"""Template tags other apps' pages load to show live sessions, so they need not import
videoconference code: `{% load videoconference %}{% course_live_sessions course ... %}`."""

from __future__ import annotations

from typing import Any

from django import template

from apps.courses.models import Course
from apps.videoconference.selectors import course_sessions

register = template.Library()


@register.inclusion_tag("videoconference/_course_sessions.html")
def course_live_sessions(course: Course, *, can_edit: bool, is_member: bool) -> dict[str, Any]:
    """The course's live and upcoming sessions, for its members and teachers only (the links
    are how people get in; one query), with the link to schedule one for its teachers."""
    return {
        "course": course,
        "can_edit": can_edit,
        "live_sessions": course_sessions(course) if can_edit or is_member else [],
    }
