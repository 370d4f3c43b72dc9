"""The built-in catalogue of sources (``catalog.toml``, data, not code).

Each entry is a sources-file table plus its status: ``live`` (the outlet's own feed), ``dead``
(a feed that stopped, most of them third-party copies) or ``retired`` (an outlet with no feed
left, kept inactive so that its articles stay listed).  From it come the sources of a new
archive (the live defaults), those ``import`` gives a duty-machine archive (the original nine
outlets, each at its live feed or retired), and the moves of an archive still reading a dead
feed onto the live entry of the same slug.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, replace
from functools import cache
from importlib import resources
from typing import Any, Final, Literal

from .config import Config, parse_config
from .exceptions import ConfigError
from .types import Source

Status = Literal["live", "dead", "retired"]
STATUSES: Final = ("live", "dead", "retired")
_ENTRY_KEYS: Final = {"status": str, "default": bool, "original": bool, "evidence": str, "notes": str}


@dataclass(frozen=True, slots=True)
class Entry:
    """One catalogue entry: a source and what is known of its feed."""

    source: Source
    status: Status
    default: bool = False
    """In the sources of a new archive."""
    original: bool = False
    """One of the nine outlets of duty-machine/news (same 站名 and slug)."""
    evidence: str = ""
    notes: str = ""


@cache
def catalogue() -> tuple[Entry, ...]:
    """Every entry, in the file's order (read once; a broken file is a bug: ConfigError)."""
    text = resources.files("newsmirror").joinpath("catalog.toml").read_text(encoding="utf-8")
    tables = tomllib.loads(text).get("entry", [])
    return tuple(_entry(number, table) for number, table in enumerate(tables, 1))


def _entry(number: int, table: dict[str, Any]) -> Entry:
    where = f"catalog.toml entry #{number}"
    extra = {k: table[k] for k in _ENTRY_KEYS if k in table}
    for key, value in extra.items():
        if not isinstance(value, _ENTRY_KEYS[key]):
            raise ConfigError(f"{where}: {key} must be {_ENTRY_KEYS[key].__name__}")
    if extra.get("status") not in STATUSES:
        raise ConfigError(f"{where}: status must be one of {', '.join(STATUSES)}")
    source_table = {k: v for k, v in table.items() if k not in _ENTRY_KEYS}
    (source,) = parse_config({"source": [source_table]}, origin=where).sources
    return Entry(source=source, **extra)


def default_sources() -> tuple[Source, ...]:
    """What a new archive archives: the live entries marked default."""
    return tuple(e.source for e in catalogue() if e.status == "live" and e.default)


def takeover_sources() -> tuple[Source, ...]:
    """What ``import`` gives a duty-machine archive: each original outlet, in the original's
    order, at its live feed, or inactive when it has none (its articles stay listed)."""
    chosen: dict[str, Source] = {}
    for entry in catalogue():
        if entry.original and entry.status != "dead":
            chosen.setdefault(entry.source.slug, entry.source)
    return tuple(chosen.values())


def current(slug: str) -> Entry | None:
    """The entry a source of this slug belongs on now: its live feed, else its retired entry."""
    found = [e for e in catalogue() if e.source.slug == slug and e.status != "dead"]
    return next((e for e in found if e.status == "live"), found[0] if found else None)


def dead_feed(url: str) -> Entry | None:
    """The dead entry of this feed URL, if it is one."""
    return next((e for e in catalogue() if e.status == "dead" and e.source.url == url), None)


@dataclass(frozen=True, slots=True)
class Move:
    """A source reading a dead feed (``dead``), and the entry it moves to."""

    source: Source
    dead: Entry
    to: Entry


def moves(config: Config) -> tuple[Move, ...]:
    """Each active source of ``config`` that reads a dead feed of the catalogue, or the last feed
    of a retired outlet, with the entry it moves to (a live feed, or inactive)."""
    found = []
    for source in config.sources:
        ended = next((e for e in catalogue() if e.status != "live" and e.source.url == source.url), None)
        target = current(ended.source.slug) if ended is not None else None
        if source.active and ended is not None and target is not None:
            others = {s.url for s in config.sources if s is not source}
            if target.source.url in others:  # another source reads the live feed already: stop this one
                target = replace(target, source=replace(source, active=False))
            found.append(Move(source, ended, target))
    return tuple(found)


def move_text(move: Move) -> str:
    """A dead-feed warning: which feed, and where the catalogue would move it."""
    where = "inactive (no feed left)" if not move.to.source.active else move.to.source.url
    return (
        f"{move.source.slug}: {move.source.url} is a dead feed ({move.dead.evidence or 'catalogue'}); "
        f"`newsmirror sources catalog --apply` moves it to {where}"
    )


BUILTIN_SOURCES: Final = default_sources()
"""The sources of a new archive (the catalogue's live defaults)."""
