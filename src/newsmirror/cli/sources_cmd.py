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

from ..config import ARCHIVE_CONFIG, BUILTIN_SOURCES, SOURCE_KEYS, Config, load_config, parse_config
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
    with_slug_renamed,
    with_source_removed,
    with_sources_added,
)
from ..types import Source
from .common import existing_archive
from .tables import write_table


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "sources",
        help="list, add, remove, rename, import or export the archive's sources",
        description=f"Read and change the archive's {ARCHIVE_CONFIG}, the sources its runs archive. "
        "Each change is checked and committed in the archive.",
    )
    parser.add_argument("--archive", type=Path, default=Path("archive"), help="archive (default ./archive)")
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
    add.set_defaults(handler=_add)

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
            {**source_values(s), "last_fetch": status_text(states.get(s.slug, SourceState()))}
            for s in config.sources
        ]
        json.dump({"sources": rows}, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        return 0
    header = ("slug", "name", "url", "settings", "last fetch")
    rows_text = [header, *(_row(s, states.get(s.slug, SourceState())) for s in config.sources)]
    write_table(rows_text, sys.stdout)
    return 0


def _row(source: Source, state: SourceState) -> tuple[str, ...]:
    defaults = {k.name: k.default for k in SOURCE_KEYS}
    values = source_values(source)
    settings = ", ".join(
        f"{k}={v}" for k, v in values.items() if k not in ("name", "slug", "url") and v != defaults[k]
    )
    return (source.slug, source.name, source.url, settings or "—", status_text(state))


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
    if args.builtin == bool(args.url):
        raise ConfigError("sources add: give a feed URL or --builtin, one of the two")
    text, config = _base(args.archive)
    added = builtin_missing(config) if args.builtin else (_new_source(args, config, transport),)
    if not added:
        print("every built-in source is in the file already; nothing changed")
        return 0
    new_text = _with_added(args.archive, text, config, added)
    slugs = ", ".join(s.slug for s in added)
    message = f"newsmirror: add source{'s' if len(added) > 1 else ''} {slugs}\n"
    sha = _commit(args.archive, new_text, message)
    print(f"added {slugs}{_committed(sha)}")
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
    text, _ = _required(args.archive)
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
