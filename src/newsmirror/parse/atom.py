"""Atom 1.0 (and the Atom 0.3 namespace): ``<feed><entry>``."""

from __future__ import annotations

from lxml import etree

from ..types import Entry, Feed
from . import media
from .xml import inner, text_of

ATOM_NAMESPACES = ("http://www.w3.org/2005/Atom", "http://purl.org/atom/ns#")


def accepts(root: etree._Element) -> bool:
    return any(root.tag == f"{{{ns}}}feed" for ns in ATOM_NAMESPACES)


def parse(root: etree._Element) -> Feed:
    ns = root.tag[1:].split("}", 1)[0]
    entries = tuple(_entry(e, ns) for e in root.iterfind(f"{{{ns}}}entry"))
    return Feed(format="atom", title=text_of(root.find(f"{{{ns}}}title")), entries=entries)


def _entry(entry: etree._Element, ns: str) -> Entry:
    published = entry.find(f"{{{ns}}}published")
    if published is None:
        published = entry.find(f"{{{ns}}}updated")
    if published is None:
        published = entry.find(f"{{{ns}}}issued")  # Atom 0.3
    guid = text_of(entry.find(f"{{{ns}}}id"))
    link = _alternate_link(entry, ns)
    return Entry(
        title=text_of(entry.find(f"{{{ns}}}title")),
        link=guid if link is None and media.is_web_url(guid) else link,
        guid=guid,
        published=text_of(published),
        description=_text_construct(entry.find(f"{{{ns}}}summary")),
        content=_text_construct(entry.find(f"{{{ns}}}content")),
        categories=tuple(c.get("term") or c.get("label") or "" for c in entry.iterfind(f"{{{ns}}}category")),
        media_description=media.description(entry),
    )


def _alternate_link(entry: etree._Element, ns: str) -> str | None:
    """The ``rel="alternate"`` link (the default rel), else the first link with an href."""
    links = [link for link in entry.iterfind(f"{{{ns}}}link") if link.get("href") is not None]
    for link in links:
        if link.get("rel", "alternate") == "alternate":
            return link.get("href")
    return links[0].get("href") if links else None


def _text_construct(element: etree._Element | None) -> str | None:
    """Atom text: ``xhtml`` content is the markup inside its wrapping div; html/text as given."""
    if element is None:
        return None
    if element.get("type") == "xhtml":
        div = next(iter(element), None)
        return inner(div) if div is not None else inner(element)
    return inner(element)
