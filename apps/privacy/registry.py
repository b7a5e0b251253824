"""Moved to apps.core.personal_data (every app declares its personal data there without
importing the privacy app); these names stay importable from here for code not yet moved."""

from apps.core.personal_data import (
    Eraser,
    Exporter,
    PersonalData,
    RetentionPeriod,
    autodiscover,
    declarations,
    declared_models,
    register,
)

__all__ = [
    "Eraser",
    "Exporter",
    "PersonalData",
    "RetentionPeriod",
    "autodiscover",
    "declarations",
    "declared_models",
    "register",
]
