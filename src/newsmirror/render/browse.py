"""Pages that make every archived article reachable: a page per month of each source, an index
of a source's months, and the newest headlines across sources for the README.

``lists/<站名>.md`` (the 300 newest) stays as the duty-machine archive had it; beside it,
``lists/<站名>/README.md`` lists the months and ``lists/<站名>/<YYYY-MM>.md`` every article of
one month — README → months → month → article is three clicks on GitHub and on any mirror.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ..archive_format import UNDATED, Layout, gmt8, link_from_list, newest_first
from ..types import Record
from . import _PATH_SAFE, _template, link_text, list_entry

MONTH_INDEX = "README.md"


def month_folder(name: str) -> str:
    return f"lists/{name}"


def month_page(name: str, month: str) -> str:
    return f"{month_folder(name)}/{month}.md"


def short_date(ms: int, this_year: int) -> str:
    """``M-D`` this year, ``YYYY-M-D`` before it (GMT+8)."""
    moment = gmt8(ms)
    day = f"{moment.month}-{moment.day}"
    return day if moment.year == this_year else f"{moment.year}-{day}"


def month_title(month: str) -> str:
    if month == UNDATED:
        return "无日期 undated"
    year, number = month.split("-")
    return f"{int(year)}年{int(number)}月"


def render_month(
    name: str, slug: str, month: str, records: Iterable[Record], *, layout: Layout, this_year: int
) -> str:
    """Every article of ``month``, newest first."""
    dated = (r for r in sorted(records, key=newest_first) if r.path is None)
    entries = [
        list_entry(slug, r, layout, "" if r.ms is None else f"{short_date(r.ms, this_year)} ") for r in dated
    ]
    return _template("month.md.j2").render(
        name=name,
        slug=slug,
        month_title=month_title(month),
        index_href=MONTH_INDEX,
        newest_href=urllib.parse.quote(f"../{name}.md"),
        entries=entries,
    )


@dataclass(frozen=True, slots=True)
class _Month:
    title: str
    href: str
    count: int


def render_months(name: str, months: Mapping[str, int]) -> str:
    """The months of a source, newest first, with their article counts."""
    ordered = sorted(months.items(), key=lambda m: (m[0] == UNDATED, m[0]), reverse=False)
    dated = [m for m in ordered if m[0] != UNDATED][::-1] + [m for m in ordered if m[0] == UNDATED]
    rows = [_Month(month_title(m), urllib.parse.quote(f"{m}.md"), count) for m, count in dated]
    return _template("months.md.j2").render(
        name=name, total=sum(months.values()), newest_href=urllib.parse.quote(f"../{name}.md"), months=rows
    )


@dataclass(frozen=True, slots=True)
class Headline:
    date: str
    title: str
    href: str
    source: str


def headlines(
    listed: Mapping[tuple[str, str], Iterable[Record]],
    *,
    layout: Layout,
    this_year: int,
    now_ms: int,
    count: int,
) -> list[Headline]:
    """The ``count`` newest articles across sources (``(name, slug)`` → its listed records),
    none dated implausibly far ahead of ``now_ms``."""
    limit = now_ms + 2 * 86_400_000
    pool = [
        (record, name, slug)
        for (name, slug), records in listed.items()
        for record in records
        if record.ms is not None and record.ms <= limit and record.path is None
    ]
    pool.sort(key=lambda x: (-(x[0].ms or 0), x[2], x[0].id))
    found = []
    for record, name, slug in pool[:count]:
        assert record.ms is not None
        href = urllib.parse.quote(f"articles/{slug}/{link_from_list(slug, record, layout)}", safe=_PATH_SAFE)
        found.append(
            Headline(
                short_date(record.ms, this_year), link_text(record.title), href, name.replace("|", "\\|")
            )
        )
    return found
