"""Small helpers shared by the apps' privacy declarations."""

from __future__ import annotations

import json
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import QuerySet


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
