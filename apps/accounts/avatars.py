"""Avatar uploads: type checked by content, size limited, re-encoded so no upload byte is kept."""

from __future__ import annotations

import io
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

ALLOWED_FORMATS = {"JPEG", "PNG", "GIF", "WEBP"}
MAX_PIXELS = 40_000_000  # refuse decompression bombs well before Pillow's own limit


def validate_and_reencode(upload: UploadedFile) -> ContentFile:
    """Return a fresh square WebP made from `upload`, or raise ValidationError saying why."""
    limit = settings.AVATAR_MAX_UPLOAD_BYTES
    if upload.size is None or upload.size > limit:
        raise ValidationError(
            _("The image is too large. Choose one of at most %(mb).0f MB.") % {"mb": limit / 2**20},
            code="too_large",
        )
    upload.seek(0)
    data = upload.read()
    try:
        with Image.open(io.BytesIO(data)) as probe:
            fmt = probe.format
            width, height = probe.size
            probe.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise ValidationError(
            _("That file is not an image we can read. Use a JPEG, PNG, GIF or WebP picture."),
            code="not_an_image",
        ) from None
    if fmt not in ALLOWED_FORMATS:
        raise ValidationError(
            _("That image type is not supported. Use a JPEG, PNG, GIF or WebP picture."),
            code="unsupported_type",
        )
    if width * height > MAX_PIXELS:
        raise ValidationError(_("The image has too many pixels."), code="too_many_pixels")
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.seek(0)  # first frame of an animation
            image = ImageOps.exif_transpose(image)
            image = image.convert("RGBA" if image.mode in ("RGBA", "LA", "P") else "RGB")
            size = settings.AVATAR_SIZE_PX
            image = ImageOps.fit(image, (size, size), method=Image.Resampling.LANCZOS)
            out = io.BytesIO()
            image.save(out, format="WEBP", quality=85, method=4)
    except (OSError, ValueError, Image.DecompressionBombError):
        raise ValidationError(
            _("That image could not be processed. Try another picture."), code="corrupt_image"
        ) from None
    return ContentFile(out.getvalue(), name=f"{secrets.token_hex(16)}.webp")
