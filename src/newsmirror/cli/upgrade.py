"""``newsmirror upgrade``: make an archive install this newsmirror, re-locked."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

import httpx

from ..deploy import REQUIREMENTS, own_wheel
from ..scaffold import DEPENDABOT, WORKFLOW, Upgrade, upgrade_archive
from .common import ARCHIVE_HELP, default_archive, existing_archive
from .init import add_wheel_option


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "upgrade",
        help="make the archive install this newsmirror",
        description=f"Put this newsmirror's wheel in the archive, rewrite {REQUIREMENTS} with the "
        f"dependency lock it was tested with, rewrite {WORKFLOW} and {DEPENDABOT} as this version "
        "writes them (unless --keep-workflow), and commit. Push the commit to put it to work.",
    )
    parser.add_argument("--archive", type=Path, default=default_archive(), help=ARCHIVE_HELP)
    add_wheel_option(parser)
    parser.add_argument(
        "--keep-workflow",
        action="store_true",
        help=f"leave {WORKFLOW} and {DEPENDABOT} as they are (your own edits)",
    )
    parser.add_argument(
        "--older", action="store_true", help="allow a wheel older than the one the archive installs"
    )
    parser.set_defaults(handler=handle)


def handle(
    args: argparse.Namespace,
    *,
    transport: httpx.AsyncBaseTransport | None,
    clock: Callable[[], datetime] | None,
) -> int:
    archive = existing_archive(args.archive)
    wheel = own_wheel(args.wheel)
    with archive.locked():
        done = upgrade_archive(archive.root, wheel, upkeep=not args.keep_workflow, older=args.older)
    write_upgrade_report(done, sys.stdout)
    return 0


def write_upgrade_report(done: Upgrade, out: TextIO) -> None:
    was = done.before or "a requirement without a wheel"
    if done.commit is None:
        out.write(f"newsmirror upgrade: {done.root} already installs {done.wheel.path}; nothing changed\n")
        return
    out.write(f"newsmirror upgrade: {was} → {done.wheel.path}, commit {done.commit[:12]}\n")
    for path in done.changed:
        out.write(f"  {path}\n")
    out.write("Push it (git push) for the workflow to install it from its next run on.\n")
