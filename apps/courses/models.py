"""Catalog and learning: categories, tags, courses, ordered lessons, caption tracks,
enrollments, progress and invitations."""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from apps.core.models import TimeStampedModel
from apps.core.private_media import PrivateFileField
from apps.courses import media
from apps.courses.markdown import render_markdown


class Category(TimeStampedModel):
    name = models.CharField(_("name"), max_length=80)
    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    description = models.TextField(_("description"), blank=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent category"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    position = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["position", "name"]

    def __str__(self) -> str:
        if self.parent_id and self.parent:
            return f"{self.parent.name} › {self.name}"  # noqa: RUF001 -- a breadcrumb separator
        return self.name

    def clean(self) -> None:
        if self.parent_id:
            if self.parent_id == self.pk:
                raise ValidationError({"parent": _("A category cannot be its own parent.")})
            if self.parent and self.parent.parent_id:
                raise ValidationError(
                    {"parent": _("Categories have one level of nesting: choose a top category.")}
                )
            if self.pk and Category.objects.filter(parent_id=self.pk).exists():
                raise ValidationError(
                    {"parent": _("This category has subcategories, so it must stay at the top.")}
                )

    def get_absolute_url(self) -> str:
        return reverse("courses:category", kwargs={"slug": self.slug})


class Tag(models.Model):
    name = models.CharField(_("name"), max_length=50, unique=True)
    slug = models.SlugField(_("slug"), max_length=50, unique=True)

    class Meta:
        verbose_name = _("tag")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("courses:tag", kwargs={"slug": self.slug})


class Course(TimeStampedModel):
    class Level(models.TextChoices):
        BEGINNER = "beginner", _("Beginner")
        INTERMEDIATE = "intermediate", _("Intermediate")
        ADVANCED = "advanced", _("Advanced")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")
        ARCHIVED = "archived", _("Archived")

    class EnrollmentPolicy(models.TextChoices):
        OPEN = "open", _("Open: anyone signed in may enroll")
        APPROVAL = "approval", _("Approval: an instructor approves each request")
        INVITE = "invite", _("Invite only")

    slug = models.SlugField(_("address name"), max_length=100, unique=True)
    title = models.CharField(_("title"), max_length=150)
    summary = models.CharField(_("summary"), max_length=300, blank=True)
    description = models.TextField(_("description"), blank=True, help_text=_("Markdown."))
    description_html = models.TextField(editable=False, blank=True)
    cover_image = models.ImageField(_("cover image"), upload_to="course-covers/", blank=True)
    level = models.CharField(
        _("level"), max_length=16, choices=Level.choices, default=Level.BEGINNER
    )
    language = models.CharField(
        _("language"), max_length=8, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.DRAFT
    )
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    instructors = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="taught_courses", verbose_name=_("instructors")
    )
    category = models.ForeignKey(
        Category,
        verbose_name=_("category"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="courses",
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="courses", verbose_name=_("tags"))
    enrollment_policy = models.CharField(
        _("enrollment"),
        max_length=16,
        choices=EnrollmentPolicy.choices,
        default=EnrollmentPolicy.OPEN,
    )
    capacity = models.PositiveIntegerField(
        _("capacity"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=_("Most active students at once; leave empty for no limit."),
    )
    # Denormalised counters kept by services, so catalog pages sort and show them without joins.
    active_enrollment_count = models.PositiveIntegerField(default=0, editable=False)
    lesson_count = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        verbose_name = _("course")
        ordering = ["-published_at", "-id"]
        # The catalog filters published courses by category, level or language (or none) and
        # sorts them newest, by title or by popularity (selectors.SORTS, with "id" as the tie
        # breaker): one index per filter x sort, so even a deep page reads the index in order
        # instead of sorting every match. The tag filter goes through courses_course_tags.
        indexes = [
            models.Index(fields=["status", "-published_at", "-id"], name="course_status_pub"),
            models.Index(fields=["status", "title", "id"], name="course_status_title"),
            models.Index(
                fields=["status", "-active_enrollment_count", "-id"], name="course_status_pop"
            ),
            models.Index(
                fields=["status", "category", "-published_at", "-id"], name="course_status_cat"
            ),
            models.Index(fields=["status", "category", "title", "id"], name="course_cat_title"),
            models.Index(
                fields=["status", "category", "-active_enrollment_count", "-id"],
                name="course_cat_pop",
            ),
            models.Index(
                fields=["status", "level", "-published_at", "-id"], name="course_status_level"
            ),
            models.Index(fields=["status", "level", "title", "id"], name="course_level_title"),
            models.Index(
                fields=["status", "level", "-active_enrollment_count", "-id"],
                name="course_level_pop",
            ),
            models.Index(
                fields=["status", "language", "-published_at", "-id"], name="course_status_lang"
            ),
            models.Index(fields=["status", "language", "title", "id"], name="course_lang_title"),
            models.Index(
                fields=["status", "language", "-active_enrollment_count", "-id"],
                name="course_lang_pop",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.description_html = render_markdown(self.description)
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("courses:detail", kwargs={"slug": self.slug})

    @property
    def is_published(self) -> bool:
        return self.status == self.Status.PUBLISHED


class Lesson(TimeStampedModel):
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="lessons")
    position = models.PositiveIntegerField(_("position"), default=0)
    slug = models.SlugField(_("address name"), max_length=100)
    title = models.CharField(_("title"), max_length=150)
    body = models.TextField(_("content"), blank=True, help_text=_("Markdown."))
    body_html = models.TextField(editable=False, blank=True)
    # Private: played through the checked view at `video_file.url` (media.lesson_video_url).
    video_file = PrivateFileField(_("video file"), upload_to=media.lesson_video_path, blank=True)
    video_url = models.URLField(_("video address"), blank=True)
    is_free_preview = models.BooleanField(
        _("free preview"), default=False, help_text=_("Anyone may watch this lesson.")
    )
    is_published = models.BooleanField(_("published"), default=True)

    class Meta:
        verbose_name = _("lesson")
        ordering = ["course", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["course", "slug"], name="lesson_unique_slug"),
        ]
        indexes = [models.Index(fields=["course", "is_published", "position"], name="lesson_order")]

    def __str__(self) -> str:
        return self.title

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.body_html = render_markdown(self.body)
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse(
            "courses:lesson", kwargs={"slug": self.course.slug, "lesson_slug": self.slug}
        )

    def private_file_url(self, field_name: str) -> str:
        return media.lesson_video_url(self)

    @property
    def video_source(self) -> str:
        return self.video_file.url if self.video_file else self.video_url

    @property
    def video_mime_type(self) -> str:
        name = (self.video_file.name if self.video_file else self.video_url).lower()
        if name.endswith(".webm"):
            return "video/webm"
        if name.endswith(".ogv") or name.endswith(".ogg"):
            return "video/ogg"
        return "video/mp4"


class CaptionTrack(TimeStampedModel):
    class Kind(models.TextChoices):
        CAPTIONS = "captions", _("Captions (include sounds, for deaf and hard of hearing viewers)")
        SUBTITLES = "subtitles", _("Subtitles (translation of speech)")

    lesson = models.ForeignKey(Lesson, on_delete=models.CASCADE, related_name="caption_tracks")
    language = models.CharField(
        _("language"), max_length=16, help_text=_("A code such as en or de.")
    )
    label = models.CharField(_("label"), max_length=60, help_text=_("Shown in the player menu."))
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.CAPTIONS)
    is_default = models.BooleanField(_("on by default"), default=False)
    # Private: served through the checked view at `file.url` (media.caption_url).
    file = PrivateFileField(_("WebVTT file"), upload_to=media.caption_path)

    class Meta:
        verbose_name = _("caption track")
        ordering = ["lesson", "-is_default", "language"]
        constraints = [
            models.UniqueConstraint(
                fields=["lesson", "language", "kind"], name="caption_unique_language_kind"
            ),
            models.UniqueConstraint(
                fields=["lesson"], condition=Q(is_default=True), name="caption_one_default"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.label} ({self.language})"

    def private_file_url(self, field_name: str) -> str:
        return media.caption_url(self)


class Enrollment(TimeStampedModel):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        PENDING = "pending", _("Waiting for approval")
        DROPPED = "dropped", _("Dropped")
        COMPLETED = "completed", _("Completed")

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="enrollments")
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="enrollments"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    completed_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Lessons completed, kept by services so rosters and "My learning" need no counting joins.
    completed_lesson_count = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("enrollment")
        constraints = [
            models.UniqueConstraint(fields=["course", "student"], name="enrollment_unique"),
        ]
        indexes = [
            models.Index(fields=["student", "status", "-updated_at"], name="enrollment_student"),
            models.Index(fields=["course", "status"], name="enrollment_course_status"),
        ]

    def __str__(self) -> str:
        return f"{self.student} in {self.course} ({self.status})"

    # Statuses that make someone a member of the course (lessons, live sessions).
    MEMBER_STATUSES = (Status.ACTIVE, Status.COMPLETED)

    @property
    def counts_as_member(self) -> bool:
        return self.status in self.MEMBER_STATUSES


class LessonProgress(models.Model):
    enrollment = models.ForeignKey(Enrollment, on_delete=models.CASCADE, related_name="progress")
    lesson = models.ForeignKey(Lesson, on_delete=models.CASCADE, related_name="progress")
    completed_at = models.DateTimeField()

    class Meta:
        verbose_name = _("lesson progress")
        verbose_name_plural = _("lesson progress")
        constraints = [
            models.UniqueConstraint(fields=["enrollment", "lesson"], name="progress_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.enrollment.student_id} completed {self.lesson_id}"


def _invitation_token() -> str:
    return secrets.token_urlsafe(24)


class CourseInvitation(TimeStampedModel):
    """An invitation by email (invite-only courses, CSV import of people without an account)."""

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    token = models.CharField(max_length=64, unique=True, default=_invitation_token, editable=False)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # When the invitation email went out; the email task sends only while this is empty.
    sent_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("course invitation")
        constraints = [
            models.UniqueConstraint(fields=["course", "email"], name="invitation_unique_email"),
        ]

    def __str__(self) -> str:
        return f"Invitation of {self.email} to {self.course}"

    def get_absolute_url(self) -> str:
        return reverse("courses:invitation", kwargs={"token": self.token})
