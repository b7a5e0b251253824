"""Moved to apps.core.personal_data; importable from here for code not yet moved."""

from apps.core.personal_data import rows, undeclared_models

__all__ = ["rows", "undeclared_models"]
