from __future__ import annotations

from typing import Any

from apps.core.personal_data import PersonalData, RetentionPeriod, register, rows
from apps.reports.files import path_of
from apps.reports.models import Report


def export_user_data(user: Any) -> dict[str, Any]:
    return {"reports": rows(Report.objects.filter(requested_by=user))}


def erase_user_data(user: Any) -> None:
    for report in Report.objects.filter(requested_by=user):
        if report.file_name:
            path = path_of(report.file_name)
            if path is not None:
                path.unlink(missing_ok=True)
        report.delete()


register(
    PersonalData(
        app_label="reports",
        models=("reports.Report",),
        purpose="Reports and data exports a person asked for",
        categories=("requested reports and their files",),
        retention="Files deleted after a period; the list of requests while the account exists",
        exporter=export_user_data,
        eraser=erase_user_data,
        retention_periods=(RetentionPeriod("report files", "REPORTS_TTL_HOURS", unit="hours"),),
        erasure="Reports and their files deleted",
    )
)
