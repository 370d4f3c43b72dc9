"""Decide which candidates are new, which are known, and which id each new one gets.

Pure: values in, a ``Plan`` out; no I/O, the clock comes in as ``now_ms``.

Rules (SPEC §5, with the data-loss bugs of §6 fixed):

* identity is the guid or the normalised link: a candidate matching an archived record by
  either is known, whatever its date says now;
* ``countdown`` ids continue below the numerically lowest id (``999999`` after
  ``1000000``), new candidates oldest first, ties in feed order;
* an undated candidate takes ``now_ms`` (the time it was first seen);
* an unseen candidate dated more than ``late_window_hours`` before the newest archived
  article is skipped as too old (it predates what the archive covers);
* ``post-id`` ids are ``0xFFFFF ^ p`` for the guid's ``?p=`` number; a second article that
  would land on an occupied id gets the lowest free id instead of overwriting.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from .types import FIRST_ID, Candidate, Plan, Planned, Record, Skipped, Source, SourceIndex

_POST_NUMBER = re.compile(r"\?p=(\d+)")
HOUR_MS = 3_600_000


class _Identity:
    """Guid and link lookups over the archive, extended as the plan assigns ids."""

    def __init__(self, records: Iterable[Record]) -> None:
        self.by_link: dict[str, int] = {}
        self.by_guid: dict[str, int] = {}
        for record in records:
            self.add(record.id, record.link, record.guid)

    def add(self, article_id: int, link: str, guid: str | None) -> None:
        if link:
            self.by_link.setdefault(link, article_id)
        if guid:
            self.by_guid.setdefault(guid, article_id)

    def find(self, candidate: Candidate) -> int | None:
        if candidate.guid is not None and candidate.guid in self.by_guid:
            return self.by_guid[candidate.guid]
        return self.by_link.get(candidate.link)


def decide(source: Source, index: SourceIndex, candidates: Iterable[Candidate], *, now_ms: int) -> Plan:
    """The plan for one source's candidates against its archive ``index``."""
    if source.ids == "post-id":
        return _decide_post_ids(source, index, candidates, now_ms)
    return _decide_countdown(source, index, candidates, now_ms)


def _decide_countdown(
    source: Source, index: SourceIndex, candidates: Iterable[Candidate], now_ms: int
) -> Plan:
    identity = _Identity((*index.records.values(), *index.legacy))
    horizon = _horizon(source, index, now_ms)
    fresh: list[Candidate] = []
    refreshes: list[Planned] = []
    skipped: list[Skipped] = []
    known = 0
    seen = _Identity(())
    for candidate in candidates:
        if seen.find(candidate) is not None:
            skipped.append(Skipped(candidate.label, "duplicate of an earlier item in the feed"))
            continue
        seen.add(candidate.position, candidate.link, candidate.guid)
        article_id = identity.find(candidate)
        if article_id is not None:
            known += 1
            if source.refresh and article_id in index.records:
                refreshes.append(_refresh(index.records[article_id], candidate, now_ms))
        elif horizon is not None and candidate.ms is not None and candidate.ms < horizon:
            skipped.append(Skipped(candidate.label, "older than the archive's newest article"))
        else:
            fresh.append(candidate)
    new = _number(fresh, _next_ids(index), now_ms, skipped)
    return Plan(writes=(*new, *refreshes), known=known, skipped=tuple(skipped))


def _horizon(source: Source, index: SourceIndex, now_ms: int) -> int | None:
    newest = index.newest_ms()
    if newest is None:
        return None
    return min(newest, now_ms) - int(source.late_window_hours * HOUR_MS)


def _next_ids(index: SourceIndex) -> Iterator[int]:
    lowest = index.lowest_id()
    return iter(range((FIRST_ID if lowest is None else lowest) - 1, -1, -1))


def _number(fresh: list[Candidate], ids: Iterator[int], now_ms: int, skipped: list[Skipped]) -> list[Planned]:
    ordered = sorted(fresh, key=lambda c: now_ms if c.ms is None else c.ms)
    planned = []
    for candidate in ordered:
        article_id = next(ids, None)
        if article_id is None:
            skipped.append(Skipped(candidate.label, "no id left below the lowest id (0)"))
            continue
        planned.append(Planned(article_id, candidate, True, _ms(candidate, None, now_ms)))
    return planned


def _refresh(record: Record, candidate: Candidate, now_ms: int) -> Planned:
    return Planned(record.id, candidate, False, _ms(candidate, record, now_ms))


def _ms(candidate: Candidate, record: Record | None, now_ms: int) -> int:
    if candidate.ms is not None:
        return candidate.ms
    if record is not None and record.ms is not None:
        return record.ms
    return now_ms


def _decide_post_ids(
    source: Source, index: SourceIndex, candidates: Iterable[Candidate], now_ms: int
) -> Plan:
    identity = _Identity((*index.records.values(), *index.legacy))
    taken = {*index.records, *(r.id for r in index.legacy)}
    writes: list[Planned] = []
    written: set[int] = set()
    skipped: list[Skipped] = []
    known = 0
    for candidate in candidates:
        article_id = identity.find(candidate)
        if article_id is not None and article_id in written:
            skipped.append(Skipped(candidate.label, "duplicate of an earlier item in the feed"))
            continue
        if article_id is not None:
            known += 1
            if source.refresh and article_id in index.records:
                writes.append(_refresh(index.records[article_id], candidate, now_ms))
                written.add(article_id)
            continue
        article_id = _free_post_id(candidate, taken)
        taken.add(article_id)
        written.add(article_id)
        identity.add(article_id, candidate.link, candidate.guid)
        writes.append(Planned(article_id, candidate, True, _ms(candidate, None, now_ms)))
    return Plan(writes=tuple(writes), known=known, skipped=tuple(skipped))


def post_id(guid: str | None) -> int:
    """``0xFFFFF ^ p`` for the ``?p=`` number of a WordPress guid, 0 without one."""
    match = _POST_NUMBER.search(guid or "")
    return FIRST_ID ^ int(match.group(1)) if match else 0


def _free_post_id(candidate: Candidate, taken: set[int]) -> int:
    wanted = post_id(candidate.guid)
    if wanted not in taken:
        return wanted
    return next(i for i in range(FIRST_ID + 1) if i not in taken)
