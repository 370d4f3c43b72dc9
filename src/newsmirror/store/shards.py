"""Reading a source's state shards: identity keys, month records, legacy records, and the
records a feed's keys find (what ``TreeStore`` looks up, in files the checkout may leave out)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Final

from ..archive_format import UNDATED
from ..types import Record
from . import lines as L
from .files import TreeFiles

STATE_DIR: Final = ".newsmirror"


class Shards:
    """The state shards under ``files``' tree."""

    def __init__(self, files: TreeFiles) -> None:
        self.files = files

    def prefetch_for_new(
        self, slug: str, meta: L.Meta, asked: Sequence[str], found: Sequence[Record]
    ) -> None:
        """In a checkout that leaves the state out, download together what storing new
        articles will read: the key shards of the ids numbering would give them next (below
        the lowest) and the newest month's records — one request instead of one each later."""
        matched = {key for record in found for key in L.record_keys(record)}
        new = sum(1 for key in asked if key not in matched)  # at most this many new articles
        lowest, months = meta.summary.lowest_id, meta.summary.months
        if not new or lowest is None:
            return
        ids = [L.id_key(lowest - 1 - n) for n in range(min(new, lowest))]
        shards = {L.shard_name(L.key_hash(key), meta.digits) for key in ids}
        newest = [max(m for m in months if m != UNDATED)] if any(m != UNDATED for m in months) else []
        self.files.prefetch(
            [
                *(f"{STATE_DIR}/keys/{slug}/{shard}" for shard in sorted(shards)),
                *(f"{STATE_DIR}/records/{slug}/{month}.jsonl" for month in newest),
            ]
        )

    def find_many(self, slug: str, meta: L.Meta, keys: Iterable[str]) -> list[Record]:
        """The records found by any of ``keys`` (the hash confirmed against the record itself)."""
        wanted = set(keys)
        by_shard: dict[str, set[str]] = defaultdict(set)
        for hashed in {L.key_hash(key) for key in wanted}:
            by_shard[L.shard_name(hashed, meta.digits)].add(hashed)
        places: set[tuple[int, str]] = set()
        self.files.prefetch(f"{STATE_DIR}/keys/{slug}/{shard}" for shard in by_shard)
        for shard, hashes in by_shard.items():
            places.update((k.id, k.month) for k in self.key_shard(slug, shard) if k.hashed in hashes)
        # the summary keeps the newest records as their month shards hold them: what a feed
        # carries again is found there, and its month shard is not read (nor downloaded); one
        # without a feed hash may have learnt it in its shard before summaries kept it
        listed = {(r.id, r.month or UNDATED): r for r in meta.summary.listed if r.path is None and r.feed_sha}
        months: dict[str, dict[int, Record]] = {}
        found: dict[int, Record] = {}
        unlisted = sorted(place for place in places if place not in listed)
        self.files.prefetch(
            f"{STATE_DIR}/records/{slug}/{m}.jsonl" for _, m in unlisted if m != L.LEGACY_MONTH
        )
        for article_id, month in sorted(places):
            record = listed.get((article_id, month))
            if record is None:
                if month not in months:
                    months[month] = self.month(slug, month)
                record = months[month].get(article_id)
            if record is not None and not wanted.isdisjoint(L.record_keys(record)):
                found[record.id] = record
        return list(found.values())

    def key_shard(self, slug: str, shard: str) -> list[L.KeyLine]:
        where = f"{STATE_DIR}/keys/{slug}/{shard}"
        text = self.files.read(where)
        return [] if text is None else list(L.parse_key_lines(text, where))

    def month(self, slug: str, month: str) -> dict[int, Record]:
        if month == L.LEGACY_MONTH:
            return {r.id: r for r in self.legacy(slug)}
        where = f"{STATE_DIR}/records/{slug}/{month}.jsonl"
        text = self.files.read(where)
        return {} if text is None else {r.id: r for r in L.parse_records(text, where, month)}

    def legacy(self, slug: str) -> list[Record]:
        """Legacy records whose file still exists (the tree is the truth)."""
        where = f"{STATE_DIR}/legacy/{slug}.jsonl"
        text = self.files.read(where)
        if text is None:
            return []
        records = L.parse_records(text, where, None)
        return [r for r in records if r.path is not None and self.files.exists(r.path)]
