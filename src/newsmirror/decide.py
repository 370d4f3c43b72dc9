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

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from .identity import BodyOf, Identity, Match, Story, feed_body_hash, identity_keys, no_body, post_number
from .types import FIRST_ID, Candidate, Known, Plan, Planned, Record, Skipped, Source, SourceIndex

DAY_MS = 86_400_000
EARLIEST_BELIEVED_MS = 631_152_000_000
"""1990-01-01T00:00:00Z: older "dates" are sentinels (Hugo's ``0001-01-01``, Unix 0)."""
FUTURE_SLACK_MS = 2 * DAY_MS


def believed_ms(ms: int | None, now_ms: int) -> int | None:
    """The feed's date when it can be true, else None (the item counts as undated)."""
    if ms is None or ms < EARLIEST_BELIEVED_MS or ms > now_ms + FUTURE_SLACK_MS:
        return None
    return ms


def decide(
    source: Source,
    index: Known | SourceIndex,
    candidates: Iterable[Candidate],
    *,
    now_ms: int,
    bodies: BodyOf | None = None,
) -> Plan:
    """The plan for one source's candidates against what the archive knows of them.

    ``index`` is what ``ArchiveStore.known`` gave for these candidates (or a whole
    ``SourceIndex``).  ``bodies`` reads an archived article's body by id; it is called only to
    confirm a doubtful match (``identity.Identity``).
    """
    archived = bodies if bodies is not None else no_body
    wanted = list(candidates)
    known = index.known(len(wanted)) if isinstance(index, SourceIndex) else index
    if source.ids == "post-id":
        return _decide_post_ids(source, known, wanted, now_ms, archived)
    return _decide_countdown(source, known, wanted, now_ms, archived)


def keys_asked(source: Source, candidates: Iterable[Candidate]) -> tuple[set[str], set[int]]:
    """The identity keys and ids ``decide`` needs known for ``candidates`` (``ArchiveStore.known``)."""
    keys: set[str] = set()
    ids: set[int] = set()
    for candidate in candidates:
        keys.update(identity_keys(candidate.link, candidate.guid))
        if source.ids == "post-id":
            ids.add(post_id(candidate.guid))
    return keys, ids


@dataclass(slots=True)
class _Draft:
    """A plan being built."""

    writes: list[Planned] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    collisions: list[str] = field(default_factory=list)
    known: int = 0
    learned: dict[int, str] = field(default_factory=dict)
    matched: set[int] = field(default_factory=set)
    """Archived ids an item of this feed was found to be: a second item is a repeat of it."""

    def look_up(self, candidate: Candidate, identity: Identity, in_feed: Story | None) -> Match | None:
        """The match, or None when this archived article was already matched by an earlier item
        (reported as a repeat: one article gets one write).  ``in_feed``: an earlier item of the
        feed that shares a key but is another story, reported if this one is archived as new."""
        match = identity.look_up(candidate)
        if match.same is not None and match.same.id in self.matched:
            self.skipped.append(Skipped(candidate.label, "duplicate of an earlier item in the feed"))
            return None
        other = match.collided or in_feed
        if match.same is not None:
            self.matched.add(match.same.id)
        elif other is not None:
            self.collisions.append(_collision(candidate, other))
        return match

    def plan(self) -> Plan:
        return Plan(tuple(self.writes), self.known, tuple(self.skipped), tuple(self.collisions), self.learned)


def _decide_countdown(
    source: Source, index: Known, candidates: list[Candidate], now_ms: int, bodies: BodyOf
) -> Plan:
    draft = _Draft()
    fresh = list(_unseen(source, index, candidates, now_ms, bodies, draft))
    draft.writes[:0] = _number(fresh, _next_ids(index), now_ms, draft.skipped)
    return draft.plan()


def _unseen(
    source: Source,
    index: Known,
    candidates: list[Candidate],
    now_ms: int,
    bodies: BodyOf,
    draft: _Draft,
) -> Iterator[Candidate]:
    """The candidates the archive does not have; known ones are counted (and refreshed, where
    the source asks for it) in ``draft``, repeats and collisions noted there."""
    identity = Identity.of_archive(source, index, bodies)
    for candidate, in_feed in _distinct(source, candidates, draft):
        match = draft.look_up(candidate, identity, in_feed)
        if match is None:
            continue
        if match.same is None:
            yield candidate
            continue
        draft.known += 1
        if match.same.readable and match.same.feed_sha is None:
            draft.learned[match.same.id] = feed_body_hash(candidate.body_html)
        if source.refresh and match.same.id in index.records:
            draft.writes.append(_refresh(index.records[match.same.id], candidate, now_ms))


def _distinct(
    source: Source, candidates: list[Candidate], draft: _Draft
) -> Iterator[tuple[Candidate, Story | None]]:
    """The candidates less repeats of an earlier item of the same feed (same key, same story),
    each with the earlier item it shares a key with but is not (if any)."""
    seen = Identity.of_feed(source)
    for candidate in candidates:
        match = seen.look_up(candidate)
        if match.same is not None:
            draft.skipped.append(Skipped(candidate.label, "duplicate of an earlier item in the feed"))
            continue
        seen.add_item(candidate)
        yield candidate, match.collided


def _collision(candidate: Candidate, other: Story) -> str:
    what = f"item {other.id + 1}" if other.in_feed else f"article {other.id}"
    return (
        f"{candidate.label} shares its guid or link with {what} ({other.title[:80]}) "
        "but is a different article: archived as new"
    )


def _next_ids(index: Known) -> Iterator[int]:
    lowest = index.lowest_id
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
    source: Source, index: Known, candidates: list[Candidate], now_ms: int, bodies: BodyOf
) -> Plan:
    taken = {*index.taken, *index.records, *(r.id for r in index.legacy)}
    draft = _Draft()
    for candidate in _unseen(source, index, candidates, now_ms, bodies, draft):
        article_id = _free_post_id(candidate, taken, index.free_ids)
        taken.add(article_id)
        draft.writes.append(Planned(article_id, candidate, True, _ms(candidate, None, now_ms)))
    return draft.plan()


def post_id(guid: str | None) -> int:
    """``0xFFFFF ^ p`` for the ``?p=`` number of a WordPress guid, 0 without one (or for a
    number too large to be a post id)."""
    number = post_number(guid)
    return 0 if number is None else FIRST_ID ^ number


def _free_post_id(candidate: Candidate, taken: set[int], free: tuple[int, ...]) -> int:
    wanted = post_id(candidate.guid)
    if wanted not in taken:
        return wanted
    # ``free`` holds as many ids as there are candidates: each candidate takes at most one
    return next(i for i in free if i not in taken)
