"""The facade: ``open_archive(path, store=, transport=, clock=)`` → ``Archive``; ``Archive.run(config)``
is one whole job: recover, fetch → … → store, render pages from the store, commit, push."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx

from . import publish, repair, schedule
from .archive_format import UNDATED, Layout, month_of
from .config import ARCHIVE_CONFIG, Config
from .exceptions import ConfigError, NewsmirrorError, StorageError
from .fetch import Fetcher
from .git import git
from .health import Health, Storage, assess, recent_counts
from .keep_images import ImageKeeper
from .redact import redact_url
from .render.own_text import OWN_TEXT
from .render.pages import PageContext, render_pages
from .repo import Repository, ensure_repo
from .schedule import SourceState
from .store import ArchiveStore, TreeStore
from .store.files import TreeFiles
from .store.images import ImageStore, ImageTotals, github_url
from .store.rename import rename_source
from .timing import timed
from .types import PushResult, RunResult, Source, SourceResult, SourceSummary
from .update import RunContext, update_sources

Clock = Callable[[], datetime]
log = logging.getLogger(__name__)
_WEEK_MS = 7 * 86_400_000
_PAGES_AND_STATE = (".newsmirror", "lists", "README.md", "status.md", "status.xml")


def _utc_now() -> datetime:
    return datetime.now(UTC)


def open_archive(
    path: Path,
    *,
    store: ArchiveStore | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    clock: Clock | None = None,
    layout: Layout = "monthly",
) -> Archive:
    """The archive at ``path``, created and ``git init``-ed when missing.

    ``store`` holds its articles and state (default: the git working tree itself; a new archive
    gets ``layout``, an existing one keeps its own); ``transport`` and ``clock`` are what every
    run fetches with and reads the time from (tests pass loopback servers and fixed clocks).
    """
    ensure_repo(path)
    return Archive(path, store=store, transport=transport, clock=clock, layout=layout)


@dataclass(frozen=True, slots=True)
class _RunChanges:
    """What a run changes before it fetches, in its own commit: slugs renamed, the sources file."""

    renames: Mapping[str, str]
    sources_text: str | None


class Archive:
    """One archive repository: its store, its lock, its runs."""

    def __init__(
        self,
        root: Path,
        *,
        store: ArchiveStore | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Clock | None = None,
        layout: Layout = "monthly",
    ) -> None:
        self.root = root
        self.repository = Repository(root)
        local = self.repository.git_dir
        self.tree = TreeStore(root, local=local, layout=layout, committed=self.repository)
        self.store: ArchiveStore = store if store is not None else self.tree
        # pages live in the tree whatever holds the articles
        self._pages: TreeFiles = self.tree.files
        self.transport = transport
        self.clock = clock or _utc_now

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
        renames: Mapping[str, str] | None = None,
        sources_text: str | None = None,
    ) -> RunResult:
        """Update the selected sources, rebuild pages, commit, optionally push.

        ``renames`` (old slug → new) moves those sources' files first, and ``sources_text`` is
        written as the archive's sources file, both in the run's commit.
        ConfigError, before anything is fetched, for a source whose slug changed without one."""
        with self.locked():
            self._check_renames(config, renames or {})
            changes = _RunChanges(dict(renames or {}), sources_text)
            fetching = transport or self.transport
            run = self._run(config, only, push, fetching, clock or self.clock, on_done, changes)
            return asyncio.run(run)

    def rename(self, old: str, new: str, config: Config, *, sources_text: str | None = None) -> str | None:
        """Move source ``old``'s articles and state to the slug ``new`` (``newsmirror sources
        rename``), writing ``sources_text`` as the sources file in the same commit; the commit."""
        with self.locked():
            self._recover()
            moved = self._move_source(old, new)
            if sources_text is not None:
                self._pages.write(ARCHIVE_CONFIG, sources_text)
            self._write_pages(config, (), self.store.load_states(), self.clock(), every_list=True)
            return self._commit(f"newsmirror: source {old} renamed {new} ({moved} files moved)\n")

    def _check_renames(self, config: Config, renames: Mapping[str, str]) -> None:
        """Refuse a rename to a slug the file does not have, and a slug change not renamed."""
        configured = {s.slug for s in config.sources}
        for old, new in renames.items():
            if new not in configured:
                raise ConfigError(f"--rename {old}={new}: no source has the slug {new!r} in the sources file")
        states = self.store.load_states()
        for old, new in renames.items():
            if new in states:
                raise ConfigError(f"--rename {old}={new}: the source {new} already has a state of its own")
        for old, new in slug_changes(config, states).items():
            if renames.get(old) != new:
                raise ConfigError(
                    f"source {new}: its URL was archived under the slug {old!r}; rename it with "
                    f"--rename {old}={new} (moves its articles, so none is archived twice), "
                    f"or give it back the slug {old!r}"
                )

    def _move_source(self, old: str, new: str) -> int:
        states = self.store.load_states()
        moves = rename_source(self.tree, old, new)
        if old in states:
            states[new] = states.pop(old)
            self.store.save_states(states, lasting=True)
        log.info("source %s renamed %s: %d files moved", old, new, len(moves))
        return len(moves)

    async def _run(
        self,
        config: Config,
        only: tuple[str, ...],
        push: bool,
        transport: httpx.AsyncBaseTransport | None,
        clock: Clock,
        on_done: Callable[[SourceResult], None] | None,
        changes: _RunChanges,
    ) -> RunResult:
        interrupted = self._recover()
        for old, new in changes.renames.items():
            self._move_source(old, new)
        if changes.sources_text is not None:
            self._pages.write(ARCHIVE_CONFIG, changes.sources_text)
        now = clock()
        before = self.store.load_states()
        kept = self.store.load_states(lasting=True)
        selected = tuple(s for s in config.sources if s.active and (not only or s.slug in only))
        keeper, problem = self._image_keeper(config, selected)
        async with Fetcher(config.fetch, transport=transport, clock=lambda: now) as fetcher:
            ctx = RunContext(self.store, fetcher, now, config.fetch, on_done, keeper, problem)
            outcomes = await update_sources(selected, before, ctx)
        results = tuple(o.result for o in outcomes)
        # the pictures first: an article never points at a copy its branch does not hold
        pictures, picture_pushes = self._keep_pictures(keeper, results, push)
        after = {**before, **{o.result.slug: o.state for o in outcomes}}
        # the articles an interrupted run stored are committed by this one: its states go with them
        stored = interrupted or any(r.new or r.updated for r in results)
        lasting = stored or schedule.worth_keeping(kept, after, now)
        self.store.save_states(after, lasting=lasting)
        beat = schedule.heartbeat(after if lasting else kept)  # what the commit will hold
        every_list = interrupted or bool(changes.renames)  # every link to moved articles changes
        self._write_pages(config, results, after, now, every_list=every_list, heartbeat=beat)
        sha = self._commit(commit_message(results, sources_saved=changes.sources_text is not None))
        pushes = publish.push_all(self.root) if push else ()
        return RunResult(sources=results, commit=sha, pushes=(*picture_pushes, *pushes), pictures=pictures)

    def _image_keeper(
        self, config: Config, selected: tuple[Source, ...]
    ) -> tuple[ImageKeeper | None, str | None]:
        """The keeper of pictures when a selected source keeps them; else why there is none."""
        if not any(s.images == "archive" for s in selected):
            return None, None
        try:
            store = self.image_store(config)
            store.prepare()
        except NewsmirrorError as e:
            log.warning("pictures not kept: %s", e)
            return None, e.message
        url = config.fetch.image_archive_url or github_url(store.root, store.branch)
        return ImageKeeper(store, url, config.fetch), None

    def image_store(self, config: Config) -> ImageStore:
        """The images branch, in the archive's repository or the one ``image_archive_repository``
        names.  StorageError when that is not a git repository."""
        named = config.fetch.image_archive_repository
        root = (self.root / named).resolve() if named else self.root
        if named and (not root.is_dir() or git(root, "rev-parse", "--git-dir", check=False).returncode != 0):
            raise StorageError(f"image_archive_repository {named}: {root} is not a git repository")
        return ImageStore(root, config.fetch.image_archive_branch)

    def _keep_pictures(
        self, keeper: ImageKeeper | None, results: tuple[SourceResult, ...], push: bool
    ) -> tuple[str, tuple[PushResult, ...]]:
        if keeper is None or (not keeper.store.pending and not push):
            return "", ()
        added = len(keeper.store.pending)
        new = sum(len(r.new) + len(r.updated) for r in results)
        keeper.store.commit(f"newsmirror: {added} pictures of {new} articles\n")
        totals = keeper.store.totals()
        line = (
            f"pictures: {added} new kept on {totals.branch} "
            f"({totals.images:,} in all, {totals.bytes / 1e6:.1f} MB)"
        )
        if keeper.base_url is None:
            line += "; the bodies keep the proxy: set image_archive_url (origin is not on GitHub)"
        return line, keeper.store.push() if push else ()

    def _recover(self) -> bool:
        """Put right what a killed run left: git's state first, then the store's writes; what
        that run changed but did not commit is committed by this one.  True when there was one."""
        interrupted = self.tree.interrupted()
        done = self.repository.recover()
        if interrupted:  # a power loss may have emptied files git wrote too (a pull, a rebase)
            done += repair.restore_emptied(self.root, "articles")
        for what in [*done, *self.tree.recover()]:
            log.warning("recovered from an interrupted run: %s", what)
        if interrupted:  # what the tree holds beside the articles: small, whatever the archive's size
            self.tree.files.changed.update(self.repository.changed(_PAGES_AND_STATE))
        return interrupted

    def _write_pages(
        self,
        config: Config,
        results: tuple[SourceResult, ...],
        states: Mapping[str, SourceState],
        now: datetime,
        *,
        every_list: bool,
        heartbeat: datetime | None = None,
    ) -> None:
        feed_id = f"{self.store.archive_id()}:status"
        beat = heartbeat or schedule.heartbeat(states)
        own_text = self._pages.read(OWN_TEXT) or ""
        ctx = PageContext(config, states, now, self.tree.layout, feed_id, heartbeat=beat, own_text=own_text)
        missing = (lambda _relative: True) if every_list else self._missing
        with timed(log, "pages") as found:
            pages = render_pages(self.store, ctx, results, missing=missing)
            self._pages.know_ids(pages)  # a checkout that leaves pages out compares them by object id
            for relative, text in pages.items():
                self._pages.write(relative, text)
            found["pages"] = len(pages)

    def _missing(self, relative: str) -> bool:
        return not self._pages.exists(relative)

    def _commit(self, message: str) -> str | None:
        """Commit what this run wrote; then its journal is no longer needed."""
        sha = publish.commit(self.root, message, self.tree.changed_paths())
        self.tree.settled()
        return sha

    def reshard(self, config: Config) -> tuple[int, str | None]:
        """Move a flat archive into date folders (with git history: each file is a rename) and
        render every page again; the number of files moved and the commit."""
        with self.locked():
            self._recover()
            slugs = {*self.tree.slugs(), *(s.slug for s in config.sources)}
            moved = self.tree.reshard(slugs)
            states = self.store.load_states()
            self._write_pages(config, (), states, self.clock(), every_list=True)
            message = f"newsmirror: articles by date ({len(moved)} files moved)\n"
            return len(moved), self._commit(message)

    def reindex(self, config: Config) -> tuple[int, str | None]:
        """Rebuild every source's state from its article files (after files were added or
        removed by hand); the articles indexed and the commit."""
        with self.locked():
            self._recover()
            slugs = sorted({*self.tree.slugs(), *(s.slug for s in config.sources)})
            count = sum(self.tree.reindex(slug).summary.articles for slug in slugs)
            # the files added or removed by hand go with the state that now counts them
            self.tree.files.changed.update(self.repository.changed([f"articles/{slug}" for slug in slugs]))
            self._write_pages(config, (), self.store.load_states(), self.clock(), every_list=True)
            return count, self._commit(
                f"newsmirror: state rebuilt from the article files ({count} articles)\n"
            )

    def enable(self, slugs: tuple[str, ...] | None) -> tuple[tuple[str, ...], str | None]:
        """Re-enable disabled or backed-off sources (``None``: every one that is); commits the
        change.  The slugs enabled and the commit.  Raises ConfigError."""
        with self.locked():
            states = self.store.load_states()
            if slugs is None:
                slugs = tuple(s for s, state in sorted(states.items()) if schedule.held_back(state))
                if not slugs:
                    return (), None
            unknown = [s for s in slugs if s not in states]
            if unknown:
                raise ConfigError(f"{self.root}: no state for source(s) {', '.join(unknown)}")
            states.update({slug: schedule.enabled(states[slug]) for slug in slugs})
            self.store.save_states(states, lasting=True)
            return slugs, self._commit(f"newsmirror: re-enable {', '.join(slugs)}\n")

    def health(self, config: Config, now: datetime) -> list[tuple[Health, tuple[int, int]]]:
        """Every configured source's health with its article counts of the last 24 h and 7 days."""
        states = self.store.load_states()
        report = []
        now_ms = int(now.timestamp() * 1000)
        for source in config.sources:
            try:
                summary = self.store.summary(source.slug)
                months = _recent_months(summary.months, now_ms)
                recent = [r for m in months for r in self.store.records(source.slug, m)]
            except StorageError as e:  # that source's folder cannot be read: the others still report
                log.warning("%s", e, extra={"source": source.slug})
                summary, recent = SourceSummary(), []
            state = states.get(source.slug, SourceState())
            health = assess(
                source,
                state,
                articles=summary.articles,
                newest_ms=summary.newest_ms(now_ms),
                now=now,
                settings=config.fetch,
            )
            report.append((health, recent_counts(recent, now)))
        return report

    def storage(self, config: Config) -> Storage:
        """The repository's size and its fullest article folder, from git and the summaries."""
        folders: list[tuple[int, str]] = [(0, "articles")]
        for slug in sorted({*self.tree.slugs(), *(s.slug for s in config.sources)}):
            summary = self.tree.summary(slug)
            if self.tree.layout == "flat":
                folders.append((summary.articles, f"articles/{slug}"))
            elif summary.months:
                folders.append(self._fullest_day(slug, summary.months))
        entries, folder = max(folders)
        pictures = self._picture_totals(config)
        if pictures is None:
            return Storage(self.repository.size(), folder, entries)
        return Storage(
            self.repository.size(), folder, entries, pictures.branch, pictures.images, pictures.bytes
        )

    def _picture_totals(self, config: Config) -> ImageTotals | None:
        try:
            totals = self.image_store(config).totals()
        except NewsmirrorError:
            return None
        keeps = any(s.images == "archive" for s in config.sources)
        return totals if keeps or totals.images else None

    def _fullest_day(self, slug: str, months: Mapping[str, int]) -> tuple[int, str]:
        """The fullest folder of a source filed by day: a day of its fullest month (or undated)."""
        month = max(months, key=lambda m: months[m])
        if month == UNDATED:
            return months[month], f"articles/{slug}/undated"
        days = Counter(r.day for r in self.store.records(slug, month) if r.path is None)
        day, count = max(days.items(), key=lambda d: d[1], default=(None, 0))
        folder = f"articles/{slug}/{month.replace('-', '/')}" + (f"/{day:02d}" if day is not None else "")
        return count, folder

    def latest_states(self) -> dict[str, SourceState]:
        """The freshest known state: this machine's last run if any, else the committed one."""
        return self.store.load_states()


