"""A source's slug changed: move what the tree holds under the old slug to the new one.

Every file is moved as it is (bytes and name; git sees renames): the articles' folder and each
state file named after the slug.  The fetch state's entry moves with them, so the renamed source
knows every item it archived and archives none of them again.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Final

from ..exceptions import StorageError
from .scan import V1_INDEX

if TYPE_CHECKING:
    from .tree import TreeStore

_FOLDERS: Final = ("articles/{}", ".newsmirror/records/{}", ".newsmirror/keys/{}", ".newsmirror/revisions/{}")
_FILES: Final = (
    ".newsmirror/sources/{}.json",
    ".newsmirror/legacy/{}.jsonl",
    ".newsmirror/marks/{}.jsonl",
    V1_INDEX + "/{}.jsonl",
)


def rename_source(store: TreeStore, old: str, new: str) -> list[tuple[str, str]]:
    """Move ``old``'s files to ``new``'s names; the moves.  StorageError, before anything moves,
    when ``old`` holds nothing, ``new`` already holds something, or the checkout leaves files out
    (git would record those as deleted)."""
    if store.head.leaves_out:
        raise StorageError(
            f"{store.root}: this checkout leaves files out (a sparse one); rename {old} in a full clone"
        )
    moves = list(_moves(store, old, new))
    if not moves:
        raise StorageError(f"{store.root}: no articles or state under the slug {old!r} to rename")
    # a target already there is a collision; files of a rename that was stopped are not (what
    # it moved is no longer under the old slug, so the same rename again finishes it)
    taken = [target for _, target in moves if store.files.exists(target)]
    if taken:
        raise StorageError(f"{store.root}: the slug {new!r} already holds files ({taken[0]} …)")
    store.journal.note([path for move in moves for path in move])
    for source, target in moves:
        store.files.move(source, target)
    for pattern in _FOLDERS:  # git keeps no folders: an empty one left behind would only mislead
        _remove_empty(store.files.path(pattern.format(old)))
    return moves


def _remove_empty(folder: Path) -> None:
    if not folder.is_dir():
        return
    for inner in sorted((p for p in folder.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
        if not any(inner.iterdir()):
            inner.rmdir()
    if not any(folder.iterdir()):
        folder.rmdir()


def _moves(store: TreeStore, old: str, new: str) -> list[tuple[str, str]]:
    found = []
    for pattern in _FOLDERS:
        before, after = pattern.format(old), pattern.format(new)
        found += [(path, after + path[len(before) :]) for path in store.files.files_under(before)]
    for pattern in _FILES:
        if store.files.path(pattern.format(old)).is_file():
            found.append((pattern.format(old), pattern.format(new)))
    return found
