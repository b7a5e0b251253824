"""Report files: CSV or an Excel workbook, written row chunk by row chunk.

Text people chose themselves (names, emails, titles) must never run as a spreadsheet formula:
CSV cells get `csv_safe`'s leading quote; workbook cells are stored as text (never as a formula)
with Excel's "quote prefix", so they stay text even when someone edits the cell.
"""

from __future__ import annotations

import csv
import zipfile
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from apps.core.exports import FORMULA_STARTS, csv_safe
from apps.reports.models import Report

DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
SHEET_TITLE_MAX = 31  # Excel's limit


class ReportWriter(Protocol):
    def write_header(self, columns: Sequence[str]) -> None: ...
    def write_rows(self, rows: Sequence[Sequence[Any]]) -> None: ...
    def close(self) -> None: ...
    def abort(self) -> None: ...


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    return csv_safe(value)


class CsvWriter:
    def __init__(self, path: Path) -> None:
        # A byte-order mark so spreadsheet programs read the file as UTF-8 (names with accents).
        self.handle = path.open("w", newline="", encoding="utf-8-sig")
        self.writer = csv.writer(self.handle)

    def write_header(self, columns: Sequence[str]) -> None:
        self.writer.writerow(columns)

    def write_rows(self, rows: Sequence[Sequence[Any]]) -> None:
        self.writer.writerows([_csv_cell(v) for v in row] for row in rows)
        self.handle.flush()

    def close(self) -> None:
        self.handle.close()

    def abort(self) -> None:
        self.handle.close()


class XlsxWriter:
    """openpyxl's write-only mode: rows stream to disk, memory stays flat for any size."""

    def __init__(self, path: Path, *, title: str) -> None:
        self.path = path
        self.book = Workbook(write_only=True)
        sheet_title = ILLEGAL_CHARACTERS_RE.sub("", title).strip()
        for char in "[]:*?/\\":
            sheet_title = sheet_title.replace(char, " ")
        self.sheet: WriteOnlyWorksheet = self.book.create_sheet(
            title=sheet_title[:SHEET_TITLE_MAX].strip() or "Report"
        )

    def _cell(self, value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, datetime):
            # Excel has no time zones: the local time of the requester's zone.
            cell = WriteOnlyCell(self.sheet, value=value.replace(tzinfo=None))
            cell.number_format = DATETIME_FORMAT
            return cell
        if isinstance(value, str):
            text = ILLEGAL_CHARACTERS_RE.sub("", value)
            cell = WriteOnlyCell(self.sheet, value=text)
            if text[:1] in FORMULA_STARTS:
                cell.data_type = "s"  # openpyxl would store "=..." as a formula
                cell.quotePrefix = True
            return cell
        return value

    def write_header(self, columns: Sequence[str]) -> None:
        bold = Font(bold=True)
        cells = []
        for name in columns:
            cell = WriteOnlyCell(self.sheet, value=name)
            cell.font = bold
            cells.append(cell)
        self.sheet.append(cells)

    def write_rows(self, rows: Sequence[Sequence[Any]]) -> None:
        for row in rows:
            self.sheet.append([self._cell(v) for v in row])

    def close(self) -> None:
        self.book.save(self.path)

    def abort(self) -> None:
        self.book.close()


class ZipWriter:
    """A zip of files: each row is `[name inside the zip, text]` (a data export's JSON per app).
    The header row names nothing (the zip has no columns) and is ignored."""

    def __init__(self, path: Path) -> None:
        self.archive = zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED)
        self.names: set[str] = set()

    def write_header(self, columns: Sequence[str]) -> None:
        return None

    def write_rows(self, rows: Sequence[Sequence[Any]]) -> None:
        for name, text in rows:
            member = str(name)
            if member in self.names or member.startswith("/") or ".." in member.split("/"):
                raise ValueError(f"bad or repeated zip member name {member!r}")
            self.names.add(member)
            self.archive.writestr(member, text if isinstance(text, bytes) else str(text))

    def close(self) -> None:
        self.archive.close()

    def abort(self) -> None:
        self.archive.close()


def open_writer(report: Report, path: Path, *, title: str) -> ReportWriter:
    if report.file_format == Report.Format.ZIP:
        return ZipWriter(path)
    if report.file_format == Report.Format.XLSX:
        return XlsxWriter(path, title=title)
    return CsvWriter(path)
