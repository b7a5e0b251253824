"""Course media: stored names (random; lesson videos and captions in the private storage)
and the checked addresses they are played from (services.storage moves files stored before).

Course covers stay public media: the catalog shows them to everyone, and the upload form
names them at random already (apps.core.images.reencode_image).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.urls import reverse
from django.utils.text import slugify

from apps.core.private_media import file_version, random_name

if TYPE_CHECKING:
    from apps.courses.models import CaptionTrack, Lesson

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
