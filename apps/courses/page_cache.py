"""Cached HTML of the public course pages (catalog, course, lesson) for anonymous visitors.

Anonymous visitors all see the same content, so the blocks a page template defines (title,
content, ...) are cached as rendered HTML and the base layout is rendered around them per request
(CSRF token, CSP nonce, theme and messages stay per request). A hit runs no database query.

Correctness rests on versions, one per *scope* of data, all owned by this module:

- `CATALOG`: what every course page shows (courses, their category, tags, instructors and
  lesson count; categories; tags). The catalog, course and lesson pages all depend on it.
- `POPULARITY`: the active-student counts the catalog sorts by (`?sort=popular` only).
- `course_scope(slug)`: one course's syllabus, lessons, captions and student count. Its course
  and lesson pages depend on it; the catalog does not.

A change replaces the version of each scope it touches (`changed()`), at once and again after
the commit. Model signals, connected once from `CoursesConfig.ready()` through
`connect_signals()`, cover every save and delete; services call `changed()` themselves after
`QuerySet.update()`, which sends no signal. A person's own progress (lesson completion) touches
no scope: anonymous pages do not show it. Each cached page (keyed by language, time zone,
template and full address) carries the versions its data was read under and is served only
while they are all still current. The versions are read before any data, so a page rendered
from data older than a change carries a version that is already retired. The timeout only
bounds what the versions do not follow (an instructor renaming themselves in their profile).

A page whose blocks are the same for everyone (the catalog: nothing in it depends on who looks)
is shared with signed-in people too (`everyone=True`): their own parts (navigation, notifications,
messages) are in the layout, rendered per request around the cached blocks. Pages whose blocks
hold a person's own state (the course and lesson pages: enrollment, progress, edit links) are
cached for anonymous visitors only; signed-in people get them rendered. A block holding a
per-request value (CSRF token or CSP nonce) is never stored.

    page = SharedPageCache(
        request, "courses/course_detail.html", scopes=(CATALOG, course_scope(slug))
    )
    if page.hit is not None:
        return page.hit
    ... build the context (policies may raise NotFound: nothing is cached) ...
    return page.render(context)
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import signals
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template import engines
from django.template.backends.django import Template as BackendTemplate
from django.template.loader import get_template
from django.template.loader_tags import BlockNode, ExtendsNode
from django.utils import timezone, translation
from django.utils.safestring import mark_safe

from apps.courses.models import CaptionTrack, Category, Course, Enrollment, Lesson, Tag

PAGE_CACHE_SECONDS = 600
_WHOLE = "__whole__"  # a template without {% extends %} is cached whole (htmx partials)
_MARK = secrets.token_hex(8)  # brackets each block in the rendered page, then removed
_PER_REQUEST_MARKERS = ("csrfmiddlewaretoken", "X-CSRFToken")

CATALOG = "catalog"
POPULARITY = "popularity"
# Fields a person's progress changes on their enrollment: no cached page shows them.
PROGRESS_FIELDS = frozenset({"completed_lesson_count", "updated_at", "status", "completed_at"})


def course_scope(slug: str) -> str:
    return f"course:{slug}"


def version_key(scope: str) -> str:
    return f"courses:version:{scope}"


def versions(
    scopes: Iterable[str], *, also: Iterable[str] = ()
) -> tuple[dict[str, str], dict[str, Any]]:
    """The current version of each scope, and the other keys `also` asked for, in one cache
    round trip. A scope without a version gets a new random one (a version lost to eviction
    never comes back, so nothing cached under it is served again)."""
    keys = {scope: version_key(scope) for scope in scopes}
    found = cache.get_many([*keys.values(), *also])
    current: dict[str, str] = {}
    for scope, key in keys.items():
        version = found.get(key)
        if version is None:
            cache.add(key, uuid.uuid4().hex, timeout=None)
            version = cache.get(key) or "none"
        current[scope] = version
    return current, {key: found[key] for key in also if key in found}


def _replace(scopes: Iterable[str]) -> None:
    cache.set_many({version_key(scope): uuid.uuid4().hex for scope in scopes}, timeout=None)


def _flush_after_commit() -> None:
    pending: set[str] = connection.__dict__.pop("_page_cache_pending", set())
    if pending:
        _replace(pending)


def changed(*scopes: str) -> None:
    """The data behind `scopes` changed: pages cached under their current versions must not be
    served. The versions change at once (a later read in this transaction, e.g. in a test, sees
    the change) and again after the commit: another request may have cached a page from the
    data as it was before the commit in between. A transaction of many changes replaces each
    version once after it commits: the first callback takes every pending scope, the others
    find none. (A rolled-back transaction leaves its scopes for the next commit to replace:
    one needless miss, never a stale page.)"""
    if not scopes:
        return
    _replace(scopes)
    if connection.in_atomic_block:
        connection.__dict__.setdefault("_page_cache_pending", set()).update(scopes)
        transaction.on_commit(_flush_after_commit)


def _course_slug(course_id: int | None) -> str | None:
    if course_id is None:
        return None
    return Course.objects.filter(pk=course_id).values_list("slug", flat=True).first()


def _through_course(instance: Any) -> list[str]:
    """The course scope of a lesson or an enrollment (its course, loaded or not)."""
    field = type(instance)._meta.get_field("course")
    course = field.get_cached_value(instance, None)
    slug = course.slug if course is not None else _course_slug(instance.course_id)
    return [course_scope(slug)] if slug else []


def _on_course(**kwargs: Any) -> None:
    if kwargs.get("raw"):
        return
    changed(CATALOG)  # every course and lesson page depends on the catalog scope too


def _on_catalog_fact(**kwargs: Any) -> None:  # category, tag, a course's tags or instructors
    if kwargs.get("raw") or str(kwargs.get("action", "post")).startswith("pre_"):
        return
    changed(CATALOG)


def _on_lesson(instance: Lesson, **kwargs: Any) -> None:
    if kwargs.get("raw"):
        return
    changed(*_through_course(instance))


def _on_caption(instance: CaptionTrack, **kwargs: Any) -> None:
    if kwargs.get("raw"):
        return
    lesson = Lesson.objects.filter(pk=instance.lesson_id).only("course_id").first()
    if lesson is not None:
        changed(*_through_course(lesson))


def _on_enrollment(instance: Enrollment, **kwargs: Any) -> None:
    if kwargs.get("raw"):
        return
    fields = kwargs.get("update_fields")
    if fields is not None and set(fields) <= PROGRESS_FIELDS:
        return  # progress: nothing a cached page shows (counts change through the services)
    changed(POPULARITY, *_through_course(instance))


def connect_signals() -> None:
    """Connect the saves and deletes that change cached pages to `changed()`. Called once, from
    `CoursesConfig.ready()`."""
    handlers: list[tuple[type[Any], Any]] = [
        (Course, _on_course),
        (Category, _on_catalog_fact),
        (Tag, _on_catalog_fact),
        (Lesson, _on_lesson),
        (CaptionTrack, _on_caption),
        (Enrollment, _on_enrollment),
    ]
    for model, handler in handlers:
        name = model.__name__
        signals.post_save.connect(handler, sender=model, dispatch_uid=f"page-cache-s-{name}")
        signals.post_delete.connect(handler, sender=model, dispatch_uid=f"page-cache-d-{name}")
    for through in (Course.tags.through, Course.instructors.through):
        signals.m2m_changed.connect(
            _on_catalog_fact, sender=through, dispatch_uid=f"page-cache-m-{through.__name__}"
        )


def _blocks(template_name: str) -> tuple[str, ...]:
    """The blocks the template itself defines at its top level; () when it extends nothing."""
    template = get_template(template_name).template  # type: ignore[attr-defined]
    for node in template.nodelist:
        if isinstance(node, ExtendsNode):
            return tuple(n.name for n in node.nodelist if isinstance(n, BlockNode))
    return ()


@lru_cache(maxsize=64)
def _wrapper(template_name: str, blocks: tuple[str, ...], store: bool) -> BackendTemplate:
    """The page with its blocks bracketed by markers (store) or replaced by cached HTML (hit)."""
    parts = [f'{{% extends "{template_name}" %}}']
    for name in blocks:
        if store:
            body = f"<!--{_MARK}:{name}-->{{{{ block.super }}}}<!--/{_MARK}:{name}-->"
        else:
            body = f"{{{{ cached_blocks.{name} }}}}"
        parts.append(f"{{% block {name} %}}{body}{{% endblock %}}")
    return engines["django"].from_string("".join(parts))  # type: ignore[return-value]


class SharedPageCache:
    def __init__(
        self,
        request: HttpRequest,
        template_name: str,
        *,
        scopes: tuple[str, ...],
        everyone: bool = False,
    ) -> None:
        self.request = request
        self.template_name = template_name
        self.key: str | None = None
        self.versions: dict[str, str] = {}
        self.hit: HttpResponse | None = None
        if request.user.is_authenticated and not everyone:
            return
        query = sorted((k, v) for k, values in request.GET.lists() for v in values)
        parts = [
            translation.get_language() or "",
            timezone.get_current_timezone_name(),
            template_name,
            request.path,
            repr(query),
        ]
        self.key = "courses:page:" + hashlib.sha256("\n".join(parts).encode()).hexdigest()
        # One round trip for the versions and the page; the versions are read before any data.
        self.versions, found = versions(scopes, also=[self.key])
        entry: dict[str, Any] | None = found.get(self.key)
        if entry is None or entry.get("versions") != self.versions:
            return
        cached: dict[str, str] = entry["blocks"]
        if _WHOLE in cached:
            self.hit = HttpResponse(cached[_WHOLE])
            return
        wrapper = _wrapper(template_name, tuple(cached), store=False)
        context = {"cached_blocks": {name: mark_safe(html) for name, html in cached.items()}}  # noqa: S308 (HTML we rendered)
        self.hit = HttpResponse(wrapper.render(context, request))

    def render(self, context: dict[str, Any]) -> HttpResponse:
        if self.key is None:
            return render(self.request, self.template_name, context)
        blocks = _blocks(self.template_name)
        if not blocks:
            response = render(self.request, self.template_name, context)
            self._store({_WHOLE: response.content.decode()}, response)
            return response
        wrapper = _wrapper(self.template_name, blocks, store=True)
        response = HttpResponse(wrapper.render(context, self.request))
        html = response.content.decode()
        fragments: dict[str, str] = {}
        for name in blocks:
            start, end = f"<!--{_MARK}:{name}-->", f"<!--/{_MARK}:{name}-->"
            i = html.find(start)
            j = html.find(end, i)
            if i < 0 or j < 0:
                continue  # the layout did not render this block: the page is not stored
            fragments[name] = html[i + len(start) : j]
            html = html[:i] + fragments[name] + html[j + len(end) :]
        response.content = html.encode()
        if len(fragments) == len(blocks):
            self._store(fragments, response)
        return response

    def _store(self, fragments: dict[str, str], response: HttpResponse) -> None:
        if response.status_code != 200:
            return
        nonce = getattr(self.request, "_csp_nonce", None)
        for html in fragments.values():
            if any(marker in html for marker in _PER_REQUEST_MARKERS) or (
                isinstance(nonce, str) and nonce in html
            ):
                return
        # One entry per page and language, tagged with the versions its data was read under:
        # an entry of a retired version is never served, and the next render replaces it.
        cache.set(self.key, {"versions": self.versions, "blocks": fragments}, PAGE_CACHE_SECONDS)
