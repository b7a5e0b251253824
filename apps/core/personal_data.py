"""The privacy registry: each app declares the personal data it holds, how to export it and how
to erase it (after Moodle's privacy API: get_metadata / export_user_data / delete_data_for_user).

Apps declare in their own `privacy.py` (found by `autodiscover()` at start-up):

    from apps.core.personal_data import PersonalData, register

    register(PersonalData(
        app_label="courses",
        models=("courses.Enrollment", "courses.LessonProgress"),
        purpose="Which courses a person takes and how far they are",
        categories=("enrollments", "progress"),
        retention="While the account exists",
        exporter=export_user_data,   # (user) -> JSON-serialisable dict
        eraser=erase_user_data,      # (user) -> None, inside the erasure's transaction
    ))

A test fails when any model with a relation to the user model is in no declaration. It lives in
core so every app may declare without importing the privacy app (which imports every app);
apps.privacy puts the declarations to work (export, erasure, retention).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import QuerySet

Exporter = Callable[[Any], dict[str, Any]]
Eraser = Callable[[Any], None]


@dataclass(frozen=True)
class RetentionPeriod:
    """Data deleted automatically after a period a setting holds (apps/privacy/retention.py)."""

    # What goes, in words people understand ("chat messages").
    what: str
    # The setting that holds the period, e.g. "RETENTION_CHAT_DAYS".
    setting: str
    # "days" or "hours": the setting's unit.
    unit: str = "days"


@dataclass(frozen=True)
class PersonalData:
    app_label: str
    # "<app_label>.<ModelName>" of every model that holds this app's personal data.
    models: tuple[str, ...]
    # Why the data is kept (the record of processing, Art. 30).
    purpose: str
    # The kinds of data, in words people understand ("chat messages", "IP addresses").
    categories: tuple[str, ...]
    # How long it is kept (text shown on the record of processing page).
    retention: str
    exporter: Exporter
    eraser: Eraser
    # Who receives the data besides the platform (course instructors, other participants).
    recipients: tuple[str, ...] = field(default=())
    # The automatic deletions behind `retention`, with the setting that holds each period.
    retention_periods: tuple[RetentionPeriod, ...] = field(default=())
    # What an erasure does to this data ("deleted", "kept without the IP address").
    erasure: str = "Deleted"


_registry: dict[str, PersonalData] = {}


def register(declaration: PersonalData) -> PersonalData:
    if declaration.app_label in _registry and _registry[declaration.app_label] != declaration:
        raise ValueError(f"{declaration.app_label} declared its personal data twice")
    _registry[declaration.app_label] = declaration
    return declaration


def declarations() -> list[PersonalData]:
    """Every declaration, in app label order (the export's file order)."""
    return [_registry[label] for label in sorted(_registry)]


def declared_models() -> set[str]:
    return {name.lower() for d in _registry.values() for name in d.models}


def autodiscover() -> None:
    from django.utils.module_loading import autodiscover_modules

    autodiscover_modules("privacy")


# --- Helpers for the declarations ---------------------------------------------------------


def rows(queryset: QuerySet[Any], *exclude: str) -> list[dict[str, Any]]:
    """The queryset's rows as JSON-safe dicts (dates as ISO text), minus `exclude` fields."""
    out = []
    for row in queryset.values():
        for name in exclude:
            row.pop(name, None)
        out.append(json.loads(json.dumps(row, cls=DjangoJSONEncoder)))
    return out


def undeclared_models(models: Any, user_model: Any, declared: set[str]) -> list[str]:
    """Labels of the models with a FK/OneToOne/M2M to `user_model` that no declaration names."""
    missing = []
    for model in models:
        label = model._meta.label
        relates = model is user_model or any(
            field.is_relation and not field.auto_created and field.related_model is user_model
            for field in model._meta.get_fields()
        )
        if relates and label.lower() not in declared:
            missing.append(label)
    return sorted(missing)
