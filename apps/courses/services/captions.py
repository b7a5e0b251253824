"""Caption tracks (WebVTT) of a lesson: add or replace one per language and kind, remove one."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.files.base import File
from django.db import transaction

from apps.accounts.models import User
from apps.core.errors import NotAllowed
from apps.courses import errors, policies
from apps.courses.captions import validate_webvtt
from apps.courses.models import CaptionTrack, Lesson


@transaction.atomic
def add_caption_track(
    *,
    actor: User,
    lesson: Lesson,
    language: str,
    label: str,
    kind: str,
    is_default: bool,
    file: File,
) -> CaptionTrack:
    if not policies.can_edit_course(actor, lesson.course):
        raise NotAllowed()
    try:
        validate_webvtt(file)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise errors.InvalidCaptionFile(exc.messages[0]) from None
    if is_default:
        CaptionTrack.objects.filter(lesson=lesson, is_default=True).update(is_default=False)
    track = CaptionTrack.objects.filter(lesson=lesson, language=language, kind=kind).first()
    old_name = track.file.name if track else ""
    if track is None:
        track = CaptionTrack(lesson=lesson, language=language, kind=kind)
    track.label = label
    track.is_default = is_default
    storage = track.file.storage
    # The stored name is random (media.caption_path), never the upload's nor a guessable one.
    track.file.save("captions.vtt", file, save=False)
    new_name = track.file.name
    try:
        track.full_clean()
        track.save()
    except Exception:
        storage.delete(new_name)  # nothing is kept of an upload that was not stored
        raise
    if old_name and old_name != new_name:
        transaction.on_commit(lambda: storage.delete(old_name))
    return track


@transaction.atomic
def delete_caption_track(*, actor: User, track: CaptionTrack) -> None:
    if not policies.can_edit_course(actor, track.lesson.course):
        raise NotAllowed()
    name, storage = track.file.name, track.file.storage
    track.delete()
    transaction.on_commit(lambda: storage.delete(name))
