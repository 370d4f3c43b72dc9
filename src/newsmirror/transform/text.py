"""Text rules of the archive format (SPEC §3), with JavaScript's idea of whitespace.

Python's ``str.strip()`` and ``re`` ``\\s`` differ from JavaScript's ``\\s``: they also take
U+001C–U+001F and U+0085 and leave U+FEFF.  The archive was written by JavaScript, so
these functions strip exactly its set.
"""

from __future__ import annotations

from typing import Final

JS_WHITESPACE: Final = (
    "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
    "\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
)


def js_strip(text: str) -> str:
    """Strip JavaScript whitespace at both ends, like ``s.replace(/(^\\s*|\\s*$)/g, '')``."""
    return text.strip(JS_WHITESPACE)


def join_lines(html: str) -> str:
    """The compatible body: split on LF, strip every piece, join with nothing (one line)."""
    return "".join(piece.strip(JS_WHITESPACE) for piece in html.split("\n"))


def clean_title(title: str) -> str:
    """Stripped title on one line, safe inside ``[title](link)``.

    The original kept inner line breaks, which pushed the link off line 2 of the file and
    broke readers that take line 2 as ``[title](link)``; a break becomes one space here.  A
    ``](`` inside a title would end the link text early (in Markdown and in the list pages,
    which take the first ``[…](``), so it is written ``]\\(`` — Markdown shows it as ``](``.
    """
    stripped = js_strip(title)
    if "\n" in stripped or "\r" in stripped:
        lines = (js_strip(part) for part in stripped.replace("\r", "\n").split("\n"))
        stripped = " ".join(part for part in lines if part)
    return stripped.replace("](", "]\\(")


def unescape_title(title: str) -> str:
    """The title as the feed gave it (after ``clean_title``), from its form in a file."""
    return title.replace("]\\(", "](")
