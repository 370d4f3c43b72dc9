"""Sanitize, always the last HTML step: no article body can run code where it is rendered.

The archive format keeps the feed's HTML as it was (SPEC §3: line 5, byte-compatible with the
original), so a body is left untouched unless it carries something that could execute, as an
HTML5 parser sees it, raw or rendered from Markdown (``active.py`` says exactly what counts).
Only then are those elements and attributes cut out of it, and nothing else (``cut.py``): an
embedded tweet loses its widget ``<script>``, and every other byte stays as the original program
wrote it.

That fails closed, in steps, each checked by the detector: if the cut body is still active, the
body is cleaned whole by ammonia (nh3), with a broad allowlist that keeps the article's
structure, images, links and styling; if even that is active once rendered from Markdown (a
Markdown link to ``javascript:`` is text to an HTML sanitizer), the body is kept as text.
"""

from __future__ import annotations

import html as html_text
import re
from collections.abc import Iterator
from typing import Final

import nh3

from .active import has_active_content
from .cut import cut_active, cut_active_near

__all__ = ["ATTRIBUTES", "TAGS", "URL_SCHEMES", "has_active_content", "neutralize", "neutralize_title"]

TAGS: Final = frozenset(
    {
        "a",
        "abbr",
        "b",
        "bdi",
        "bdo",
        "blockquote",
        "br",
        "caption",
        "cite",
        "code",
        "col",
        "colgroup",
        "dd",
        "del",
        "details",
        "dfn",
        "div",
        "dl",
        "dt",
        "em",
        "figcaption",
        "figure",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "hr",
        "i",
        "iframe",
        "img",
        "ins",
        "kbd",
        "li",
        "mark",
        "ol",
        "p",
        "picture",
        "pre",
        "q",
        "rp",
        "rt",
        "ruby",
        "s",
        "samp",
        "small",
        "source",
        "span",
        "strong",
        "sub",
        "summary",
        "sup",
        "table",
        "tbody",
        "td",
        "tfoot",
        "th",
        "thead",
        "time",
        "tr",
        "u",
        "ul",
        "var",
        "video",
        "audio",
        "wbr",
        "center",
        "font",
    }
)
ATTRIBUTES: Final = {
    "*": {"class", "id", "style", "title", "lang", "dir", "align", "width", "height"},
    "a": {"href", "name", "target"},
    "img": {"src", "alt", "srcset", "loading"},
    "iframe": {"src", "allowfullscreen", "frameborder"},
    "source": {"src", "srcset", "type", "media"},
    "video": {"src", "poster", "controls"},
    "audio": {"src", "controls"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    "time": {"datetime"},
    "font": {"color", "size", "face"},
}
URL_SCHEMES: Final = frozenset({"http", "https", "mailto"})


def neutralize(html: str) -> str:
    """``html`` unchanged when it is inert, else without everything that could execute."""
    if not has_active_content(html):
        return html
    near = cut_active_near(html)
    if near is not None and not has_active_content(near):
        return near
    inert = next((c for c in _fallbacks(html) if not has_active_content(c)), None)
    return as_text(html) if inert is None else inert  # "" (all of it was active) is inert too


def _fallbacks(html: str) -> Iterator[str]:
    """What to try, in order, when cutting near the hits did not do: the whole body cut, then
    cleaned by ammonia; each also with its Markdown link marks as character references (an HTML
    sanitizer leaves ``[a](javascript:…)`` alone: it is text to HTML)."""
    cut = cut_active(html)
    if cut is not None:
        yield cut
        yield without_markdown_links(cut)
    cleaned = clean(html)
    yield cleaned
    yield without_markdown_links(cleaned)


def clean(html: str) -> str:
    """``html`` re-serialised by ammonia, with only the allowlisted tags, attributes and schemes."""
    return nh3.clean(
        html,
        tags=set(TAGS),
        attributes={k: set(v) for k, v in ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


def without_markdown_links(html: str) -> str:
    """``html`` with Markdown's brackets and backticks written as character references, and the
    ``<`` of anything shaped like an autolink as ``&lt;``: no renderer makes a link of it, and a
    browser shows (or, in an attribute, reads) the same characters."""
    return _AUTOLINK_START.sub("&lt;", html).translate(_MARKDOWN_MARKS)


def as_text(html: str) -> str:
    """``html`` shown as its own source text: escaped for HTML and ``without_markdown_links``."""
    return without_markdown_links(html_text.escape(html))


_MARKDOWN_MARKS: Final = {ord("["): "&#91;", ord("]"): "&#93;", ord("`"): "&#96;"}
_AUTOLINK_START: Final = re.compile(r"<(?=[A-Za-z][A-Za-z0-9+.\-]{1,31}:)")
# What could start a tag, a comment or a declaration in a title: ``<`` before a letter, ``/``,
# ``!`` or ``?``; "3 < 5" keeps its ``<``. And ``![``, an image inside the list's link text.
_MARKUP_START: Final = re.compile(r"<(?=[A-Za-z/!?])|!(?=\[)")


def neutralize_title(title: str) -> str:
    """``title`` as text: every ``<`` that could start markup written ``&lt;``.

    A title is Markdown link text, and a Markdown renderer passes raw HTML through: a feed's
    ``<img src=x onerror=…>``, ``<iframe srcdoc>``, ``<plaintext>`` (the rest of a list page as
    text), a tracking image or a ``position:fixed`` overlay would act wherever the file or its
    list page is shown. ``&lt;`` shows as ``<``, so the reader sees the title the feed gave.
    Markdown links and images cannot form either: ``](`` is already written ``\\](``
    (``text.clean_title``), an autolink needs a ``<``, and ``![`` is written ``!\\[``.
    """
    return _MARKUP_START.sub(lambda m: "&lt;" if m.group() == "<" else "!\\", title)
