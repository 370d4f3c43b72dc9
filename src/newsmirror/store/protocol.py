"""The one storage seam.  Everything else talks to the archive through this protocol."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from ..types import Record, SourceIndex


class ArchiveStore(Protocol):
    """Where articles, list pages and the state needed to continue an archive live.

    Every method raises ``StorageError`` (naming the path and cause) when the archive cannot
    be read or written.
    """

    def load_index(self, slug: str) -> SourceIndex:
        """Every article of ``slug``: from the saved index, reconciled with the files present.

        Raises: StorageError.
        """
        ...

    def save_index(self, slug: str, index: SourceIndex) -> None:
        """Persist ``index`` (as text inside the archive). Raises: StorageError."""
        ...

    def save_legacy(self, slug: str, records: Iterable[Record]) -> None:
        """Persist the records of ``slug``'s article files kept elsewhere (2020-era names).

        Raises: StorageError.
        """
        ...

    def read_article(self, slug: str, article_id: int) -> str | None:
        """The article file's text, or None when there is none. Raises: StorageError."""
        ...

    def create_article(self, slug: str, article_id: int, text: str) -> None:
        """Write a new article file; refuses to replace an existing one.

        Raises: StorageError (also when the file already exists).
        """
        ...

    def replace_article(self, slug: str, article_id: int, text: str) -> None:
        """Rewrite an existing article's file with new content of the same article.

        Raises: StorageError.
        """
        ...

    def write_page(self, relative: str, text: str) -> bool:
        """Write a generated page (list, README) if its bytes differ; True when written.

        Raises: StorageError.
        """
        ...

    def archive_id(self) -> str:
        """A stable identifier of this archive (the same in every clone). Raises: StorageError."""
        ...

    def load_status(self) -> Mapping[str, Any]:
        """Per-source outcome of the last fetch. Raises: StorageError."""
        ...

    def save_status(self, status: Mapping[str, Any]) -> None:
        """Persist the per-source outcomes. Raises: StorageError."""
        ...
