"""One run over the sources: fetch → parse → prepare → decide → full text → store → render.

Every source runs concurrently and independently: whatever goes wrong in one becomes its
failed ``SourceResult``; the others are archived all the same.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from .decide import decide
from .exceptions import NewsmirrorError, SourceError
from .fetch import Fetcher
from .parse import parse_feed
from .render import list_title, render_article, render_list
from .store import ArchiveStore
from .transform.extract import NoMatch, inner_html
from .transform.items import prepare
from .transform.text import join_lines
from .types import Article, Plan, Planned, Record, Skipped, Source, SourceIndex, SourceResult

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RunContext:
    store: ArchiveStore
    fetcher: Fetcher
    now_ms: int


async def update_sources(sources: tuple[Source, ...], ctx: RunContext) -> tuple[SourceResult, ...]:
    """Update every source; never raises for a single source's failure."""
    return tuple(await asyncio.gather(*(update_source(s, ctx) for s in sources)))


async def update_source(source: Source, ctx: RunContext) -> SourceResult:
    try:
        return await _update(source, ctx)
    except NewsmirrorError as e:
        log.warning("%s failed: %s", source.slug, e)
        return _failed(source, e.code, e.message)
    except Exception as e:  # the per-source boundary: a bug must not stop the other sources
        log.exception("%s failed unexpectedly", source.slug)
        return _failed(source, "internal_error", f"{source.slug}: {type(e).__name__}: {e}")


def _failed(source: Source, code: str, message: str) -> SourceResult:
    return SourceResult(slug=source.slug, name=source.name, ok=False, error_code=code, error=message)


async def _update(source: Source, ctx: RunContext) -> SourceResult:
    fetched = await ctx.fetcher.get(source.url, slug=source.slug)
    prepared = prepare(source, parse_feed(fetched.content, slug=source.slug))
    index = ctx.store.load_index(source.slug)
    plan = decide(source, index, prepared.candidates, now_ms=ctx.now_ms)
    bodies, page_skips = await _bodies(source, plan, ctx.fetcher)
    stored = _store(source, ctx.store, plan, bodies)
    records = {**index.records, **{r.id: r for r in stored.records}}
    after = SourceIndex(records=records, legacy=index.legacy)
    ctx.store.save_index(source.slug, after)
    ctx.store.write_page(f"lists/{source.name}.md", render_list(source.name, source.slug, records.values()))
    return SourceResult(
        slug=source.slug,
        name=source.name,
        ok=True,
        new=stored.new,
        updated=stored.updated,
        unchanged=plan.known - len(stored.updated),
        skipped=(*prepared.skipped, *plan.skipped, *page_skips),
        articles=after.size,
        newest_ms=after.newest_ms(),
    )


async def _bodies(source: Source, plan: Plan, fetcher: Fetcher) -> tuple[dict[int, str], list[Skipped]]:
    """The HTML body of each planned write: from the feed, or the article page (``fulltext``)."""
    if source.fulltext is None:
        return {p.id: p.candidate.body_html for p in plan.writes}, []
    pages = await asyncio.gather(*(_page_body(source, p, fetcher) for p in plan.writes))
    bodies = {p.id: body for p, body in zip(plan.writes, pages, strict=True) if isinstance(body, str)}
    return bodies, [s for s in pages if isinstance(s, Skipped)]


async def _page_body(source: Source, planned: Planned, fetcher: Fetcher) -> str | Skipped:
    assert source.fulltext is not None
    label = f"item {planned.candidate.position + 1} ({planned.candidate.title[:80]})"
    try:
        page = await fetcher.get(planned.candidate.link, slug=source.slug)
        return inner_html(page.text(), source.fulltext)
    except SourceError as e:
        return Skipped(label, f"article page: {e.reason} [{e.code}]")
    except NoMatch as e:
        return Skipped(label, f"article page: {e}")


@dataclass(frozen=True, slots=True)
class _Stored:
    new: tuple[int, ...]
    updated: tuple[int, ...]
    records: tuple[Record, ...]


def _store(source: Source, store: ArchiveStore, plan: Plan, bodies: dict[int, str]) -> _Stored:
    new: list[int] = []
    updated: list[int] = []
    records: list[Record] = []
    for planned in plan.writes:
        if planned.id not in bodies:
            continue
        text = render_article(_article(planned, bodies[planned.id]))
        if planned.is_new:
            store.create_article(source.slug, planned.id, text)
            new.append(planned.id)
        elif store.read_article(source.slug, planned.id) != text:
            store.replace_article(source.slug, planned.id, text)
            updated.append(planned.id)
        records.append(_record(planned, text))
    return _Stored(tuple(new), tuple(updated), tuple(records))


def _article(planned: Planned, body_html: str) -> Article:
    c = planned.candidate
    return Article(
        id=planned.id, ms=planned.ms, title=c.title, link=c.link, guid=c.guid, body=join_lines(body_html)
    )


def _record(planned: Planned, text: str) -> Record:
    c = planned.candidate
    return Record(id=planned.id, ms=planned.ms, title=list_title(text), link=c.link, guid=c.guid)
