"""``newsmirror run``: archive the configured sources once, report per source."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import httpx

from ..config import ARCHIVE_CONFIG, select_sources
from ..core import open_archive
from ..types import RunResult, SourceResult
from .actions import report_to_actions
from .common import default_archive, run_sources
from .progress import progress
from .tables import write_table


def add_parser(commands: Any) -> None:
    parser = commands.add_parser("run", help="fetch every source once and archive what is new")
    parser.add_argument(
        "--archive",
        type=Path,
        default=default_archive(),
        help="archive repository (default: here when this folder is one, else ./archive, made if missing)",
    )
    parser.add_argument(
        "--sources",
        type=Path,
        default=None,
        help="sources file (TOML), saved as the archive's newsmirror.toml for the runs after; default: "
        "the archive's newsmirror.toml (a new archive gets the built-in sources written to it)",
    )
    parser.add_argument(
        "--rename",
        type=_rename,
        action="append",
        default=[],
        metavar="OLD=NEW",
        help="a source's slug changed in the sources file: move its articles and state to the new slug",
    )
    parser.add_argument("--only", nargs="+", metavar="SLUG", default=[], help="run only these sources")
    parser.add_argument("--push", action="store_true", help="push to every remote after committing")
    parser.add_argument("--json", action="store_true", help="print the result as JSON on stdout")
    parser.add_argument(
        "--now",
        type=_moment,
        default=None,
        metavar="TIME",
        help="run as if it were this ISO 8601 time (reproducible runs and replays)",
    )
    parser.set_defaults(handler=handle)


def handle(
    args: argparse.Namespace,
    *,
    transport: httpx.AsyncBaseTransport | None,
    clock: Callable[[], datetime] | None,
) -> int:
    chosen = run_sources(args.archive, args.sources)
    config = chosen.config
    chosen_sources = select_sources(config, args.only).sources  # validates --only before touching the archive
    total = sum(1 for s in chosen_sources if s.active)
    archive = open_archive(args.archive)
    if args.now is not None:
        clock = _fixed(args.now)
    had_sources_file = (args.archive / ARCHIVE_CONFIG).is_file()
    if chosen.unsaved is not None:
        print(f"newsmirror: warning: {chosen.unsaved}; pass --sources every run", file=sys.stderr)
    with progress(total, quiet=args.verbose + args.verbose_after > 0) as done:
        result = archive.run(
            config,
            only=tuple(args.only),
            push=args.push,
            transport=transport,
            clock=clock,
            on_done=done,
            renames=dict(args.rename),
            sources_text=chosen.save,
        )
    if chosen.save is not None:  # said once it is written: it decides what every later run archives
        print(
            f"newsmirror: {args.archive / ARCHIVE_CONFIG} "
            f"{'replaced by' if had_sources_file else 'now holds'} the {chosen.saved_from} "
            f"({len(config.sources)} sources); the runs after this one archive those",
            file=sys.stderr,
        )
    code = exit_code(result)
    if args.json:
        json.dump(result_json(result, code, args.archive), sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        write_report(result, args.archive, sys.stdout)
    report_to_actions(result, args.archive, code, sys.stderr if args.json else sys.stdout)
    return code


def _rename(text: str) -> tuple[str, str]:
    old, equals, new = text.partition("=")
    if not equals or not old or not new or old == new:
        raise argparse.ArgumentTypeError(f"OLD=NEW, two different slugs: {text!r}")
    return old, new


def _moment(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {text!r}") from e
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    if not NOW_RANGE[0] <= moment.year <= NOW_RANGE[1]:
        # a run's time is written into the state and dated articles: keep it one they can hold
        raise argparse.ArgumentTypeError(f"{text!r} is outside the years {NOW_RANGE[0]}–{NOW_RANGE[1]}")
    return moment


NOW_RANGE = (1990, 9000)


def _fixed(moment: datetime) -> Callable[[], datetime]:
    return lambda: moment


def exit_code(result: RunResult) -> int:
    """4 when a push failed, whatever else: what was archived did not reach every copy, and the
    workflow, which lets 1 pass, must fail.  1 when only sources failed."""
    if any(not p.ok for p in result.pushes):
        return 4
    if result.failed:
        return 1
    return 0


def result_json(result: RunResult, code: int, archive: Path) -> dict[str, Any]:
    return {
        "archive": str(archive),
        "exit_code": code,
        "commit": result.commit,
        "new": result.new_count,
        "sources": [asdict(s) for s in result.sources],
        "pushes": [asdict(p) for p in result.pushes],
        "pictures": result.pictures,
    }


def write_report(result: RunResult, archive: Path, out: TextIO) -> None:
    rows: list[tuple[str, ...]] = [("source", "new", "updated", "unchanged", "skipped", "result")]
    write_table(rows + [_row(s) for s in result.sources], out, right=(1, 2, 3, 4))
    for source in result.sources:
        for note in source.notes:
            out.write(f"  {source.slug}: {note}\n")
        for skip in source.skipped:
            out.write(f"  {source.slug}: skipped {skip.what}: {skip.reason}\n")
    if result.pictures:
        out.write(result.pictures + "\n")
    for push in result.pushes:
        outcome = f"ok ({push.message})" if push.ok and push.message else "ok" if push.ok else "FAILED"
        out.write(f"push {push.remote}: {outcome}" + ("" if push.ok else f" {push.message}") + "\n")
    out.write(_summary(result, archive) + "\n")


_OUTCOMES = {
    "updated": "ok",
    "not_modified": "ok, not modified",
    "postponed": "postponed",
    "disabled": "disabled",
}


def _row(s: SourceResult) -> tuple[str, ...]:
    outcome = _OUTCOMES.get(s.outcome, "ok") if s.ok else f"FAILED {s.error_code}: {s.error}"
    if s.ok and s.recovered is not None:
        outcome += " (recovered)"
    return (
        f"{s.name} ({s.slug})",
        str(len(s.new)),
        str(len(s.updated)),
        str(s.unchanged),
        str(len(s.skipped)),
        outcome,
    )


def _summary(result: RunResult, archive: Path) -> str:
    failed = len(result.failed)
    committed = f"committed {result.commit[:12]}" if result.commit else "nothing to commit"
    return f"{result.new_count} new articles in {archive}; {committed}" + (
        f"; {failed} source(s) failed" if failed else ""
    )
