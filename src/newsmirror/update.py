"""One run over the sources: fetch → parse → prepare → decide → full text → store.

Every source runs concurrently and independently: whatever goes wrong in one becomes its
failed ``SourceResult``; the others are archived all the same.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from . import schedule
from .archive_format import month_of
from .config import FetchSettings
from .decide import decide, keys_asked
from .exceptions import NewsmirrorError, SourceError
from .fetch import Fetched, Fetcher
from .identity import feed_body_hash
from .keep_images import ImageKeeper
from .parse import parse_feed
from .parse.page import decode_page
from .parse.xml import looks_like_html
from .redact import redact_text, redact_url
from .schedule import SourceState
from .store import ArchiveStore
from .timing import timed
from .transform.fulltext import Body, full_text
from .transform.images import archivable, localized, proxied_images
from .transform.items import prepare
from .transform.sanitize import neutralize
from .transform.text import join_lines
from .types import Article, Known, Plan, Planned, Skipped, Source, SourceResult

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RunContext:
    store: ArchiveStore
    fetcher: Fetcher
    now: datetime
    settings: FetchSettings
    on_done: Callable[[SourceResult], None] | None = None
    images: ImageKeeper | None = None
    """Keeps the pictures of sources with ``images = "archive"``."""
    images_problem: str | None = None
    """Why there is no keeper when such a source runs (their bodies keep the proxy)."""

    @property
    def now_ms(self) -> int:
        return int(self.now.timestamp() * 1000)


@dataclass(frozen=True, slots=True)
class Outcome:
    result: SourceResult
    state: SourceState


async def update_sources(
    sources: tuple[Source, ...], states: Mapping[str, SourceState], ctx: RunContext
) -> tuple[Outcome, ...]:
    """Update every source; never raises for a single source's failure."""
    runs = (update_source(s, states.get(s.slug, SourceState()), ctx) for s in sources)
    return tuple(await asyncio.gather(*runs))


async def update_source(source: Source, state: SourceState, ctx: RunContext) -> Outcome:
    outcome = await _guarded(source, state, ctx)
    outcome = replace(outcome, state=replace(outcome.state, url=redact_url(source.url)))
    log.info(
        "source done",
        extra={
            "source": source.slug,
            "outcome": outcome.result.outcome,
            "new": len(outcome.result.new),
            "error": outcome.result.error_code,
        },
    )
    if ctx.on_done is not None:
        ctx.on_done(outcome.result)
    return outcome


async def _guarded(source: Source, state: SourceState, ctx: RunContext) -> Outcome:
    skip = schedule.reason_to_skip(source, state, ctx.now, ctx.settings)
    if skip is not None:
        outcome = "disabled" if state.result == "disabled" else "postponed"
        return Outcome(SourceResult(source.slug, source.name, ok=True, outcome=outcome, notes=(skip,)), state)
    try:
        return await _update(source, state, ctx)
    except NewsmirrorError as e:
        log.warning("source failed: %s", e, extra={"source": source.slug, "code": e.code})
        return _failed(source, state, e, ctx)
    except Exception as e:  # the per-source boundary: a bug must not stop the other sources
        log.exception("source failed unexpectedly", extra={"source": source.slug})
        what = f"{source.slug}: {type(e).__name__}: {redact_text(str(e))}"
        error = NewsmirrorError(what, code="internal_error")
        return _failed(source, state, error, ctx)


def _failed(source: Source, state: SourceState, error: NewsmirrorError, ctx: RunContext) -> Outcome:
    url = schedule.fetch_url(source, state)
    after = schedule.after_failure(state, error, ctx.now, ctx.settings, url=url)
    notes = (f"disabled: {after.message}",) if after.result == "disabled" else ()
    result = SourceResult(
        source.slug,
        source.name,
        ok=False,
        error_code=error.code,
        error=error.message,
        outcome="failed",
        notes=notes,
    )
    return Outcome(result, after)


async def _update(source: Source, state: SourceState, ctx: RunContext) -> Outcome:
    url = schedule.fetch_url(source, state)
    with timed(log, "fetch", source=source.slug, url=redact_url(url)) as found:
        fetched = await ctx.fetcher.get(url, slug=source.slug, validators=schedule.validators(state))
        found.update(status=fetched.status, bytes=len(fetched.content))
    after, notes = schedule.after_success(source, state, fetched, ctx.now, ctx.settings)
    if fetched.not_modified:
        result = SourceResult(source.slug, source.name, ok=True, outcome="not_modified", notes=notes)
        return Outcome(result, after)
    result = await _archive(source, fetched, ctx, notes)
    return Outcome(result, replace(after, recovered=result.recovered))


