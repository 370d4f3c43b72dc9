"""JSON Feed 1.0/1.1 (https://jsonfeed.org/version/1.1)."""

from __future__ import annotations

import html
import json
import re
from typing import Any

from ..exceptions import ParseError
from ..types import Entry, Feed


def parse(data: bytes, *, slug: str) -> Feed:
    try:
        document = json.loads(data)
    except (ValueError, UnicodeDecodeError) as e:
        raise ParseError(slug, f"invalid JSON: {e}", code="bad_json") from e
    if not isinstance(document, dict) or not str(document.get("version", "")).startswith(
        "https://jsonfeed.org/version/"
    ):
        raise ParseError(
            slug, "JSON document is not a JSON Feed (no jsonfeed.org version)", code="not_a_feed"
        )
    items = document.get("items")
    if not isinstance(items, list):
        raise ParseError(slug, "JSON Feed has no items list", code="not_a_feed")
    entries = tuple(_entry(item) for item in items if isinstance(item, dict))
    return Feed(format="json", title=_str(document.get("title")), entries=entries)


def _entry(item: dict[str, Any]) -> Entry:
    content = _str(item.get("content_html"))
    if content is None and _str(item.get("content_text")) is not None:
        content = html.escape(str(item["content_text"]))
    tags = item.get("tags")
    return Entry(
        title=_str(item.get("title")),
        link=_str(item.get("url")) or _str(item.get("external_url")),
        guid=_str(item.get("id")),
        published=_str(item.get("date_published")) or _str(item.get("date_modified")),
        description=_str(item.get("summary")),
        content=content,
        categories=tuple(_text(str(t)) for t in tags) if isinstance(tags, list) else (),
    )


# json.loads lets lone UTF-16 surrogates through, from a "\ud898" escape (valid JSON) or from
# bytes that encode one (it decodes with surrogatepass). No such string can be written as UTF-8,
# so each becomes U+FFFD here, where the feed is read, and the item is archived.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _str(value: Any) -> str | None:
    if value is None:
        return None
    return _text(value if isinstance(value, str) else str(value))


def _text(value: str) -> str:
    return _LONE_SURROGATE.sub("\ufffd", value)
