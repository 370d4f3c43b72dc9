"""``newsmirror reshard``: move a flat (duty-machine) archive into date folders."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from .common import ARCHIVE_HELP, archive_and_config, default_archive


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "reshard", help="move articles/<slug>/<id>.md into articles/<slug>/<YYYY>/<MM>/ (with history)"
    )
    parser.add_argument("--archive", type=Path, default=default_archive(), help=ARCHIVE_HELP)
    parser.add_argument("--sources", type=Path, default=None, help="sources file (default: as for run)")
    parser.set_defaults(handler=handle)


def handle(
    args: argparse.Namespace,
    *,
    transport: httpx.AsyncBaseTransport | None,
    clock: Callable[[], datetime] | None,
) -> int:
    archive, config = archive_and_config(args.archive, args.sources, clock)
    moved, sha = archive.reshard(config)
    if not moved:
        print(f"{args.archive}: already in date folders; nothing moved")
        return 0
    print(f"moved {moved} article files into date folders" + (f"; committed {sha[:12]}" if sha else ""))
    return 0
