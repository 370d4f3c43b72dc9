"""``newsmirror status``: the health of every source, from the archive's state and index."""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from ..health import Health, newest_text, state_notes, status_text
from ..schedule import display, heartbeat, stamp
from .common import ARCHIVE_HELP, default_archive, existing_archive, run_sources
from .tables import write_table


def add_parser(commands: Any) -> None:
    parser = commands.add_parser("status", help="show the health of every source")
    parser.add_argument("--archive", type=Path, default=default_archive(), help=ARCHIVE_HELP)
    parser.add_argument("--sources", type=Path, default=None, help="sources file (default: as for run)")
    parser.add_argument("--json", action="store_true", help="print JSON on stdout")
    parser.add_argument(
        "--max-age",
        type=duration,
        default=None,
        metavar="AGE",
        help="exit 1 when the last successful run is older than AGE (e.g. 6h, 90m, 2d, 1d12h), "
        "else 0 whatever single sources do: for a monitor to call",
    )
    parser.set_defaults(handler=handle)


_DURATION = re.compile(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?")


def duration(text: str) -> timedelta:
    """``6h``, ``90m``, ``2d``, ``1d12h``: days, hours and minutes, in that order."""
    match = _DURATION.fullmatch(text.strip().lower())
    if match is None or not any(match.groups()):
        raise argparse.ArgumentTypeError(f"not a duration such as 6h, 90m or 2d: {text!r}")
    days, hours, minutes = (int(part or 0) for part in match.groups())
    age = timedelta(days=days, hours=hours, minutes=minutes)
    if age <= timedelta(0):
        raise argparse.ArgumentTypeError(f"must be longer than nothing: {text!r}")
    return age


def handle(
    args: argparse.Namespace,
    *,
    transport: httpx.AsyncBaseTransport | None,
    clock: Callable[[], datetime] | None,
) -> int:
    archive = existing_archive(args.archive)
    config = run_sources(args.archive, args.sources).config
    now = (clock or (lambda: datetime.now(UTC)))()
    report = archive.health(config, now)
    storage = archive.storage(config)
    beat = heartbeat(archive.store.load_states())
    stale = args.max_age is not None and (beat is None or now - beat > args.max_age)
    if args.json:
        sources = [_json(h, counts) for h, counts in report]
        out = {
            "sources": sources,
            "storage": {**asdict(storage), "warnings": storage.warnings()},
            "last_successful_run": stamp(beat) if beat else None,
            "archive_stale": stale if args.max_age is not None else None,
        }
        json.dump(out, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        write_table([_HEADER, *(_row(h, counts) for h, counts in report)], sys.stdout, right=(4, 5, 6))
        size = f"{storage.repository_bytes / 2**20:,.1f} MB"
        sys.stdout.write(f"\nrepository: {size}; largest folder: {storage.largest_folder} "
                         f"({storage.largest_entries:,} entries)\n")  # fmt: skip
        if storage.image_branch:
            sys.stdout.write(f"pictures: {storage.images:,} on branch {storage.image_branch}, "
                             f"{storage.image_bytes / 2**20:,.1f} MB\n")  # fmt: skip
        for warning in storage.warnings():
            sys.stdout.write(f"warning: {warning}\n")
        sys.stdout.write(_heartbeat_line(beat, now, args.max_age, stale))
    if args.max_age is not None:  # a monitor's question: is the archive running? (one dead feed is not)
        return 1 if stale else 0
    return 1 if any(_troubled(h) for h, _ in report) else 0


def _heartbeat_line(beat: datetime | None, now: datetime, max_age: timedelta | None, stale: bool) -> str:
    if beat is None:
        line = "last successful run: none yet"
    else:
        line = f"last successful run: {display(stamp(beat))} ({_ago(now - beat)} ago)"
    if stale:
        line += f"; STALE: older than --max-age {_ago(max_age or timedelta(0))}"
    return line + "\n"


def _ago(age: timedelta) -> str:
    minutes = max(0, int(age.total_seconds()) // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = [f"{days}d" if days else "", f"{hours}h" if hours else "", f"{minutes}m" if minutes else ""]
    return "".join(parts) or "0m"


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
        status_text(state, h.source),
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
