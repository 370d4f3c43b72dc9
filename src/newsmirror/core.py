"""The facade: ``open_archive(path)`` → ``Archive``; ``Archive.run(config)`` is one whole job."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from . import publish, repair, schedule
from .config import Config
from .exceptions import ConfigError, StorageError
from .fetch import Fetcher
from .health import Health, assess, newest_text, problems, recent_counts, state_notes, status_text
from .render import (
    StatusRow,
    readme_row,
    render_list,
    render_readme,
    render_status_feed,
    render_status_page,
    status_row,
)
from .schedule import SourceState
from .store import RepoStore
from .types import RunResult, Source, SourceIndex, SourceResult
from .update import RunContext, update_sources

Clock = Callable[[], datetime]
log = logging.getLogger(__name__)


def _utc_now() -> datetime:
    return datetime.now(UTC)


def open_archive(path: Path) -> Archive:
    """The archive at ``path``; created and ``git init``-ed when missing."""
    publish.ensure_repo(path)
    return Archive(path)


class Archive:
    """One archive repository: its store, its lock, its runs."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.store = RepoStore(root)

    def locked(self) -> AbstractContextManager[None]:
        """Hold the archive's lock; a second holder gets ``ArchiveLockedError`` at once."""
        return repair.run_lock(self.root)

    def run(
        self,
        config: Config,
        *,
        only: tuple[str, ...] = (),
        push: bool = False,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Clock | None = None,
        on_done: Callable[[SourceResult], None] | None = None,
    ) -> RunResult:
        """Update the selected sources, rebuild pages, commit, optionally push."""
        with self.locked():
            return asyncio.run(self._run(config, only, push, transport, clock or _utc_now, on_done))

    async def _run(
        self,
        config: Config,
        only: tuple[str, ...],
        push: bool,
        transport: httpx.AsyncBaseTransport | None,
        clock: Clock,
        on_done: Callable[[SourceResult], None] | None,
    ) -> RunResult:
        self.store.remove_leftovers()
        for done in [*repair.recover(self.root), *repair.restore_emptied(self.root, "articles")]:
            log.warning("recovered from an interrupted run: %s", done)
        now = clock()
        before = self._load_states()
        selected = tuple(s for s in config.sources if not only or s.slug in only)
        async with Fetcher(config.fetch, transport=transport, clock=lambda: now) as fetcher:
            ctx = RunContext(self.store, fetcher, now, config.fetch, on_done)
            outcomes = await update_sources(selected, before, ctx)
        results = tuple(o.result for o in outcomes)
        after = {**before, **{o.result.slug: o.state for o in outcomes}}
        self._save_states(before, after, results)
        self._write_pages(config, results, after, now)
        sha = publish.commit(self.root, commit_message(results))
        pushes = publish.push_all(self.root) if push else ()
        return RunResult(sources=results, commit=sha, pushes=pushes)

    def enable(self, slugs: tuple[str, ...]) -> str | None:
        """Re-enable disabled or backed-off sources; commits the change. Raises ConfigError."""
        with self.locked():
            states = self._load_states()
            unknown = [s for s in slugs if s not in states]
            if unknown:
                raise ConfigError(f"{self.root}: no state for source(s) {', '.join(unknown)}")
            states.update({slug: schedule.enabled(states[slug]) for slug in slugs})
            self.store.save_status({slug: state.to_json() for slug, state in sorted(states.items())})
            return publish.commit(self.root, f"newsmirror: re-enable {', '.join(slugs)}\n")

    def health(self, config: Config, now: datetime) -> list[tuple[Health, tuple[int, int]]]:
        """Every configured source's health with its article counts of the last 24 h and 7 days."""
        states = self.latest_states()
        report = []
        for source in config.sources:
            index = self._index_or_empty(source)
            state = states.get(source.slug, SourceState())
            health = assess(
                source,
                state,
                articles=index.size,
                newest_ms=index.newest_ms(int(now.timestamp() * 1000)),
                now=now,
                settings=config.fetch,
            )
            report.append((health, recent_counts(index, now)))
        return report

    def _load_states(self) -> dict[str, SourceState]:
        return {slug: SourceState.from_json(v) for slug, v in self.store.load_status().items()}

    def _save_states(
        self,
        before: Mapping[str, SourceState],
        after: Mapping[str, SourceState],
        results: tuple[SourceResult, ...],
    ) -> None:
        """Commit-worthy state is saved in the archive; the time of the last success alone is not.

        Saving ``last_success`` after every run would commit every hour even when nothing is
        new, so it rides along with the next change; the full state always goes to .git/.
        """
        full = {slug: state.to_json() for slug, state in sorted(after.items())}
        self._save_local_states(full)
        lasting_changed = any(
            before.get(slug, SourceState()).lasting() != state.lasting() for slug, state in after.items()
        )
        if lasting_changed or any(r.new or r.updated for r in results):
            self.store.save_status(full)

    def _save_local_states(self, full: Mapping[str, Any]) -> None:
        path = publish.git_dir(self.root) / "newsmirror-status.json"
        try:
            path.write_text(
                json.dumps(full, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8"
            )
        except OSError as e:  # a read-only or full .git: a storage error, not a crash
            raise StorageError(f"{path}: cannot write the local state: {e}") from e

    def latest_states(self) -> dict[str, SourceState]:
        """The freshest known state: this machine's last run if any, else the committed one."""
        local = publish.git_dir(self.root) / "newsmirror-status.json"
        try:
            data = json.loads(local.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return self._load_states()
        committed = self._load_states()
        return {**committed, **{slug: SourceState.from_json(v) for slug, v in data.items()}}

    def _write_pages(
        self,
        config: Config,
        results: tuple[SourceResult, ...],
        states: Mapping[str, SourceState],
        now: datetime,
    ) -> None:
        done = {r.slug: r for r in results if r.articles is not None}
        healths = [self._health(s, done.get(s.slug), states, now, config) for s in config.sources]
        self.store.write_page(
            "README.md",
            render_readme(
                readme_row(h.source.name, h.articles, h.newest_ms, status_text(h.state)) for h in healths
            ),
        )
        self.store.write_page("status.md", render_status_page(_status_row(h) for h in healths))
        found = problems(healths, config.fetch)
        updated = max((p.updated for p in found), default="1970-01-01T00:00:00Z")
        self.store.write_page(
            "status.xml", render_status_feed(found, feed_id=self._feed_id(), updated=updated)
        )

    def _health(
        self,
        source: Source,
        result: SourceResult | None,
        states: Mapping[str, SourceState],
        now: datetime,
        config: Config,
    ) -> Health:
        articles, newest = self._size(source, result, now)
        state = states.get(source.slug, SourceState())
        return assess(source, state, articles=articles, newest_ms=newest, now=now, settings=config.fetch)

    def _feed_id(self) -> str:
        return f"{self.store.archive_id()}:status"

    def _size(
        self, source: Source, result: SourceResult | None, now: datetime
    ) -> tuple[int, int | None]:
        """Article count and newest timestamp: from this run's result, else from the index."""
        if result is not None and result.articles is not None:
            return result.articles, result.newest_ms
        index = self._index_or_empty(source)
        self._ensure_list(source, index)
        return index.size, index.newest_ms(int(now.timestamp() * 1000))

    def _index_or_empty(self, source: Source) -> SourceIndex:
        """A source whose folder cannot be read (``articles/<slug>`` is a file …) has failed on
        its own already; the pages of the others must still be written."""
        try:
            return self.store.load_index(source.slug)
        except StorageError as e:
            log.warning("%s", e, extra={"source": source.slug})
            return SourceIndex()

    def _ensure_list(self, source: Source, index: SourceIndex) -> None:
        """A source that has never succeeded still gets its list page, so README links work.

        An existing list is left as it is: a failed run does not touch what readers see.
        """
        relative = f"lists/{source.name}.md"
        if not (self.root / relative).exists():
            records = index.records.values()
            page = render_list(source.name, source.slug, records, by_date=source.listed_by_date)
            self.store.write_page(relative, page)


def _status_row(health: Health) -> StatusRow:
    state = health.state
    notes = state_notes(state)
    if health.stale:  # after a postponement, before a move: as status.md has always listed them
        notes.insert(1 if state.not_before else 0, "stale")
    return status_row(
        health.source.name,
        status_text(state),
        state.failures,
        newest_text(health.newest_ms),
        "; ".join(notes),
    )


def commit_message(results: tuple[SourceResult, ...]) -> str:
    """``N new articles`` then one line per source that changed."""
    new = sum(len(r.new) for r in results)
    updated = sum(len(r.updated) for r in results)
    head = f"newsmirror: {new} new article{'s' if new != 1 else ''}"
    if updated:
        head += f", {updated} updated"
    elif not new:
        head = "newsmirror: source status changed"
    lines = [
        f"{r.name} ({r.slug}): {len(r.new)} new" + (f", {len(r.updated)} updated" if r.updated else "")
        for r in results
        if r.new or r.updated
    ]
    failed = [f"{r.name} ({r.slug}): failed, {r.error_code}" for r in results if not r.ok]
    return "\n".join([head, "", *lines, *failed]).rstrip() + "\n"
