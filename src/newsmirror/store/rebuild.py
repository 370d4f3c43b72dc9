"""A source's state rebuilt from its records as they are read, in bounded memory.

``reindex`` reads every article file of a source; holding all their records, then all their
key lines, would cost about 1 KB an article (467 MB for a source of 400,000).  ``Spill``
writes each record's month line and key lines to temporary files as it comes, keeps only what
the summary needs (counts, months, the 300 newest and the 300 lowest ids), and afterwards
turns one month and one sixteenth of the keys at a time into the state files.
"""

from __future__ import annotations

import heapq
import sys
import tempfile
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from types import TracebackType
from typing import IO

from ..archive_format import UNDATED, newest_first
from ..exceptions import StorageError
from ..types import Record, SourceSummary
from . import lines as L

_TRIM_AT = 10 * L.LISTED
"""Records the summary's candidates may number before they are cut back to the 300 of each order."""


class Spill:
    """Records of one source, spilled to a temporary folder in ``under`` (None: the system's)."""

    def __init__(self, under: Path | None) -> None:
        self._stack = ExitStack()
        try:
            if under is not None:
                under.mkdir(parents=True, exist_ok=True)
            self._folder = Path(self._stack.enter_context(tempfile.TemporaryDirectory(dir=under)))
        except OSError as e:
            raise StorageError(f"{under}: cannot make a temporary folder: {e}") from e
        self._months: dict[str, IO[str]] = {}
        self._buckets: dict[str, IO[str]] = {}
        self.articles = 0
        self.key_lines = 0
        self.lowest_id: int | None = None
        self.month_counts: Counter[str] = Counter()
        self._newest: list[Record] = []
        self._lowest: list[Record] = []

    def __enter__(self) -> Spill:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._stack.close()

    def add(self, record: Record) -> None:
        """An article's record: its month line, its key lines, its part in the summary."""
        month = sys.intern(record.month or UNDATED)
        self._write(self._months, f"m-{month}", L.record_line(record))
        self._add_keys(record)
        self.articles += 1
        self.lowest_id = record.id if self.lowest_id is None else min(self.lowest_id, record.id)
        self.month_counts[month] += 1
        self._newest.append(record)
        self._lowest.append(record)
        if len(self._newest) > _TRIM_AT:
            self._trim()

    def add_legacy(self, record: Record) -> None:
        """A legacy record (kept in its own file, counted, never listed): its key lines."""
        self.articles += 1
        self.lowest_id = record.id if self.lowest_id is None else min(self.lowest_id, record.id)
        self._add_keys(record)

    def _add_keys(self, record: Record) -> None:
        for line in L.key_lines(record):
            self._write(self._buckets, f"k-{line.hashed[0]}", line.text())
            self.key_lines += 1

    def _trim(self) -> None:
        # nsmallest is sorted()[:n], ties in the order given: the same 300 as sorting them all
        self._newest = heapq.nsmallest(L.LISTED, self._newest, key=newest_first)
        self._lowest = heapq.nsmallest(L.LISTED, self._lowest, key=lambda r: r.id)

    def summary(self) -> SourceSummary:
        self._trim()
        return SourceSummary(
            articles=self.articles,
            lowest_id=self.lowest_id,
            listed=L.listed([*self._newest, *self._lowest]),
            months=dict(sorted(self.month_counts.items())),
        )

    def months(self) -> Iterator[tuple[str, str]]:
        """Each month and its shard's text, one month at a time."""
        for name in sorted(self._months):
            month = name.removeprefix("m-")
            records = L.parse_records(self._read(self._months, name), f"{self._folder}/{name}", month)
            yield month, L.records_text(records)

    def key_shards(self, digits: int) -> Iterator[tuple[str, str]]:
        """Each key shard's name and text at ``digits``, a sixteenth of the keys at a time."""
        for name in sorted(self._buckets):
            by_shard: dict[str, list[L.KeyLine]] = defaultdict(list)
            for line in L.parse_key_lines(self._read(self._buckets, name), f"{self._folder}/{name}"):
                by_shard[L.shard_name(line.hashed, digits)].append(line)
            for shard in sorted(by_shard):
                yield shard, L.key_text(by_shard[shard])

    def _write(self, files: dict[str, IO[str]], name: str, text: str) -> None:
        out = files.get(name)
        try:
            if out is None:
                out = files[name] = self._stack.enter_context(
                    open(self._folder / name, "w", encoding="utf-8", newline="")  # noqa: SIM115 - the stack closes it
                )
            out.write(text)
        except OSError as e:
            raise StorageError(f"{self._folder / name}: cannot write: {e}") from e

    def _read(self, files: dict[str, IO[str]], name: str) -> str:
        try:
            files[name].flush()
            return (self._folder / name).read_text(encoding="utf-8")
        except OSError as e:
            raise StorageError(f"{self._folder / name}: cannot read: {e}") from e
