"""Source health, from the remembered state and the archive's index. Pure.

What ``newsmirror status`` prints and what ``status.md`` / ``status.xml`` publish: for each
source its last result, consecutive failures, newest article, recent counts and whether it has
gone stale (a feed that still answers but brings nothing new — how Reuters and FT died).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from .config import FetchSettings
from .moments import display_ms, from_ms
from .schedule import SourceState, display, moment_of, stamp
from .types import Record, Source

DAY_MS = 86_400_000


@dataclass(frozen=True, slots=True)
class Health:
    source: Source
    state: SourceState
    articles: int
    newest_ms: int | None
    stale: bool


@dataclass(frozen=True, slots=True)
class Problem:
    """One entry of the problems feed; ``id`` is stable while the problem lasts."""

    id: str
    title: str
    summary: str
    updated: str


def assess(
    source: Source,
    state: SourceState,
    *,
    articles: int,
    newest_ms: int | None,
    now: datetime,
    settings: FetchSettings,
) -> Health:
    stale = source.active and _stale(state, newest_ms, now, settings)
    return Health(source, state, articles, newest_ms, stale)


def _stale(state: SourceState, newest_ms: int | None, now: datetime, settings: FetchSettings) -> bool:
    horizon = now - timedelta(days=settings.stale_days)
    if newest_ms is not None:
        return from_ms(newest_ms) < horizon
    working_since = moment_of(state.since) if state.result == "ok" else None
    return working_since is not None and working_since < horizon


def recent_counts(records: Iterable[Record], now: datetime) -> tuple[int, int]:
    """Articles dated within the last 24 hours and the last 7 days (of ``records``: those of the
    recent months are enough)."""
    now_ms = int(now.timestamp() * 1000)
    times = [r.ms for r in records if r.ms is not None]
    return (sum(1 for t in times if now_ms - t <= DAY_MS), sum(1 for t in times if now_ms - t <= 7 * DAY_MS))


def status_text(state: SourceState, source: Source | None = None) -> str:
    """One cell: the last result and since when (stable between runs that change nothing)."""
    if source is not None and not source.active:
        return "not fetched (active = false)"
    since = display(state.since)
    if state.result == "ok":
        return f"ok (since {since})"
    if state.result == "failed":
        return f"failed: {state.code} ×{state.failures} (since {since})"
    if state.result == "disabled":
        return f"disabled: {state.message}"
    return "—"


def state_notes(state: SourceState) -> list[str]:
    """What else a reader should know: a postponement, a recorded move, a recovered feed."""
    notes = [
        f"next attempt after {display(state.not_before)}" if state.not_before else "",
        f"moved to {state.moved_to}" if state.moved_to else "",
        f"recovered: {state.recovered}" if state.recovered else "",
    ]
    return [n for n in notes if n]


def newest_text(newest_ms: int | None) -> str:
    return display_ms(newest_ms)


def problems(healths: Iterable[Health], settings: FetchSettings) -> list[Problem]:
    """Every current problem, newest first: failing, disabled, stale and moved sources."""
    found = [p for h in healths for p in _problems_of(h, settings)]
    return sorted(found, key=lambda p: (p.updated, p.id), reverse=True)


def _problems_of(health: Health, settings: FetchSettings) -> list[Problem]:
    s, state = health.source, health.state
    if not s.active:  # not fetched: nothing about it can go wrong any more
        return []
    found = []
    if state.result == "failed":
        found.append(
            Problem(
                f"{s.slug}/failed/{state.code}/{state.since}",
                f"{s.name} ({s.slug}) is failing: {state.code}",
                f"{state.message} — {state.failures} run(s) in a row",
                state.since or "",
            )
        )
    if state.result == "disabled":
        found.append(
            Problem(
                f"{s.slug}/disabled/{state.since}",
                f"{s.name} ({s.slug}) is disabled",
                f"{state.message}; re-enable with `newsmirror enable {s.slug}`",
                state.since or "",
            )
        )
    if health.stale:
        found.append(_stale_problem(health, settings))
    if state.moved_to:
        found.append(
            Problem(
                f"{s.slug}/moved/{state.moved_to}",
                f"{s.name} ({s.slug}) moved",
                f"{state.moved_from} answers with a permanent redirect to {state.moved_to}; "
                "update the sources file",
                state.since or "",
            )
        )
    return found


def _stale_problem(health: Health, settings: FetchSettings) -> Problem:
    s = health.source
    since = (
        from_ms(health.newest_ms) + timedelta(days=settings.stale_days)
        if health.newest_ms is not None
        else moment_of(health.state.since) or datetime(1970, 1, 1, tzinfo=UTC)
    )
    return Problem(
        f"{s.slug}/stale/{health.newest_ms}",
        f"{s.name} ({s.slug}) is stale",
        f"no new article for more than {settings.stale_days:g} days; newest: {newest_text(health.newest_ms)}",
        stamp(since),
    )


GB = 1 << 30
SIZE_WARNINGS = (
    (5 * GB, "over 5 GB: GitHub may ask for it to be made smaller; start a new archive repository"),
    (1 * GB, "over 1 GB, the size GitHub advises to stay under"),
)
FOLDER_LIMIT = 1000
"""Entries of a folder GitHub's web view lists."""


@dataclass(frozen=True, slots=True)
class Storage:
    """How big the archive's repository is and its fullest folder (``newsmirror status``)."""

    repository_bytes: int
    largest_folder: str
    largest_entries: int
    image_branch: str = ""
    """The branch of kept pictures (``images = "archive"``); empty when the archive has none."""
    images: int = 0
    image_bytes: int = 0

    def warnings(self) -> list[str]:
        found = [f"repository {self.repository_bytes / GB:.1f} GB: {why}" for limit, why in SIZE_WARNINGS
                 if self.repository_bytes >= limit][:1]  # fmt: skip
        if self.largest_entries > FOLDER_LIMIT:
            found.append(
                f"{self.largest_folder} holds {self.largest_entries:,} entries; GitHub lists "
                f"{FOLDER_LIMIT:,} per folder: `newsmirror reshard` files articles by date"
            )
        return found