async def _archive(source: Source, fetched: Fetched, ctx: RunContext, notes: tuple[str, ...]) -> SourceResult:
    with timed(log, "parse", source=source.slug) as found:
        feed = parse_feed(fetched.content, slug=source.slug, charset=fetched.charset)
        prepared = prepare(source, feed)
        found.update(format=feed.format, entries=len(feed.entries), recovered=feed.recovered is not None)
    if feed.recovered is not None:
        notes = (*notes, f"recovered: {feed.recovered}")
    with timed(log, "decide", source=source.slug) as found:
        keys, ids = keys_asked(source, prepared.candidates)
        free = len(prepared.candidates) if source.ids == "post-id" else 0  # only post ids collide
        known = ctx.store.known(source.slug, keys, ids, free=free)
        body_of = _archived_body(ctx.store, source.slug)
        plan = decide(source, known, prepared.candidates, now_ms=ctx.now_ms, bodies=body_of)
        found.update(writes=len(plan.writes), known=plan.known, skipped=len(plan.skipped))
    _log_decisions(source, plan, prepared.skipped)
    bodies, page_notes = await _bodies(source, plan, ctx.fetcher)
    finals, image_notes = await _final_bodies(source, plan, bodies, ctx)
    written = [(p, _article(p, bodies[p.id], finals[p.id])) for p in plan.writes]
    new = [(p, a) for p, a in written if p.is_new]
    # the feed's own date is kept where the article is dated otherwise (one that cannot be true)
    feed_dates = {
        a.id: p.candidate.feed_date for p, a in new if p.candidate.feed_date and p.ms != p.candidate.ms
    }
    with timed(log, "write", source=source.slug, new=len(new)) as found:
        ctx.store.add(source.slug, [a for _, a in new], feed_dates=feed_dates)
        if plan.learned:
            ctx.store.remember(source.slug, plan.learned)
        refreshed = [a for p, a in written if not p.is_new]
        updated = ctx.store.replace(source.slug, refreshed, seen_ms=ctx.now_ms) if refreshed else ()
        found.update(updated=len(updated))
    summary = ctx.store.summary(source.slug)
    return SourceResult(
        slug=source.slug,
        name=source.name,
        ok=True,
        new=tuple(a.id for _, a in new),
        updated=updated,
        unchanged=plan.known - len(updated),
        skipped=(*prepared.skipped, *plan.skipped),
        articles=summary.articles,
        newest_ms=summary.newest_ms(ctx.now_ms),
        notes=(*notes, *(f"collision: {c}" for c in plan.collisions), *page_notes, *image_notes),
        recovered=feed.recovered,
        months=_months(known, [a for _, a in new], updated),
    )


def _log_decisions(source: Source, plan: Plan, skipped: Iterable[Skipped]) -> None:
    """Every item's decision at ``-vv``: written as which article, or skipped and why."""
    if not log.isEnabledFor(logging.DEBUG):
        return
    for planned in plan.writes:
        action = "new" if planned.is_new else "refresh"
        extra = {"source": source.slug, "action": action, "id": planned.id, "item": planned.candidate.label}
        log.debug("decision", extra=extra)
    for skip in (*skipped, *plan.skipped):
        extra = {"source": source.slug, "action": "skip", "item": skip.what, "reason": skip.reason}
        log.debug("decision", extra=extra)


def _months(known: Known, new: list[Article], updated: tuple[int, ...]) -> tuple[str, ...]:
    """The months of the new articles and of those rewritten (each keeps the month it was filed in)."""
    months = {month_of(a.ms) for a in new}
    months.update(
        known.records[i].month or month_of(known.records[i].ms) for i in updated if i in known.records
    )
    return tuple(sorted(months))


def _archived_body(store: ArchiveStore, slug: str) -> Callable[[int], str | None]:
    """Reads an archived article's body from the store when ``decide`` asks for one."""

    def body_of(article_id: int) -> str | None:
        return store.body(slug, article_id)

    return body_of


