"""Cached HTML of the public course pages (catalog, course, lesson) for anonymous visitors.

Anonymous visitors all see the same content, so the blocks a page template defines (title,
content, ...) are cached as rendered HTML and the base layout is rendered around them per request
(CSRF token, CSP nonce, theme and messages stay per request). A hit runs no database query.

Correctness rests on the catalog version (`selectors.catalog_version`, replaced by
`services.catalog_changed` on every change to courses, lessons, captions, categories, tags or
enrollments, at once and again after the commit): each cached page (keyed by language, time
zone, template and full address) carries the version its data was read under, and is served only
while that is still the current version. The version is read before any data, so a page rendered
from data older than a change carries a version that is already retired. The timeout only bounds
what the version does not follow (an instructor renaming themselves in their profile).

Signed-in users are never served from or stored in this cache. A block holding a per-request
value (CSRF token or CSP nonce) is never stored either.

    page = AnonymousPageCache(request, "courses/course_detail.html")
    if page.hit is not None:
        return page.hit
    ... build the context (policies may raise NotFound: nothing is cached) ...
    return page.render(context)
"""

from __future__ import annotations

import hashlib
import secrets
from functools import lru_cache
from typing import Any

from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template import engines
from django.template.backends.django import Template as BackendTemplate
from django.template.loader import get_template
from django.template.loader_tags import BlockNode, ExtendsNode
from django.utils import timezone, translation
from django.utils.safestring import mark_safe

from apps.courses import selectors

PAGE_CACHE_SECONDS = 600
_WHOLE = "__whole__"  # a template without {% extends %} is cached whole (htmx partials)
_MARK = secrets.token_hex(8)  # brackets each block in the rendered page, then removed
_PER_REQUEST_MARKERS = ("csrfmiddlewaretoken", "X-CSRFToken")


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


class AnonymousPageCache:
    def __init__(self, request: HttpRequest, template_name: str) -> None:
        self.request = request
        self.template_name = template_name
        self.key: str | None = None
        self.version = ""
        self.hit: HttpResponse | None = None
        if request.user.is_authenticated:
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
        # One round trip for the version and the page; the version is read before any data.
        found = cache.get_many([selectors.CATALOG_VERSION_KEY, self.key])
        self.version = found.get(selectors.CATALOG_VERSION_KEY) or selectors.catalog_version()
        entry: dict[str, Any] | None = found.get(self.key)
        if entry is None or entry.get("version") != self.version:
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
        # One entry per page and language, tagged with the version its data was read under:
        # an entry of a retired version is never served, and the next render replaces it.
        cache.set(self.key, {"version": self.version, "blocks": fragments}, PAGE_CACHE_SECONDS)
