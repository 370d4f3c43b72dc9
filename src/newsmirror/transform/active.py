"""What counts as active content in a body or title: the one detector the sanitizer trusts.

It reads the text, not a parse of it, so no tokenizer quirk can hide anything from it: any
``<script``-like tag name, any ``on…=`` or ``srcdoc=`` attribute shape, any ``javascript:``/
``vbscript:``/``data:text/html`` URL (after a ``=`` or in a CSS ``url(``) or CSS ``expression(``
in a style attribute is active, also when spelled with character references or tabs and line
breaks (which browsers drop from URLs).  The same words in the article's text ("freedom of
expression (Article 19)", "javascript: 一种语言") are prose and do not count.  False alarms are
still possible; misses are what it must not have.

It runs on every body of every run, so it is built for speed (measured, benchmarks/README.md):
the patterns are all ASCII, so it searches the text's ASCII characters only, lower-cased, as
bytes; each pattern begins with a literal character or word, which ``re`` finds with a fast
scan instead of trying the pattern at every position.
"""

from __future__ import annotations

import re
from html import unescape
from typing import Final

# Elements that run code or change how the rest of the page is fetched, parsed or submitted.
ACTIVE_TAGS: Final = frozenset(
    {
        "script", "object", "embed", "applet", "base", "meta", "link", "form", "frame",
        "frameset", "svg", "math", "template", "style",
    }
)  # fmt: skip

_TAG: Final = re.compile(rb"<[\s/]*(?:" + "|".join(sorted(ACTIVE_TAGS)).encode() + rb")(?![a-z0-9])")
# ``on`` first, the separator checked behind it: a literal start keeps the search fast.  An
# attribute starts after whitespace, ``/`` or a closing quote (``<img src="x"onerror=…>`` works).
_HANDLER: Final = re.compile(rb"on(?<=[\s/\"']on)[a-z]+\s*=")
_SRCDOC: Final = re.compile(rb"srcdoc(?<=[\s/\"']srcdoc)\s*=")
# A script URL runs only as a URL: an attribute's value (``href=javascript:``, also quoted) or a
# CSS ``url(…)``; the same words in the article's text are prose (blanks are already squeezed out).
_AS_URL: Final = rb"(?:=[\"'`]?|url\([\"'`]?)"
_SCRIPT_URL: Final = re.compile(_AS_URL + rb"(?:javascript|vbscript|livescript):")
_DATA_HTML: Final = re.compile(_AS_URL + rb"data:text/html")
# CSS ``expression(…)`` runs only in a style attribute (``<style>`` is an active element anyway);
# "freedom of expression (Article 19)" is prose.
_EXPRESSION: Final = re.compile(rb"style=[^<>]*?expression\(")
# Character references that can spell a scheme, a colon, a parenthesis or the blanks browsers
# drop from URLs (``&amp;`` alone cannot: what it decodes to is not decoded again).
_HIDING: Final = re.compile(rb"&(?:#|colon|tab|newline|lpar)")
# Where something active could be, to find its place in the text (``cut.cut_active_near``, on a
# one-byte-per-character probe): the patterns above, the URL ones without their context.
PLACES: Final = re.compile(
    b"|".join(
        (
            _TAG.pattern,
            _HANDLER.pattern,
            rb"srcdoc|javascript|vbscript|livescript|data:\s*text|expression",
            _HIDING.pattern,
        )
    )
)
_URL_BLANKS: Final = bytes(range(0x21))
_SCRIPT_SCHEMES: Final = (b"javascript:", b"vbscript:", b"livescript:")


def has_active_content(text: str) -> bool:
    """Whether ``text`` holds anything that could run code where it is rendered as HTML."""
    probe = _ascii_lower(text)
    if _TAG.search(probe) or _HANDLER.search(probe) or _SRCDOC.search(probe):
        return True
    if _has_script_url(probe):
        return True
    return _HIDING.search(probe) is not None and _has_script_url(_ascii_lower(unescape(text)))


def _has_script_url(probe: bytes) -> bool:
    # Browsers drop tabs and line breaks anywhere in a URL and blanks around it; dropping
    # every blank and control here can only add false alarms.
    squeezed = probe.translate(None, _URL_BLANKS)
    return (
        (any(scheme in squeezed for scheme in _SCRIPT_SCHEMES) and _SCRIPT_URL.search(squeezed) is not None)
        or (b"data:" in squeezed and _DATA_HTML.search(squeezed) is not None)
        or (b"expression" in squeezed and _EXPRESSION.search(squeezed) is not None)
    )


def _ascii_lower(text: str) -> bytes:
    """The text lower-cased with every non-ASCII character dropped: what the patterns look at.

    Every pattern is ASCII, so dropping the rest (most of a Chinese article) loses no match; it
    can only join letters into a false alarm.
    """
    return text.encode("ascii", "ignore").lower()
