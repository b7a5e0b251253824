"""Avatar uploads: checked and re-encoded to a square WebP by the shared image pipeline."""

from __future__ import annotations

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile

from apps.core.images import MAX_PIXELS, reencode_image

__all__ = ["MAX_PIXELS", "validate_and_reencode"]


def validate_and_reencode(upload: UploadedFile) -> ContentFile:
    """Return a fresh square WebP made from `upload`, or raise ValidationError saying why."""
    size = settings.AVATAR_SIZE_PX
    return reencode_image(
        upload, max_bytes=settings.AVATAR_MAX_UPLOAD_BYTES, size=(size, size), prefix="avatar"
    )
