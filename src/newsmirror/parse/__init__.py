"""Feed parsing: detect the format, then one module per format turns it into ``Feed``.

RSS 0.9x/2.0 (``rss``), RSS 1.0/RDF (``rdf``), Atom 0.3/1.0 (``atom``) and JSON Feed
(``jsonfeed``).  Every failure becomes a ``ParseError`` naming the source.
"""

from __future__ import annotations

from ..exceptions import ParseError
from ..types import Feed
from . import atom, jsonfeed, rdf, rss
from .dates import parse_date
from .xml import parse_xml

__all__ = ["parse_date", "parse_feed"]


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
    root = parse_xml(data, slug=slug, charset=charset)
    if rss.accepts(root):
        return rss.parse(root)
    if rdf.accepts(root):
        return rdf.parse(root)
    if atom.accepts(root):
        return atom.parse(root)
    raise ParseError(slug, f"not a feed: root element is <{root.tag}>", code="not_a_feed")
