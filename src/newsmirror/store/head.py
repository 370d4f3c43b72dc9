"""What HEAD holds, for a store whose working tree may not hold it all (a sparse checkout)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol


class Committed(Protocol):
    """What HEAD holds, for files the working tree does not (a sparse checkout has no articles,
    and the generated workflow's has only the sources' summaries)."""

    @property
    def leaves_out(self) -> bool:
        """Whether the checkout leaves committed files out: then a file the tree lacks is
        read from HEAD, not taken as gone."""
        ...

    def committed(self, relative: str) -> bytes | None:
        """The file's bytes at HEAD; None when HEAD has no such file."""
        ...

    def blobs(self, paths: Sequence[str]) -> dict[str, bytes]:
        """HEAD's bytes of those of ``paths`` it holds, all fetched at once. Raises StorageError."""
        ...

    def entries(self, paths: Sequence[str]) -> dict[str, tuple[str, str]]:
        """HEAD's ``(type, object id)`` of those of ``paths`` it holds, no file read."""
        ...

    def listing(self, folder: str) -> set[str]:
        """The names directly in ``folder`` at HEAD."""
        ...

    def names(self, folder: str) -> list[str]:
        """Every file under ``folder`` at HEAD, as paths from the root."""
        ...

    def tracked(self, prefix: str) -> list[str]:
        """The paths under ``prefix`` git tracks that the checkout leaves out (sparse)."""
        ...

    def in_head(self, paths: Sequence[str]) -> set[str]:
        """Those of ``paths`` that HEAD holds."""
        ...


class NothingCommitted:
    """A folder without git: the working tree is all there is."""

    leaves_out = False

    def committed(self, relative: str) -> bytes | None:
        del relative
        return None

    def blobs(self, paths: Sequence[str]) -> dict[str, bytes]:
        del paths
        return {}

    def entries(self, paths: Sequence[str]) -> dict[str, tuple[str, str]]:
        del paths
        return {}

    def listing(self, folder: str) -> set[str]:
        del folder
        return set()

    def names(self, folder: str) -> list[str]:
        del folder
        return []

    def tracked(self, prefix: str) -> list[str]:
        del prefix
        return []

    def in_head(self, paths: Sequence[str]) -> set[str]:
        del paths
        return set()
