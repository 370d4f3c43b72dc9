"""A run's progress on a terminal: each source's result printed as it finishes, above a bar.

Only on a terminal, and not with ``-v`` (the log lines are the progress then): in a CI log or
a pipe the table at the end says it all.  The bar is drawn by rich, which moves the cursor with
escape sequences; so it writes to the terminal itself, and every line of feed-given text in it
goes through ``printable`` first.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

from ..types import SourceResult
from .terminal import printable

OnDone = Callable[[SourceResult], None]


def finished_line(result: SourceResult) -> str:
    """One source's result as one line: ``✓ 新闻 (news): 3 new, 1 updated``."""
    who = f"{result.name} ({result.slug})"
    if not result.ok:
        return f"✗ {who}: FAILED {result.error_code}: {result.error}"
    if result.outcome in ("postponed", "disabled"):
        return f"· {who}: " + (result.notes[0] if result.notes else result.outcome)
    if result.outcome == "not_modified":
        return f"✓ {who}: not modified"
    counts = [f"{len(result.new)} new"]
    counts += [f"{len(result.updated)} updated"] if result.updated else []
    counts += [f"{len(result.skipped)} skipped"] if result.skipped else []
    return f"✓ {who}: {', '.join(counts)}"


@contextmanager
def progress(total: int, *, quiet: bool = False, stream: TextIO | None = None) -> Iterator[OnDone | None]:
    """What the run calls as each source finishes (None: nothing to show)."""
    out = stream or sys.stderr
    terminal = getattr(out, "inner", out)  # past PrintableStream: rich's own escapes must go out
    if quiet or not terminal.isatty():
        yield None
        return
    console = Console(file=terminal, markup=False, emoji=False, highlight=False)
    columns = (TextColumn("newsmirror"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    bar = Progress(*columns, console=console, transient=True, redirect_stdout=False, redirect_stderr=False)
    with bar:
        task = bar.add_task("sources", total=total)

        def done(result: SourceResult) -> None:
            bar.console.print(Text(printable(finished_line(result))), soft_wrap=True)
            bar.advance(task)

        yield done
