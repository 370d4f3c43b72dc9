"""``newsmirror config check|reference``: validate a sources file; print the settings reference."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from .. import catalog
from ..config import ARCHIVE_CONFIG, check_config, load_config, settings_reference
from ..core import Archive, slug_changes
from .common import ARCHIVE_HELP, default_archive


def add_parser(commands: Any) -> None:
    parser = commands.add_parser("config", help="check a sources file, or print every setting")
    actions = parser.add_subparsers(dest="action", required=True)
    check = actions.add_parser(
        "check",
        help="validate a sources file: every error and warning with its line and key",
        description="Read the sources file as a run would (with the NEWSMIRROR_* variables set "
        "here) and name the line and key of every error; unknown keys are warnings. Exit 0 when "
        "a run would accept it, 2 when not.",
    )
    check.add_argument("file", type=Path, nargs="?", help=f"default: ARCHIVE/{ARCHIVE_CONFIG}")
    check.add_argument("--archive", type=Path, default=default_archive(), help=ARCHIVE_HELP)
    check.set_defaults(handler=_check)
    reference = actions.add_parser("reference", help="every setting, its variable, default and meaning")
    reference.set_defaults(handler=_reference)
    for action in actions.choices.values():  # -v after the action too
        action.add_argument(
            "-v", "--verbose", action="count", default=0, dest="verbose_after", help=argparse.SUPPRESS
        )


def _check(args: argparse.Namespace, **_: Any) -> int:
    path = args.file or args.archive / ARCHIVE_CONFIG
    problems = check_config(path, environ=os.environ)
    for problem in sorted(problems, key=lambda p: p.line or 0):  # in the file's order
        print(problem.shown(str(path)))
    errors = sum(not p.warning for p in problems)
    warnings = len(problems) - errors
    config = load_config(path) if not errors else None
    own = args.file is None or path.resolve() == (args.archive / ARCHIVE_CONFIG).resolve()
    if config is not None and own and (args.archive / ".git").exists():  # what a run would refuse too
        renamed = slug_changes(config, Archive(args.archive).latest_states())
        for old, new in renamed.items():
            print(f"{path}: source {new}: its URL was archived under the slug {old!r}; a run asks for "
                  f"--rename {old}={new} (or `newsmirror sources rename {old} {new}`)")  # fmt: skip
        errors += len(renamed)
    dead = catalog.moves(config) if config is not None and not errors else ()
    for move in dead:
        print(f"{path}: warning: {catalog.move_text(move)}")
    warnings += len(dead)
    verdict = "a run would refuse it" if errors else "a run would accept it"
    print(
        f"{path}: {errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}; {verdict}"
    )
    return 2 if errors else 0


def _reference(args: argparse.Namespace, **_: Any) -> int:
    sys.stdout.write(settings_reference())
    return 0
