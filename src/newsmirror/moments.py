"""How times are shown to people: one format, in UTC, everywhere."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


def from_ms(ms: int) -> datetime:
    """A time in milliseconds since the epoch (an article's date), any year ``datetime`` holds."""
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms)


def display_ms(ms: int | None) -> str:
    """A time in milliseconds since the epoch (an article's date) as people read it, or ``—``."""
    return "—" if ms is None else from_ms(ms).strftime(SHOWN)


SHOWN = "%Y-%m-%d %H:%M UTC"
"""How a time is shown to people, everywhere: run, status, import and sources reports, the
archive's README and the status page.  What machines read (JSON, state, logs, feeds) is RFC 3339."""