def slug_changes(config: Config, states: Mapping[str, SourceState]) -> dict[str, str]:
    """Old slug → new for each configured source that has no state yet while a slug that is no
    longer configured was last run with the same URL (its slug was changed in the file)."""
    configured = {s.slug for s in config.sources}
    gone = {state.url: slug for slug, state in states.items() if slug not in configured and state.url}
    changed = ((redact_url(s.url), s.slug) for s in config.sources if s.slug not in states)
    return {gone[url]: slug for url, slug in changed if url in gone}


def _recent_months(months: Mapping[str, int], now_ms: int) -> list[str]:
    """The months that can hold articles of the last week (and any dated after it)."""
    first = month_of(now_ms - _WEEK_MS)
    return [m for m in months if m != UNDATED and m >= first]


def commit_message(results: tuple[SourceResult, ...], *, sources_saved: bool = False) -> str:
    """``N new articles`` then one line per source that changed (and the sources file, when the
    run saved a new one)."""
    new = sum(len(r.new) for r in results)
    updated = sum(len(r.updated) for r in results)
    head = f"newsmirror: {new} new article{'s' if new != 1 else ''}"
    if updated:
        head += f", {updated} updated"
    elif not new:
        head = "newsmirror: new sources file" if sources_saved else "newsmirror: source status changed"
    lines = [
        f"{r.name} ({r.slug}): {len(r.new)} new" + (f", {len(r.updated)} updated" if r.updated else "")
        for r in results
        if r.new or r.updated
    ]
    failed = [f"{r.name} ({r.slug}): failed, {r.error_code}" for r in results if not r.ok]
    saved = [f"{ARCHIVE_CONFIG}: written by this run"] if sources_saved else []
    return "\n".join([head, "", *lines, *failed, *saved]).rstrip() + "\n"
