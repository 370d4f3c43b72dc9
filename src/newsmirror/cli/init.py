"""``newsmirror init DIR``: a new archive repository, ready to run hourly on GitHub Actions."""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, Final, TextIO

import httpx

from ..config import ARCHIVE_CONFIG
from ..deploy import REQUIREMENTS, WHEEL_DIR, own_wheel
from ..scaffold import DEPENDABOT, README, WORKFLOW, NewArchive, init_archive

_ROLES: Final = {
    ARCHIVE_CONFIG: "the sources and fetch settings: edit to taste",
    README: "the front page, rebuilt by every run",
    REQUIREMENTS: "what the workflow installs, each file pinned by its sha256",
    WORKFLOW: "runs `newsmirror run --push` every hour on GitHub Actions",
    DEPENDABOT: "newer actions and dependencies arrive as pull requests",
}


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "init",
        help="create a ready archive repository",
        description="Create DIR (when missing) as a git repository with the built-in sources in "
        f"{ARCHIVE_CONFIG}, a README, a GitHub Actions workflow that archives every hour and pushes, "
        f"a Dependabot file, and this newsmirror's wheel in {WHEEL_DIR}/ with {REQUIREMENTS} locking "
        "it and its dependencies by sha256; commit them. Refuses if DIR already holds one of these.",
    )
    parser.add_argument("dir", type=Path, metavar="DIR", help="the new archive (created when missing)")
    add_wheel_option(parser)
    parser.set_defaults(handler=handle)


def add_wheel_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--wheel",
        type=Path,
        metavar="FILE",
        help="the newsmirror wheel the archive installs (default: this newsmirror's: the wheel it "
        "was installed from, or one built from its source folder)",
    )


def handle(
    args: argparse.Namespace,
    *,
    transport: httpx.AsyncBaseTransport | None,
    clock: Callable[[], datetime] | None,
) -> int:
    write_init_report(init_archive(args.dir, wheel=own_wheel(args.wheel)), sys.stdout)
    return 0


def write_init_report(archive: NewArchive, out: TextIO) -> None:
    """What was written and committed, then how to put the archive to work."""
    out.write(f"newsmirror init: new archive in {archive.root}, commit {archive.commit[:12]}\n\n")
    width = max(len(path) for path in archive.files)
    roles = {**_ROLES, archive.wheel.path: "newsmirror itself, installed from here"}
    for path in archive.files:
        out.write(f"  {path:<{width}}  {roles[path]}\n" if path in roles else f"  {path}\n")
    out.write(
        f"\nThe workflow installs newsmirror {archive.wheel.version} from {archive.wheel.path} and its "
        f"dependencies, exactly as {REQUIREMENTS} pins them; `newsmirror upgrade` moves it on.\n"
    )
    out.write("\nNext steps:\n")
    for number, step in enumerate(next_steps(archive.root), start=1):
        out.write(f"  {number}. {step}\n")


def next_steps(root: Path) -> list[str]:
    """Try a run, push to a new empty repository, let Actions run hourly."""
    where = shlex.quote(str(root))
    remote = "git@github.com:OWNER/REPO.git"
    return [
        f"try one run here:  newsmirror run --archive {where}",
        "create an empty repository on GitHub, then:  "
        f"git -C {where} remote add origin {remote} && git -C {where} push -u origin HEAD",
        "in the repository's Actions tab, enable workflows if asked; the workflow then runs every hour "
        "(start one at once with 'Run workflow'), commits what is new and pushes it",
    ]
