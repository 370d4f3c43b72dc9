"""OPML, the feed readers' list of subscriptions: sources in and out.

An exported file is plain OPML 2.0 that any reader imports (``text``, ``title``, ``type="rss"``,
``xmlUrl``); what only newsmirror reads (slug, body, fulltext …) rides along as attributes in
the ``NAMESPACE``, so that export then import gives the same sources.  Import reads every
``outline`` with an ``xmlUrl`` at any depth (readers nest them in folders).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, fields
from typing import Any, Final

from lxml import etree

from .config import SOURCE_KEYS, Key
from .exceptions import ConfigError
from .types import Source

NAMESPACE: Final = "urn:newsmirror:opml:1"
_PLAIN: Final = ("name", "url")
"""Source keys that OPML has attributes of its own for (``text``, ``xmlUrl``)."""


@dataclass(frozen=True, slots=True)
class Outline:
    """One subscription read from OPML: its values as source keys, and where it was."""

    values: dict[str, Any]
    line: int | None
    title: str | None


def read_opml(data: bytes, *, origin: str) -> tuple[Outline, ...]:
    """Every outline with an ``xmlUrl``; ConfigError when the document is not OPML at all.

    A document with a stray ``&`` or an unknown entity (common in hand-made lists) is read by
    lxml's recovering parser rather than refused."""
    root = _parsed(data, origin)
    if root.tag != "opml":
        raise ConfigError(f"{origin}: not OPML (the root element is <{root.tag}>)")
    found = []
    for element in root.iter("outline"):
        url = (element.get("xmlUrl") or element.get("xmlurl") or "").strip()
        if not url:
            continue
        title = (element.get("text") or element.get("title") or "").strip() or None
        values: dict[str, Any] = {"url": url}
        for key in SOURCE_KEYS:
            if key.name in _PLAIN:
                continue
            raw = element.get(f"{{{NAMESPACE}}}{key.name}")
            if raw is not None:
                values[key.name] = _value(key, raw)
        found.append(Outline(values, element.sourceline, title))
    return tuple(found)


def _parsed(data: bytes, origin: str) -> Any:
    strict = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        return etree.fromstring(data, strict)
    except etree.XMLSyntaxError as strict_error:
        lenient = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, recover=True)
        try:
            root = etree.fromstring(data, lenient)
        except etree.XMLSyntaxError:
            root = None
        if root is None:
            raise ConfigError(f"{origin}: not an XML document: {strict_error}") from strict_error
        return root


def _value(key: Key, raw: str) -> Any:
    if key.kind is bool:
        return raw.strip().lower() in ("true", "1", "yes")
    return raw


def write_opml(sources: Iterable[Source], *, title: str) -> bytes:
    """OPML 2.0 of ``sources``, with newsmirror's keys that differ from their defaults."""
    nsmap = {"newsmirror": NAMESPACE}
    root = etree.Element("opml", nsmap=nsmap, version="2.0")
    head = etree.SubElement(root, "head")
    etree.SubElement(head, "title").text = title
    body = etree.SubElement(root, "body")
    for source in sources:
        outline = etree.SubElement(body, "outline", type="rss", text=source.name, title=source.name)
        outline.set("xmlUrl", source.url)
        for name, value in _extra_values(source):
            outline.set(f"{{{NAMESPACE}}}{name}", str(value).lower() if isinstance(value, bool) else value)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def _extra_values(source: Source) -> Iterator[tuple[str, Any]]:
    defaults = {k.name: k.default for k in SOURCE_KEYS}
    for field in fields(Source):
        if field.name in _PLAIN or field.name not in defaults:
            continue
        value = getattr(source, field.name)
        if value is not None and (value != defaults[field.name] or field.name == "slug"):
            yield field.name, value
