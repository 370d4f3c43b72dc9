"""Committing named files straight into HEAD's trees, without staging them in the index.

In a sparse checkout with a sparse index (the generated workflow's), staging one file outside
the checked-out folders makes git expand the index to an entry per file of the archive — at a
million articles 4 s and 380 MB for every run that archives something.  Here the commit is
built from HEAD's trees instead: the files' blobs are written (``hash-object``), each folder on
their way to the root is rewritten (``mktree``), then ``commit-tree`` and ``update-ref``; only
the folders the run touched are read.  The index is then reset to the new HEAD and the
sparse patterns applied again (both cheap with a sparse index), which takes the files written
outside the checkout out of the working tree: it stays what it was, sparse, clean, its index
small.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from contextlib import suppress
from pathlib import Path

from .exceptions import PublishError
from .git import git
from .repo import head_entries

_EMPTY = ""
Entry = tuple[str, str, str]
"""(mode, type, object id) of a tree entry."""


def commit_files(root: Path, message: str, paths: Sequence[str], identity: Sequence[str]) -> str | None:
    """Commit ``paths`` as the working tree has them (a missing one: removed) on top of HEAD;
    the new commit's id, None when none of them differs from HEAD. Raises PublishError."""
    head = git(root, "rev-parse", "-q", "--verify", "HEAD^{commit}", check=False).stdout.strip()
    if not head:
        raise PublishError(f"{root}: no commit to build on")
    changes = _changes(root, paths)
    if not changes:
        return None
    tree = _rewrite(root, head, changes)
    commit = git(root, *identity, "commit-tree", tree, "-p", head, "-F", "-", stdin=message).stdout.strip()
    subject = message.split("\n", 1)[0]
    git(root, "update-ref", "-m", f"commit: {subject}", "HEAD", commit, head)
    settle(root, paths)
    return commit


def settle(root: Path, paths: Sequence[str]) -> None:
    """The working tree as the sparse patterns say, the index as HEAD: the files of ``paths``
    written outside the checkout's folders (committed) are removed, and read from HEAD from now
    on."""
    listed = git(root, "sparse-checkout", "list").stdout.splitlines()
    folders: set[Path] = set()
    for path in paths:
        if not _in_cone(path, listed):
            target = root / path
            with suppress(FileNotFoundError):
                target.unlink()
            folders.update(target.parents)
    for folder in sorted(folders, key=lambda f: -len(f.parts)):
        if root in folder.parents:
            with suppress(OSError):  # not empty: something else is there
                folder.rmdir()
    # --keep: a plain (mixed) reset of 2.39 crashes on a sparse index whose folders' trees the
    # commit changed; --keep reads the same and updates the index alike (the tree is HEAD's)
    git(root, "reset", "-q", "--keep", "HEAD")
    git(root, "sparse-checkout", "reapply")


def _in_cone(path: str, cone: Sequence[str]) -> bool:
    """Whether cone mode checks ``path`` out: under one of the ``cone`` folders, or directly in
    a folder above one (git's cone holds the files beside each of them, and the root's)."""
    folder = path.rpartition("/")[0]
    return not folder or any(
        path.startswith(f"{c}/") or c == folder or c.startswith(f"{folder}/") for c in cone if c
    )


def _changes(root: Path, paths: Sequence[str]) -> dict[str, Entry | None]:
    """path → its new entry (None: removed), for those that differ from HEAD."""
    present = [p for p in paths if (root / p).is_file()]
    ids = _blob_ids(root, present)
    wanted: dict[str, Entry | None] = {p: ("100644", "blob", ids[p]) for p in present}
    wanted.update((p, None) for p in paths if p not in wanted)
    committed = head_entries(root, list(wanted), check=True)
    return {p: e for p, e in wanted.items() if e != committed.get(p) and (e is not None or p in committed)}


def _blob_ids(root: Path, paths: Sequence[str]) -> dict[str, str]:
    if not paths:
        return {}
    stage = ("-c", "core.looseCompression=1", "hash-object", "-w", "--no-filters", "--stdin-paths")
    done = git(root, *stage, stdin="".join(f"{p}\n" for p in paths))
    ids = done.stdout.split()
    if len(ids) != len(paths):
        raise PublishError(f"{root}: git hash-object gave {len(ids)} ids for {len(paths)} files")
    return dict(zip(paths, ids, strict=True))


