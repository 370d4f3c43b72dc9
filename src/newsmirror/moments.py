"""How times are shown to people: one format, in UTC, everywhere."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


def display_ms(ms: int | None) -> str:
    """A time in milliseconds since the epoch (an article's date) as people read it, or ``—``."""
    if ms is None:
        return "—"
    return (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms)).strftime(SHOWN)


SHOWN = "%Y-%m-%d %H:%M UTC"
"""How a time is shown to people, everywhere: run, status, import and sources reports, the
archive's README and the status page.  What machines read (JSON, state, logs, feeds) is RFC 3339."""
