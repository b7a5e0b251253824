"""The record of processing (GDPR Art. 30), read from the privacy registry and the settings."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import ngettext

from apps.core.personal_data import PersonalData, declarations


@dataclass(frozen=True)
class Period:
    what: str
    length: str  # "365 days", in the reader's language
    setting: str


@dataclass(frozen=True)
class ProcessingEntry:
    declaration: PersonalData
    periods: tuple[Period, ...]
    export_file: str  # the file in a person's data export


def _length(value: int, unit: str) -> str:
    if unit == "hours":
        return ngettext("%(n)d hour", "%(n)d hours", value) % {"n": value}
    return ngettext("%(n)d day", "%(n)d days", value) % {"n": value}


def record_of_processing() -> list[ProcessingEntry]:
    """One entry per app that declares personal data, with its periods as they are set now."""
    entries = []
    for declaration in declarations():
        periods = tuple(
            Period(
                what=period.what,
                length=_length(int(getattr(settings, period.setting)), period.unit),
                setting=period.setting,
            )
            for period in declaration.retention_periods
        )
        entries.append(
            ProcessingEntry(
                declaration=declaration,
                periods=periods,
                export_file=f"{declaration.app_label}.json",
            )
        )
    return entries
