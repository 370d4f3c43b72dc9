"""``MemoryStore``: the simplest ``ArchiveStore`` — everything in dicts.

The reference the contract tests hold every store to, and a store for tools that archive
nothing (a dry run, a test of the pipeline without a tree).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import replace

from ..archive_format import UNDATED, article_body, content_hash, day_of, list_title, month_of, render_article
from ..exceptions import StorageError
from ..identity import identity_keys
from ..schedule import SourceState
from ..types import Article, Known, Mark, Record, Revision, SourceSummary
from .lines import listed


class MemoryStore:
    def __init__(self) -> None:
        self._id = f"urn:uuid:{uuid.uuid4()}"
        self._states: dict[str, SourceState] = {}
        self.lasting_states: dict[str, SourceState] = {}
        """What ``save_states`` was told to keep in every copy (for tests of that rule)."""
        self._records: dict[str, dict[int, Record]] = defaultdict(dict)
        self._texts: dict[tuple[str, int], str] = {}
        self._revisions: dict[tuple[str, int], list[Revision]] = defaultdict(list)
        self._marks: dict[tuple[str, int], list[Mark]] = defaultdict(list)

    def archive_id(self) -> str:
        return self._id

    def load_states(self, *, lasting: bool = False) -> dict[str, SourceState]:
        return dict(self.lasting_states if lasting else self._states)

    def save_states(self, states: Mapping[str, SourceState], *, lasting: bool) -> None:
        self._states = dict(states)
        if lasting:
            self.lasting_states = dict(states)

    def summary(self, slug: str) -> SourceSummary:
        records = self._records.get(slug, {})
        months: dict[str, int] = defaultdict(int)
        for record in records.values():
            months[record.month or UNDATED] += 1
        return SourceSummary(
            articles=len(records),
            lowest_id=min(records, default=None),
            listed=listed(records.values()),
            months=dict(sorted(months.items())),
        )

    def known(self, slug: str, keys: Collection[str], ids: Collection[int], free: int) -> Known:
        records = self._records.get(slug, {})
        wanted = set(keys)
        found = {i: r for i, r in records.items() if wanted & set(identity_keys(r.link, r.guid))}
        found.update({i: records[i] for i in ids if i in records})
        taken = frozenset(i for i in ids if i in records)
        free_ids = tuple(i for i in range(len(records) + free) if i not in records)[:free]
        return Known(found, (), min(records, default=None), taken, free_ids)

    def body(self, slug: str, article_id: int) -> str | None:
        text = self._texts.get((slug, article_id))
        return None if text is None else article_body(text)

    def add(self, slug: str, articles: Sequence[Article], *, feed_dates: Mapping[int, str]) -> None:
        records = self._records[slug]
        taken = sorted(a.id for a in articles if a.id in records)
        if taken or len({a.id for a in articles}) < len(articles):
            raise StorageError(f"memory: {slug}: refusing to overwrite archived article(s) {_ids(taken)}")
        for article in articles:
            text = render_article(article)
            records[article.id] = _record(article, text, feed_dates.get(article.id), None)
            self._texts[(slug, article.id)] = text

    def replace(self, slug: str, articles: Sequence[Article], *, seen_ms: int) -> tuple[int, ...]:
        records = self._records.get(slug, {})
        missing = sorted(a.id for a in articles if a.id not in records)
        if missing:
            raise StorageError(f"memory: {slug}: no archived article {_ids(missing)} to replace")
        changed = []
        for article in articles:
            text, old = render_article(article), self._texts[(slug, article.id)]
            if text == old:
                continue
            before = records[article.id]
            self._revisions[(slug, article.id)].append(
                Revision(article.id, seen_ms, content_hash(old), before.title, old)
            )
            records[article.id] = _record(article, text, before.feed_date, before)
            self._texts[(slug, article.id)] = text
            changed.append(article.id)
        return tuple(changed)

    def remember(self, slug: str, feed_shas: Mapping[int, str]) -> None:
        records = self._records.get(slug, {})
        for article_id, sha in feed_shas.items():
            if article_id in records:
                records[article_id] = replace(records[article_id], feed_sha=sha)

    def records(self, slug: str, month: str | None = None) -> Iterator[Record]:
        for record in list(self._records.get(slug, {}).values()):
            if month is None or (record.month or UNDATED) == month:
                yield record

    def revisions(self, slug: str, article_id: int) -> tuple[Revision, ...]:
        return tuple(self._revisions.get((slug, article_id), ()))

    def mark(self, slug: str, mark: Mark) -> None:
        if mark.article_id not in self._records.get(slug, {}):
            raise StorageError(f"memory: {slug}: no archived article {mark.article_id} to mark")
        self._marks[(slug, mark.article_id)].append(mark)

    def marks(self, slug: str, article_id: int) -> tuple[Mark, ...]:
        return tuple(self._marks.get((slug, article_id), ()))


def _ids(ids: list[int]) -> str:
    return ", ".join(map(str, ids))


def _record(article: Article, text: str, feed_date: str | None, before: Record | None) -> Record:
    """The record of ``article``; a rewritten one keeps the month and day it was filed under."""
    return replace(
        Record(article.id, article.ms, list_title(text), article.link, article.guid),
        feed_date=feed_date,
        sha=content_hash(text),
        month=before.month if before is not None else month_of(article.ms),
        day=before.day if before is not None else day_of(article.ms),
        feed_sha=article.feed_sha,
        body_from=article.body_from,
    )
