"""RSS 0.9x and 2.0: ``<rss><channel><item>``."""

from __future__ import annotations

from lxml import etree

from ..types import Entry, Feed
from . import media
from .xml import inner, local, text_of

CONTENT_NS = "http://purl.org/rss/1.0/modules/content/"
DC_NS = "http://purl.org/dc/elements/1.1/"


def accepts(root: etree._Element) -> bool:
    return root.tag == "rss"


def parse(root: etree._Element) -> Feed:
    channel = root.find("channel")
    # Items straight under <rss>, without a channel, are still the feed's items.
    parent = root if channel is None else channel
    entries = tuple(_entry(item) for item in parent.iterfind("item"))
    return Feed(
        format=f"rss {root.get('version', '')}".strip(), title=parent.findtext("title"), entries=entries
    )


def _entry(item: etree._Element) -> Entry:
    fields = _first_children(item)
    published = fields.get("pubDate")
    if published is None:
        published = fields.get(f"{{{DC_NS}}}date")
    guid = fields.get("guid")
    return Entry(
        title=text_of(fields.get("title")),
        link=_link(text_of(fields.get("link")), guid),
        guid=text_of(guid),
        published=text_of(published),
        description=inner(fields.get("description")),
        content=inner(fields.get(f"{{{CONTENT_NS}}}encoded")),
        categories=tuple(text_of(c) or "" for c in item.iterfind("category")),
        media_description=media.description(item),
    )


def _link(link: str | None, guid: etree._Element | None) -> str | None:
    """``<link>``; without one, the guid when it is a web address or says it is a permalink."""
    if (link is not None and link.strip()) or guid is None:
        return link
    text = text_of(guid)
    if media.is_web_url(text):
        return text
    # a permalink that is a path (resolved against the feed); ``12345`` is no link, whatever it says
    if guid.get("isPermaLink") == "true" and text is not None and text.strip().startswith("/"):
        return text
    return link


def _first_children(item: etree._Element) -> dict[str, etree._Element]:
    """The first child of each tag, in one pass (items are read once, so this is the hot path)."""
    fields: dict[str, etree._Element] = {}
    for child in item:
        tag = child.tag
        if isinstance(tag, str) and tag not in fields:
            fields[tag] = child
    return fields


__all__ = ["accepts", "local", "parse"]