async def _bodies(source: Source, plan: Plan, fetcher: Fetcher) -> tuple[dict[int, Body], list[str]]:
    """The body of each planned write: from the feed, or the article page (``fulltext``); and a
    note for each article that kept the feed's body because its page gave none."""
    if source.fulltext is None:
        return {p.id: Body(p.candidate.body_html, "feed") for p in plan.writes}, []
    found = await asyncio.gather(*(_page_body(source, p, fetcher) for p in plan.writes))
    bodies = dict(zip((p.id for p in plan.writes), found, strict=True))
    notes = [
        f"{p.candidate.label}: kept the feed's body: {body.reason}"
        for p, body in zip(plan.writes, found, strict=True)
        if body.reason is not None
    ]
    return bodies, notes


async def _page_body(source: Source, planned: Planned, fetcher: Fetcher) -> Body:
    """The article's body from its page, through the full-text stage; the feed's body, with the
    reason, when the page cannot be fetched or gives none (never an article left out)."""
    assert source.fulltext is not None
    feed_body = planned.candidate.body_html
    url = planned.candidate.link
    try:
        with timed(log, "fetch page", source=source.slug, url=redact_url(url)) as fetched:
            page = await fetcher.get(url, slug=source.slug)
            fetched.update(status=page.status, bytes=len(page.content))
    except SourceError as e:
        return Body(feed_body, "feed", f"article page: {e.reason} [{e.code}]")
    if "html" not in page.content_type.lower() and not looks_like_html(page.content):
        why = f"article page: not an HTML page ({page.content_type or 'no Content-Type'})"
        return Body(feed_body, "feed", why)
    try:
        with timed(log, "extract", level=logging.DEBUG, source=source.slug, url=redact_url(url)) as extracted:
            decoded = decode_page(page.content, page.charset)
            body = full_text(decoded.text, page.url, source.fulltext, feed_body)
            extracted.update(via=body.via, encoding=decoded.encoding, rejected=body.reason)
    except Exception as e:  # the per-article boundary: one odd page must not fail its source
        log.warning("article page: %s", e, exc_info=True, extra={"source": source.slug})
        return Body(feed_body, "feed", f"article page: {type(e).__name__}: {redact_text(str(e))[:200]}")
    return body


async def _final_bodies(
    source: Source, plan: Plan, bodies: Mapping[int, Body], ctx: RunContext
) -> tuple[dict[int, str], list[str]]:
    """Each planned write's body as archived (see ``_final_body``), and a note for each article
    with pictures that could not be kept."""
    found = await asyncio.gather(*(_final_body(source, p, bodies[p.id].html, ctx) for p in plan.writes))
    finals = {p.id: body for p, (body, _) in zip(plan.writes, found, strict=True)}
    notes = [f"{p.candidate.label}: {note}" for p, (_, note) in zip(plan.writes, found, strict=True) if note]
    if source.images == "archive" and ctx.images is None and ctx.images_problem and plan.writes:
        notes.append(f"pictures not kept, the proxy instead: {ctx.images_problem}")
    return finals, notes


async def _final_body(source: Source, planned: Planned, html: str, ctx: RunContext) -> tuple[str, str | None]:
    """The body as archived: on one line, inert, its images at their kept copies or through the
    proxy.  Both work on the inert body (their HTML parser must never see what the sanitizer
    would cut) and the sanitizer runs again after them: sanitize stays the last step."""
    body = neutralize(join_lines(html))
    base = planned.candidate.link
    proxy = ctx.settings.image_proxy if source.images in ("proxy", "archive") else None
    note = None
    if source.images == "archive" and ctx.images is not None:
        kept_at = ctx.images.base_url or ""
        kept = await ctx.images.keep(archivable(body, base, kept_at), ctx.fetcher, source.slug)
        rewritten, note = localized(body, base, kept.local, proxy, kept_at), kept.note()
    elif proxy is not None:
        rewritten = proxied_images(body, base, proxy)
    else:
        return body, None
    return (body if rewritten == body else neutralize(join_lines(rewritten))), note


def _article(planned: Planned, body: Body, archived_body: str) -> Article:
    c = planned.candidate
    return Article(
        id=planned.id,
        ms=planned.ms,
        title=c.title,
        link=c.link,
        guid=c.guid,
        body=archived_body,
        feed_sha=feed_body_hash(c.body_html),
        body_from=body.via,
    )
