"""Course media: stored names (random; lesson videos and captions in the private storage),
the checked addresses they are played from, and the move of files stored before that.

Course covers stay public media: the catalog shows them to everyone, and the upload form
names them at random already (apps.core.images.reencode_image).
"""

from __future__ import annotations

import logging
from functools import partial
from typing import TYPE_CHECKING, Any

from django.core.files.storage import default_storage
from django.db import transaction
from django.urls import reverse
from django.utils.text import slugify

from apps.core.private_media import file_version, private_storage, random_name

if TYPE_CHECKING:
    from apps.courses.models import CaptionTrack, Lesson

logger = logging.getLogger(__name__)

CAPTION_CONTENT_TYPE = "text/vtt; charset=utf-8"
VIDEO_EXTENSIONS = (".mp4", ".webm", ".ogv", ".ogg")


def caption_path(instance: Any, filename: str) -> str:
    return random_name("captions", filename, extensions=(".vtt",), default=".vtt")


def lesson_video_path(instance: Any, filename: str) -> str:
    return random_name("lesson-videos", filename, extensions=VIDEO_EXTENSIONS, default="")


# --- Addresses and downloads -----------------------------------------------------------------


def caption_url(track: CaptionTrack) -> str:
    return reverse(
        "courses:caption_file",
        kwargs={"track_id": track.pk, "version": file_version(track.file.name)},
    )


def lesson_video_url(lesson: Lesson) -> str:
    return reverse(
        "courses:lesson_video",
        kwargs={"lesson_id": lesson.pk, "version": file_version(lesson.video_file.name)},
    )


def is_current(name: str, version: str) -> bool:
    """True when `version` (from an address) names the file stored now, not a replaced one."""
    return bool(name) and file_version(name) == version


def caption_download_name(track: CaptionTrack) -> str:
    language = slugify(track.language) or "xx"
    return f"{track.lesson.slug}-{language}-{track.kind}.vtt"


def video_download_name(lesson: Lesson) -> str:
    name = lesson.video_file.name.lower()
    extension = next((ext for ext in VIDEO_EXTENSIONS if name.endswith(ext)), "")
    return f"{lesson.slug}{extension}"


# --- Files stored before media was private ---------------------------------------------------


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
        (caption_model, "file", caption_path),
        (lesson_model, "video_file", lesson_video_path),
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
        from apps.courses.services import catalog_changed

        catalog_changed()
    return moved
