"""Every page of the archive, rendered from the store after a run has stored what it found.

One place reads the store for pages: list pages from each source's summary (the 300 records
it keeps), the README and the status pages from summaries and states.  Nothing here reads a
whole source.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from ..archive_format import Layout, gmt8
from ..config import Config
from ..exceptions import StorageError
from ..health import Health, assess, newest_text, problems, state_notes, status_text
from ..schedule import SourceState, stamp
from ..store import ArchiveStore
from ..types import Source, SourceResult, SourceSummary
from . import (
    StatusRow,
    readme_row,
    render_list,
    render_readme,
    render_status_feed,
    render_status_page,
    status_row,
)
from .browse import MONTH_INDEX, Headline, headlines, month_folder, month_page, render_month, render_months

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PageContext:
    config: Config
    states: Mapping[str, SourceState]
    now: datetime
    layout: Layout
    feed_id: str
    heartbeat: datetime | None = None
    """The last successful run, as the committed state has it (``status.xml`` carries it)."""
    own_text: str = ""
    """The archive's own text for its README (``own_text.OWN_TEXT``)."""


def list_page(source: Source) -> str:
    return f"lists/{source.name}.md"


def render_pages(
    store: ArchiveStore,
    ctx: PageContext,
    results: Iterable[SourceResult],
    *,
    missing: Callable[[str], bool],
) -> dict[str, str]:
    """The pages to write: path → text.

    A source's list page is rendered when the source was read in this run (its list is what the
    store now holds) or when the page is ``missing`` (a source that never succeeded still gets
    one, so that README links work); a failed run leaves what readers see as it was.
    """
    done = {r.slug: r for r in results if r.articles is not None}
    healths = [_health(store, s, ctx) for s in ctx.config.sources]
    pages: dict[str, str] = {}
    for source in ctx.config.sources:
        if source.slug in done or missing(list_page(source)):
            pages[list_page(source)] = _list(store, source, ctx.layout)
        touched = done[source.slug].months if source.slug in done else ()
        pages.update(_month_pages(store, source, ctx, touched, missing))
    rows = [
        readme_row(h.source.name, h.articles, h.newest_ms, status_text(h.state, h.source)) for h in healths
    ]
    pages["README.md"] = render_readme(rows, _headlines(store, ctx), ctx.own_text)
    pages["status.md"] = render_status_page(_status_row(h) for h in healths)
    found = problems(healths, ctx.config.fetch)
    beat = stamp(ctx.heartbeat) if ctx.heartbeat else None
    updated = max([p.updated for p in found] + [beat or "1970-01-01T00:00:00Z"])
    pages["status.xml"] = render_status_feed(found, feed_id=ctx.feed_id, updated=updated, heartbeat=beat)
    return pages


def _summary(store: ArchiveStore, source: Source) -> SourceSummary:
    """A source whose state cannot be read has failed on its own already; the pages of the
    others must still be written."""
    try:
        return store.summary(source.slug)
    except StorageError as e:
        log.warning("%s", e, extra={"source": source.slug})
        return SourceSummary()


HEADLINES = 30
"""Newest articles across sources on the README."""


def _month_pages(
    store: ArchiveStore,
    source: Source,
    ctx: PageContext,
    touched: tuple[str, ...],
    missing: Callable[[str], bool],
) -> dict[str, str]:
    """The source's months index, and the pages of the months this run touched (or missing)."""
    months = _summary(store, source).months
    index = f"{month_folder(source.name)}/{MONTH_INDEX}"
    pages = {index: render_months(source.name, months)}
    year = gmt8(int(ctx.now.timestamp() * 1000)).year
    for month in months:
        page = month_page(source.name, month)
        if month in touched or missing(page):
            records = store.records(source.slug, month)
            pages[page] = render_month(
                source.name, source.slug, month, records, layout=ctx.layout, this_year=year
            )
    return pages


def _headlines(store: ArchiveStore, ctx: PageContext) -> list[Headline]:
    listed = {(s.name, s.slug): _summary(store, s).listed for s in ctx.config.sources}
    now_ms = int(ctx.now.timestamp() * 1000)
    year = gmt8(now_ms).year
    return headlines(listed, layout=ctx.layout, this_year=year, now_ms=now_ms, count=HEADLINES)


def _list(store: ArchiveStore, source: Source, layout: Layout) -> str:
    listed = _summary(store, source).listed
    return render_list(source.name, source.slug, listed, by_date=source.listed_by_date, layout=layout)


def _health(store: ArchiveStore, source: Source, ctx: PageContext) -> Health:
    summary = _summary(store, source)
    now_ms = int(ctx.now.timestamp() * 1000)
    state = ctx.states.get(source.slug, SourceState())
    return assess(
        source,
        state,
        articles=summary.articles,
        newest_ms=summary.newest_ms(now_ms),
        now=ctx.now,
        settings=ctx.config.fetch,
    )


def _status_row(health: Health) -> StatusRow:
    state = health.state
    notes = state_notes(state)
    if health.stale:  # after a postponement, before a move: as status.md has always listed them
        notes.insert(1 if state.not_before else 0, "stale")
    return status_row(
        health.source.name,
        status_text(state, health.source),
        state.failures,
        newest_text(health.newest_ms),
        "; ".join(notes),
    )
