"""Store stage: the ``ArchiveStore`` protocol and its git-working-tree implementation."""

from .protocol import ArchiveStore
from .repo import RepoStore

__all__ = ["ArchiveStore", "RepoStore"]
