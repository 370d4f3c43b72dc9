"""Store stage: the ``ArchiveStore`` protocol, the git-tree store (the truth) and a memory store."""

from .memory import MemoryStore
from .protocol import ArchiveStore
from .tree import TreeStore

__all__ = ["ArchiveStore", "MemoryStore", "TreeStore"]
