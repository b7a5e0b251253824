"""Files stored before course media was private: move them into the private storage."""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from django.core.files.storage import default_storage
from django.db import transaction

from apps.core.private_media import private_storage
from apps.courses import media, page_cache

logger = logging.getLogger(__name__)


def move_to_private_storage(*, caption_model: Any, lesson_model: Any) -> int:
    """Move caption and lesson video files still in the public storage (their names then were
    `<lesson id>-<language>-<kind>.vtt` and the upload's own) into the private storage under
    random names, and point the rows at them. Returns the number moved.

    Idempotent: a row whose file is already private is skipped; one whose file is in neither
    place is left alone (its address answers 404). The public copy is deleted after the commit.
    Takes the model classes, so the data migration can pass its historical models.
    """
    moved = 0
    jobs = (
        (caption_model, "file", media.caption_path),
        (lesson_model, "video_file", media.lesson_video_path),
    )
    for model, field, make_name in jobs:
        rows = model.objects.exclude(**{field: ""}).values_list("pk", field)
        for pk, name in rows.iterator():
            if private_storage.exists(name):
                continue
            if not default_storage.exists(name):
                logger.warning(
                    "course media file missing", extra={"model": model.__name__, "pk": pk}
                )
                continue
            with default_storage.open(name, "rb") as source:
                new_name = private_storage.save(make_name(None, name), source)
            model.objects.filter(pk=pk).update(**{field: new_name})
            transaction.on_commit(partial(default_storage.delete, name))
            moved += 1
    if moved:
        # Cached lesson pages hold the old addresses; `update()` sends no signal.
        page_cache.changed(page_cache.CATALOG)  # every course and lesson page
    return moved
