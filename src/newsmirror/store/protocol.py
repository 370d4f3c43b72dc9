"""The one storage seam: everything else reads and writes the archive through ``ArchiveStore``.

Values in, values out: sources' state, articles with their identity (guid, link, timestamp,
title, content hash), earlier revisions and marks.  How they are kept is the implementation's
business — files in a git working tree (``TreeStore``, the truth of an archive), memory
(``MemoryStore``, the reference the contract tests hold every store to), later a database
with many workers.  Pages (lists, README, status) are not stored: they are rendered from a
store after it has been written (``render.pages``).
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from typing import Protocol

from ..schedule import SourceState
from ..types import Article, Known, Mark, Record, Revision, SourceSummary


class ArchiveStore(Protocol):
    """Where an archive's articles and state live.

    Every method raises ``StorageError`` (naming what and why) when the archive cannot be read
    or written; nothing else, for a store that is readable.
    """

    def archive_id(self) -> str:
        """A stable identifier of this archive, the same in every copy. Raises: StorageError."""
        ...

    # -- sources' state --------------------------------------------------------------------

    def load_states(self, *, lasting: bool = False) -> dict[str, SourceState]:
        """Each source's state (validators, failures, schedule) as last saved; ``lasting``: as
        last saved to be kept in every copy.  Raises: StorageError."""
        ...

    def save_states(self, states: Mapping[str, SourceState], *, lasting: bool) -> None:
        """Remember ``states``.  ``lasting``: worth keeping in every copy of the archive (a new
        article, a failure, a schedule change, or validators a day old) — otherwise they may be
        kept on this machine alone.  Raises: StorageError."""
        ...

    # -- articles --------------------------------------------------------------------------

    def summary(self, slug: str) -> SourceSummary:
        """``slug`` in brief: count, lowest id, newest dates, the records its list shows.

        Raises: StorageError.
        """
        ...

    def known(self, slug: str, keys: Collection[str], ids: Collection[int], free: int) -> Known:
        """What ``slug`` has that bears on a feed: the records (and legacy records) found by any
        of the identity ``keys``, which of ``ids`` are taken, the lowest id and the ``free``
        lowest unused ids.  Costs what is asked, not what is archived.  Raises: StorageError."""
        ...

    def body(self, slug: str, article_id: int) -> str | None:
        """The archived body HTML of an article; None when there is no such article.

        Raises: StorageError.
        """
        ...

    def add(self, slug: str, articles: Sequence[Article], *, feed_dates: Mapping[int, str]) -> None:
        """Store new articles (``feed_dates``: the feed's own date where it was not believed).

        Raises: StorageError — also, before anything is written, when one of their ids is
        already taken (an archived article is never replaced by another).
        """
        ...

    def replace(self, slug: str, articles: Sequence[Article], *, seen_ms: int) -> tuple[int, ...]:
        """Rewrite archived articles with new content of the same articles; the content each
        had is kept as a ``Revision`` seen ``seen_ms``.  Returns the ids whose content changed
        (an unchanged article is not rewritten).  Raises: StorageError (also for an id that is
        not archived)."""
        ...

    def remember(self, slug: str, feed_shas: Mapping[int, str]) -> None:
        """Remember the feed body hash each of these archived articles was found to be (a
        record from before hashes were kept): the same item is then known without reading
        its file.  Ids not archived are passed over.  Raises: StorageError."""
        ...

    def records(self, slug: str, month: str | None = None) -> Iterator[Record]:
        """Every record of ``slug`` (or of one month, ``YYYY-MM`` or ``undated``), in no order.

        Reads what is asked: a whole source costs what it holds.  Raises: StorageError.
        """
        ...

    def revisions(self, slug: str, article_id: int) -> tuple[Revision, ...]:
        """Earlier contents of an article, oldest first. Raises: StorageError."""
        ...

    def mark(self, slug: str, mark: Mark) -> None:
        """Note something about an archived article. Raises: StorageError (no such article)."""
        ...

    def marks(self, slug: str, article_id: int) -> tuple[Mark, ...]:
        """What was noted about an article, oldest first. Raises: StorageError."""
        ...
