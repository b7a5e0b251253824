"""Avatar checking and re-encoding, without the web layer."""

from __future__ import annotations

import io
from typing import cast

import pytest
from django.core.exceptions import ValidationError
from PIL import Image

from apps.accounts.avatars import MAX_PIXELS, validate_and_reencode
from apps.accounts.tests import images


def _decoded(content: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(content))
    image.load()
    return image


def test_png_becomes_a_square_webp_of_the_configured_size(settings):
    result = validate_and_reencode(images.upload("holiday.png", images.png_bytes((400, 300))))

    image = _decoded(result.read())
    assert image.format == "WEBP"
    assert image.size == (settings.AVATAR_SIZE_PX, settings.AVATAR_SIZE_PX)


def test_result_name_is_random_and_never_the_uploaded_name():
    first = validate_and_reencode(images.upload("me.png", images.png_bytes()))
    second = validate_and_reencode(images.upload("me.png", images.png_bytes()))

    assert first.name is not None
    assert first.name.endswith(".webp")
    assert "me" not in first.name.removesuffix(".webp")
    assert first.name != second.name


def test_jpeg_camera_metadata_and_location_are_not_kept():
    original = images.jpeg_bytes(with_exif=True)
    assert images.CAMERA_MAKE.encode() in original  # the upload really carries EXIF

    content = validate_and_reencode(images.upload("photo.jpg", original, "image/jpeg")).read()

    assert images.CAMERA_MAKE.encode() not in content
    image = _decoded(content)
    assert "exif" not in image.info
    assert dict(image.getexif()) == {}


def test_exif_orientation_is_applied_before_cropping():
    """A portrait photo stored sideways (orientation 6) must not come out lying down.

    The stored pixels are 640x480 with the left half red; rotated upright the red half is on top.
    """
    stored = Image.new("RGB", (640, 480), "blue")
    stored.paste((255, 0, 0), (0, 0, 320, 480))
    exif = Image.Exif()
    exif[0x0112] = 6
    out = io.BytesIO()
    stored.save(out, format="JPEG", exif=exif.tobytes(), quality=95)

    image = _decoded(validate_and_reencode(images.upload("p.jpg", out.getvalue())).read())

    rgb = image.convert("RGB")
    top_r, _, top_b = cast(tuple[int, int, int], rgb.getpixel((128, 10)))
    bottom_r, _, bottom_b = cast(tuple[int, int, int], rgb.getpixel((128, 245)))
    assert top_r > 200
    assert top_b < 60
    assert bottom_b > 200
    assert bottom_r < 60


def test_animated_gif_keeps_only_its_first_frame():
    frames = [Image.new("P", (64, 64), i) for i in range(3)]
    out = io.BytesIO()
    frames[0].save(out, format="GIF", save_all=True, append_images=frames[1:], duration=100)

    image = Image.open(
        io.BytesIO(validate_and_reencode(images.upload("a.gif", out.getvalue())).read())
    )

    assert getattr(image, "n_frames", 1) == 1


@pytest.mark.parametrize(
    ("content", "code"),
    [
        pytest.param(images.TEXT, "not_an_image", id="text-renamed-png"),
        pytest.param(images.SVG, "not_an_image", id="svg"),
        pytest.param(images.PDF, "not_an_image", id="pdf"),
        pytest.param(b"", "not_an_image", id="empty"),
    ],
)
def test_files_that_are_not_pictures_are_refused(content, code):
    with pytest.raises(ValidationError) as excinfo:
        validate_and_reencode(images.upload("avatar.png", content))

    assert excinfo.value.code == code
    assert "JPEG, PNG, GIF or WebP" in excinfo.value.messages[0]


def test_image_formats_outside_the_allowed_list_are_refused():
    out = io.BytesIO()
    Image.new("RGB", (32, 32), "red").save(out, format="BMP")

    with pytest.raises(ValidationError) as excinfo:
        validate_and_reencode(images.upload("avatar.png", out.getvalue()))

    assert excinfo.value.code == "unsupported_type"


def test_file_over_the_size_limit_is_refused_before_it_is_decoded(settings):
    settings.AVATAR_MAX_UPLOAD_BYTES = 10_000
    content = images.noisy_png_bytes(settings.AVATAR_MAX_UPLOAD_BYTES + 1)

    with pytest.raises(ValidationError) as excinfo:
        validate_and_reencode(images.upload("big.png", content))

    assert excinfo.value.code == "too_large"
    assert "too large" in excinfo.value.messages[0]


def test_image_with_huge_dimensions_is_refused_without_being_decoded():
    side = int(MAX_PIXELS**0.5) + 100
    content = images.huge_dimension_png_bytes(side, side)
    assert len(content) < 200_000  # tiny on disk, enormous in memory: a decompression bomb

    with pytest.raises(ValidationError) as excinfo:
        validate_and_reencode(images.upload("bomb.png", content))

    assert excinfo.value.code == "too_many_pixels"
    assert f"{MAX_PIXELS // 1_000_000} megapixels" in excinfo.value.messages[0]


def test_truncated_jpeg_is_refused_with_a_form_error_not_a_crash():
    content = images.jpeg_bytes(with_exif=False)[:400]

    with pytest.raises(ValidationError) as excinfo:
        validate_and_reencode(images.upload("cut.jpg", content, "image/jpeg"))

    assert excinfo.value.code in {"not_an_image", "corrupt_image"}


def test_picture_with_unreadable_exif_is_still_accepted():
    """Phones and editors sometimes write a broken EXIF block; the pixels are still fine."""
    out = io.BytesIO()
    broken_exif = b"Exif\x00\x00MM\x00\x1b\x00\x00\x00\x08"  # not a valid TIFF header
    Image.new("RGB", (80, 60), "purple").save(out, format="WEBP", exif=broken_exif)

    content = validate_and_reencode(images.upload("odd.webp", out.getvalue(), "image/webp")).read()

    image = _decoded(content)
    assert image.format == "WEBP"
    assert image.size == (256, 256)
    assert "exif" not in image.info
