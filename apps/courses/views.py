"""Student-facing course pages: catalog, course, lesson, enrollment and "My learning"."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models.fields.files import FieldFile
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django_htmx.middleware import HtmxDetails

from apps.core.errors import NotFound
from apps.core.http import AuthenticatedRequest
from apps.core.private_media import private_file_response
from apps.core.tokens import is_token
from apps.courses import media, policies, selectors, services
from apps.courses.forms import CatalogFilterForm
from apps.courses.models import Category, CourseInvitation, Enrollment, Tag
from apps.courses.page_cache import CATALOG, POPULARITY, SharedPageCache, course_scope

PAGE_SIZE = 12


class HtmxRequest(HttpRequest):
    htmx: HtmxDetails


class AuthenticatedHtmxRequest(AuthenticatedRequest):
    htmx: HtmxDetails


def _catalog(
    request: HtmxRequest, *, category: Category | None = None, tag: Tag | None = None
) -> HttpResponse:
    results_only = bool(request.htmx and request.htmx.target == "catalog-results")
    popular = request.GET.get("sort") == "popular"
    cached = SharedPageCache(
        request,
        "courses/_catalog_results.html" if results_only else "courses/catalog.html",
        scopes=(CATALOG, POPULARITY) if popular else (CATALOG,),
        everyone=True,  # nothing in the catalog's blocks depends on who is looking
    )
    if cached.hit is not None:
        return cached.hit
    form = CatalogFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    filters = selectors.CatalogFilters(
        q=data.get("q", ""),
        category=category or data.get("category"),
        tag=tag or data.get("tag"),
        level=data.get("level", ""),
        language=data.get("language", ""),
        sort=data.get("sort") or "newest",
    )
    page = Paginator(selectors.catalog_courses(filters), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "courses": page.object_list,
        "filters": filters,
        "category": category,
        "tag": tag,
        "querystring": query.urlencode(),
        "categories": selectors.category_tree(),
    }
    return cached.render(context)


@require_safe
def catalog(request: HtmxRequest) -> HttpResponse:
    return _catalog(request)


@require_safe
def category(request: HtmxRequest, slug: str) -> HttpResponse:
    found = Category.objects.filter(slug=slug).select_related("parent").first()
    if found is None:
        raise NotFound()
    return _catalog(request, category=found)


@require_safe
def tag(request: HtmxRequest, slug: str) -> HttpResponse:
    found = Tag.objects.filter(slug=slug).first()
    if found is None:
        raise NotFound()
    return _catalog(request, tag=found)


@require_safe
def course_detail(request: HttpRequest, slug: str) -> HttpResponse:
    cached = SharedPageCache(
        request, "courses/course_detail.html", scopes=(CATALOG, course_scope(slug))
    )
    if cached.hit is not None:
        return cached.hit
    course, enrollment = policies.get_course_for_view(user=request.user, slug=slug)
    can_edit = policies.can_edit_course(request.user, course)
    lessons = selectors.syllabus(course=course, include_unpublished=can_edit)
    completed = selectors.completed_lesson_ids(enrollment)
    is_member = policies.is_member(enrollment)
    return cached.render(
        {
            "course": course,
            "enrollment": enrollment,
            "is_member": is_member,
            "lessons": lessons,
            "completed_ids": completed,
            "instructors": selectors.course_instructors(course),
            "tags": list(course.tags.order_by("name")),
            "can_edit": can_edit,
            "can_enroll": policies.can_enroll(request.user, course),
            "is_full": course.capacity is not None
            and course.active_enrollment_count >= course.capacity,
            "progress": selectors.progress_percent(enrollment, course.lesson_count)
            if enrollment
            else 0,
        },
    )


@login_required
@require_POST
def enroll(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    course, _enrollment = policies.get_course_for_view(user=request.user, slug=slug)
    enrollment = services.enroll_student(course=course, student=request.user)
    if enrollment.status == Enrollment.Status.PENDING:
        messages.info(request, _("Your request was sent. An instructor will review it."))
    else:
        messages.success(request, _("You are enrolled. Welcome!"))
    return redirect(course.get_absolute_url())


@login_required
@require_POST
def drop(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    course, enrollment = policies.get_course_for_view(user=request.user, slug=slug)
    if enrollment is None or enrollment.status == Enrollment.Status.DROPPED:
        raise NotFound()
    services.drop_enrollment(enrollment=enrollment, actor=request.user)
    messages.success(request, _("You have left the course."))
    return redirect(course.get_absolute_url())


@require_safe
def lesson_detail(request: HttpRequest, slug: str, lesson_slug: str) -> HttpResponse:
    cached = SharedPageCache(
        request, "courses/lesson_detail.html", scopes=(CATALOG, course_scope(slug))
    )
    if cached.hit is not None:
        return cached.hit
    course, lesson, enrollment = policies.get_lesson_for_view(
        user=request.user, course_slug=slug, lesson_slug=lesson_slug
    )
    can_edit = policies.can_edit_course(request.user, course)
    lessons = selectors.syllabus(course=course, include_unpublished=can_edit)
    index = next((i for i, item in enumerate(lessons) if item.pk == lesson.pk), -1)
    completed = selectors.completed_lesson_ids(enrollment)
    preferences = getattr(request, "preferences", None)
    captions_on = bool(preferences and preferences.captions_on)
    tracks = list(lesson.caption_tracks.all())
    return cached.render(
        {
            "course": course,
            "lesson": lesson,
            "enrollment": enrollment,
            "is_member": policies.is_member(enrollment),
            "lessons": lessons,
            "previous": lessons[index - 1] if index > 0 else None,
            "next": lessons[index + 1] if 0 <= index < len(lessons) - 1 else None,
            "completed": lesson.pk in completed,
            "completed_ids": completed,
            "tracks": tracks,
            "default_track": next(
                (t for t in tracks if t.is_default), tracks[0] if tracks else None
            ),
            "captions_on": captions_on,
            "can_edit": can_edit,
            "progress": selectors.progress_percent(enrollment, course.lesson_count)
            if enrollment
            else 0,
        },
    )


@login_required
@require_POST
def lesson_complete(request: AuthenticatedHtmxRequest, slug: str, lesson_slug: str) -> HttpResponse:
    course, lesson, enrollment = policies.get_lesson_for_view(
        user=request.user, course_slug=slug, lesson_slug=lesson_slug
    )
    if not policies.is_member(enrollment):
        raise NotFound()
    assert enrollment is not None
    if request.POST.get("completed") == "0":
        services.mark_lesson_incomplete(enrollment=enrollment, lesson=lesson)
        done = False
    else:
        services.mark_lesson_complete(enrollment=enrollment, lesson=lesson)
        done = True
    enrollment.refresh_from_db()
    course.refresh_from_db(fields=["lesson_count"])
    context = {
        "course": course,
        "lesson": lesson,
        "enrollment": enrollment,
        "completed": done,
        "progress": selectors.progress_percent(enrollment, course.lesson_count),
    }
    if request.htmx:
        return render(request, "courses/_lesson_progress.html", context)
    messages.success(
        request, _("Lesson marked complete.") if done else _("Lesson marked not complete.")
    )
    return redirect(lesson.get_absolute_url())


@login_required
@require_safe
def my_learning(request: AuthenticatedRequest) -> HttpResponse:
    enrollments = selectors.my_enrollments(request.user)
    rows = [(e, selectors.progress_percent(e, e.course.lesson_count)) for e in enrollments]
    return render(request, "courses/my_learning.html", {"rows": rows})


@login_required
@require_http_methods(["GET", "POST"])
def invitation(request: AuthenticatedRequest, token: str) -> HttpResponse:
    found = (
        CourseInvitation.objects.select_related("course").filter(token=token).first()
        if is_token(token)
        else None
    )
    # Only the person invited may open it; anyone else learns nothing about the course.
    if found is None or found.email.lower() != request.user.email.lower():
        raise NotFound()
    if request.method == "POST":
        services.accept_invitation(invitation=found, user=request.user)
        messages.success(request, _("You are enrolled. Welcome!"))
        return redirect(found.course.get_absolute_url())
    return render(request, "courses/invitation.html", {"invitation": found, "course": found.course})


# --- Private media: whoever may open the lesson; missing and forbidden both 404 ---------------


@require_safe
def caption_file(request: HttpRequest, track_id: int, version: str) -> HttpResponseBase:
    track = policies.get_caption_track_for_view(
        user=request.user, track_id=track_id, version=version
    )
    return _send(
        request,
        track.file,
        content_type=media.CAPTION_CONTENT_TYPE,
        filename=media.caption_download_name(track),
    )


@require_safe
def lesson_video(request: HttpRequest, lesson_id: int, version: str) -> HttpResponseBase:
    lesson = policies.get_lesson_video_for_view(
        user=request.user, lesson_id=lesson_id, version=version
    )
    return _send(
        request,
        lesson.video_file,
        content_type=lesson.video_mime_type,
        filename=media.video_download_name(lesson),
    )


def _send(
    request: HttpRequest, file: FieldFile, *, content_type: str, filename: str
) -> HttpResponseBase:
    try:
        return private_file_response(
            file,
            content_type=content_type,
            filename=filename,
            range_header=request.headers.get("Range", ""),
        )
    except FileNotFoundError:  # the row is there, the file is not: the same answer as no row
        raise NotFound() from None
