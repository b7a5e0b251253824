"""Instructor dashboard: courses and lessons, captions, roster, approvals, CSV in and out."""

from __future__ import annotations

import csv

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from apps.core.errors import InvalidInput, NotAllowed, NotFound
from apps.core.exports import csv_safe
from apps.core.http import AuthenticatedRequest
from apps.courses import errors, policies, selectors, services
from apps.courses.forms import CaptionTrackForm, CourseForm, EnrollmentImportForm, LessonForm
from apps.courses.models import CaptionTrack, Course

COURSE_FORM_FIELDS = (
    "title",
    "slug",
    "summary",
    "description",
    "category",
    "level",
    "language",
    "enrollment_policy",
    "capacity",
)


def _require_teacher(request: AuthenticatedRequest) -> None:
    if not policies.can_create_course(request.user):
        raise NotAllowed(_("Only instructors can use the teaching dashboard."))


@login_required
@require_safe
def dashboard(request: AuthenticatedRequest) -> HttpResponse:
    _require_teacher(request)
    return render(
        request,
        "courses/teach/dashboard.html",
        {"courses": selectors.instructor_courses(request.user)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def course_create(request: AuthenticatedRequest) -> HttpResponse:
    _require_teacher(request)
    form = CourseForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        fields = {name: data[name] for name in COURSE_FORM_FIELDS if name != "title"}
        if not fields.get("slug"):
            fields.pop("slug")
        if data.get("cover_image"):
            fields["cover_image"] = data["cover_image"]
        course = services.create_course(
            actor=request.user, title=data["title"], tags=data["tags"], **fields
        )
        messages.success(request, _("Course created as a draft. Add lessons, then publish it."))
        return redirect("courses:course_edit", slug=course.slug)
    return render(
        request,
        "courses/teach/course_form.html",
        {"form": form, "course": None},
        status=400 if form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def course_edit(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    course = policies.get_course_for_edit(user=request.user, slug=slug)
    form = CourseForm(request.POST or None, request.FILES or None, instance=course)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        fields = {name: data[name] for name in COURSE_FORM_FIELDS}
        if not fields.get("slug"):
            fields["slug"] = course.slug
        if "cover_image" in form.changed_data:
            fields["cover_image"] = data["cover_image"]
        course = services.update_course(
            actor=request.user, course=course, tags=data["tags"], **fields
        )
        messages.success(request, _("Course saved."))
        return redirect("courses:course_edit", slug=course.slug)
    if form.errors:
        course.refresh_from_db()
    return render(
        request,
        "courses/teach/course_form.html",
        {
            "form": form,
            "course": course,
            "lessons": selectors.syllabus(course=course, include_unpublished=True),
            "statuses": Course.Status,
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def course_status(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    course = policies.get_course_for_edit(user=request.user, slug=slug)
    status = request.POST.get("status", "")
    if status not in Course.Status.values:
        raise InvalidInput(_("Choose draft, published or archived."))
    services.set_course_status(actor=request.user, course=course, status=status)
    messages.success(
        request, _("The course is now %(status)s.") % {"status": course.get_status_display()}
    )
    return redirect("courses:course_edit", slug=course.slug)


@login_required
@require_http_methods(["GET", "POST"])
def lesson_create(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    course = policies.get_course_for_edit(user=request.user, slug=slug)
    form = LessonForm(request.POST or None, request.FILES or None, course=course)
    if request.method == "POST" and form.is_valid():
        data = {
            k: v for k, v in form.cleaned_data.items() if v not in (None, "") or k.startswith("is_")
        }
        title = data.pop("title")
        lesson = services.create_lesson(actor=request.user, course=course, title=title, **data)
        messages.success(request, _("Lesson added."))
        return redirect("courses:lesson_edit", slug=course.slug, lesson_id=lesson.pk)
    return render(
        request,
        "courses/teach/lesson_form.html",
        {"form": form, "course": course, "lesson": None},
        status=400 if form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def lesson_edit(request: AuthenticatedRequest, slug: str, lesson_id: int) -> HttpResponse:
    lesson = policies.get_lesson_for_edit(user=request.user, course_slug=slug, lesson_id=lesson_id)
    form = LessonForm(
        request.POST or None, request.FILES or None, instance=lesson, course=lesson.course
    )
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        if "video_file" not in form.changed_data:
            data.pop("video_file", None)
        if not data.get("slug"):
            data["slug"] = lesson.slug
        services.update_lesson(actor=request.user, lesson=lesson, **data)
        messages.success(request, _("Lesson saved."))
        return redirect("courses:lesson_edit", slug=slug, lesson_id=lesson.pk)
    if form.errors:
        lesson.refresh_from_db()
    return render(
        request,
        "courses/teach/lesson_form.html",
        {
            "form": form,
            "course": lesson.course,
            "lesson": lesson,
            "tracks": list(lesson.caption_tracks.all()),
            "caption_form": CaptionTrackForm(),
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def lesson_move(request: AuthenticatedRequest, slug: str, lesson_id: int) -> HttpResponse:
    lesson = policies.get_lesson_for_edit(user=request.user, course_slug=slug, lesson_id=lesson_id)
    direction = request.POST.get("direction", "")
    if direction not in ("up", "down"):
        raise InvalidInput(_("Choose up or down."))
    services.move_lesson(actor=request.user, lesson=lesson, direction=direction)
    messages.success(
        request,
        _("“%(title)s” is now lesson %(n)d.") % {"title": lesson.title, "n": lesson.position},
    )
    return redirect(f"{redirect('courses:course_edit', slug=slug).url}#lesson-{lesson.pk}")


@login_required
@require_POST
def lesson_delete(request: AuthenticatedRequest, slug: str, lesson_id: int) -> HttpResponse:
    lesson = policies.get_lesson_for_edit(user=request.user, course_slug=slug, lesson_id=lesson_id)
    services.delete_lesson(actor=request.user, lesson=lesson)
    messages.success(request, _("Lesson deleted."))
    return redirect("courses:course_edit", slug=slug)


@login_required
@require_POST
def caption_upload(request: AuthenticatedRequest, slug: str, lesson_id: int) -> HttpResponse:
    lesson = policies.get_lesson_for_edit(user=request.user, course_slug=slug, lesson_id=lesson_id)
    caption_form = CaptionTrackForm(request.POST, request.FILES)
    if caption_form.is_valid():
        data = caption_form.cleaned_data
        services.add_caption_track(actor=request.user, lesson=lesson, **data)
        messages.success(request, _("Caption track saved."))
        return redirect("courses:lesson_edit", slug=slug, lesson_id=lesson.pk)
    return render(
        request,
        "courses/teach/lesson_form.html",
        {
            "form": LessonForm(instance=lesson, course=lesson.course),
            "course": lesson.course,
            "lesson": lesson,
            "tracks": list(lesson.caption_tracks.all()),
            "caption_form": caption_form,
        },
        status=400,
    )


@login_required
@require_POST
def caption_delete(
    request: AuthenticatedRequest, slug: str, lesson_id: int, track_id: int
) -> HttpResponse:
    lesson = policies.get_lesson_for_edit(user=request.user, course_slug=slug, lesson_id=lesson_id)
    track = (
        CaptionTrack.objects.filter(lesson=lesson, pk=track_id)
        .select_related("lesson__course")
        .first()
    )
    if track is None:
        raise NotFound()
    services.delete_caption_track(actor=request.user, track=track)
    messages.success(request, _("Caption track removed."))
    return redirect("courses:lesson_edit", slug=slug, lesson_id=lesson.pk)


@login_required
@require_safe
def roster(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    course = policies.get_course_for_edit(user=request.user, slug=slug)
    rows = [
        (e, selectors.progress_percent(e, course.lesson_count)) for e in selectors.roster(course)
    ]
    return render(request, "courses/teach/roster.html", {"course": course, "rows": rows})


@login_required
@require_safe
def roster_csv(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    course = policies.get_course_for_edit(user=request.user, slug=slug)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%d")
    response["Content-Disposition"] = f'attachment; filename="{course.slug}-roster-{stamp}.csv"'
    writer = csv.writer(response)
    writer.writerow(
        ["name", "email", "status", "enrolled", "lessons_completed", "lessons", "progress_percent"]
    )
    for enrollment in selectors.roster(course):
        writer.writerow(
            [
                csv_safe(enrollment.student.display_name),
                csv_safe(enrollment.student.email),
                enrollment.status,
                enrollment.created_at.date().isoformat(),
                enrollment.completed_lesson_count,
                course.lesson_count,
                selectors.progress_percent(enrollment, course.lesson_count),
            ]
        )
    return response


@login_required
@require_POST
def enrollment_decide(request: AuthenticatedRequest, slug: str, enrollment_id: int) -> HttpResponse:
    course = policies.get_course_for_edit(user=request.user, slug=slug)
    enrollment = policies.get_enrollment_for_decision(
        user=request.user, course=course, enrollment_id=enrollment_id
    )
    decision = request.POST.get("decision")
    if decision not in ("approve", "deny"):
        raise InvalidInput(_("Choose approve or deny."))
    services.decide_enrollment(
        actor=request.user, enrollment=enrollment, approve=decision == "approve"
    )
    if decision == "approve":
        messages.success(
            request, _("%(name)s is enrolled.") % {"name": enrollment.student.display_name}
        )
    else:
        messages.success(
            request,
            _("%(name)s's request was declined.") % {"name": enrollment.student.display_name},
        )
    return redirect("courses:roster", slug=slug)


@login_required
@require_http_methods(["GET", "POST"])
def enrollment_import(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    course = policies.get_course_for_edit(user=request.user, slug=slug)
    form = EnrollmentImportForm(request.POST or None, request.FILES or None)
    report = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            report = services.import_enrollments_csv(
                actor=request.user,
                course=course,
                data=upload.read(services.MAX_IMPORT_BYTES + 1),
                base_url=request.build_absolute_uri("/").rstrip("/"),
            )
        except errors.InvalidImport as exc:
            form.add_error("file", str(exc.message))
        if report is not None and report.applied:
            messages.success(
                request,
                _("Import done: %(e)d enrolled, %(i)d invited, %(a)d already enrolled.")
                % {
                    "e": report.count("enrolled"),
                    "i": report.count("invited"),
                    "a": report.count("already_enrolled"),
                },
            )
        elif report is not None:
            messages.error(
                request, _("Nothing was imported: fix the rows marked as errors and try again.")
            )
    return render(
        request,
        "courses/teach/enrollment_import.html",
        {"course": course, "form": form, "report": report},
        status=400 if (form.errors or (report and not report.applied)) else 200,
    )
