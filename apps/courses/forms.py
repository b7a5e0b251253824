"""Forms for the catalog filters, instructor editing, captions and CSV import."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _

from apps.core.images import reencode_image
from apps.courses.captions import validate_webvtt
from apps.courses.models import CaptionTrack, Category, Course, Lesson, Tag
from apps.courses.selectors import SORTS

LANGUAGE_CODE = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*")
VIDEO_TYPES = {".mp4": "video/mp4", ".webm": "video/webm", ".ogv": "video/ogg"}
MAX_VIDEO_BYTES = 500 * 1024 * 1024


class CatalogFilterForm(forms.Form):
    q = forms.CharField(label=_("Search titles"), required=False, max_length=100)
    category = forms.ModelChoiceField(
        # A subcategory's label names its parent: one join instead of a query per option.
        label=_("Category"),
        queryset=Category.objects.select_related("parent"),
        required=False,
        to_field_name="slug",
        empty_label=_("All categories"),
    )
    tag = forms.ModelChoiceField(
        label=_("Tag"),
        queryset=Tag.objects.all(),
        required=False,
        to_field_name="slug",
        empty_label=_("All tags"),
    )
    level = forms.ChoiceField(
        label=_("Level"), required=False, choices=[("", _("All levels")), *Course.Level.choices]
    )
    language = forms.ChoiceField(
        label=_("Language"), required=False, choices=[("", _("All languages")), *settings.LANGUAGES]
    )
    sort = forms.ChoiceField(
        label=_("Sort by"),
        required=False,
        choices=[
            ("newest", _("Newest")),
            ("title", _("Title (A–Z)")),  # noqa: RUF001 -- a typographic dash on purpose
            ("popular", _("Most students")),
        ],
    )

    def clean_sort(self) -> str:
        value: str = self.cleaned_data.get("sort") or "newest"
        return value if value in SORTS else "newest"


class CourseForm(forms.ModelForm):
    class Meta:
        model = Course
        fields = [
            "title",
            "slug",
            "summary",
            "description",
            "cover_image",
            "category",
            "tags",
            "level",
            "language",
            "enrollment_policy",
            "capacity",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 10}),
            "tags": forms.CheckboxSelectMultiple,
            "enrollment_policy": forms.RadioSelect,
            "cover_image": forms.FileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
        }
        help_texts = {
            "slug": _("Used in the course's address. Letters, numbers and hyphens."),
            "cover_image": _("JPEG, PNG or WebP, up to 5 MB; shown at 16:9."),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["slug"].required = False

    def clean_cover_image(self) -> Any:
        image = self.cleaned_data.get("cover_image")
        if isinstance(image, UploadedFile):
            return reencode_image(
                image, max_bytes=5 * 1024 * 1024, size=(1280, 720), prefix="cover"
            )
        return image


class LessonForm(forms.ModelForm):
    video_url = forms.URLField(
        label=_("Video address"), required=False, max_length=200, assume_scheme="https"
    )

    class Meta:
        model = Lesson
        fields = [
            "title",
            "slug",
            "body",
            "video_file",
            "video_url",
            "is_free_preview",
            "is_published",
        ]
        widgets = {
            "body": forms.Textarea(attrs={"rows": 14}),
            "video_file": forms.FileInput(attrs={"accept": "video/mp4,video/webm,video/ogg"}),
        }
        help_texts = {
            "video_file": _("MP4, WebM or Ogg video, up to 500 MB. Or give an address below."),
            "slug": _("Used in the lesson's address; made from the title when empty."),
        }

    def __init__(self, *args: Any, course: Course, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.course = course
        self.fields["slug"].required = False

    def clean_slug(self) -> str:
        # The form leaves out `course`, so Django's own unique check cannot see this constraint.
        slug: str = self.cleaned_data.get("slug") or ""
        if slug and (
            Lesson.objects.filter(course=self.course, slug=slug)
            .exclude(pk=self.instance.pk)
            .exists()
        ):
            raise forms.ValidationError(
                _("Another lesson of this course already has this address name."), code="unique"
            )
        return slug

    def clean_video_file(self) -> Any:
        video = self.cleaned_data.get("video_file")
        if isinstance(video, UploadedFile):
            name = (video.name or "").lower()
            ext = name[name.rfind(".") :] if "." in name else ""
            if ext not in VIDEO_TYPES:
                raise forms.ValidationError(
                    _("Upload an MP4, WebM or Ogg video."), code="video_type"
                )
            if video.size and video.size > MAX_VIDEO_BYTES:
                raise forms.ValidationError(_("The video is larger than 500 MB."), code="too_large")
            video.seek(0)
            head = video.read(64)
            video.seek(0)
            if not _looks_like_video(head, ext):
                raise forms.ValidationError(
                    _("That file does not look like a video of its type."), code="not_video"
                )
        return video


def _looks_like_video(head: bytes, ext: str) -> bool:
    if ext == ".mp4":
        return head[4:8] == b"ftyp"
    if ext == ".webm":
        return head[:4] == b"\x1a\x45\xdf\xa3"
    if ext == ".ogv":
        return head[:4] == b"OggS"
    return False


class CaptionTrackForm(forms.ModelForm):
    class Meta:
        model = CaptionTrack
        fields = ["language", "label", "kind", "is_default", "file"]
        widgets = {"file": forms.FileInput(attrs={"accept": ".vtt,text/vtt"})}
        help_texts = {"file": _("A WebVTT (.vtt) file, UTF-8, up to 1 MB.")}

    def clean_language(self) -> str:
        language: str = self.cleaned_data.get("language", "")
        if not LANGUAGE_CODE.fullmatch(language):
            raise forms.ValidationError(
                _("Enter a language code such as en, de or pt-BR."), code="language"
            )
        return language

    def clean_file(self) -> Any:
        upload = self.cleaned_data.get("file")
        if isinstance(upload, UploadedFile):
            validate_webvtt(upload)
        return upload


class EnrollmentImportForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file of email addresses"),
        help_text=_("One email address per line (first column); a header row 'email' is allowed."),
        widget=forms.FileInput(attrs={"accept": ".csv,text/csv,text/plain"}),
    )
