"""Safe XML parsing (no entities from outside, no network) and text helpers over lxml.

Character encodings are settled here, before lxml sees the document, so that a feed is read
right or fails as ``bad_encoding`` — never turned into mojibake silently:

1. a byte order mark (UTF-8, UTF-16, UTF-32) decides;
2. else UTF-16 or UTF-32 without a mark is recognised from the zero bytes around the first
   (ASCII) characters, as XML 1.0 Appendix F describes (``00 3C 00 3F`` is UTF-16BE ``<?``);
3. else the labels are tried in order: the XML declaration's ``encoding``, then the HTTP
   ``charset``, then UTF-8 (XML's default).  Labels are read as browsers read them, with the
   WHATWG Encoding Standard's label table (from ``webencodings``, not a list kept here):
   ``x-gbk``, ``csgb2312``, GB2312 and GBK as GB18030, ``cn-big5`` and Big5 as Big5-HKSCS,
   ISO-8859-1 and ASCII as windows-1252.  A label the standard lacks but Python knows as a
   text encoding (``EUC-CN``, ``UTF-32``) is still read, as XML processors read it; a UTF-16 or
   UTF-32 label over bytes that showed neither a mark nor the zero bytes is disbelieved;
4. a label for a legacy (non-Unicode) encoding is disbelieved when the bytes are valid UTF-8
   with non-ASCII characters (a declaration that lies about UTF-8 content: real GB18030 or
   Big5 text is practically never valid UTF-8), and the document is read as UTF-8;
5. a label under which the bytes do not decode is skipped (a declaration of UTF-8 over GB18030
   bytes, with ``charset=GB18030`` in the HTTP header, is read as GB18030);
6. when no label fits, the feed fails as ``bad_encoding``, naming the labels tried (and
   saying which of them are no encoding at all).

lxml then always parses UTF-8 (its own reading of the declaration is overridden).
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Mapping
from copy import deepcopy
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType

import webencodings  # type: ignore[import-untyped]  # no type information shipped
from lxml import etree

from ..exceptions import ParseError

PARSER_OPTIONS = {
    "resolve_entities": False,
    "no_network": True,
    "huge_tree": False,
    "remove_comments": True,
    "remove_pis": True,
    "strip_cdata": True,
}


_BOMS = (  # UTF-32 LE first: its BOM starts with UTF-16 LE's
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_DECLARED = re.compile(rb"""^\s*<\?xml[^>]*?\sencoding\s*=\s*["']([A-Za-z0-9._:-]+)["']""")
# The Encoding Standard decodes every GBK label with its gb18030 decoder (a superset: real
# "GB2312" feeds use GBK and GB18030 characters); webencodings hands out Python's narrower gbk.
_DECODER_OF = MappingProxyType({"gbk": "gb18030"})
# Which bytes are zero among the first four tells UTF-16/32 and the byte order without a mark.
_SIGNATURES: Mapping[tuple[bool, ...], str] = MappingProxyType(
    {
        (True, True, True, False): "utf-32-be",
        (False, True, True, True): "utf-32-le",
        (True, False, True, False): "utf-16-be",
        (False, True, False, True): "utf-16-le",
    }
)
_UNICODE = frozenset({"utf-8", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be"})


@dataclass(frozen=True, slots=True)
class _Label:
    name: str
    """The encoding as the document or the server named it."""
    origin: str
    """``declared``, ``HTTP charset`` or ``default``."""


def parse_xml(data: bytes, *, slug: str, charset: str | None = None) -> etree._Element:
    """Parse a whole XML document strictly (``decode`` then ``parse_strict``)."""
    return parse_strict(decode(data, slug=slug, charset=charset), slug=slug)


def decode(data: bytes, *, slug: str, charset: str | None = None) -> bytes:
    """The document as UTF-8 (``as_utf8``); an HTML page fails as ``not_a_feed``, whatever its encoding.

    ``charset`` is the HTTP ``Content-Type`` charset, if any (see the module's docstring).
    """
    try:
        return as_utf8(data, slug=slug, charset=charset)
    except ParseError as e:
        if looks_like_html(data):
            raise ParseError(slug, f"an HTML page, not a feed ({e.reason})", code="not_a_feed") from e
        raise


def parse_strict(document: bytes, *, slug: str) -> etree._Element:
    """Parse a UTF-8 document strictly: any fault fails it (``parse.recover`` may then step in)."""
    try:
        root = etree.fromstring(document, parser=_parser())
    except etree.XMLSyntaxError as e:
        raise _syntax_error(document, e, slug) from e
    if root is None:
        raise ParseError(slug, "empty XML document", code="empty_feed")
    return root


def _syntax_error(document: bytes, error: etree.XMLSyntaxError, slug: str) -> ParseError:
    if looks_like_html(document):
        return ParseError(slug, f"an HTML page, not a feed (invalid XML: {error})", code="not_a_feed")
    if not _is_utf8(document):  # only the fast path of ``as_utf8`` leaves this to libxml2
        return ParseError(
            slug,
            f"the bytes are not valid UTF-8, the encoding declared or XML's default ({error})",
            code="bad_encoding",
        )
    return ParseError(slug, f"invalid XML: {error}", code="bad_xml")


def as_utf8(data: bytes, *, slug: str, charset: str | None = None) -> bytes:
    """The document as UTF-8 bytes; ``ParseError`` ``bad_encoding`` when no label fits."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return _transcoded(data, _Label(encoding, "byte order mark"), slug)
    sniffed = _SIGNATURES.get(tuple(byte == 0 for byte in data[:4]))
    if sniffed is not None and len(data) >= 4:
        origin = "zero bytes of the first characters, no byte order mark"
        return _transcoded(data, _Label(sniffed, origin), slug)
    labels = _labels(data, charset)
    named = [codec_for(label.name) for label in labels]
    encodings = [e for e in named if e is not None and not _wide(e)]
    seven_bit = any(e.startswith(_SEVEN_BIT) for e in encodings)
    if (data.isascii() and not seven_bit) or (None not in named and set(encodings) == {"utf-8"}):
        return data  # the common case: libxml2 checks the UTF-8 itself (see ``parse_xml``)
    for encoding in encodings:
        document = _try(data, encoding)
        if document is not None:
            return document
    tried = ", ".join(_named(label) for label in labels)
    raise ParseError(slug, f"the bytes are not valid in any encoding named: {tried}", code="bad_encoding")


def _try(data: bytes, encoding: str) -> bytes | None:
    """``data`` as UTF-8 if it is valid ``encoding``; a legacy label over valid UTF-8 is a lie
    (but for the 7-bit encodings, whose bytes are always valid ASCII)."""
    if (encoding == "utf-8" or encoding not in _UNICODE) and not encoding.startswith(_SEVEN_BIT):
        if _is_utf8(data):
            return data
        if encoding == "utf-8":
            return None
    try:
        return data.decode(encoding).encode("utf-8")
    except (UnicodeDecodeError, LookupError):
        # LookupError: a codec Python knows that is not a text encoding ("uu", "rot13", "zlib")
        return None


# Encodings written in ASCII bytes (escape sequences switch character sets): ASCII-only bytes
# are no sign of UTF-8 under these labels.
_SEVEN_BIT = ("iso2022", "utf-7", "hz")


def _labels(data: bytes, charset: str | None) -> list[_Label]:
    labels = []
    declared = _DECLARED.match(data[:1024])
    if declared:
        labels.append(_Label(declared.group(1).decode("ascii"), "declared"))
    if charset:
        labels.append(_Label(charset, "HTTP charset"))
    labels.append(_Label("UTF-8", "default"))
    return labels


def _named(label: _Label) -> str:
    unknown = "" if codec_for(label.name) is not None else ", not an encoding label"
    return f"{label.name} ({label.origin}{unknown})"


def _wide(codec: str) -> bool:
    """UTF-16/32: only a byte order mark or the first bytes' zeros are believed for these."""
    return codec.startswith(("utf-16", "utf-32"))


def codec_for(label: str) -> str | None:
    """Python's codec for an encoding label, read as WHATWG reads it; None when unknown."""
    encoding = webencodings.lookup(label)
    if encoding is None:
        python_name = _python_text_codec(label)
        if python_name is None:
            return None
        encoding = webencodings.lookup(python_name)  # ``euc-cn`` is Python's gb2312: read as GBK is
        if encoding is None:
            return python_name
    name = str(encoding.name)
    if name == "replacement":  # ISO-2022-KR, HZ: browsers show an error; Python can decode them
        return _python_text_codec(label)
    return _DECODER_OF.get(name, str(encoding.codec_info.name))


def _python_text_codec(label: str) -> str | None:
    try:
        info = codecs.lookup(label.strip())
    except LookupError:
        return None
    # "uu", "rot13", "zlib": Python codecs that are no text encoding
    return info.name if getattr(info, "_is_text_encoding", True) else None


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _transcoded(data: bytes, label: _Label, slug: str) -> bytes:
    try:
        return data.decode(label.name).encode("utf-8")
    except UnicodeDecodeError as e:
        message = f"the bytes are not valid {label.name} ({label.origin}): {e.reason} at byte {e.start}"
        raise ParseError(slug, message, code="bad_encoding") from e


@cache
def _parser() -> etree.XMLParser:
    # One parser object is reused: building one per feed costs more than parsing a small feed.
    # The encoding is fixed: ``as_utf8`` has already settled it.
    return etree.XMLParser(encoding="utf-8", **PARSER_OPTIONS)  # type: ignore[arg-type]


def looks_like_html(data: bytes) -> bool:
    head = data[:512].lower()
    return b"<html" in head or b"<!doctype html" in head


def inner(element: etree._Element | None) -> str | None:
    """The element's content as text; child elements (inline XHTML) are kept as markup."""
    if element is None:
        return None
    if len(element) == 0:
        return element.text or ""
    parts = [element.text or ""]
    parts.extend(_markup(child) for child in element)
    return "".join(parts)


def _markup(child: etree._Element) -> str:
    """A child element as markup, without the namespace declarations it merely inherits."""
    copy = deepcopy(child)
    etree.cleanup_namespaces(copy)
    return etree.tostring(copy, encoding="unicode", with_tail=True)


def text_of(element: etree._Element | None) -> str | None:
    """All text inside the element, markup dropped."""
    if element is None:
        return None
    if len(element) == 0:
        return element.text or ""
    return "".join(str(t) for t in element.itertext())


def local(tag: object) -> str:
    """The local name of a tag (``{ns}item`` → ``item``); comments and PIs give ''."""
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]
