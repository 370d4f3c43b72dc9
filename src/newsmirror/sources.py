"""The archive's sources file: which one a run uses, and the edits ``newsmirror sources`` makes.

The sources in effect are the archive's committed ``newsmirror.toml``.  ``--sources FILE`` is
saved there before a run, so that the next run without it archives the same feeds; an archive
that has been archived but has no such file is refused rather than switched to the built-in
sources (which change between versions).  Edits go through tomlkit, so the comments and layout
a maintainer gave the file stay as they were, and are checked like a run's load before writing.
"""

from __future__ import annotations

import asyncio
import logging
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

import httpx
import tomlkit
from tomlkit.items import AoT, Table

from . import publish
from .catalog import Move, default_sources, moves
from .config import (
    ARCHIVE_CONFIG,
    SOURCE_KEYS,
    Config,
    FetchSettings,
    load_config,
    parse_config,
)
from .exceptions import ConfigError, NewsmirrorError
from .fetch import Fetcher
from .parse import parse_feed
from .redact import redact_text
from .types import Feed, Source

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RunSources:
    """The sources a run archives, and the text to save as the archive's file first (or None)."""

    config: Config
    save: str | None = None
    saved_from: str | None = None
    """What ``save`` came from: ``--sources``'s path, or ``built-in sources``."""
    unsaved: str | None = None
    """Why ``--sources`` is not saved, when it is not (a credential in a feed URL)."""


def sources_for_run(
    root: Path,
    explicit: Path | None,
    *,
    environ: Mapping[str, str] | None = None,
    builtin_text: str,
    builtin_label: str = "built-in sources",
    taking_over: bool = False,
) -> RunSources:
    """``--sources`` (to be saved as the archive's file), else the archive's ``newsmirror.toml``;
    for a new archive with neither, the built-in sources (``builtin_text``, to be saved).

    ConfigError for an archive that has archived before and has no sources file: running it on
    the built-in sources would silently switch what it archives.  ``taking_over`` (``import``
    of a duty-machine archive, which has articles and never had a file) gets the built-ins.
    """
    own = root / ARCHIVE_CONFIG
    if explicit is not None:
        config = load_config(explicit, environ=environ)
        text = _read(explicit)
        same = own.is_file() and (own.resolve() == explicit.resolve() or _read(own) == text)
        if same:
            return RunSources(config)
        if redact_text(text) != text:  # the archive is public: its sources file is pushed
            why = f"{explicit}: not saved as {ARCHIVE_CONFIG}: a feed URL in it carries a credential"
            return RunSources(config, unsaved=why)
        return RunSources(config, text, str(explicit))
    if own.is_file():
        config = load_config(own, environ=environ)
        if taking_over and moves(config):  # a duty-machine archive moves to the outlets' own feeds
            moved = with_moves(_read(own), moves(config), origin=str(own))
            return RunSources(_loaded(moved, environ), moved, "catalogue's live feeds for its dead ones")
        return RunSources(config)
    if has_archived(root) and not taking_over:
        raise ConfigError(
            f"{root}: has archived before but has no {ARCHIVE_CONFIG}, so the sources it archives are "
            "not known; a run will not switch it to the built-in sources. Give them once with "
            "--sources FILE (saved as its newsmirror.toml), `newsmirror sources import FILE.opml`, "
            "`newsmirror sources add URL`, or `newsmirror sources add --builtin` for the built-in ones"
        )
    return RunSources(_loaded(builtin_text, environ), builtin_text, builtin_label)


def _loaded(text: str, environ: Mapping[str, str] | None) -> Config:
    return parse_config(tomllib.loads(text), origin=ARCHIVE_CONFIG, environ=environ)


def has_archived(root: Path) -> bool:
    """Whether the archive holds articles or a source's state (then its sources matter)."""
    state = root / ".newsmirror"
    return (root / "articles").is_dir() or any((state / part).exists() for part in ("sources", "status.json"))


def save_sources(root: Path, text: str, message: str) -> str | None:
    """Write ``text`` as the archive's sources file and commit it; the commit (None: unchanged)."""
    path = root / ARCHIVE_CONFIG
    if path.is_file() and _read(path) == text:
        return None
    path.write_text(text, encoding="utf-8")
    return publish.commit(root, message, [ARCHIVE_CONFIG])


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: cannot read sources file: {e}") from e


# -- edits -----------------------------------------------------------------------------------


def with_sources_added(text: str, sources: Iterable[Source], *, origin: str) -> str:
    """``text`` with a ``[[source]]`` table appended per source (only its keys that differ from
    the defaults); ConfigError if the result does not load (a slug or name taken)."""
    document = _document(text, origin)
    tables = _tables(document)
    for source in sources:
        tables.append(_table_of(source))
    return _checked(tomlkit.dumps(document), origin)


def with_moves(text: str, found: Iterable[Move], *, origin: str) -> str:
    """``text`` with each source that reads a dead feed set to its catalogue entry's feed and the
    rules that go with that feed (or ``active = false`` when it has none left); its name, slug,
    comments and own choices (``fulltext``, ``refresh``, ``images``, unless the entry sets them)
    stay."""
    document = _document(text, origin)
    tables = _tables(document)
    for move in found:
        table = tables[_index_of(tables, move.source.slug, origin)]
        wanted = _table_of(move.to.source)
        for key in SOURCE_KEYS:
            if key.name in ("name", "slug") or (key.name in _OWNERS_CHOICES and key.name not in wanted):
                continue
            if key.name in wanted:
                table[key.name] = wanted[key.name]
            elif key.name in table and key.default is None:
                del table[key.name]
            elif key.name in table:  # a file that writes every key out keeps doing so
                table[key.name] = key.default
    return _checked(tomlkit.dumps(document), origin)


