"""Text rules of the archive format (SPEC §3), with JavaScript's idea of whitespace.

Python's ``str.strip()`` and ``re`` ``\\s`` differ from JavaScript's ``\\s``: they also take
U+001C–U+001F and U+0085 and leave U+FEFF.  The archive was written by JavaScript, so
these functions strip exactly its set.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

JS_WHITESPACE: Final = (
    "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
    "\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
)

# ``]`` + k backslashes + ``(`` is written ``\]`` + k + 1 backslashes + ``(``: Markdown shows the
# original text, the list pages' "first ``](``" never stops inside it, and it can be undone
_BRACKET_RUN: Final = re.compile(r"\](\\*)\(")
_ESCAPED_RUN: Final = re.compile(r"\\\]\\(\\*)\(")
_CONTROLS: Final = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def js_strip(text: str) -> str:
    """Strip JavaScript whitespace at both ends, like ``s.replace(/(^\\s*|\\s*$)/g, '')``."""
    return text.strip(JS_WHITESPACE)


def join_lines(html: str) -> str:
    """The compatible body: split on LF, strip every piece, join with nothing (one line).

    NULs are dropped (a JSON Feed can carry them, XML cannot): git would take the file for binary.
    """
    return "".join(piece.strip(JS_WHITESPACE) for piece in html.replace("\x00", "").split("\n"))


def clean_title(title: str) -> str:
    """Stripped title on one line, safe inside ``[title](link)``.

    The original kept inner line breaks, which pushed the link off line 2 of the file and
    broke readers that take line 2 as ``[title](link)``; a break becomes one space here.  A
    ``](`` inside a title would end the link text early (in Markdown and in the list pages,
    which take the first ``[…](``), so it is written ``\\]\\(``: Markdown shows ``](`` and the
    list pages read past it.  A ``]`` + backslashes + ``(`` gets the same treatment (one more
    backslash), so ``unescape_title`` can undo it; titles without such a run are unchanged.
    """
    return _BRACKET_RUN.sub(lambda m: "\\]\\" + m.group(1) + "(", one_line(title))


def one_line(text: str) -> str:
    """``text`` stripped, every inner line break (LF, CR) with the whitespace around it one space.

    Other C0 control characters (NUL, ESC …) are dropped: XML feeds cannot carry them, and a NUL
    makes git and GitHub show the whole file as binary.
    """
    stripped = js_strip(_CONTROLS.sub("", text))
    if "\n" not in stripped and "\r" not in stripped:
        return stripped
    lines = (js_strip(part) for part in stripped.replace("\r", "\n").split("\n"))
    return " ".join(part for part in lines if part)


def visible(text: str) -> bool:
    """Whether ``text`` shows anything: a character that is not a control, format (zero-width,
    direction marks) or separator character. An entry of only those would be an invisible line."""
    return any(not unicodedata.category(c).startswith(("C", "Z")) for c in text)


def unescape_title(title: str) -> str:
    """The title as the feed gave it (after ``clean_title``), from its form in a file."""
    return _ESCAPED_RUN.sub(lambda m: "]" + m.group(1) + "(", title)
