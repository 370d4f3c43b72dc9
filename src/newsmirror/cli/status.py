"""``newsmirror status``: the health of every source, from the archive's state and index."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from ..config import config_path_for, load_config
from ..health import Health, display, newest_text, state_notes, status_text
from .common import existing_archive
from .run import write_table


def add_parser(commands: Any) -> None:
    parser = commands.add_parser("status", help="show the health of every source")
    parser.add_argument("--archive", type=Path, default=Path("archive"), help="archive (default ./archive)")
    parser.add_argument("--sources", type=Path, default=None, help="sources file (default: as for run)")
    parser.add_argument("--json", action="store_true", help="print JSON on stdout")
    parser.set_defaults(handler=handle)


def handle(
    args: argparse.Namespace,
    *,
    transport: httpx.AsyncBaseTransport | None,
    clock: Callable[[], datetime] | None,
) -> int:
    archive = existing_archive(args.archive)
    config = load_config(config_path_for(args.archive, args.sources))
    report = archive.health(config, (clock or (lambda: datetime.now(UTC)))())
    storage = archive.storage(config)
    if args.json:
        sources = [_json(h, counts) for h, counts in report]
        out = {"sources": sources, "storage": {**asdict(storage), "warnings": storage.warnings()}}
        json.dump(out, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        write_table([_HEADER, *(_row(h, counts) for h, counts in report)], sys.stdout)
        size = f"{storage.repository_bytes / 2**20:,.1f} MB"
        sys.stdout.write(f"\nrepository: {size}; largest folder: {storage.largest_folder} "
                         f"({storage.largest_entries:,} entries)\n")  # fmt: skip
        for warning in storage.warnings():
            sys.stdout.write(f"warning: {warning}\n")
    return 1 if any(_troubled(h) for h, _ in report) else 0


_HEADER = (
    "source",
    "result",
    "last success",
    "last error",
    "failures",
    "24h",
    "7d",
    "newest",
    "stale",
    "notes",
)


def _row(h: Health, counts: tuple[int, int]) -> tuple[str, ...]:
    state = h.state
    return (
        f"{h.source.name} ({h.source.slug})",
        status_text(state),
        display(state.last_success),
        state.code or "—",
        str(state.failures),
        str(counts[0]),
        str(counts[1]),
        newest_text(h.newest_ms),
        "stale" if h.stale else "",
        "; ".join(state_notes(state)),
    )


def _json(h: Health, counts: tuple[int, int]) -> dict[str, Any]:
    return {
        "slug": h.source.slug,
        "name": h.source.name,
        **asdict(h.state),
        "articles": h.articles,
        "last_24h": counts[0],
        "last_7d": counts[1],
        "newest_ms": h.newest_ms,
        "stale": h.stale,
    }


def _troubled(h: Health) -> bool:
    return h.stale or h.state.result in ("failed", "disabled")
