"""Markdown to safe HTML: rendered with `markdown`, then cleaned by `nh3` (an allow-list)."""

from __future__ import annotations

# No stubs for `markdown` are installed (types-Markdown is not a dependency).
import markdown as md  # type: ignore[import-untyped]
import nh3

ALLOWED_TAGS = {
    "p",
    "br",
    "hr",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "strong",
    "em",
    "b",
    "i",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "a",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "img",
    "dl",
    "dt",
    "dd",
    "sup",
    "sub",
    "del",
    "ins",
    "abbr",
    "kbd",
    "mark",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "th": {"scope", "colspan", "rowspan"},
    "td": {"colspan", "rowspan"},
    "abbr": {"title"},
    "ol": {"start"},
}


def render_markdown(text: str) -> str:
    """Return sanitized HTML for `text`. Headings start at h2: the page owns the one h1."""
    html = md.markdown(
        text or "",
        extensions=["extra", "sane_lists", "smarty"],
        output_format="html",
    )
    # Demote h1 written by an author so each page keeps one h1.
    html = html.replace("<h1", "<h2").replace("</h1>", "</h2>")
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
