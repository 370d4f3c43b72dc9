"""Nothing newsmirror prints can drive the operator's terminal.

Titles, names and error messages come from feeds. A title of ``\\x1b[2J…`` would clear the
screen, an OSC sequence could retitle the window or write a hyperlink, a right-to-left override
could make a line read backwards. Every control character but tab, line feed and carriage
return (the progress bar's), DEL, the C1 controls and the Unicode direction controls are
printed as their ``\\uXXXX`` escape instead: readable, and inside a JSON string (``--json``)
the very same character.
"""

from __future__ import annotations

import io
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final, TextIO

_UNSAFE: Final = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"  # C0 but tab, LF and CR; DEL; C1
    "\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]"  # direction marks and overrides, line separators
)


def printable(text: str) -> str:
    """``text`` with every character that could act on a terminal written as its escape."""
    return _UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


class PrintableStream(io.TextIOBase):
    """A text stream that passes everything written through ``printable``."""

    def __init__(self, inner: TextIO) -> None:
        super().__init__()
        self.inner = inner

    def write(self, text: str) -> int:
        self.inner.write(printable(text))
        return len(text)

    def flush(self) -> None:
        self.inner.flush()

    def isatty(self) -> bool:
        return self.inner.isatty()

    def fileno(self) -> int:
        return self.inner.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.inner, "encoding", "utf-8") or "utf-8"


@contextmanager
def printable_output() -> Iterator[None]:
    """``sys.stdout`` and ``sys.stderr`` pass through ``printable`` while the command runs."""
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = PrintableStream(saved[0]), PrintableStream(saved[1])
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved
