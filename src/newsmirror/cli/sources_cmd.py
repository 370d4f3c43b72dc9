"""``newsmirror sources list|add|remove|rename|import|export``: the archive's sources file.

Every change is checked as a run would load it, written with the file's comments kept, and
committed in the archive (``newsmirror: add source …``), so that the archive remembers it.
"""

from __future__ import annotations

import argparse
import json
import sys
import tomllib
from pathlib import Path
from typing import Any

import httpx

from .. import catalog
from ..catalog import BUILTIN_SOURCES
from ..config import ARCHIVE_CONFIG, SOURCE_KEYS, Config, load_config, parse_config
from ..core import Archive
from ..exceptions import ConfigError
from ..health import status_text
from ..opml import read_opml, write_opml
from ..scaffold import render_config
from ..schedule import SourceState
from ..sources import (
    builtin_missing,
    has_archived,
    name_for,
    new_source,
    probe_feed,
    save_sources,
    slug_for,
    source_values,
    with_moves,
    with_slug_renamed,
    with_source_removed,
    with_sources_added,
)
from ..types import Source
from .common import ARCHIVE_HELP, default_archive, existing_archive
from .tables import write_table


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "sources",
        help="list, add, remove, rename, import or export the archive's sources",
        description=f"Read and change the archive's {ARCHIVE_CONFIG}, the sources its runs archive. "
        "Each change is checked and committed in the archive.",
    )
    parser.add_argument("--archive", type=Path, default=default_archive(), help=ARCHIVE_HELP)
    actions = parser.add_subparsers(dest="action", required=True)

    listing = actions.add_parser("list", help="the sources, their settings and how their last fetch went")
    listing.add_argument("--json", action="store_true", help="as JSON on stdout")
    listing.set_defaults(handler=_list)

    add = actions.add_parser("add", help="add a feed (fetched once to check it and to name it)")
    add.add_argument("url", nargs="?", help="the feed's URL (RSS, Atom or JSON Feed)")
    add.add_argument("--name", help="站名, the list page's name (default: the feed's title)")
    add.add_argument("--slug", help="its folder under articles/ (default: from the URL's host)")
    add.add_argument("--body", choices=("description", "content"), help="feed field with the article HTML")
    add.add_argument("--link", choices=("link", "guid"), help="feed field with the article URL")
    add.add_argument("--fulltext", metavar="SELECTOR", help="CSS selector of the article page's body")
    add.add_argument("--no-check", action="store_true", help="add it without fetching it first")
    add.add_argument("--builtin", action="store_true", help="add the built-in sources the file lacks")
    add.add_argument("--catalog", nargs="+", metavar="SLUG", default=[], help="add these catalogue entries")
    add.set_defaults(handler=_add)

    catalog = actions.add_parser(
        "catalog", help="the built-in catalogue: every outlet's feeds and their status"
    )
    catalog.add_argument("--json", action="store_true", help="as JSON on stdout")
    catalog.add_argument(
        "--apply", action="store_true", help="move each source reading a dead feed to its outlet's own"
    )
    catalog.set_defaults(handler=_catalog)

    remove = actions.add_parser("remove", help="stop archiving a source (its articles stay)")
    remove.add_argument("slug", metavar="SLUG")
    remove.set_defaults(handler=_remove)

    rename = actions.add_parser("rename", help="give a source a new slug, moving its articles")
    rename.add_argument("old", metavar="OLD")
    rename.add_argument("new", metavar="NEW")
    rename.set_defaults(handler=_rename)

    opml_in = actions.add_parser("import", help="add the feeds of an OPML file (a feed reader's export)")
    opml_in.add_argument("file", type=Path, metavar="FILE.opml")
    opml_in.set_defaults(handler=_import)

    opml_out = actions.add_parser("export", help="the sources as OPML, for a feed reader or another archive")
    opml_out.add_argument("-o", "--output", type=Path, help="write to this file (default: stdout)")
    opml_out.set_defaults(handler=_export)
    for action in actions.choices.values():  # -v and --archive after the action too
        action.add_argument(
            "-v", "--verbose", action="count", default=0, dest="verbose_after", help=argparse.SUPPRESS
        )
        action.add_argument("--archive", type=Path, default=argparse.SUPPRESS, help=argparse.SUPPRESS)


# -- reading ---------------------------------------------------------------------------------


def _current(archive: Path) -> tuple[str, Config] | None:
    """The archive's sources file (text and config), None when it has none."""
    path = archive / ARCHIVE_CONFIG
    if not path.is_file():
        return None
    return path.read_text(encoding="utf-8"), load_config(path)


def _required(archive: Path) -> tuple[str, Config]:
    current = _current(archive)
    if current is None:
        raise ConfigError(f"{archive}: no {ARCHIVE_CONFIG}; `newsmirror sources add` writes one")
    return current


