"""An article page's bytes as text: its character encoding settled the way browsers settle it.

In order: a byte order mark; the HTTP ``charset``; the page's own ``<meta charset>`` or
``http-equiv`` declaration (found by BeautifulSoup's ``EncodingDetector``); UTF-8 when the bytes
are valid UTF-8; else a guess by charset-normalizer (GBK, GB18030 and Big5 pages that declare
nothing).  Labels are read with the WHATWG table, as feeds are (``parse.xml``): GB2312 and GBK
as GB18030, Big5 as Big5-HKSCS.  A label under which the bytes do not decode is passed over (a
server that says UTF-8 over a GBK page), and a legacy label over bytes that are valid UTF-8 with
non-ASCII characters is disbelieved, as for feeds.  Whatever is left undecodable becomes U+FFFD.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass

import charset_normalizer
from bs4.dammit import EncodingDetector

from .xml import codec_for

_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
_CHINESE = ("gb18030", "big5hkscs", "utf_8")
_BROKEN_SHARE = 0.005
"""At most one byte in 200 undecodable, for a guess that is not charset-normalizer's."""
_PRESCAN = 4096
"""Bytes looked at for a declaration (browsers look at 1024; pages put long scripts first)."""


@dataclass(frozen=True, slots=True)
class Page:
    text: str
    encoding: str
    """The Python codec the text was read with."""
    origin: str
    """What decided it: ``byte order mark``, ``HTTP charset``, ``meta``, ``UTF-8``, ``guessed``."""


def decode_page(content: bytes, http_charset: str | None = None) -> Page:
    """The page as text, and where its encoding came from."""
    for bom, marked in _BOMS:
        if content.startswith(bom):
            return Page(content[len(bom) :].decode(marked, errors="replace"), marked, "byte order mark")
    declared = EncodingDetector.find_declared_encoding(content[:_PRESCAN], is_html=True)
    named = [
        (usable, origin)
        for label, origin in ((http_charset, "HTTP charset"), (declared, "meta"))
        if label and (usable := _usable(label, origin)) is not None
    ]
    for encoding, origin in named:
        text = _strict(content, encoding)
        if text is not None:
            return Page(text, encoding, origin)
    utf8 = _strict(content, "utf-8")
    if utf8 is not None:
        return Page(utf8, "utf-8", "UTF-8")
    if named:  # as a browser would: the label, a few broken bytes shown as U+FFFD
        broken, encoding, origin = min((_broken(content, e), e, o) for e, o in named)
        if broken <= len(content) * _BROKEN_SHARE:  # more, and the label is wrong: guess instead
            return Page(content.decode(encoding, errors="replace"), encoding, origin)
    return _guessed(content)


def _usable(label: str, origin: str) -> str | None:
    """The Python codec of a label, if Python has it; a ``<meta>`` that says UTF-16 is read as
    UTF-8 (the bytes that declare it are ASCII, so it cannot be), as WHATWG says."""
    encoding = codec_for(label)
    if encoding is None:
        return None
    if origin == "meta" and encoding.startswith("utf-16"):
        return "utf-8"
    try:
        codecs.lookup(encoding)
    except LookupError:  # x-user-defined: a WHATWG encoding Python has no codec for
        return None
    return encoding


def _broken(content: bytes, encoding: str) -> int:
    return content.decode(encoding, errors="replace").count("\ufffd")


def _guessed(content: bytes) -> Page:
    """No label: charset-normalizer's guess among the encodings of Chinese pages first, then
    among all (a page in another language), else UTF-8."""
    best = charset_normalizer.from_bytes(content, cp_isolation=list(_CHINESE)).best()
    if best is None:  # a Chinese page with a few broken bytes is still one: the least broken reading
        broken, encoding = min((_broken(content, e), e) for e in _CHINESE)
        if broken <= len(content) * _BROKEN_SHARE:
            text = content.decode(encoding, errors="replace")
            return Page(text, codec_for(encoding) or encoding, "guessed")
        best = charset_normalizer.from_bytes(content).best()
    encoding = (codec_for(best.encoding) if best is not None else None) or "utf-8"
    return Page(content.decode(encoding, errors="replace"), encoding, "guessed")


def _strict(content: bytes, encoding: str) -> str | None:
    """The text if every byte is valid ``encoding``; a legacy label over valid, non-ASCII UTF-8
    is taken for a lie (real GB18030 or Big5 text is practically never valid UTF-8)."""
    if encoding not in ("utf-8", "utf-16", "utf-16-le", "utf-16-be") and not content.isascii():
        try:
            content.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            return None
    try:
        return content.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None
