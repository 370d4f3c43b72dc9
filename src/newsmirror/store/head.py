"""What HEAD holds, for a store whose working tree may not hold it all (a sparse checkout)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol


class Committed(Protocol):
    """What HEAD holds, for files the working tree does not (a sparse checkout has no articles)."""

    def committed(self, relative: str) -> bytes | None:
        """The file's bytes at HEAD; None when HEAD has no such file."""
        ...

    def tracked(self, prefix: str) -> list[str]:
        """The paths under ``prefix`` git tracks that the checkout leaves out (sparse)."""
        ...

    def in_head(self, paths: Sequence[str]) -> set[str]:
        """Those of ``paths`` that HEAD holds."""
        ...


class NothingCommitted:
    """A folder without git: the working tree is all there is."""

    def committed(self, relative: str) -> bytes | None:
        del relative
        return None

    def tracked(self, prefix: str) -> list[str]:
        del prefix
        return []

    def in_head(self, paths: Sequence[str]) -> set[str]:
        del paths
        return set()
