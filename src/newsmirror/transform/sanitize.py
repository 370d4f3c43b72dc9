"""Sanitize, always the last HTML step: no article body can run code where it is rendered.

The archive format keeps the feed's HTML as it was (SPEC §3: line 5, byte-compatible with the
original), so a body is left untouched unless it carries something that could execute —
``<script>`` and other active elements, ``on…=`` handler attributes, ``javascript:``/
``vbscript:``/``data:text/html`` URLs (``active.py`` says exactly what counts).  Only then are
those elements and attributes cut out of it, and nothing else (``cut.py``): an embedded tweet
loses its widget ``<script>``, and every other byte stays as the original program wrote it.

That fails closed: if the cut body still looks active to the detector (a tokenizer quirk, or
such words in the article's text), the body is cleaned whole by ammonia (nh3) instead, with a
broad allowlist that keeps the article's structure, images, links and styling.
"""

from __future__ import annotations

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
    cut = cut_active(html)
    return cut if cut is not None and not has_active_content(cut) else clean(html)


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


def neutralize_title(title: str) -> str:
    """``title`` unchanged when it is inert, else with every ``<`` written ``&lt;``.

    A title is Markdown link text, and a Markdown renderer passes raw HTML through: a feed's
    ``<img src=x onerror=…>`` title would run wherever the file or its list page is shown.
    ``&lt;`` shows as ``<``, so the reader still sees the title the feed gave.
    """
    return title.replace("<", "&lt;") if has_active_content(title) else title
