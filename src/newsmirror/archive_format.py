"""The duty-machine archive format, byte-exact (SPEC §1, §3): the article file, written and read
back, and where article files live.

An article file is five lines::

    <!--1717200000000-->
    [title](link)
    ------

    body HTML

Everything that writes or reads one goes through here; list pages and the README are pages
(``render``), not the format of an article.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta
from typing import Final, Literal

from .transform.text import js_strip
from .types import Article, Record

Layout = Literal["flat", "monthly"]
"""``flat``: ``articles/<slug>/<id>.md`` (duty-machine);
``monthly``: ``articles/<slug>/<YYYY>/<MM>/<DD>/<id>.md`` (a folder per day: a month of a busy
source holds thousands of articles, a day a few dozen)."""
LAYOUTS: Final = ("flat", "monthly")

ARTICLE_NAME: Final = re.compile(r"^(0|[1-9][0-9]{0,18})\.md$")
"""An article file's name: its id (any the numbering schemes can give: below 2^60) and ``.md``."""
UNDATED: Final = "undated"
"""The month of an article without a timestamp (an imported file that had none)."""

_TIMESTAMP = re.compile(r"<!--(-?\d+)-")  # a pre-1970 date gives a negative ms
_LINK_LINE = re.compile(r"\]\(([A-Za-z][A-Za-z0-9+.\-]*:[^\n]*)\)[ \t\r]*$", re.M)
_LIST_TITLE = re.compile(r"\[([\s\S]*?)\]\(")
_GMT8 = timedelta(hours=8)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def render_article(article: Article) -> str:
    """The article file: ``<!--ms-->``, ``[title](link)``, ``------``, blank, body."""
    return f"<!--{article.ms}-->\n[{article.title}]({article.link})\n------\n\n{article.body}\n"


def content_hash(text: str) -> str:
    """A short hash of an article file's text: tells a changed article from an unchanged one."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


def list_title(text: str) -> str:
    """The title a list page shows for a file: its first ``[…](``, stripped (as the original)."""
    match = _LIST_TITLE.search(text)
    return js_strip(match.group(1)) if match else ""


def article_body(text: str) -> str:
    """Line 5 of an article file: the body HTML (empty for a file that has none)."""
    lines = text.split("\n", 4)
    return lines[4].rstrip("\n") if len(lines) == 5 else ""


def record_from_text(article_id: int, text: str) -> Record:
    """What an article file says about itself (for files newsmirror did not index)."""
    stamp = _TIMESTAMP.search(text)
    link = _LINK_LINE.search(text)
    ms = int(stamp.group(1)) if stamp else None
    return Record(
        id=article_id,
        ms=ms,
        title=list_title(text),
        link=link.group(1) if link else "",
        sha=content_hash(text),
        month=month_of(ms),
        day=day_of(ms),
    )


def gmt8(ms: int) -> datetime:
    """The moment ``ms`` on the clock the archive's dates are shown in (GMT+8)."""
    return _EPOCH + timedelta(milliseconds=ms) + _GMT8


def month_of(ms: int | None) -> str:
    """``YYYY-MM`` of ``ms`` in GMT+8; ``undated`` for None (and dates no calendar holds)."""
    if ms is None:
        return UNDATED
    try:
        moment = gmt8(ms)
    except OverflowError:
        return UNDATED
    return f"{moment.year:04d}-{moment.month:02d}"


def day_of(ms: int | None) -> int | None:
    """The day of the month of ``ms`` in GMT+8; None for None (and dates no calendar holds)."""
    if ms is None:
        return None
    try:
        return gmt8(ms).day
    except OverflowError:
        return None


def month_day(ms: int) -> str:
    """``M-D`` in GMT+8 without zero padding (list pages)."""
    moment = gmt8(ms)
    return f"{moment.month}-{moment.day}"


def newest_first(record: Record) -> tuple[bool, int, int]:
    """The order of the list pages: newest first, ties (and undated files) in id order."""
    return (record.ms is None, -(record.ms or 0), record.id)


def article_path(slug: str, record: Record, layout: Layout) -> str:
    """Where ``record``'s file lives, relative to the archive root."""
    if record.path is not None:
        return record.path
    if layout == "flat":
        return f"articles/{slug}/{record.id}.md"
    month = record.month or month_of(record.ms)
    day = record.day if record.day is not None else day_of(record.ms)
    if month == UNDATED or day is None:
        return f"articles/{slug}/{UNDATED}/{record.id}.md"
    year, number = month.split("-")
    return f"articles/{slug}/{year}/{number}/{day:02d}/{record.id}.md"


def link_from_list(slug: str, record: Record, layout: Layout) -> str:
    """The path a page in ``lists/`` links an article by, relative to ``articles/<slug>/``."""
    return article_path(slug, record, layout).removeprefix(f"articles/{slug}/")