def _list(args: argparse.Namespace, **seams: Any) -> int:
    existing_archive(args.archive)
    _, config = _required(args.archive)
    states = Archive(args.archive).latest_states()
    if args.json:
        rows = [
            {**source_values(s), "last_fetch": _last_fetch(states.get(s.slug, SourceState()))}
            for s in config.sources
        ]
        json.dump({"sources": rows}, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        return 0
    header = ("slug", "name", "url", "settings", "last fetch")
    rows_text = [header, *(_row(s, states.get(s.slug, SourceState())) for s in config.sources)]
    write_table(rows_text, sys.stdout)
    return 0


def _last_fetch(state: SourceState) -> dict[str, Any]:
    """For scripts: the last result, since when (RFC 3339), its code and failures in a row."""
    return {"result": state.result, "since": state.since, "code": state.code, "failures": state.failures}


def _row(source: Source, state: SourceState) -> tuple[str, ...]:
    defaults = {k.name: k.default for k in SOURCE_KEYS}
    values = source_values(source)
    settings = ", ".join(
        f"{k}={v}" for k, v in values.items() if k not in ("name", "slug", "url") and v != defaults[k]
    )
    return (source.slug, source.name, source.url, settings or "—", status_text(state, source))


def _export(args: argparse.Namespace, **seams: Any) -> int:
    existing_archive(args.archive)
    _, config = _required(args.archive)
    data = write_opml(config.sources, title=f"newsmirror: {args.archive.resolve().name}")
    if args.output is None:
        sys.stdout.write(data.decode("utf-8"))
    else:
        args.output.write_bytes(data)
        print(f"wrote {len(config.sources)} sources to {args.output}", file=sys.stderr)
    return 0


# -- changing --------------------------------------------------------------------------------


def _commit(archive: Path, text: str, message: str) -> str | None:
    with Archive(archive).locked():
        return save_sources(archive, text, message)


def _committed(sha: str | None) -> str:
    return f"; committed {sha[:12]}" if sha else "; nothing changed"


def _base(archive: Path) -> tuple[str, Config | None]:
    """The file to change: the archive's own, or for an archive without one a new file."""
    current = _current(archive)
    if current is not None:
        return current[0], current[1]
    if has_archived(archive):
        print(f"newsmirror: {archive} has no {ARCHIVE_CONFIG}; writing a new one", file=sys.stderr)
    return "", None


def _with_added(archive: Path, text: str, config: Config | None, added: tuple[Source, ...]) -> str:
    """The file with ``added`` appended; a new file (commented, as init writes) when there was none."""
    if config is None:
        return render_config(Config(sources=added))
    return with_sources_added(text, added, origin=str(archive / ARCHIVE_CONFIG))


def _add(args: argparse.Namespace, *, transport: httpx.AsyncBaseTransport | None, **seams: Any) -> int:
    existing_archive(args.archive)
    if sum((bool(args.url), args.builtin, bool(args.catalog))) != 1:
        raise ConfigError("sources add: give a feed URL, --builtin or --catalog SLUG …, one of the three")
    text, config = _base(args.archive)
    if args.url:
        added: tuple[Source, ...] = (_new_source(args, config, transport),)
    else:
        added = builtin_missing(config) if args.builtin else _from_catalogue(args.catalog, config)
    if not added:
        print(
            f"every {'built-in' if args.builtin else 'chosen'} source is in the file already; nothing changed"
        )
        return 0
    new_text = _with_added(args.archive, text, config, added)
    slugs = ", ".join(s.slug for s in added)
    message = f"newsmirror: add source{'s' if len(added) > 1 else ''} {slugs}\n"
    sha = _commit(args.archive, new_text, message)
    print(f"added {slugs}{_committed(sha)}")
    return 0


def _from_catalogue(slugs: list[str], config: Config | None) -> tuple[Source, ...]:
    """The catalogue's current entry of each slug the file does not have yet."""
    have = {s.slug for s in config.sources} if config is not None else set()
    chosen = []
    for slug in slugs:
        entry = catalog.current(slug)
        if entry is None:
            known = sorted({e.source.slug for e in catalog.catalogue()})
            raise ConfigError(f"--catalog: no catalogue entry {slug!r} (there are: {', '.join(known)})")
        if slug in have:
            print(f"{slug}: already a source, left as it is", file=sys.stderr)
        else:
            chosen.append(entry.source)
    return tuple(chosen)


def _catalog(args: argparse.Namespace, **seams: Any) -> int:
    current = _current(args.archive) if (args.archive / ".git").exists() else None
    config = current[1] if current is not None else None
    if args.apply:
        return _apply_moves(args.archive)
    rows = [_catalogue_row(e, config) for e in catalog.catalogue()]
    if args.json:
        json.dump({"entries": rows}, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        return 0
    header = ("slug", "name", "status", "default", "url", "this archive", "notes")
    keys = ("slug", "name", "status", "default", "url", "this_archive", "notes")
    write_table([header, *(tuple(str(r[k]) for k in keys) for r in rows)], sys.stdout)
    return 0


def _catalogue_row(entry: catalog.Entry, config: Config | None) -> dict[str, Any]:
    mine = [s for s in config.sources if s.slug == entry.source.slug] if config is not None else []
    here = "—" if config is None else "not a source"
    if mine:
        here = "reads this feed" if mine[0].url == entry.source.url else "another feed"
    return {
        **source_values(entry.source),
        "status": entry.status,
        "default": "yes" if entry.default else "no",
        "this_archive": here,
        "evidence": entry.evidence,
        "notes": entry.notes,
    }


def _apply_moves(archive: Path) -> int:
    existing_archive(archive)
    text, config = _required(archive)
    found = catalog.moves(config)
    if not found:
        print("no source reads a dead feed of the catalogue; nothing changed")
        return 0
    new_text = with_moves(text, found, origin=str(archive / ARCHIVE_CONFIG))
    slugs = ", ".join(m.source.slug for m in found)
    sha = _commit(archive, new_text, f"newsmirror: move {slugs} off dead feeds\n")
    for move in found:
        where = move.to.source.url if move.to.source.active else "inactive (its articles stay listed)"
        print(f"{move.source.slug}: {move.source.url} → {where}")
    print(f"moved {slugs}{_committed(sha)}")
    return 0


def _new_source(args: argparse.Namespace, config: Config | None, transport: Any) -> Source:
    sources = config.sources if config is not None else ()
    same = [s.slug for s in sources if s.url == args.url]
    if same:
        raise ConfigError(f"{args.url}: already a source ({same[0]})")
    title, items = None, None
    if not args.no_check:
        settings = config.fetch if config is not None else Config(BUILTIN_SOURCES).fetch
        title, items = probe_feed(args.url, settings, transport=transport)
        print(f"{args.url}: a feed of {items} items, titled {title or '(untitled)'!r}", file=sys.stderr)
    options = {k: getattr(args, k) for k in ("body", "link", "fulltext") if getattr(args, k) is not None}
    return new_source(
        name=args.name or name_for(title, args.url, (s.name for s in sources)),
        slug=args.slug or slug_for(args.url, (s.slug for s in sources)),
        url=args.url,
        **options,
    )


def _remove(args: argparse.Namespace, **seams: Any) -> int:
    existing_archive(args.archive)
    text, _ = _required(args.archive)
    new_text = with_source_removed(text, args.slug, origin=str(args.archive / ARCHIVE_CONFIG))
    sha = _commit(args.archive, new_text, f"newsmirror: remove source {args.slug}\n")
    print(f"removed {args.slug}; its archived articles stay in articles/{args.slug}{_committed(sha)}")
    return 0


def _rename(args: argparse.Namespace, **seams: Any) -> int:
    archive = existing_archive(args.archive)
    text, config = _required(args.archive)
    slugs = {s.slug for s in config.sources}
    if args.old not in slugs and args.new in slugs:  # the file was edited first: move the archive to it
        new_text = text
    else:
        new_text = with_slug_renamed(text, args.old, args.new, origin=str(args.archive / ARCHIVE_CONFIG))
    config = parse_config(tomllib.loads(new_text), origin=str(args.archive / ARCHIVE_CONFIG))
    sha = archive.rename(args.old, args.new, config, sources_text=new_text)
    print(f"renamed {args.old} to {args.new}{_committed(sha)}")
    return 0


def _import(args: argparse.Namespace, **seams: Any) -> int:
    existing_archive(args.archive)
    try:
        data = args.file.read_bytes()
    except OSError as e:
        raise ConfigError(f"{args.file}: cannot read: {e}") from e
    outlines = read_opml(data, origin=str(args.file))
    text, config = _base(args.archive)
    sources = list(config.sources if config is not None else ())
    added: list[Source] = []
    for outline in outlines:
        where = f"{args.file}:{outline.line}" if outline.line else str(args.file)
        url = outline.values["url"]
        if any(s.url == url for s in [*sources, *added]):
            print(f"{where}: {url}: already a source, left as it is", file=sys.stderr)
            continue
        taken = [*sources, *added]
        values = {
            "name": name_for(outline.title, url, (s.name for s in taken)),
            "slug": slug_for(url, (s.slug for s in taken)),
            **outline.values,
        }
        try:
            added.append(new_source(**values))
        except ConfigError as e:
            print(f"newsmirror: {where}: not added: {e}", file=sys.stderr)
    if not added:
        print(f"{args.file}: no new feed ({len(outlines)} outlines with a feed URL); nothing changed")
        return 0
    new_text = _with_added(args.archive, text, config, tuple(added))
    sha = _commit(args.archive, new_text, f"newsmirror: {len(added)} sources from {args.file.name}\n")
    print(f"added {len(added)} of {len(outlines)} feeds: {', '.join(s.slug for s in added)}{_committed(sha)}")
    return 0
