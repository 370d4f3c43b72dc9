"""Source state between runs: when to fetch, from which URL, what a result changes. Pure.

The state of every source lives in the archive (``.newsmirror/status.json``) so that a fresh
clone on a CI runner is as polite as a long-lived machine: it sends the same validators,
honours the same postponements and knows which sources are failing, moved or gone.

* success (200 or 304): failures reset, validators kept, ``max-age``/``Expires`` postpone the
  source when they reach past the next run;
* a redirect seen ``redirect_runs`` runs in a row, permanent (301/308) every time and to the
  same place, moves the source; a temporary one (302/307) never does;
* failure: consecutive failures counted, and since when it has been failing; ``Retry-After``
  postpones; once it has failed for ``BACKOFF_AFTER`` (3 hours: time, not runs, so three quick
  runs by hand do not count as three hours) the source backs off, waiting about half as long as
  it has been failing (2, 4, 8 … up to 24 hours between attempts) so dead feeds are not fetched
  every hour for years; ``410 Gone`` disables the source until it is re-enabled.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from .config import FetchSettings
from .exceptions import NewsmirrorError
from .fetch import Fetched, Validators
from .moments import SHOWN
from .redact import redact_text, redact_url, restore, same_url
from .types import Source

BACKOFF_AFTER = timedelta(hours=3)
"""How long a source must have been failing before it backs off."""
BACKOFF_CAP_HOURS = 24


@dataclass(frozen=True, slots=True)
class SourceState:
    """What the archive remembers about one source's fetching."""

    result: str = "new"
    """``ok``, ``failed`` or ``disabled`` (a 304 or a postponed run leaves it as it was)."""
    since: str | None = None
    code: str | None = None
    message: str | None = None
    failures: int = 0
    failing_since: str | None = None
    """The first failure of the current run of failures, whatever their codes (``since`` is the
    first of the current code): what the backoff counts from."""
    last_success: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    not_before: str | None = None
    moved_from: str | None = None
    moved_to: str | None = None
    redirect_to: str | None = None
    redirect_seen: int = 0
    disabled_url: str | None = None
    recovered: str | None = None
    """The fault of the last feed read, when a lenient parse recovered its items."""
    url: str | None = None
    """The feed URL the sources file gave when it was last run: what tells a source whose slug
    changed (the same URL under a new slug) from a new one."""

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v not in (None, 0)}

    @classmethod
    def from_json(cls, data: Any) -> SourceState:
        """The saved state; a field of the wrong type (a hand-edit, a damaged file) is dropped,
        so that one source's garbled state never stops a run."""
        if not isinstance(data, dict):
            return cls()
        defaults = {f.name: f.default for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in defaults and _fits(v, defaults[k])})

    def lasting(self) -> SourceState:
        """The part worth a commit at once: all but the time of the last success and the
        validators (an ETag that changes every hour must not make a commit every hour)."""
        return replace(self, last_success=None, etag=None, last_modified=None)


HEARTBEAT_EVERY = timedelta(hours=3)
"""How old the last successful run every copy holds may grow before a run that changed nothing
else commits its own: ``status.xml`` shows it and ``status --max-age`` reads it, without a commit
every hour from an archive whose feeds are quiet."""

VALIDATORS_KEPT_FOR = timedelta(days=1)
"""How old the validators kept in every copy may grow before a run keeps its own (a fresh clone
then sends validators at most this old: a full response instead of a 304, nothing lost)."""


def worth_keeping(kept: Mapping[str, SourceState], after: Mapping[str, SourceState], now: datetime) -> bool:
    """Whether ``after`` should replace the states every copy of the archive holds (``kept``):
    something lasting changed, validators changed and the kept ones are a day old, or the kept
    last successful run is ``HEARTBEAT_EVERY`` older than this one's."""
    kept_beat, beat = heartbeat(kept), heartbeat(after)
    if beat is not None and (kept_beat is None or beat - kept_beat >= HEARTBEAT_EVERY):
        return True
    for slug, state in after.items():
        old = kept.get(slug, SourceState())
        if old.lasting() != state.lasting():
            return True
        if (old.etag, old.last_modified) != (state.etag, state.last_modified):
            since = moment_of(old.last_success)
            if since is None or now - since >= VALIDATORS_KEPT_FOR:
                return True
    return False


def heartbeat(states: Mapping[str, SourceState]) -> datetime | None:
    """The last successful run: the newest success of any source (None before the first)."""
    return max(filter(None, (moment_of(s.last_success) for s in states.values())), default=None)


def _fits(value: Any, default: Any) -> bool:
    if default is None:
        return isinstance(value, str)
    return type(value) is type(default)


def stamp(moment: datetime) -> str:
    """``2026-01-02T03:04:05Z``; the year always four digits (``%Y`` writes year 1 as ``1``, which
    does not read back)."""
    m = moment.astimezone(UTC)
    return f"{m.year:04d}-{m.month:02d}-{m.day:02d}T{m.hour:02d}:{m.minute:02d}:{m.second:02d}Z"


def moment_of(text: str | None) -> datetime | None:
    """A saved time, or None when there is none or it does not read (then it is not honoured)."""
    if not text or not isinstance(text, str):
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def fetch_url(source: Source, state: SourceState) -> str:
    """The configured URL, unless the archive recorded a permanent move away from it."""
    if state.moved_to and same_url(state.moved_from, source.url):
        return restore(state.moved_to, source.url)  # the state keeps URLs redacted
    return source.url


def validators(state: SourceState) -> Validators:
    return Validators(state.etag, state.last_modified)


