"""``newsmirror demo``: an offline walkthrough over sample feeds served on 127.0.0.1."""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

import httpx

from ..demo import DemoRun, archive_dir, run_demo
from .run import exit_code, write_report


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "demo",
        help="archive sample feeds served on 127.0.0.1 (offline)",
        description="Serve six sample feeds (RSS 2.0, RSS 2.0 with content:encoded, Atom, "
        "RSS 1.0/RDF, JSON Feed, and a full-text source) on 127.0.0.1, archive them "
        "once into a new git repository, and show where to look. Nothing leaves "
        "this machine; the archive is kept.",
    )
    parser.add_argument(
        "--keep",
        type=Path,
        metavar="DIR",
        default=None,
        help="write the archive into DIR (must be empty or absent) instead of a new temporary directory",
    )
    parser.set_defaults(handler=handle)


def handle(
    args: argparse.Namespace,
    *,
    transport: httpx.AsyncBaseTransport | None,
    clock: Callable[[], datetime] | None,
) -> int:
    archive = archive_dir(args.keep).absolute()
    demo = run_demo(archive, transport=transport, clock=clock)
    write_demo_report(demo, sys.stdout)
    return exit_code(demo.result)


def write_demo_report(demo: DemoRun, out: TextIO) -> None:
    """What was archived (the ``run`` report), then where to look."""
    out.write(f"newsmirror demo: archived the sample feeds served at {demo.base} (server now stopped)\n\n")
    write_report(demo.result, demo.archive, out)
    out.write("\n")
    for label, value in where_to_look(demo):
        out.write(f"  {label + ':':<13} {value}\n")
    out.write(f"\nThe archive is kept; remove it when done: rm -rf {shlex.quote(str(demo.archive))}\n")


def where_to_look(demo: DemoRun) -> list[tuple[str, str]]:
    """(label, path or command) pairs for the demo's archive."""
    root = demo.archive
    rows = [
        ("archive", str(root)),
        ("front page", str(root / "README.md")),
        ("list pages", str(root / "lists") + "/"),
    ]
    example = demo.example_article()
    if example is not None:
        rows.append(("an article", str(example)))
    rows.append(("history", f"git -C {shlex.quote(str(root))} log --oneline"))
    return rows
