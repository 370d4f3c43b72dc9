"""Safe XML parsing (no entities from outside, no network) and text helpers over lxml."""

from __future__ import annotations

from copy import deepcopy
from functools import cache

from lxml import etree

from ..exceptions import ParseError

_PARSER_OPTIONS = {
    "resolve_entities": False,
    "no_network": True,
    "huge_tree": False,
    "remove_comments": True,
    "remove_pis": True,
    "strip_cdata": True,
}


def parse_xml(data: bytes, *, slug: str) -> etree._Element:
    """Parse a whole XML document strictly: a broken feed fails rather than half-parses."""
    parser = _parser()
    try:
        root = etree.fromstring(data, parser=parser)
    except etree.XMLSyntaxError as e:
        code = "not_a_feed" if _looks_like_html(data) else "bad_xml"
        raise ParseError(slug, f"invalid XML: {e}", code=code) from e
    if root is None:
        raise ParseError(slug, "empty XML document", code="empty_feed")
    return root


@cache
def _parser() -> etree.XMLParser:
    # One parser object is reused: building one per feed costs more than parsing a small feed.
    return etree.XMLParser(**_PARSER_OPTIONS)  # type: ignore[arg-type]


def _looks_like_html(data: bytes) -> bool:
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
