"""Tables on the terminal, by rich: columns sized to the terminal's width, CJK counted double.

On a terminal, a table fits its width (long cells wrap inside their column); written to a file
or a pipe, nothing wraps, so that a line of a CI log or of ``grep`` holds a whole row.  Cells
are plain text: rich's markup is off, so a feed title of ``[bold]`` prints as it is written.
"""

from __future__ import annotations

import io
import shutil
from collections.abc import Collection, Sequence
from typing import Final, TextIO

from rich import box
from rich.console import Console
from rich.table import Table

_UNWRAPPED: Final = 100_000


def write_table(rows: Sequence[Sequence[str]], out: TextIO, *, right: Collection[int] = ()) -> None:
    """``rows[0]`` is the header; the columns numbered in ``right`` are right-aligned (numbers)."""
    header, *body = rows
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, collapse_padding=True)
    for index, title in enumerate(header):
        table.add_column(title, justify="right" if index in right else "left", overflow="fold")
    for row in body:
        table.add_row(*row)
    width = shutil.get_terminal_size().columns if out.isatty() else _UNWRAPPED
    buffer = io.StringIO()
    console = Console(
        file=buffer, width=width, markup=False, emoji=False, highlight=False, no_color=True, soft_wrap=False
    )
    console.print(table)
    out.write("".join(line.rstrip() + "\n" for line in buffer.getvalue().splitlines()))
