"""Reading a source's article files and whatever state still reads: what ``TreeStore.reindex``
rebuilds the state from (the tree is the truth)."""

from __future__ import annotations

import itertools
import os
from array import array
from collections.abc import Callable, Iterator
from pathlib import Path

from ..archive_format import ARTICLE_NAME, Layout
from ..exceptions import StorageError
from ..types import Record
from . import lines as L
from .files import TreeFiles
from .head import Committed

STATE_DIR = ".newsmirror"
V1_INDEX = f"{STATE_DIR}/index"
"""The single-file index of each source that state format 1 kept (before the shards)."""


def readable_records(
    files: TreeFiles, slug: str, keep: Callable[[Record], Record] | None = None
) -> dict[int, Record]:
    """Records from the state files that still read (an older version's index included), each
    as ``keep`` makes it (what of it a reindex needs), read a few shards at a time."""
    kept: dict[int, Record] = {}
    folder = f"{STATE_DIR}/records/{slug}"
    months = [p for p in files.files_under(folder) if p.endswith(".jsonl") and p.count("/") == 3]
    sources = [f"{V1_INDEX}/{slug}.jsonl", *months]
    for start in range(0, len(sources), _SHARDS_AT_ONCE):
        chunk = sources[start : start + _SHARDS_AT_ONCE]
        files.prefetch(chunk)  # a checkout that leaves them out downloads a batch in one request
        for relative in chunk:
            text = files.read(relative)
            files.forget(relative)
            month = None if relative.startswith(V1_INDEX) else Path(relative).stem
            for line in (text or "").split("\n"):
                try:
                    records = list(L.parse_records(line, relative, month))
                except L.DamagedLine:
                    continue
                kept.update((r.id, r if keep is None else keep(r)) for r in records)
    return kept


_SHARDS_AT_ONCE = 64


class ArticleFiles:
    """The article files of a source, held compactly: the ids in each folder (a million paths
    as strings would take 200 MB)."""

    def __init__(self) -> None:
        self._folders: dict[str, array[int]] = {}

    def add(self, folder: str, article_id: int) -> None:
        if folder not in self._folders:
            self._folders[folder] = array("q")
        self._folders[folder].append(article_id)

    def ids(self) -> set[int]:
        return {i for ids in self._folders.values() for i in ids}

    def __iter__(self) -> Iterator[tuple[int, str]]:
        """(id, path) of each; an id found in two folders (a copy made by hand) counts once,
        in the folder that sorts last."""
        chosen = self._chosen_for_duplicates()
        for folder, ids in self._folders.items():
            for article_id in ids:
                if chosen.get(article_id, folder) == folder:
                    yield article_id, f"{folder}/{article_id}.md"

    def _chosen_for_duplicates(self) -> dict[int, str]:
        if len(self._folders) < 2:
            return {}
        every = sorted(i for ids in self._folders.values() for i in ids)
        twice = {a for a, b in itertools.pairwise(every) if a == b}
        del every
        chosen: dict[int, str] = {}
        for folder, ids in self._folders.items():
            for article_id in twice.intersection(ids):
                chosen[article_id] = max(folder, chosen.get(article_id, folder))
        return chosen


def article_files(files: TreeFiles, head: Committed, slug: str, layout: Layout) -> ArticleFiles:
    """Every article file of ``slug``: in the working tree, and those git tracks that a sparse
    checkout leaves out."""
    found = _tree_files(files, slug, layout)
    left_out = head.tracked(f"articles/{slug}/")
    present = found.ids() if left_out else set()
    for relative in left_out:
        folder, _, name = relative.rpartition("/")
        match = ARTICLE_NAME.match(name)
        if match and (relative.count("/") == 2 or layout == "monthly"):
            article_id = int(match.group(1))
            if article_id not in present:
                present.add(article_id)
                found.add(folder, article_id)
    return found


def _tree_files(files: TreeFiles, slug: str, layout: Layout) -> ArticleFiles:
    found = ArticleFiles()
    base = files.path(f"articles/{slug}")
    if not base.exists():
        return found
    if not base.is_dir():
        raise StorageError(f"{base}: cannot list articles: not a folder")
    try:
        for dirpath, dirnames, filenames in os.walk(base, onerror=_raise):
            dirnames[:] = sorted(d for d in dirnames if layout == "monthly" and not d.startswith("."))
            folder = Path(dirpath).relative_to(files.root).as_posix()
            for name in filenames:
                match = ARTICLE_NAME.match(name)
                if match:
                    found.add(folder, int(match.group(1)))
    except OSError as e:
        raise StorageError(f"{base}: cannot list articles: {e}") from e
    return found


def _raise(error: OSError) -> None:
    raise error


def filed_under(relative: str) -> tuple[str | None, int | None]:
    """The month and day an article of the monthly layout is filed under, by its path."""
    parts = relative.split("/")
    if len(parts) == 6 and parts[2].isdigit() and parts[3].isdigit() and parts[4].isdigit():
        return f"{parts[2]}-{parts[3]}", int(parts[4])
    return None, None
