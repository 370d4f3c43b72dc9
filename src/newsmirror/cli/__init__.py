"""The ``newsmirror`` command: a thin shell over the library.

Exit status (documented in the README):

* 0 — every source succeeded (and every push, with ``--push``)
* 1 — some sources failed; the others were archived all the same
* 2 — bad command line or sources file
* 3 — another run holds the archive's lock
* 4 — the archive was updated but a push failed
* 5 — the archive could not be read or written, or git failed
* 6 — an internal error (a bug): a clear one-line message, the traceback with ``-v``
* 130 — interrupted (Ctrl-C)
* 141 — standard output was closed early (``status --json | head``): quietly, no traceback
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence
from datetime import datetime

import httpx

from .. import __version__
from ..exceptions import ArchiveLockedError, ConfigError, NewsmirrorError
from ..redact import redact_text
from . import (
    actions,
    config_cmd,
    demo,
    enable,
    import_cmd,
    init,
    logs,
    reindex,
    reshard,
    run,
    sources_cmd,
    status,
    terminal,
    upgrade,
)

EXIT_OK, EXIT_SOURCES_FAILED, EXIT_USAGE, EXIT_LOCKED, EXIT_PUSH_FAILED, EXIT_ARCHIVE = range(6)
EXIT_INTERNAL = 6
EXIT_INTERRUPTED = 130
EXIT_CLOSED_OUTPUT = 141  # 128 + SIGPIPE, what a shell shows for a program its pipe closed on
log = logging.getLogger("newsmirror.cli")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="newsmirror", description="Keep a git archive of news feeds.")
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="log to stderr (-v info, -vv debug)"
    )
    parser.add_argument("--version", action="version", version=f"newsmirror {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    run.add_parser(commands)
    status.add_parser(commands)
    enable.add_parser(commands)
    sources_cmd.add_parser(commands)
    config_cmd.add_parser(commands)
    init.add_parser(commands)
    upgrade.add_parser(commands)
    import_cmd.add_parser(commands)
    reshard.add_parser(commands)
    reindex.add_parser(commands)
    demo.add_parser(commands)
    for command in commands.choices.values():  # global options after the command too: run -v
        command.add_argument(
            "-v", "--verbose", action="count", default=0, dest="verbose_after", help=argparse.SUPPRESS
        )
    return parser


def main(
    argv: Sequence[str] | None = None,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    clock: Callable[[], datetime] | None = None,
) -> int:
    """Entry point; ``transport`` and ``clock`` are seams for tests."""
    try:
        with terminal.printable_output():
            return _main(argv, transport, clock)
    except BrokenPipeError:
        _quiet_closed_output()
        return EXIT_CLOSED_OUTPUT


def _quiet_closed_output() -> None:
    """The reader of stdout went away: point stdout at /dev/null, so that the interpreter's own
    flush at exit does not print a second error."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # no real file behind sys.stdout (a test's capture)
        pass


def _main(
    argv: Sequence[str] | None,
    transport: httpx.AsyncBaseTransport | None,
    clock: Callable[[], datetime] | None,
) -> int:
    args = build_parser().parse_args(argv)
    _configure_logging(args.verbose + args.verbose_after)
    try:
        code: int = args.handler(args, transport=transport, clock=clock)
        return code
    except ConfigError as e:
        return _fail(e, EXIT_USAGE)
    except ArchiveLockedError as e:
        return _fail(e, EXIT_LOCKED)
    except NewsmirrorError as e:
        return _fail(e, EXIT_ARCHIVE)
    except KeyboardInterrupt:
        print("newsmirror: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        raise  # not a bug: the reader of stdout left (main answers it)
    except Exception as e:  # the CLI's boundary: a bug must not pass for "some sources failed" (1)
        log.info("internal error", exc_info=True)  # the traceback, with -v
        what = f"{type(e).__name__}: {redact_text(str(e))}"
        print(f"newsmirror: internal error (a bug; -v shows where): {what}", file=sys.stderr)
        if actions.in_actions():
            sys.stdout.write(actions.command("error", what, title="newsmirror: internal error (a bug)"))
        return EXIT_INTERNAL


def _fail(error: NewsmirrorError, code: int) -> int:
    print(f"newsmirror: error: {error}", file=sys.stderr)
    if actions.in_actions():  # the run's page says why it failed, not only its log
        sys.stdout.write(actions.command("error", str(error), title=f"newsmirror: {error.code}"))
    return code


def _configure_logging(verbosity: int) -> None:
    logs.configure(verbosity)


def entry() -> None:
    code = main()
    try:
        sys.stdout.flush()  # what is still buffered, while a closed pipe can still be answered
    except BrokenPipeError:
        _quiet_closed_output()
        code = EXIT_CLOSED_OUTPUT
    sys.exit(code)
