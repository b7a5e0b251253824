"""Private uploads: stored under PRIVATE_MEDIA_ROOT with random names, sent only by a view that
has checked who asks (itself, or nginx / Apache through X-Accel-Redirect / X-Sendfile).

The public /media/ route (config/urls.py) never reaches these files: they live outside
MEDIA_ROOT, and `is_public_media_path` refuses the folders course media used to have there.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import re
import secrets
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import IO, Any, Protocol, cast
from urllib.parse import quote

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db import models
from django.db.models.fields.files import FieldFile
from django.http import FileResponse, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase

# Folders under MEDIA_ROOT where course media lived before it became private (courses 0004):
# a file left behind there (a copy the move could not delete) is never served as public media.
LEGACY_PRIVATE_FOLDERS = ("captions", "lesson-videos")


class PrivateMediaStorage(FileSystemStorage):
    """Files under settings.PRIVATE_MEDIA_ROOT (read on every use, so tests can move it).

    There is no URL: `url()` refuses, and `PrivateFileField` gives its files the address of
    the view that checks permissions instead.
    """

    def __init__(self) -> None:
        super().__init__()

    @property
    def base_location(self) -> str:
        return str(settings.PRIVATE_MEDIA_ROOT)

    @property
    def location(self) -> str:
        return os.path.abspath(self.base_location)

    def url(self, name: str | None) -> str:
        raise ValueError("A private file has no public URL; use its field's url (a checked view).")


private_storage = PrivateMediaStorage()


class HasPrivateFiles(Protocol):
    def private_file_url(self, field_name: str) -> str: ...


class PrivateFieldFile(FieldFile):
    @property
    def url(self) -> str:
        """The permission-checked address: `instance.private_file_url(field name)`."""
        if not self:
            raise ValueError(f"The '{self.field.name}' attribute has no file associated with it.")
        return cast(HasPrivateFiles, self.instance).private_file_url(self.field.name)


class PrivateFileField(models.FileField):
    """A FileField in the private storage whose `.url` is the model's checked view, so no
    template, form widget or admin page can hand out a storage path."""

    attr_class = PrivateFieldFile

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("storage", private_storage)
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        kwargs.pop("storage", None)  # always the private storage; nothing to migrate
        return name, path, args, kwargs


def random_name(folder: str, original: str, *, extensions: tuple[str, ...], default: str) -> str:
    """`folder/<random>.<ext>`: nothing of the upload's name but a known extension, so a name
    cannot be guessed from a lesson id, a language or a title."""
    suffix = PurePosixPath(original or "").suffix.lower()
    if suffix not in extensions:
        suffix = default
    return f"{folder}/{secrets.token_urlsafe(18)}{suffix}"


def file_version(name: str) -> str:
    """A short tag that changes whenever the stored file does (it is named at random), for
    cacheable URLs; hex, so it passes the `token` URL converter."""
    return hashlib.sha256(name.encode("utf-8")).hexdigest()[:16]


def is_public_media_path(path: str) -> bool:
    """False for a /media/ path the public route must not serve: the legacy course-media
    folders, and anything inside PRIVATE_MEDIA_ROOT should it be configured under MEDIA_ROOT."""
    # Normalised the way django.views.static.serve does: `avatars/../captions/x` is `captions/x`.
    normalised = posixpath.normpath(path.replace("\\", "/")).lstrip("/")
    if normalised.split("/")[0] in LEGACY_PRIVATE_FOLDERS:
        return False
    try:
        target = (Path(settings.MEDIA_ROOT) / normalised).resolve()
        private_root = Path(settings.PRIVATE_MEDIA_ROOT).resolve()
    except (OSError, ValueError):  # a name the file system refuses (NUL, too long)
        return False
    return not target.is_relative_to(private_root)


def private_file_response(
    file: FieldFile, *, content_type: str, filename: str, range_header: str = ""
) -> HttpResponseBase:
    """Send a private file the caller has already allowed, as settings.MEDIA_ACCEL says:
    Django streams it, or the front web server does (nginx X-Accel-Redirect, Apache X-Sendfile)
    with an empty body from here. Raises FileNotFoundError when the file is gone.

    Streaming itself, it answers one `Range: bytes=…` with 206, so a video can be seeked.
    """
    accel = settings.MEDIA_ACCEL
    name = file.name or ""
    response: HttpResponseBase
    if not name:
        raise FileNotFoundError(name)
    if accel == "nginx":
        if not file.storage.exists(name):
            raise FileNotFoundError(name)
        response = HttpResponse(b"", content_type=content_type)
        prefix = settings.PRIVATE_MEDIA_ACCEL_PREFIX.rstrip("/")
        response["X-Accel-Redirect"] = f"{prefix}/{quote(name)}"
        response["Content-Disposition"] = _inline(filename)
    elif accel == "sendfile":
        path = file.path
        if not os.path.isfile(path):
            raise FileNotFoundError(name)
        response = HttpResponse(b"", content_type=content_type)
        response["X-Sendfile"] = path
        response["Content-Disposition"] = _inline(filename)
    else:
        handle = file.storage.open(name, "rb")
        size = file.storage.size(name)
        wanted = _byte_range(range_header, size)
        if wanted is None:
            response = FileResponse(handle, content_type=content_type, filename=filename)
        else:
            start, end = wanted
            handle.seek(start)
            response = StreamingHttpResponse(
                _Slice(handle, end - start + 1), status=206, content_type=content_type
            )
            response["Content-Range"] = f"bytes {start}-{end}/{size}"
            response["Content-Length"] = str(end - start + 1)
            response["Content-Disposition"] = _inline(filename)
        response["Accept-Ranges"] = "bytes"
    # Members only: a shared cache must not keep it; the URL changes with the file.
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _inline(filename: str) -> str:
    # The same header FileResponse writes for a non-ASCII-safe name.
    try:
        filename.encode("ascii")
        return f'inline; filename="{filename}"'
    except UnicodeEncodeError:
        return f"inline; filename*=utf-8''{quote(filename)}"


_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


def _byte_range(header: str, size: int) -> tuple[int, int] | None:
    """(first, last) byte of one satisfiable `bytes=a-b`, `bytes=a-` or `bytes=-n` range; None
    for no header, several ranges or one outside the file (then the whole file is sent)."""
    match = _RANGE.fullmatch(header.strip())
    if match is None or size == 0:
        return None
    first, last = match.groups()
    if first:
        start = int(first)
        end = min(int(last), size - 1) if last else size - 1
    elif last:
        start, end = max(size - int(last), 0), size - 1
    else:
        return None
    return (start, end) if start <= end else None


class _Slice:
    """`length` bytes of an open file, in chunks; the response closes it (even unread, HEAD)."""

    def __init__(self, handle: IO[bytes], length: int, chunk: int = 64 * 1024) -> None:
        self.handle, self.length, self.chunk = handle, length, chunk

    def __iter__(self) -> Iterator[bytes]:
        left = self.length
        while left > 0:
            data = self.handle.read(min(self.chunk, left))
            if not data:
                break
            left -= len(data)
            yield data

    def close(self) -> None:
        self.handle.close()
