"""Real image files built with Pillow for upload tests (and a few files that only pretend to be)."""

from __future__ import annotations

import io
import os
import struct
import zlib

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

CAMERA_MAKE = "SecretCam 3000"


def _exif_with_camera_and_location() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = CAMERA_MAKE  # Make
    exif[0x0112] = 6  # Orientation: rotate 90° clockwise to display
    exif[0x8825] = {1: "N", 2: (52.0, 31.0, 12.0), 3: "E", 4: (13.0, 24.0, 36.0)}  # GPS
    return exif.tobytes()


def png_bytes(size: tuple[int, int] = (400, 300), color: str = "teal") -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", size, color).save(out, format="PNG")
    return out.getvalue()


def jpeg_bytes(size: tuple[int, int] = (640, 480), *, with_exif: bool = True) -> bytes:
    out = io.BytesIO()
    extra = {"exif": _exif_with_camera_and_location()} if with_exif else {}
    Image.new("RGB", size, "orange").save(out, format="JPEG", **extra)
    return out.getvalue()


def noisy_png_bytes(min_bytes: int) -> bytes:
    """A real PNG of random pixels (which do not compress) of at least `min_bytes`."""
    side = int((min_bytes / 3) ** 0.5) + 16
    image = Image.frombytes("RGB", (side, side), os.urandom(side * side * 3))
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=1)
    return out.getvalue()


def huge_dimension_png_bytes(width: int, height: int) -> bytes:
    """A valid, tiny PNG file that decodes to `width` x `height` black pixels.

    Built row by row so the test never holds the decoded image in memory.
    """

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    compressor = zlib.compressobj(9)
    row = b"\x00" * (width + 1)  # filter byte + one greyscale byte per pixel
    idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )


def upload(name: str, content: bytes, content_type: str = "image/png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


SVG = (
    b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b'<script>alert("x")</script><rect width="10" height="10"/></svg>'
)
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
TEXT = b"This is not a picture, just some words pretending to be one.\n"
