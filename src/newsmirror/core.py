"""The facade: ``open_archive(path)`` → ``Archive``; ``Archive.run(config)`` is one whole job."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import filelock
import httpx

from . import publish
from .config import Config
from .exceptions import ArchiveLockedError
from .fetch import Fetcher
from .render import readme_row, render_list, render_readme
from .store import RepoStore
from .types import RunResult, Source, SourceIndex, SourceResult
from .update import RunContext, update_sources

Clock = Callable[[], datetime]


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

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the archive's lock; a second holder gets ``ArchiveLockedError`` at once."""
        lock = filelock.FileLock(publish.git_dir(self.root) / "newsmirror.lock")
        try:
            lock.acquire(timeout=0)
        except filelock.Timeout as e:
            raise ArchiveLockedError(
                f"{self.root}: another newsmirror run holds the lock ({lock.lock_file})"
            ) from e
        try:
            yield
        finally:
            lock.release()

    def run(
        self,
        config: Config,
        *,
        only: tuple[str, ...] = (),
        push: bool = False,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Clock | None = None,
    ) -> RunResult:
        """Update the selected sources, rebuild pages, commit, optionally push."""
        with self.locked():
            return asyncio.run(self._run(config, only, push, transport, clock or _utc_now))

    async def _run(
        self,
        config: Config,
        only: tuple[str, ...],
        push: bool,
        transport: httpx.AsyncBaseTransport | None,
        clock: Clock,
    ) -> RunResult:
        self.store.remove_leftovers()
        now = clock()
        selected = tuple(s for s in config.sources if not only or s.slug in only)
        async with Fetcher(config.fetch, transport=transport) as fetcher:
            ctx = RunContext(store=self.store, fetcher=fetcher, now_ms=int(now.timestamp() * 1000))
            results = await update_sources(selected, ctx)
        self._record_status(results, now)
        self._write_readme(config.sources, results)
        sha = publish.commit(self.root, commit_message(results))
        pushes = publish.push_all(self.root) if push else ()
        return RunResult(sources=results, commit=sha, pushes=pushes)

    def _record_status(self, results: tuple[SourceResult, ...], now: datetime) -> None:
        previous = self.store.load_status()
        status = dict(previous)
        for result in results:
            status[result.slug] = _status_entry(result, previous.get(result.slug), now)
        self.store.save_status(status)

    def _write_readme(self, sources: tuple[Source, ...], results: tuple[SourceResult, ...]) -> None:
        status = self.store.load_status()
        done = {r.slug: r for r in results if r.articles is not None}
        rows = [
            readme_row(s.name, *self._size(s, done.get(s.slug)), _status_text(status.get(s.slug)))
            for s in sources
        ]
        self.store.write_page("README.md", render_readme(rows))

    def _size(self, source: Source, result: SourceResult | None) -> tuple[int, int | None]:
        """Article count and newest timestamp: from this run's result, else from the index."""
        if result is not None and result.articles is not None:
            return result.articles, result.newest_ms
        index = self.store.load_index(source.slug)
        self._ensure_list(source, index)
        return index.size, index.newest_ms()

    def _ensure_list(self, source: Source, index: SourceIndex) -> None:
        """A source that has never succeeded still gets its list page, so README links work.

        An existing list is left as it is: a failed run does not touch what readers see.
        """
        relative = f"lists/{source.name}.md"
        if not (self.root / relative).exists():
            self.store.write_page(relative, render_list(source.name, source.slug, index.records.values()))


def _status_entry(result: SourceResult, before: Any, now: datetime) -> dict[str, Any]:
    entry: dict[str, Any] = {"result": "ok" if result.ok else "failed"}
    if not result.ok:
        entry.update(code=result.error_code, message=result.error)
    unchanged = isinstance(before, Mapping) and all(before.get(k) == v for k, v in entry.items())
    entry["since"] = before["since"] if unchanged and "since" in before else now.strftime("%Y-%m-%dT%H:%MZ")
    return entry


def _status_text(entry: Any) -> str:
    if not isinstance(entry, Mapping):
        return "—"
    since = entry.get("since", "")
    if entry.get("result") == "ok":
        return f"ok (since {since})"
    return f"failed: {entry.get('code')} (since {since})"


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