def reason_to_skip(source: Source, state: SourceState, now: datetime, settings: FetchSettings) -> str | None:
    """Why this source is not fetched in this run, or None (a new URL in the sources file
    lifts a 410's disabling and a backoff: the feed it was failing on is no longer asked for).

    A postponement further ahead than any this version records (``max_postpone_hours``) was
    written by a clock that ran ahead, or by an older version: it is not honoured, so the
    source recovers as soon as the clock is right again.
    """
    disabled_here = state.disabled_url is None or same_url(state.disabled_url, fetch_url(source, state))
    if state.result == "disabled" and disabled_here:
        return f"disabled: {state.message} (re-enable with `newsmirror enable {source.slug}`)"
    until = moment_of(state.not_before)
    url_changed = state.url is not None and not same_url(state.url, source.url)
    if until is not None and now < until <= now + _longest_postponement(settings) and not url_changed:
        why = (
            f"failing since {display(state.failing_since)}"
            if state.result == "failed" and state.failing_since
            else "as the server asked"
        )
        hint = f"`newsmirror enable {source.slug}` fetches it next run"
        return f"postponed until {display(state.not_before)} ({why}); {hint}"
    return None


def display(text: str | None) -> str:
    """A saved time as people read it (``SHOWN``), or ``—``."""
    moment = moment_of(text)
    return "—" if moment is None else moment.strftime(SHOWN)


def _longest_postponement(settings: FetchSettings) -> timedelta:
    return timedelta(hours=settings.max_postpone_hours)


def after_success(
    source: Source, state: SourceState, fetched: Fetched, now: datetime, settings: FetchSettings
) -> tuple[SourceState, tuple[str, ...]]:
    """The state after a 200 or 304, and notes for the report."""
    kept = fetched.validators if not fetched.not_modified else _merge(state, fetched.validators)
    moved, notes = _track_redirect(source, state, fetched.permanent_redirect, settings)
    after = replace(
        moved,
        result="ok",
        since=state.since if state.result == "ok" else stamp(now),
        code=None,
        message=None,
        failures=0,
        failing_since=None,
        last_success=stamp(now),
        etag=kept.etag,
        last_modified=kept.last_modified,
        not_before=_postpone(fetched.fresh_until, now, settings),
    )
    return after, notes


def _merge(state: SourceState, fresh: Validators) -> Validators:
    return Validators(fresh.etag or state.etag, fresh.last_modified or state.last_modified)


def _track_redirect(
    source: Source, state: SourceState, target: str | None, settings: FetchSettings
) -> tuple[SourceState, tuple[str, ...]]:
    if target is None:
        return replace(state, redirect_to=None, redirect_seen=0), ()
    shown = redact_url(target)
    seen = state.redirect_seen + 1 if shown == state.redirect_to else 1
    if seen < settings.redirect_runs:
        note = f"permanent redirect to {shown} seen {seen} of {settings.redirect_runs} runs"
        return replace(state, redirect_to=shown, redirect_seen=seen), (note,)
    moved = replace(
        state, moved_from=redact_url(source.url), moved_to=shown, redirect_to=None, redirect_seen=0
    )
    return moved, (f"moved permanently to {shown}: the archive now fetches it from there",)


def after_failure(
    state: SourceState,
    error: NewsmirrorError,
    now: datetime,
    settings: FetchSettings,
    *,
    url: str | None = None,
) -> SourceState:
    """The state after a failed fetch or parse."""
    failures = state.failures + 1
    same = state.result == "failed" and state.code == error.code
    first = moment_of(state.failing_since) if state.failures else None
    failed = replace(
        state,
        result="failed",
        code=error.code,
        message=redact_text(error.message),
        since=state.since if same else stamp(now),
        failures=failures,
        failing_since=stamp(first or now),
        recovered=None,
    )
    if error.code == "http_410":
        gone = redact_url(url) if url is not None else None
        return replace(
            failed, result="disabled", message=f"410 Gone since {now.strftime(SHOWN)}", disabled_url=gone
        )
    retry = getattr(error, "retry_at", None)
    backoff = _backoff(first or now, now, settings)
    return replace(failed, not_before=_postpone(retry, now, settings) or backoff)


def _postpone(until: datetime | None, now: datetime, settings: FetchSettings) -> str | None:
    """Record a postponement only when it reaches past the next run (else it changes nothing),
    and never further than ``max_postpone_hours`` (``Expires: 31 Dec 9999``, a year's max-age)."""
    if until is None or until <= now + timedelta(minutes=settings.run_interval_minutes):
        return None
    return stamp(min(until, now + _longest_postponement(settings)))


def _backoff(failing_since: datetime, now: datetime, settings: FetchSettings) -> str | None:
    """The next attempt of a source failing since ``failing_since``: none held back before
    ``BACKOFF_AFTER``, then the power of two hours at most half as long as it has failed."""
    failing = now - failing_since
    if failing < BACKOFF_AFTER:
        return None
    half = max(2, int(failing / timedelta(hours=1)) // 2)
    hours = min(1 << (half.bit_length() - 1), BACKOFF_CAP_HOURS, settings.max_postpone_hours)
    # a little early, so that a run that starts late by a few minutes still tries
    slack = timedelta(minutes=settings.run_interval_minutes / 10)
    return stamp(now + timedelta(hours=hours) - slack)


def held_back(state: SourceState) -> bool:
    """Disabled, or postponed (backing off, or as a server asked): what ``enable`` lifts."""
    return state.result == "disabled" or state.not_before is not None


def enabled(state: SourceState) -> SourceState:
    """Clear a disabled or backed-off source so that the next run fetches it."""
    return replace(
        state,
        result="new" if state.result == "disabled" else state.result,
        message=None if state.result == "disabled" else state.message,
        not_before=None,
        failures=0,
        failing_since=None,
        disabled_url=None,
    )