def _rewrite(root: Path, head: str, changes: dict[str, Entry | None]) -> str:
    """HEAD's root tree with ``changes`` made: the new root tree's id."""
    by_folder: dict[str, dict[str, Entry | None]] = defaultdict(dict)
    for path, entry in changes.items():
        folder, _, name = path.rpartition("/")
        by_folder[folder][name] = entry
    for changed in list(by_folder):  # every folder up to the root is rewritten
        for parent in _parents(changed):
            by_folder.setdefault(parent, {})
    trees = _trees(root, head, list(by_folder))
    made: dict[str, str | None] = {}
    for depth in sorted({_depth(f) for f in by_folder}, reverse=True):
        level = sorted(f for f in by_folder if _depth(f) == depth)
        listings = []
        for folder in level:
            below = {
                child.rpartition("/")[2]: None if tree is None else ("040000", "tree", tree)
                for child, tree in made.items()
                if _depth(child) == depth + 1 and child.rpartition("/")[0] == folder
            }  # the subfolders rewritten one level down
            listings.append(_updated(trees.get(folder, {}), {**by_folder[folder], **below}))
        for folder, tree in zip(level, _make_trees(root, listings), strict=True):
            made[folder] = tree
    top = made.get(_EMPTY)
    if top is None:
        raise PublishError(f"{root}: the commit would leave the repository empty")
    return top


def _parents(folder: str) -> list[str]:
    """``a/b/c`` → ``a/b``, ``a``, the root (``""``)."""
    parts = folder.split("/") if folder else []
    return ["/".join(parts[:n]) for n in range(len(parts) - 1, -1, -1)]


def _updated(entries: dict[str, Entry], changes: dict[str, Entry | None]) -> dict[str, Entry]:
    result = dict(entries)
    for name, entry in changes.items():
        if entry is None:
            result.pop(name, None)
        else:
            result[name] = entry
    return result


def _depth(folder: str) -> int:
    return 0 if not folder else folder.count("/") + 1


def _trees(root: Path, head: str, folders: Sequence[str]) -> dict[str, dict[str, Entry]]:
    """The entries of each of ``folders`` at ``head`` (a folder HEAD lacks: none)."""
    query = "".join(f"{head}:{folder}\n" for folder in folders)
    done = git(root, "cat-file", "--batch", stdin=query, text=False)
    found: dict[str, dict[str, Entry]] = {}
    output, at = done.stdout, 0
    for folder in folders:
        end = output.index(b"\n", at)
        header = output[at:end].split(b" ")
        at = end + 1
        if len(header) != 3:  # "<name> missing": a folder this commit makes
            continue
        size = int(header[2])
        if header[1] == b"tree":
            found[folder] = _parse_tree(output[at : at + size], len(header[0]) // 2)
        at += size + 1
    return found


def _parse_tree(data: bytes, id_bytes: int) -> dict[str, Entry]:
    entries: dict[str, Entry] = {}
    at = 0
    while at < len(data):
        space = data.index(b" ", at)
        nul = data.index(b"\0", space)
        mode = data[at:space].decode("ascii").rjust(6, "0")
        name = data[space + 1 : nul].decode("utf-8", errors="surrogateescape")
        oid = data[nul + 1 : nul + 1 + id_bytes].hex()
        kind = "tree" if mode == "040000" else "commit" if mode == "160000" else "blob"
        entries[name] = (mode, kind, oid)
        at = nul + 1 + id_bytes
    return entries


def _make_trees(root: Path, listings: Sequence[dict[str, Entry]]) -> list[str | None]:
    """One tree per listing (``mktree --batch``; None for an empty one: its folder goes)."""
    nonempty = [entries for entries in listings if entries]
    ids: list[str] = []
    if nonempty:
        text = "\n".join(
            "".join(f"{mode} {kind} {oid}\t{name}\n" for name, (mode, kind, oid) in sorted(entries.items()))
            for entries in nonempty
        )
        ids = git(root, "mktree", "--missing", "--batch", stdin=text).stdout.split()
        if len(ids) != len(nonempty):
            raise PublishError(f"{root}: git mktree made {len(ids)} trees of {len(nonempty)}")
    made = iter(ids)
    return [next(made) if entries else None for entries in listings]
