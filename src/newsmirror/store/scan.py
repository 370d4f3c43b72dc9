"""Reading a source's article files and whatever state still reads: what ``TreeStore.reindex``
rebuilds the state from (the tree is the truth)."""

from __future__ import annotations

import os
from pathlib import Path

from ..archive_format import ARTICLE_NAME, Layout
from ..exceptions import StorageError
from ..types import Record
from . import lines as L
from .files import TreeFiles
from .head import Committed

STATE_DIR = ".newsmirror"
V1_INDEX = f"{STATE_DIR}/index"
"""The single-file index of each source that versions before 0.9 kept."""


def readable_records(files: TreeFiles, slug: str) -> dict[int, Record]:
    """Records from the state files that still read (an older version's index included)."""
    kept: dict[int, Record] = {}
    folder = f"{STATE_DIR}/records/{slug}"
    months = [p for p in files.files_under(folder) if p.endswith(".jsonl") and p.count("/") == 3]
    sources = [f"{V1_INDEX}/{slug}.jsonl", *months]
    files.prefetch(sources)
    for relative in sources:
        text = files.read(relative)
        month = None if relative.startswith(V1_INDEX) else Path(relative).stem
        for line in (text or "").split("\n"):
            try:
                kept.update((r.id, r) for r in L.parse_records(line, relative, month))
            except L.DamagedLine:
                continue
    return kept


def article_files(files: TreeFiles, head: Committed, slug: str, layout: Layout) -> list[tuple[int, str]]:
    """(id, path) of every article file of ``slug``: in the working tree, and those git tracks
    that a sparse checkout leaves out."""
    found = dict(_tree_files(files, slug, layout))
    for relative in head.tracked(f"articles/{slug}/"):
        match = ARTICLE_NAME.match(relative.rsplit("/", 1)[-1])
        depth = relative.count("/")
        if match and relative not in found.values() and (depth == 2 or layout == "monthly"):
            found.setdefault(int(match.group(1)), relative)
    return sorted(found.items())


def _tree_files(files: TreeFiles, slug: str, layout: Layout) -> list[tuple[int, str]]:
    base = files.path(f"articles/{slug}")
    if not base.exists():
        return []
    if not base.is_dir():
        raise StorageError(f"{base}: cannot list articles: not a folder")
    found = []
    try:
        for dirpath, dirnames, filenames in os.walk(base, onerror=_raise):
            dirnames[:] = [d for d in dirnames if layout == "monthly" and not d.startswith(".")]
            for name in filenames:
                match = ARTICLE_NAME.match(name)
                if match:
                    relative = Path(dirpath, name).relative_to(files.root).as_posix()
                    found.append((int(match.group(1)), relative))
    except OSError as e:
        raise StorageError(f"{base}: cannot list articles: {e}") from e
    return sorted(found)


def _raise(error: OSError) -> None:
    raise error


def filed_under(relative: str) -> tuple[str | None, int | None]:
    """The month and day an article of the monthly layout is filed under, by its path."""
    parts = relative.split("/")
    if len(parts) == 6 and parts[2].isdigit() and parts[3].isdigit() and parts[4].isdigit():
        return f"{parts[2]}-{parts[3]}", int(parts[4])
    return None, None
