"""Fixture feeds written for these tests (small builders, not captured feeds)."""

from __future__ import annotations

from dataclasses import dataclass
from xml.sax.saxutils import escape


@dataclass(frozen=True)
class It:
    title: str | None
    link: str | None
    date: str | None = "Mon, 20 Jul 2020 07:41:21 GMT"
    body: str | None = "<p>正文</p>"
    guid: str | None = None
    categories: tuple[str, ...] = ()


def rss(*items: It, title: str = "测试频道") -> bytes:
    parts = [f"<item>{_item(i)}</item>" for i in items]
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>'
        f"<title>{escape(title)}</title>{''.join(parts)}</channel></rss>"
    ).encode()


def _item(item: It) -> str:
    fields = [
        _tag("title", item.title),
        _tag("link", item.link),
        _tag("guid", item.guid),
        _tag("pubDate", item.date),
        f"<description><![CDATA[{item.body}]]></description>" if item.body is not None else "",
        *(_tag("category", c) for c in item.categories),
    ]
    return "".join(fields)


def _tag(name: str, value: str | None) -> str:
    return "" if value is None else f"<{name}>{escape(value)}</{name}>"
