"""Admin for the catalog, with bulk actions that go through the services."""

from __future__ import annotations

import csv
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.files.uploadedfile import UploadedFile
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.accounts.policies import is_staff
from apps.core.admin import StaffAdmin
from apps.core.exports import csv_safe
from apps.core.http import AuthenticatedRequest
from apps.courses import services
from apps.courses.captions import validate_webvtt
from apps.courses.models import (
    CaptionTrack,
    Category,
    Course,
    CourseInvitation,
    Enrollment,
    Lesson,
    Tag,
)


class StaffInline(admin.TabularInline):
    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_staff(request.user)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_staff(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_staff(request.user)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_staff(request.user)


@admin.register(Category)
class CategoryAdmin(StaffAdmin):
    list_display = ["name", "parent", "slug", "position"]
    list_filter = ["parent"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Tag)
class TagAdmin(StaffAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}


class LessonInline(StaffInline):
    model = Lesson
    fields = ["position", "title", "slug", "is_published", "is_free_preview"]
    extra = 0
    ordering = ["position"]


class CategoryChoiceForm(forms.Form):
    category = forms.ModelChoiceField(queryset=Category.objects.all(), required=False)


class TagChoiceForm(forms.Form):
    tags = forms.ModelMultipleChoiceField(queryset=Tag.objects.all())


def _courses_csv(queryset: QuerySet[Course]) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="courses-{stamp}.csv"'
    writer = csv.writer(response)
    writer.writerow(
        [
            "id",
            "slug",
            "title",
            "status",
            "category",
            "level",
            "language",
            "policy",
            "capacity",
            "active_students",
            "lessons",
            "instructors",
            "tags",
            "published_at",
        ]
    )
    for course in queryset.select_related("category").prefetch_related("instructors", "tags"):
        writer.writerow(
            [
                course.pk,
                course.slug,
                csv_safe(course.title),
                course.status,
                csv_safe(course.category.name) if course.category else "",
                course.level,
                course.language,
                course.enrollment_policy,
                course.capacity or "",
                course.active_enrollment_count,
                course.lesson_count,
                csv_safe("; ".join(u.email for u in course.instructors.all())),
                csv_safe("; ".join(t.name for t in course.tags.all())),
                course.published_at.isoformat() if course.published_at else "",
            ]
        )
    return response


@admin.register(Course)
class CourseAdmin(StaffAdmin):
    list_display = [
        "title",
        "status",
        "category",
        "level",
        "language",
        "active_enrollment_count",
        "published_at",
    ]
    list_filter = ["status", "category", "level", "language", "enrollment_policy", "tags"]
    search_fields = ["title", "slug", "summary"]
    prepopulated_fields = {"slug": ["title"]}
    filter_horizontal = ["instructors", "tags"]
    readonly_fields = ["active_enrollment_count", "lesson_count", "published_at"]
    inlines = [LessonInline]
    list_select_related = ["category"]
    actions = [
        "publish",
        "unpublish",
        "archive",
        "set_category",
        "add_tags",
        "remove_tags",
        "export_csv",
    ]

    def _set_status(
        self, request: AuthenticatedRequest, queryset: QuerySet[Course], status: str
    ) -> None:
        count = services.bulk_set_status(actor=request.user, courses=queryset, status=status)
        self.message_user(request, _("%(n)d course(s) changed.") % {"n": count}, messages.SUCCESS)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        # Lessons added, removed or unpublished inline change what the catalog counts.
        services.refresh_course_counters(course=form.instance)

    @admin.action(description=_("Publish selected courses"))
    def publish(self, request: AuthenticatedRequest, queryset: QuerySet[Course]) -> None:
        self._set_status(request, queryset, Course.Status.PUBLISHED)

    @admin.action(description=_("Unpublish (back to draft)"))
    def unpublish(self, request: AuthenticatedRequest, queryset: QuerySet[Course]) -> None:
        self._set_status(request, queryset, Course.Status.DRAFT)

    @admin.action(description=_("Archive selected courses"))
    def archive(self, request: AuthenticatedRequest, queryset: QuerySet[Course]) -> None:
        self._set_status(request, queryset, Course.Status.ARCHIVED)

    def _choice_action(
        self,
        request: HttpRequest,
        queryset: QuerySet[Course],
        form_class: Any,
        title: str,
        apply: Any,
    ) -> HttpResponse | None:
        if "apply" in request.POST:
            form = form_class(request.POST)
            if form.is_valid():
                apply(form.cleaned_data)
                self.message_user(request, _("%(n)d course(s) changed.") % {"n": queryset.count()})
                return None
        else:
            form = form_class()
        return TemplateResponse(
            request,
            "admin/courses/choice_action.html",
            {
                **self.admin_site.each_context(request),
                "title": title,
                "form": form,
                "queryset": queryset,
                "action": request.POST.get("action"),
                "opts": self.model._meta,
            },
        )

    @admin.action(description=_("Set category"))
    def set_category(self, request: HttpRequest, queryset: QuerySet[Course]) -> HttpResponse | None:
        return self._choice_action(
            request,
            queryset,
            CategoryChoiceForm,
            str(_("Set category")),
            lambda data: services.set_category(courses=queryset, category=data["category"]),
        )

    @admin.action(description=_("Add tags"))
    def add_tags(self, request: HttpRequest, queryset: QuerySet[Course]) -> HttpResponse | None:
        return self._choice_action(
            request,
            queryset,
            TagChoiceForm,
            str(_("Add tags")),
            lambda data: services.add_tags(courses=queryset, tags=data["tags"]),
        )

    @admin.action(description=_("Remove tags"))
    def remove_tags(self, request: HttpRequest, queryset: QuerySet[Course]) -> HttpResponse | None:
        return self._choice_action(
            request,
            queryset,
            TagChoiceForm,
            str(_("Remove tags")),
            lambda data: services.remove_tags(courses=queryset, tags=data["tags"]),
        )

    @admin.action(description=_("Export selected as CSV"))
    def export_csv(self, request: HttpRequest, queryset: QuerySet[Course]) -> HttpResponse:
        return _courses_csv(queryset)


class CaptionTrackAdminForm(forms.ModelForm):
    class Meta:
        model = CaptionTrack
        fields = ["language", "label", "kind", "is_default", "file"]

    def clean_file(self) -> Any:
        upload = self.cleaned_data.get("file")
        if isinstance(upload, UploadedFile):
            validate_webvtt(upload)  # the same check as the instructor dashboard
        return upload


class CaptionTrackInline(StaffInline):
    model = CaptionTrack
    form = CaptionTrackAdminForm
    extra = 0


@admin.register(Lesson)
class LessonAdmin(StaffAdmin):
    list_display = ["title", "course", "position", "is_published", "is_free_preview"]
    list_filter = ["is_published", "is_free_preview"]
    search_fields = ["title", "course__title"]
    list_select_related = ["course"]
    inlines = [CaptionTrackInline]

    def save_model(self, request: HttpRequest, obj: Lesson, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        services.refresh_course_counters(course=obj.course)

    def delete_model(self, request: HttpRequest, obj: Lesson) -> None:
        course = obj.course
        super().delete_model(request, obj)
        services.refresh_course_counters(course=course)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Lesson]) -> None:
        courses = list(Course.objects.filter(lessons__in=queryset).distinct())
        super().delete_queryset(request, queryset)
        for course in courses:
            services.refresh_course_counters(course=course)


@admin.register(Enrollment)
class EnrollmentAdmin(StaffAdmin):
    list_display = ["student", "course", "status", "completed_lesson_count", "created_at"]
    list_filter = ["status"]
    search_fields = ["student__email", "course__title"]
    list_select_related = ["student", "course"]
    raw_id_fields = ["student", "course", "decided_by"]

    def save_model(self, request: HttpRequest, obj: Enrollment, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        services.refresh_course_counters(course=obj.course)

    def delete_model(self, request: HttpRequest, obj: Enrollment) -> None:
        course = obj.course
        super().delete_model(request, obj)
        services.refresh_course_counters(course=course)


@admin.register(CourseInvitation)
class CourseInvitationAdmin(StaffAdmin):
    list_display = ["email", "course", "accepted_at", "created_at"]
    search_fields = ["email", "course__title"]
    raw_id_fields = ["course", "invited_by", "accepted_by"]
