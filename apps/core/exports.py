"""CSV cells that are safe to open in a spreadsheet (rosters, admin lists, attendance)."""

from __future__ import annotations

from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: Any) -> Any:
    """Stop spreadsheet formula injection from text people chose themselves (names, titles).

    A leading quote makes Excel, LibreOffice and Sheets show the text instead of running it.
    Numbers and dates are left alone.
    """
    if isinstance(value, str) and value[:1] in FORMULA_STARTS:
        return "'" + value
    return value
