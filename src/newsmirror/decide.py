"""Decide which candidates are new, which are known, and which id each new one gets.

Pure: values in, a ``Plan`` out; no I/O, the clock comes in as ``now_ms`` and archived bodies
(needed only to confirm a doubtful match) come in as a mapping.

Rules (SPEC §5, with the data-loss bugs of §6 fixed):

* identity is the guid or the link key (``identity.link_key``), confirmed by the content: a
  candidate matching an archived record that tells the same story is known, whatever its date
  says now; one that shares only the guid or link with an unrelated article is new, and the
  collision is reported;
* no item is ever skipped because of its date: an unseen item is archived whatever it says;
* a date that cannot be true — none, a sentinel such as ``0001-01-01``, before 1990, or more
  than two days ahead of ``now_ms`` — is not believed: the item is dated ``now_ms`` (the time
  it was first seen) and the feed's own date is kept in the index;
* ``countdown`` ids continue below the **numerically** lowest id (``999999`` after
  ``1000000``), new candidates oldest first, ties in feed order;
* ``post-id`` ids are ``0xFFFFF ^ p`` for the guid's ``?p=`` number; a second article that
  would land on an occupied id gets the lowest free id instead of overwriting.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import count

from .identity import guid_key, link_key, same_body, same_title
from .types import FIRST_ID, Candidate, Plan, Planned, Record, Skipped, Source, SourceIndex

_POST_NUMBER = re.compile(r"\?p=(\d+)")
MAX_POST_NUMBER = 10**18
"""Larger ``?p=`` numbers are not WordPress post ids (and would make absurd file names)."""
DAY_MS = 86_400_000
EARLIEST_BELIEVED_MS = 631_152_000_000
"""1990-01-01T00:00:00Z: older "dates" are sentinels (Hugo's ``0001-01-01``, Unix 0)."""
FUTURE_SLACK_MS = 2 * DAY_MS
MAX_BODY_CHECKS = 10


def believed_ms(ms: int | None, now_ms: int) -> int | None:
    """The feed's date when it can be true, else None (the item counts as undated)."""
    if ms is None or ms < EARLIEST_BELIEVED_MS or ms > now_ms + FUTURE_SLACK_MS:
        return None
    return ms


@dataclass(frozen=True, slots=True)
class _Story:
    """What a match is confirmed against: an archived record, or an earlier item of this feed."""

    id: int
    title: str
    body: str | None
    """The body of an item of this feed; None for an archived article (read only when needed)."""
    readable: bool = False
    """An archived article whose body is ``bodies[id]`` (not a legacy file under another name)."""


@dataclass(slots=True)
class _Identity:
    """Guid and link-key lookups, several stories per key (guids get reused)."""

    by_key: dict[str, list[_Story]] = field(default_factory=dict)

    def add(self, story: _Story, link: str, guid: str | None) -> None:
        for key in _keys(link, guid):
            self.by_key.setdefault(key, []).append(story)

    def matches(self, candidate: Candidate) -> list[_Story]:
        """Stories sharing the guid (first: the stronger hint) or the link key."""
        found: dict[int, _Story] = {}
        for key in _keys(candidate.link, candidate.guid):
            for story in self.by_key.get(key, ()):
                found.setdefault(story.id, story)
        return list(found.values())


@lru_cache(maxsize=1 << 16)  # a candidate is looked up in the feed, then in the archive
def _keys(link: str, guid: str | None) -> tuple[str, ...]:
    guid_part = (f"g {guid_key(guid)}",) if guid else ()
    return (*guid_part, f"l {link_key(link)}") if link else guid_part


@dataclass(frozen=True, slots=True)
class _Match:
    """The outcome of looking a candidate up: the same story, or only a shared guid/link."""

    same: _Story | None
    collided: _Story | None


def _look_up(candidate: Candidate, identity: _Identity, bodies: Mapping[int, str]) -> _Match:
    """The archived story ``candidate`` is, if any.  Bodies decide when both are there: a title
    can change while the story stays (a correction), and titles alike can head two stories
    (``Live: … updates``); without bodies, titles decide."""
    matches = identity.matches(candidate)
    for story in matches:  # the cheap test first: most matches have the very same title
        if story.title == candidate.title:
            return _Match(story, None)
    # A link shared by thousands of articles (a live blog's home page) must not read them all.
    for story in matches[:MAX_BODY_CHECKS]:
        body = bodies.get(story.id) if story.readable else story.body
        if body and candidate.body_html:
            if same_body(body, candidate.body_html):
                return _Match(story, None)
        elif same_title(story.title, candidate.title):
            return _Match(story, None)
    return _Match(None, matches[0] if matches else None)


def _archived_identity(index: SourceIndex) -> _Identity:
    identity = _Identity()
    for record in index.records.values():
        identity.add(_Story(record.id, record.title, None, readable=True), record.link, record.guid)
    for record in index.legacy:
        identity.add(_Story(record.id, record.title, None), record.link, record.guid)
    return identity


def decide(
    source: Source,
    index: SourceIndex,
    candidates: Iterable[Candidate],
    *,
    now_ms: int,
    bodies: Mapping[int, str] | None = None,
) -> Plan:
    """The plan for one source's candidates against its archive ``index``.

    ``bodies`` gives an archived article's body by id; it is read only for a candidate whose
    guid or link matches an article with a different title.
    """
    archived = bodies if bodies is not None else {}
    if source.ids == "post-id":
        return _decide_post_ids(source, index, list(candidates), now_ms, archived)
    return _decide_countdown(source, index, list(candidates), now_ms, archived)


@dataclass(slots=True)
class _Draft:
    """A plan being built."""

    fresh: list[Candidate] = field(default_factory=list)
    writes: list[Planned] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    collisions: list[str] = field(default_factory=list)
    known: int = 0

    def plan(self) -> Plan:
        return Plan(tuple(self.writes), self.known, tuple(self.skipped), tuple(self.collisions))


def _decide_countdown(
    source: Source, index: SourceIndex, candidates: list[Candidate], now_ms: int, bodies: Mapping[int, str]
) -> Plan:
    identity = _archived_identity(index)
    draft = _Draft()
    for candidate in _distinct(candidates, draft):
        match = _look_up(candidate, identity, bodies)
        if match.same is not None:
            draft.known += 1
            if source.refresh and match.same.id in index.records:
                draft.writes.append(_refresh(index.records[match.same.id], candidate, now_ms))
            continue
        if match.collided is not None:
            draft.collisions.append(_collision(candidate, match.collided))
        draft.fresh.append(candidate)
    draft.writes[:0] = _number(draft.fresh, _next_ids(index), now_ms, draft.skipped)
    return draft.plan()


def _distinct(candidates: list[Candidate], draft: _Draft) -> Iterator[Candidate]:
    """The candidates less repeats of an earlier item of the same feed (same key, same story)."""
    seen = _Identity()
    for candidate in candidates:
        match = _look_up(candidate, seen, {})
        if match.same is not None:
            draft.skipped.append(Skipped(candidate.label, "duplicate of an earlier item in the feed"))
            continue
        if match.collided is not None:
            draft.collisions.append(_collision(candidate, match.collided))
        story = _Story(candidate.position, candidate.title, candidate.body_html)
        seen.add(story, candidate.link, candidate.guid)
        yield candidate


def _collision(candidate: Candidate, other: _Story) -> str:
    what = f"item {other.id + 1}" if other.body is not None else f"article {other.id}"
    return (
        f"{candidate.label} shares its guid or link with {what} ({other.title[:80]}) "
        "but is a different article: archived as new"
    )


def _next_ids(index: SourceIndex) -> Iterator[int]:
    lowest = index.lowest_id()
    return iter(range((FIRST_ID if lowest is None else lowest) - 1, -1, -1))


def _number(fresh: list[Candidate], ids: Iterator[int], now_ms: int, skipped: list[Skipped]) -> list[Planned]:
    ordered = sorted(fresh, key=lambda c: _ms(c, None, now_ms))
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
    believed = believed_ms(candidate.ms, now_ms)
    if believed is not None:
        return believed
    if record is not None and record.ms is not None:
        return record.ms
    return now_ms


def _decide_post_ids(
    source: Source, index: SourceIndex, candidates: list[Candidate], now_ms: int, bodies: Mapping[int, str]
) -> Plan:
    identity = _archived_identity(index)
    taken = {*index.records, *(r.id for r in index.legacy)}
    draft = _Draft()
    for candidate in _distinct(candidates, draft):
        match = _look_up(candidate, identity, bodies)
        if match.same is not None:
            draft.known += 1
            if source.refresh and match.same.id in index.records:
                draft.writes.append(_refresh(index.records[match.same.id], candidate, now_ms))
            continue
        if match.collided is not None:
            draft.collisions.append(_collision(candidate, match.collided))
        article_id = _free_post_id(candidate, taken)
        taken.add(article_id)
        draft.writes.append(Planned(article_id, candidate, True, _ms(candidate, None, now_ms)))
    return draft.plan()


def post_id(guid: str | None) -> int:
    """``0xFFFFF ^ p`` for the ``?p=`` number of a WordPress guid, 0 without one (or for a
    number too large to be a post id)."""
    match = _POST_NUMBER.search(guid or "")
    if match is None or len(match.group(1)) > 19 or int(match.group(1)) >= MAX_POST_NUMBER:
        return 0
    return FIRST_ID ^ int(match.group(1))


def _free_post_id(candidate: Candidate, taken: set[int]) -> int:
    wanted = post_id(candidate.guid)
    if wanted not in taken:
        return wanted
    return next(i for i in count() if i not in taken)
