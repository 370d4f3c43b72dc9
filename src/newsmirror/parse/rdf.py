"""RSS 1.0 / RDF: ``<rdf:RDF><item rdf:about=…>`` in the RSS 1.0 namespace."""

from __future__ import annotations

from lxml import etree

from ..types import Entry, Feed
from .rss import CONTENT_NS, DC_NS
from .xml import inner, text_of

RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RSS1_NS = "http://purl.org/rss/1.0/"
RSS090_NS = "http://my.netscape.com/rdf/simple/0.9/"


def accepts(root: etree._Element) -> bool:
    return root.tag == f"{{{RDF_NS}}}RDF"


def parse(root: etree._Element) -> Feed:
    ns = RSS090_NS if root.find(f"{{{RSS090_NS}}}channel") is not None else RSS1_NS
    channel = root.find(f"{{{ns}}}channel")
    title = channel.findtext(f"{{{ns}}}title") if channel is not None else None
    entries = tuple(_entry(item, ns) for item in root.iterfind(f"{{{ns}}}item"))
    return Feed(format="rss 1.0", title=title, entries=entries)


def _entry(item: etree._Element, ns: str) -> Entry:
    return Entry(
        title=text_of(item.find(f"{{{ns}}}title")),
        link=text_of(item.find(f"{{{ns}}}link")),
        guid=item.get(f"{{{RDF_NS}}}about"),
        published=text_of(item.find(f"{{{DC_NS}}}date")),
        description=inner(item.find(f"{{{ns}}}description")),
        content=inner(item.find(f"{{{CONTENT_NS}}}encoded")),
        categories=tuple(text_of(s) or "" for s in item.iterfind(f"{{{DC_NS}}}subject")),
    )
