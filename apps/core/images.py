"""Image uploads: type checked by content, size limited, re-encoded so no upload byte is kept."""

from __future__ import annotations

import io
import secrets

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

ALLOWED_FORMATS = {"JPEG", "PNG", "GIF", "WEBP"}
MAX_PIXELS = 40_000_000  # refuse decompression bombs well before Pillow's own limit


def _upright(image: Image.Image) -> Image.Image:
    """Apply the EXIF orientation; a picture whose EXIF cannot be parsed is kept as stored."""
    try:
        return ImageOps.exif_transpose(image)
    except (SyntaxError, ValueError, OSError, KeyError, TypeError):
        return image


def reencode_image(
    upload: UploadedFile, *, max_bytes: int, size: tuple[int, int], prefix: str = "img"
) -> ContentFile:
    """Return a fresh WebP of exactly `size` (cropped to fill) made from `upload`.

    Raises ValidationError with a user-facing message and a stable code when the upload is too
    large, not an image, of an unsupported type, too many pixels, or cannot be decoded. EXIF and
    other metadata are dropped, and the file name is chosen here, never taken from the upload.
    """
    if upload.size is None or upload.size > max_bytes:
        raise ValidationError(
            _("The image is too large. Choose one of at most %(mb).0f MB.")
            % {"mb": max_bytes / 2**20},
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
        raise ValidationError(
            _(
                "The image is %(width)d by %(height)d pixels, which is too big. "
                "Choose one of at most %(megapixels)d megapixels."
            )
            % {"width": width, "height": height, "megapixels": MAX_PIXELS // 1_000_000},
            code="too_many_pixels",
        )
    try:
        with Image.open(io.BytesIO(data)) as source:
            source.seek(0)  # first frame of an animation
            image = _upright(source)
            image = image.convert("RGBA" if image.mode in ("RGBA", "LA", "P") else "RGB")
            image = ImageOps.fit(image, size, method=Image.Resampling.LANCZOS)
            out = io.BytesIO()
            image.save(out, format="WEBP", quality=85, method=4)
    except (OSError, ValueError, Image.DecompressionBombError):
        raise ValidationError(
            _("That image could not be processed. Try another picture."), code="corrupt_image"
        ) from None
    return ContentFile(out.getvalue(), name=f"{prefix}-{secrets.token_hex(16)}.webp")
