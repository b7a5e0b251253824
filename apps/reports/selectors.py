"""Reads behind the report pages, each a fixed number of queries whatever the data size."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Page, Paginator

from apps.reports.models import Report

PAGE_SIZE = 25


def my_reports(user: Any, *, page: Any = 1) -> Page:
    """The user's reports, newest first, one page of them (2 queries: count and page)."""
    reports = (
        Report.objects.filter(requested_by=user)
        .select_related("course", "session")
        .only(
            "pk",
            "kind",
            "file_format",
            "status",
            "progress",
            "rows_done",
            "rows_total",
            "size",
            "created_at",
            "finished_at",
            "expires_at",
            "requested_by_id",
            "course__title",
            "course__slug",
            "session__title",
        )
        .order_by("-created_at", "-pk")
    )
    return Paginator(reports, PAGE_SIZE).get_page(page)
