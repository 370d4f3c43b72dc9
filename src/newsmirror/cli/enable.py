"""``newsmirror enable``: fetch disabled (410 Gone) or backed-off sources again."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from ..exceptions import ConfigError
from .common import ARCHIVE_HELP, default_archive, existing_archive


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "enable",
        help="fetch disabled or backed-off sources again",
        description="Clear the disabling (410 Gone) or postponement of each SLUG, or with --all of "
        "every source that has one, so that the next run fetches them.",
    )
    parser.add_argument("slugs", nargs="*", metavar="SLUG")
    parser.add_argument("--all", action="store_true", help="every disabled or postponed source")
    parser.add_argument("--archive", type=Path, default=default_archive(), help=ARCHIVE_HELP)
    parser.set_defaults(handler=handle)


def handle(
    args: argparse.Namespace,
    *,
    transport: httpx.AsyncBaseTransport | None,
    clock: Callable[[], datetime] | None,
) -> int:
    if bool(args.slugs) == args.all:
        raise ConfigError("enable: name the sources (SLUG ...) or pass --all, not both or neither")
    archive = existing_archive(args.archive)
    slugs, sha = archive.enable(None if args.all else tuple(args.slugs))
    if not slugs:
        print("no source is disabled or postponed; nothing changed")
        return 0
    print(f"re-enabled {', '.join(slugs)}" + (f"; committed {sha[:12]}" if sha else ""))
    return 0
