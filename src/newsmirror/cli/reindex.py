"""``newsmirror reindex``: rebuild the archive's state from its article files."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from .common import ARCHIVE_HELP, archive_and_config, default_archive


def add_parser(commands: Any) -> None:
    parser = commands.add_parser("reindex", help="rebuild .newsmirror/ from the article files")
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
    count, sha = archive.reindex(config)
    print(
        f"{count} articles indexed from their files"
        + (f"; committed {sha[:12]}" if sha else "; nothing changed")
    )
    return 0
