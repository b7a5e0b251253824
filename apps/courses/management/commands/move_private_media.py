"""`manage.py move_private_media`: move lesson videos and caption files still on the public
media root into the private storage under random names. Migration courses 0004 does the same;
run this when the media files were not where that migration ran. Idempotent."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from apps.courses.models import CaptionTrack, Lesson
from apps.courses.services.storage import move_to_private_storage


class Command(BaseCommand):
    help = "Move course videos and captions from MEDIA_ROOT to PRIVATE_MEDIA_ROOT."

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic():
            moved = move_to_private_storage(caption_model=CaptionTrack, lesson_model=Lesson)
        self.stdout.write(f"Moved {moved} file(s) to the private media storage.")
