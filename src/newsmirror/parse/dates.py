"""Feed dates to Unix milliseconds, as JavaScript's ``Date.parse`` reads the common forms.

Accepted: RFC 822/2822 (RSS), ISO 8601 / RFC 3339 (Atom, JSON Feed, many RSS feeds) and
``YYYY/MM/DD[ HH:MM[:SS]]``.  A date without a zone is UTC, whatever the machine's zone
(the original read it in local time: KNOWN_BUGS KB8).  Anything else is ``None``: the
caller decides what an undated item means; it is never silently dropped.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.utils import parsedate_tz

from ..transform.text import js_strip

_SLASHED = re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$")
_ISO_HINT = re.compile(r"^[+-]?\d{4}-\d{2}")


def parse_date(raw: str | None) -> int | None:
    """Milliseconds since the epoch, or None when the text is not a date we can read."""
    if raw is None:
        return None
    text = js_strip(raw)
    if not text:
        return None
    for reader in (_iso, _rfc2822, _slashed):
        ms = reader(text)
        if ms is not None:
            return ms
    return None


def _iso(text: str) -> int | None:
    if not _ISO_HINT.match(text):
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return _exact_ms(moment)


def _exact_ms(moment: datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


def _rfc2822(text: str) -> int | None:
    parts = parsedate_tz(text)
    if parts is None:
        return None
    year, month, day, hour, minute, second = parts[:6]
    offset = parts[9] or 0
    try:
        moment = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except (ValueError, OverflowError):  # an absurd field (``19:23:1000…04``) leaves the item undated
        return None
    return _exact_ms(moment) - offset * 1000


def _slashed(text: str) -> int | None:
    match = _SLASHED.match(text)
    if match is None:
        return None
    year, month, day, hour, minute, second = (int(g) if g else 0 for g in match.groups())
    try:
        return _exact_ms(datetime(year, month, day, hour, minute, second))
    except (ValueError, OverflowError):
        return None