_OWNERS_CHOICES: Final = frozenset({"fulltext", "refresh", "images"})
"""Keys of a source that are the owner's choice, not a property of its feed."""


def with_source_removed(text: str, slug: str, *, origin: str) -> str:
    document = _document(text, origin)
    tables = _tables(document)
    index = _index_of(tables, slug, origin)
    del tables[index]
    if not len(tables):
        raise ConfigError(f"{origin}: {slug} is the only source; an archive needs at least one")
    return _checked(tomlkit.dumps(document), origin)


def with_slug_renamed(text: str, old: str, new: str, *, origin: str) -> str:
    document = _document(text, origin)
    tables = _tables(document)
    tables[_index_of(tables, old, origin)]["slug"] = new
    return _checked(tomlkit.dumps(document), origin)


def _document(text: str, origin: str) -> tomlkit.TOMLDocument:
    try:
        return tomlkit.parse(text)
    except tomlkit.exceptions.ParseError as e:
        raise ConfigError(f"{origin}: cannot read sources file: {e}") from e


def _tables(document: tomlkit.TOMLDocument) -> AoT:
    if "source" not in document:
        document.append("source", tomlkit.aot())
    tables = document["source"]
    if not isinstance(tables, AoT):
        raise ConfigError("source must be an array of tables ([[source]])")
    return tables


def _index_of(tables: AoT, slug: str, origin: str) -> int:
    slugs = [str(t.get("slug")) for t in tables]
    if slug not in slugs:
        raise ConfigError(f"{origin}: no source with slug {slug!r} (there are: {', '.join(slugs)})")
    return slugs.index(slug)


def _table_of(source: Source) -> Table:
    table = tomlkit.table()
    for key in SOURCE_KEYS:
        value = getattr(source, key.name)
        if value is not None and (value != key.default or key.name in ("name", "slug", "url")):
            table[key.name] = value
    return table


def _checked(text: str, origin: str) -> str:
    parse_config(tomllib.loads(text), origin=origin)
    return text


# -- new sources -----------------------------------------------------------------------------

_HOST_PREFIXES: Final = frozenset({"www", "feeds", "feed", "rss", "m", "cn", "zh", "chinese", "news"})
_SECOND_LEVEL: Final = frozenset({"co", "com", "net", "org", "gov", "edu", "ac"})


def slug_for(url: str, taken: Iterable[str]) -> str:
    """A slug from the feed's host: its registered name (``feeds.bbci.co.uk`` → ``bbci``,
    ``cn.nytimes.com`` → ``nytimes``), ``-2``, ``-3`` … when that is taken."""
    labels = [label for label in (urlsplit(url).hostname or "").split(".") if label]
    if labels and not labels[-1].isdigit():
        labels = labels[:-1]  # the top-level domain
        if len(labels) > 1 and labels[-1] in _SECOND_LEVEL:
            labels = labels[:-1]
        while len(labels) > 1 and labels[0] in _HOST_PREFIXES:
            labels = labels[1:]
    base = re.sub(r"[^A-Za-z0-9_-]+", "-", labels[-1] if labels else "").strip("-_").lower() or "feed"
    if labels and labels[-1].isdigit():
        base = "feed"
    return _first_free(base, "{}-{}", taken)


def name_for(title: str | None, url: str, taken: Iterable[str]) -> str:
    """A source name from the feed's title (its list page is ``lists/<name>.md``), else the host;
    `` 2``, `` 3`` … when taken."""
    base = re.sub(r"[/\x00-\x1f\x7f]+", " ", title or "").strip() or urlsplit(url).hostname or "feed"
    return _first_free(base[:80], "{} {}", taken)


def _first_free(base: str, numbered: str, taken: Iterable[str]) -> str:
    """``base``, else ``numbered.format(base, n)`` for the first n from 2 not ``taken``."""
    used = set(taken)
    candidate, n = base, 1
    while candidate in used:
        n += 1
        candidate = numbered.format(base, n)
    return candidate


def builtin_missing(config: Config | None) -> tuple[Source, ...]:
    """The built-in sources (the catalogue's defaults) an archive's file does not have yet (by
    slug or URL)."""
    if config is None:
        return default_sources()
    slugs = {s.slug for s in config.sources}
    urls = {s.url for s in config.sources}
    return tuple(s for s in default_sources() if s.slug not in slugs and s.url not in urls)


def source_values(source: Source) -> dict[str, Any]:
    """A source's keys as the file writes them (None left out)."""
    return {k.name: getattr(source, k.name) for k in SOURCE_KEYS if getattr(source, k.name) is not None}


def new_source(**values: Any) -> Source:
    """A source of these keys, checked as a sources file's table would be (ConfigError)."""
    return parse_config({"source": [values]}, origin=f"source {values.get('slug')!r}").sources[0]


def probe_feed(
    url: str, settings: FetchSettings, *, transport: httpx.AsyncBaseTransport | None = None
) -> tuple[str | None, int]:
    """Fetch and parse the feed at ``url`` once: its title and number of items.  ConfigError
    naming the URL and the cause when it cannot be fetched or is not a feed."""

    async def probe() -> Feed:
        async with Fetcher(settings, transport=transport) as fetcher:
            fetched = await fetcher.get(url, slug="new source")
        return parse_feed(fetched.content, slug="new source", charset=fetched.charset)

    try:
        feed = asyncio.run(probe())
    except NewsmirrorError as e:
        raise ConfigError(f"{url}: not added: {e.message}; --no-check adds it all the same") from e
    return feed.title, len(feed.entries)
