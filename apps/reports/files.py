"""Where report files live on disk, and the names they are downloaded under.

Files sit in `settings.REPORTS_DIR` (outside MEDIA_ROOT: nothing serves them but the download
view). A run writes `.report-<pk>-a<attempt>.part` and renames it to `report-<pk>.<ext>` only
when complete, so the final name never holds half a file.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings
from django.utils.text import get_valid_filename, slugify

from apps.reports.models import Report

CONTENT_TYPES = {
    Report.Format.CSV: "text/csv; charset=utf-8",
    Report.Format.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    Report.Format.ZIP: "application/zip",
}
PART_SUFFIX = ".part"


def reports_dir() -> Path:
    directory = Path(settings.REPORTS_DIR)
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    return directory


def final_name(report: Report) -> str:
    return f"report-{report.pk}.{report.file_format}"


def part_path(report: Report, attempt: int) -> Path:
    return reports_dir() / f".report-{report.pk}-a{attempt}{PART_SUFFIX}"


def path_of(name: str) -> Path | None:
    """The file `name` (relative to REPORTS_DIR) or None if the name would leave the directory."""
    if not name:
        return None
    directory = Path(settings.REPORTS_DIR).resolve()
    path = (directory / name).resolve()
    if path.parent != directory:
        return None
    return path


def remove_parts(report: Report) -> None:
    """Delete the partial files earlier runs of `report` left behind (a killed worker)."""
    directory = Path(settings.REPORTS_DIR)
    if not directory.is_dir():
        return
    for leftover in directory.glob(f".report-{report.pk}-a*{PART_SUFFIX}"):
        leftover.unlink(missing_ok=True)


def remove(name: str) -> None:
    path = path_of(name)
    if path is not None:
        path.unlink(missing_ok=True)


def publish(part: Path, report: Report) -> tuple[str, int]:
    """Make the complete file at `part` durable and give it its final name (atomically)."""
    with part.open("rb") as handle:
        os.fsync(handle.fileno())
    name = final_name(report)
    os.replace(part, reports_dir() / name)
    return name, (reports_dir() / name).stat().st_size


def download_name(report: Report) -> str:
    """`course-slug-progress-20250101.csv`, `attendance-weekly-call-20250101.xlsx`: only safe
    characters, whatever the titles contain."""
    stamp = (report.finished_at or report.created_at).strftime("%Y%m%d")
    if report.kind == Report.Kind.COURSE_PROGRESS and report.course is not None:
        stem = f"{slugify(report.course.slug)[:60] or 'course'}-progress"
    elif report.kind == Report.Kind.ACTIVITY_LOG:
        stem = "activity-log"
    elif report.kind == Report.Kind.DATA_EXPORT:
        stem = "my-data"
    else:
        title = slugify(report.session.title if report.session is not None else "")[:60]
        stem = f"attendance-{title}" if title else "attendance"
    return get_valid_filename(f"{stem}-{stamp}.{report.file_format}")
