"""Lesson text: Markdown rendered to HTML that is safe to put in a page.

Two layers, on purpose. markdown-it-py (CommonMark, raw HTML off, tables on)
never emits HTML the author typed: ``<script>`` comes out as text, and its
link validator drops ``javascript:``/``vbscript:``/``data:`` links. nh3 (the
Rust ``ammonia`` sanitizer) then keeps only a short list of tags and
attributes, so even a bug or a plugin in the first layer cannot put a script,
an event handler or a style into the page. Links get
``rel="noopener noreferrer nofollow"``; images only load over http(s). No
``style`` anywhere (the CSP forbids inline styles, so table alignment goes).
"""

from __future__ import annotations

from functools import lru_cache

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

ALLOWED_TAGS = frozenset({
    "p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "strong", "em", "code", "pre",
    "blockquote", "a", "hr", "br", "img",
    "table", "thead", "tbody", "tr", "th", "td",
})
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "ol": {"start"},
}
# Scripts and styles go with their content (not left behind as text).
DROPPED_WITH_CONTENT = frozenset({"script", "style"})
LINK_SCHEMES = frozenset({"http", "https", "mailto"})
LINK_REL = "noopener noreferrer nofollow"


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False}).enable("table")


def _attribute_filter(tag: str, attribute: str, value: str):
    """Images load only from http(s) addresses (no relative or data: sources)."""
    if tag == "img" and attribute == "src" and not value.lower().startswith(("http://", "https://")):
        return None
    return value


def sanitize(html: str) -> str:
    """Only the allowed tags and attributes of ``html`` survive."""
    return nh3.clean(html, tags=set(ALLOWED_TAGS), clean_content_tags=set(DROPPED_WITH_CONTENT),
                     attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
                     attribute_filter=_attribute_filter, url_schemes=set(LINK_SCHEMES),
                     link_rel=LINK_REL, strip_comments=True)


def render_markdown(text: str | None) -> Markup:
    """``text`` (Markdown) as sanitized HTML, marked safe for Jinja."""
    if not text or not text.strip():
        return Markup("")
    return Markup(sanitize(_parser().render(text)))
