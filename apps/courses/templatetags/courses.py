"""Template tags other apps use to show course information (e.g. on public profiles)."""

from __future__ import annotations

from typing import Any

from django import template

from apps.courses.models import Course

register = template.Library()


@register.inclusion_tag("courses/_taught_courses.html")
def taught_courses(person: Any) -> dict[str, Any]:
    """The published courses `person` teaches (one query)."""
    courses = list(
        Course.objects.filter(instructors=person, status=Course.Status.PUBLISHED)
        .only("slug", "title", "summary")
        .order_by("title")
    )
    return {"courses": courses, "person": person}
