"""``newsmirror import PATH``: take over a duty-machine archive checkout in place, report per source."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

import httpx

from ..config import ARCHIVE_CONFIG
from ..moments import display_ms
from ..render.own_text import OWN_TEXT
from ..takeover import SourceReport, TakeoverReport, check_archive_tree, take_over
from .common import run_sources
from .tables import write_table


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "import",
        help="take over an existing duty-machine archive checkout",
        description="Index an existing duty-machine archive in place (no article file is changed) "
        "so that `newsmirror run --archive PATH` continues it.",
    )
    parser.add_argument("path", type=Path, metavar="PATH", help="the archive checkout (holds articles/)")
    parser.add_argument(
        "--sources",
        type=Path,
        default=None,
        help="sources file (TOML), saved as PATH/newsmirror.toml; default: PATH/newsmirror.toml, else the "
        "original's nine outlets at their own feeds (the catalogue's; written to PATH/newsmirror.toml)",
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON on stdout")
    parser.add_argument(
        "--no-commit", action="store_true", help="write the state under PATH/.newsmirror/ but do not commit"
    )
    parser.set_defaults(handler=handle)


def handle(
    args: argparse.Namespace,
    *,
    transport: httpx.AsyncBaseTransport | None,
    clock: Callable[[], datetime] | None,
) -> int:
    check_archive_tree(args.path)  # before the sources: the likelier mistake is the path
    chosen = run_sources(args.path, args.sources, taking_over=True)
    report = take_over(args.path, chosen.config, commit=not args.no_commit, sources_text=chosen.save)
    if args.json:
        json.dump(report_json(report), sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        note = f"{ARCHIVE_CONFIG}: now holds the {chosen.saved_from}" if chosen.save is not None else None
        write_report(report, sys.stdout, committing=not args.no_commit, note=note)
    return 0


def report_json(report: TakeoverReport) -> dict[str, Any]:
    return {"articles": report.articles, **asdict(report)}


def write_report(
    report: TakeoverReport, out: TextIO, *, committing: bool = True, note: str | None = None
) -> None:
    rows: list[tuple[str, ...]] = [
        ("source", "current", "legacy", "undated", "stray", "duplicates", "lowest id", "newest")
    ]
    rows += [_row(s) for s in report.sources]
    write_table(rows, out, right=(1, 2, 3, 4, 5, 6))
    for line in _details(report):
        out.write(line + "\n")
    if note is not None:
        out.write(note + "\n")
    out.write(_summary(report, committing) + "\n")


def _row(s: SourceReport) -> tuple[str, ...]:
    numbers = (s.current, s.legacy, s.undated, len(s.stray), len(s.duplicates))
    return (f"{s.name} ({s.slug})", *map(str, numbers), _optional(s.lowest_id), _date(s.newest_ms))


def _details(report: TakeoverReport) -> Iterator[str]:
    for source in report.sources:
        yield from (f"  {source.slug}: stray {_shown(path)}" for path in source.stray)
        for group in source.duplicates:
            yield f"  {source.slug}: same link in {', '.join(_shown(p) for p in group)}"
    yield from (f"unknown folder (no source): {_shown(path)}" for path in report.unknown_folders)
    yield from (f"unknown file: {_shown(path)}" for path in report.unknown_files)
    if report.own_text_lines:
        yield (
            f"README: its own text ({report.own_text_lines} lines beyond the title and list links) kept in "
            f"{OWN_TEXT}; from the next run the README shows it under the table"
        )


def _summary(report: TakeoverReport, committing: bool) -> str:
    if report.commit:
        committed = f"committed {report.commit[:12]}"
    else:
        committed = "state unchanged, nothing to commit" if committing else "not committed (--no-commit)"
    return f"{report.articles} articles indexed in {report.root}; {committed}"


def _optional(value: int | None) -> str:
    return "—" if value is None else str(value)


def _date(ms: int | None) -> str:
    return display_ms(ms)


def _shown(path: str) -> str:
    """A path on one line: newlines and other unprintable characters escaped (``\\n``)."""
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in path)
