"""Feed parsing: detect the format, then one module per format turns it into ``Feed``.

RSS 0.9x/2.0 (``rss``), RSS 1.0/RDF (``rdf``), Atom 0.3/1.0 (``atom``) and JSON Feed
(``jsonfeed``).  An XML feed is parsed strictly first; only when that fails over the XML
itself does ``recover`` read what it can, and the feed then says what was wrong
(``Feed.recovered``).  Every failure becomes a ``ParseError`` naming the source.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from lxml import etree

from ..exceptions import ParseError
from ..types import Feed
from . import atom, jsonfeed, rdf, recover, rss
from .dates import parse_date
from .xml import decode, local, parse_strict

__all__ = ["parse_date", "parse_feed"]

_READERS = ((rss.accepts, rss.parse), (rdf.accepts, rdf.parse), (atom.accepts, atom.parse))


def parse_feed(data: bytes, *, slug: str, charset: str | None = None) -> Feed:
    """Parse feed bytes of any supported format.

    ``charset`` is the HTTP ``Content-Type`` charset (``Fetched.charset``), if any: it is
    tried after the XML declaration's encoding (see ``parse.xml``).
    """
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if not head:
        raise ParseError(slug, "empty document", code="empty_feed")
    if head in (b"{", b"["):
        return jsonfeed.parse(data, slug=slug)
    document = decode(data, slug=slug, charset=charset)
    try:
        root = parse_strict(document, slug=slug)
    except ParseError as e:
        if e.code != "bad_xml":
            raise
        strict_error = e
    else:
        return _strict(root, document, slug)
    return _recovered(document, strict_error, slug)


def _strict(root: etree._Element, document: bytes, slug: str) -> Feed:
    # Only a DOCTYPE (an external DTD left unread) lets undefined entities through the strict parse.
    fault = recover.resolve_entity_nodes(root) if b"<!DOCTYPE" in document[:4096] else None
    feed = _read(root)
    if feed is None:
        raise ParseError(slug, f"not a feed: root element is <{root.tag}>", code="not_a_feed")
    return replace(feed, recovered=fault) if fault else feed


def _recovered(document: bytes, strict_error: ParseError, slug: str) -> Feed:
    """What a lenient reading finds; the strict error stands when that is no feed with items."""
    found = recover.recover(document, slug=slug)
    if found is None:
        raise strict_error
    feed = _read(found.root)
    if feed is None and local(found.root.tag).lower() == "html":
        raise ParseError(slug, f"an HTML page, not a feed ({strict_error.reason})", code="not_a_feed")
    if feed is None or not feed.entries:
        raise strict_error
    return replace(feed, recovered=found.fault)


def _read(root: etree._Element) -> Feed | None:
    reader: Callable[[etree._Element], Feed]
    for accepts, reader in _READERS:
        if accepts(root):
            return reader(root)
    return None
