"""WebVTT caption files: validated with webvtt-py before anything is stored."""

from __future__ import annotations

import io
import re

import webvtt
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _

MAX_CAPTION_BYTES = 1024 * 1024
HEADER = re.compile(r"WEBVTT(?:[ \t][^\r\n]*)?(?:\r?\n|\r|$)")
STAMP = r"(?:\d{2,}:)?[0-5]\d:[0-5]\d\.\d{3}"
TIMING = re.compile(rf"(?P<start>{STAMP})[ \t]+-->[ \t]+(?P<end>{STAMP})(?:[ \t]+\S.*)?")


def validate_webvtt(upload: UploadedFile) -> int:
    """Raise ValidationError unless `upload` is a WebVTT file with at least one cue.

    Returns the number of cues.
    """
    if upload.size is None or upload.size > MAX_CAPTION_BYTES:
        raise ValidationError(_("The caption file is too large (at most 1 MB)."), code="too_large")
    upload.seek(0)
    raw = upload.read()
    upload.seek(0)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationError(_("The caption file must be UTF-8 text."), code="not_utf8") from None
    if not HEADER.match(text):
        # Browsers refuse a file that does not begin with exactly this line (after a BOM).
        raise ValidationError(
            _("That is not a WebVTT file: it must start with the line WEBVTT."), code="not_webvtt"
        )
    _check_timings(text)
    try:
        captions = webvtt.from_buffer(io.StringIO(text))
        count = len(captions.captions)
    except Exception:  # webvtt-py raises several error types for malformed files
        raise ValidationError(
            _(
                "The WebVTT file is malformed: check the cue timings "
                "(00:00:01.000 --> 00:00:04.000)."
            ),
            code="malformed_webvtt",
        ) from None
    if count == 0:
        raise ValidationError(_("The WebVTT file has no captions."), code="empty_webvtt")
    return count


def _milliseconds(stamp: str) -> int:
    *hours, minutes, seconds = stamp.split(":")
    whole, fraction = seconds.split(".")
    total_seconds = (int(hours[0]) * 3600 if hours else 0) + int(minutes) * 60 + int(whole)
    return total_seconds * 1000 + int(fraction)


def _check_timings(text: str) -> None:
    """Refuse cue timings webvtt-py (and browsers) would silently skip, naming the line."""
    for number, line in enumerate(text.splitlines(), 1):
        if "-->" not in line:
            continue
        match = TIMING.fullmatch(line.strip())
        if match is None:
            raise ValidationError(
                _(
                    "The WebVTT file is malformed: the cue timing on line %(line)d is not valid. "
                    "Write it like 00:00:01.000 --> 00:00:04.000."
                )
                % {"line": number},
                code="malformed_webvtt",
            )
        if _milliseconds(match["end"]) <= _milliseconds(match["start"]):
            raise ValidationError(
                _("The WebVTT file is malformed: the cue on line %(line)d ends before it starts.")
                % {"line": number},
                code="malformed_webvtt",
            )
