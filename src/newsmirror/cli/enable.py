"""``newsmirror enable``: fetch disabled (410 Gone) or backed-off sources again."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from .common import existing_archive


def add_parser(commands: Any) -> None:
    parser = commands.add_parser("enable", help="fetch disabled or backed-off sources again")
    parser.add_argument("slugs", nargs="+", metavar="SLUG")
    parser.add_argument("--archive", type=Path, default=Path("archive"), help="archive (default ./archive)")
    parser.set_defaults(handler=handle)


def handle(
    args: argparse.Namespace,
    *,
    transport: httpx.AsyncBaseTransport | None,
    clock: Callable[[], datetime] | None,
) -> int:
    archive = existing_archive(args.archive)
    sha = archive.enable(tuple(args.slugs))
    print(f"re-enabled {', '.join(args.slugs)}" + (f"; committed {sha[:12]}" if sha else ""))
    return 0
