"""Address names (slugs) that are unique within a model, or within a scope of it."""

from __future__ import annotations

from typing import Any

from django.db.models import Model
from django.utils.text import slugify


def unique_slug(
    model: type[Model], base: str, *, scope: dict[str, Any] | None = None, max_length: int = 80
) -> str:
    """`slugify(base)`, with `-2`, `-3`... appended until no row of `model` (in `scope`) has it."""
    base_slug = slugify(base)[:max_length] or "item"
    slug, n = base_slug, 2
    qs = model._default_manager.filter(**(scope or {}))
    while qs.filter(slug=slug).exists():
        slug = f"{base_slug}-{n}"
        n += 1
    return slug
