"""Feed entries → candidates: pick the configured fields, resolve links, read dates, filter.

Pure: no I/O.  An entry that cannot become a candidate is returned as ``Skipped`` with its
reason, never dropped silently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..parse.dates import parse_date
from ..types import Candidate, Entry, Feed, Skipped, Source
from .sanitize import neutralize_title
from .text import clean_title, js_strip, one_line, visible
from .urls import BadLink, normalize_link


@dataclass(frozen=True, slots=True)
class Prepared:
    candidates: tuple[Candidate, ...]
    skipped: tuple[Skipped, ...]
    filtered: int


def prepare(source: Source, feed: Feed) -> Prepared:
    """Turn every entry of ``feed`` into a candidate, a skip, or a category filter-out."""
    category = re.compile(source.require_category) if source.require_category else None
    candidates: list[Candidate] = []
    skipped: list[Skipped] = []
    filtered = 0
    for position, entry in enumerate(feed.entries):
        if category is not None and not any(category.search(c) for c in entry.categories):
            filtered += 1
            continue
        result = _candidate(source, entry, position)
        (candidates if isinstance(result, Candidate) else skipped).append(result)  # type: ignore[arg-type]
    return Prepared(tuple(candidates), tuple(skipped), filtered)


def _candidate(source: Source, entry: Entry, position: int) -> Candidate | Skipped:
    raw_link = entry.guid if source.link == "guid" else entry.link
    what = _describe(entry, position)
    if entry.title is None or not js_strip(entry.title):
        return Skipped(what, "item has no title")
    if raw_link is None or not js_strip(raw_link):
        return Skipped(what, f"item has no {source.link}")
    try:
        link = normalize_link(js_strip(raw_link), source.url)
    except BadLink as e:
        return Skipped(what, f"bad {source.link}: {e}")
    title = clean_title(entry.title)
    if not visible(title):
        return Skipped(what, "item has no title (only control or invisible characters)")
    guid = js_strip(entry.guid) if entry.guid and js_strip(entry.guid) else None
    return Candidate(
        title=neutralize_title(title),
        link=link,
        guid=guid,
        ms=_representable(parse_date(entry.published)),
        body_html=_body(source, entry),
        position=position,
        feed_date=_feed_date(entry.published),
    )


def _feed_date(raw: str | None) -> str | None:
    """The date as the feed wrote it, on one line and bounded (kept when it is not believed)."""
    if raw is None:
        return None
    text = one_line(raw)
    return text[:200] if text else None


# Years 1–9999 less a day each side (list pages show dates in GMT+8): beyond them a "date" (a
# zone offset of 10^90 hours) cannot be shown or compared; the item counts as undated.
_EARLIEST_MS = -62_135_596_800_000 + 86_400_000
_LATEST_MS = 253_402_300_800_000 - 86_400_000


def _representable(ms: int | None) -> int | None:
    return ms if ms is not None and _EARLIEST_MS <= ms <= _LATEST_MS else None


def _body(source: Source, entry: Entry) -> str:
    """The first of the body fields that has text: the configured one, the other, then ``media:description``.

    An empty or blank ``<description>`` is no body: feeds that keep their text in
    ``content:encoded``, Atom content or Media RSS leave it so.
    """
    first, second = (
        (entry.content, entry.description) if source.body == "content" else (entry.description, entry.content)
    )
    for body in (first, second, entry.media_description):
        if body is not None and body.strip():
            return body
    return first if first is not None else second or ""


def _describe(entry: Entry, position: int) -> str:
    label = entry.title or entry.link or entry.guid or ""
    label = js_strip(label)[:80].replace("\n", " ")
    return f"item {position + 1}" + (f" ({label})" if label else "")
