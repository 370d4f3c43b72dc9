"""The archive's git repository: made when missing, repaired after a killed run, read as committed.

Publishing (commit, push) is ``publish``; this module opens the repository a store lives in.
"""

from __future__ import annotations

import functools
import logging
import os
import shutil
from collections.abc import Sequence
from pathlib import Path

from . import repair
from .exceptions import PublishError, StorageError
from .git import git, git_dir, reason

log = logging.getLogger(__name__)

_INIT_MARK = ".git.tmp-"


def ensure_repo(root: Path) -> None:
    """Create ``root`` and make it a git repository of its own when it is not one yet.

    The repository is made in a temporary folder inside ``root`` and its ``.git`` renamed into
    place (atomic), so that a second run started at the same moment, or a run after one killed
    half way through ``git init``, never finds a half-made ``.git``. This happens before the
    archive's lock can be taken: the lock lives in ``.git``.
    """
    root.mkdir(parents=True, exist_ok=True)
    if (root / ".git").exists():
        for stale in root.glob(f"{_INIT_MARK}*"):  # left by a run killed in git init
            shutil.rmtree(stale, ignore_errors=True)
        return
    temp = root / f"{_INIT_MARK}{os.getpid()}"
    try:
        git(root, "init", "-q", "-b", "main", temp.name)  # git runs in root: a name, not a path
        os.rename(temp / ".git", root / ".git")
    except (PublishError, OSError) as e:
        if not (root / ".git").exists():  # else another run made it first: fine
            raise PublishError(f"cannot create a git repository in {root}: {e}") from e
    finally:
        shutil.rmtree(temp, ignore_errors=True)


class Repository:
    """One git working tree: where its git directory is, what HEAD holds."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.git_dir = git_dir(root)

    def committed(self, relative: str) -> bytes | None:
        """``relative``'s bytes at HEAD; None when HEAD has no such file (or no HEAD).

        In a partial clone (``--filter=blob:none``) git fetches the blob when it is missing.
        """
        done = git(self.root, "cat-file", "blob", f"HEAD:{relative}", check=False, text=False)
        return done.stdout if done.returncode == 0 else None

    @functools.cached_property
    def sparse(self) -> bool:
        """Whether this checkout leaves files out (``git sparse-checkout``)."""
        done = git(self.root, "config", "--bool", "core.sparseCheckout", check=False)
        return done.stdout.strip() == "true"

    def tracked(self, prefix: str) -> list[str]:
        """The paths under ``prefix`` git tracks that this checkout leaves out (a sparse one's
        skip-worktree entries); a file deleted by hand is not one of them."""
        if not self.sparse:
            return []
        done = git(self.root, "ls-files", "-z", "-t", "--", f":(literal){prefix}")
        return [entry[2:] for entry in done.stdout.split("\0") if entry.startswith("S ")]

    @property
    def leaves_out(self) -> bool:
        return self.sparse

    def in_head(self, paths: Sequence[str]) -> set[str]:
        """Those of ``paths`` (absent from the working tree) that HEAD holds: in a sparse
        checkout, articles it leaves out.  A full checkout holds every committed file, so git is
        asked only in a sparse one (one call for all the paths)."""
        if not paths or not self.sparse:
            return set()
        return {path for path, (kind, _) in self.entries(paths).items() if kind == "blob"}

    def entries(self, paths: Sequence[str]) -> dict[str, tuple[str, str]]:
        """HEAD's ``(type, object id)`` of those of ``paths`` it holds (files and folders).

        Only trees are read (``ls-tree``): in a partial clone no file is downloaded for it.
        """
        return {path: (kind, oid) for path, (_, kind, oid) in head_entries(self.root, paths).items()}

    def listing(self, folder: str) -> set[str]:
        """The names (files and folders) directly in ``folder`` (``""``: the root) at HEAD; trees only."""
        where = (f":(literal){folder}/",) if folder else ()
        done = git(self.root, "ls-tree", "-z", "--name-only", "HEAD", "--", *where, check=False)
        return {path.rsplit("/", 1)[-1] for path in done.stdout.split("\0") if path}

    def names(self, folder: str) -> list[str]:
        """Every file under ``folder`` at HEAD (paths from the root); trees only."""
        done = git(
            self.root, "ls-tree", "-r", "-z", "--name-only", "HEAD", "--", f":(literal){folder}/", check=False
        )
        return sorted(path for path in done.stdout.split("\0") if path)

    def blobs(self, paths: Sequence[str]) -> dict[str, bytes]:
        """HEAD's bytes of those of ``paths`` it holds as files.

        A partial clone downloads the missing ones in one request per remote it was cloned
        from (git itself would ask once per file); raises StorageError when that fails.
        """
        ids = {path: oid for path, (kind, oid) in self.entries(paths).items() if kind == "blob"}
        if not ids:
            return {}
        self._download(sorted(set(ids.values())), sorted(ids))
        contents = self._contents(sorted(set(ids.values())))
        missing = sorted(path for path, oid in ids.items() if oid not in contents)
        if missing:
            raise StorageError(f"{self.root}: cannot read {', '.join(missing[:3])} from HEAD: git lacks them")
        return {path: contents[oid] for path, oid in ids.items()}

    @functools.cached_property
    def _promisors(self) -> list[str]:
        """The remotes a partial clone fetches its missing objects from."""
        done = git(self.root, "config", "--get-regexp", r"^remote\..*\.promisor$", check=False)
        names = []
        for line in done.stdout.splitlines():
            key, _, value = line.partition(" ")
            if value.strip().lower() in ("true", "yes", "on", "1"):
                names.append(key[len("remote.") : -len(".promisor")])
        return names

    def _download(self, oids: Sequence[str], paths: Sequence[str]) -> None:
        for remote in self._promisors:
            fetch = (
                "-c", "fetch.negotiationAlgorithm=noop", "fetch", "-q", remote, "--no-tags",
                "--no-write-fetch-head", "--recurse-submodules=no", "--filter=blob:none", "--stdin",
            )  # fmt: skip
            done = git(self.root, *fetch, stdin="".join(f"{oid}\n" for oid in oids), check=False)
            if done.returncode == 0:
                return
            log.warning(
                "%s: cannot download %d files from %s: %s", self.root, len(oids), remote, reason(done)
            )
        if self._promisors:
            raise StorageError(
                f"{self.root}: cannot download {', '.join(paths[:3])}{' …' if len(paths) > 3 else ''} "
                "left out of this partial clone"
            )

    def _contents(self, oids: Sequence[str]) -> dict[str, bytes]:
        done = git(
            self.root,
            "cat-file",
            "--batch",
            stdin="".join(f"{oid}\n" for oid in oids),
            text=False,
            check=False,
        )
        return _batch_contents(done.stdout)

    def changed(self, paths: Sequence[str]) -> list[str]:
        """Files under ``paths`` that differ from HEAD, untracked ones included."""
        done = git(
            self.root, "status", "--porcelain", "-z", "--untracked-files=all", "--no-renames", "--", *paths
        )
        return [entry[3:] for entry in done.stdout.split("\0") if len(entry) > 3]

    def size(self) -> int:
        """Bytes of git's objects, loose and packed (``git count-objects``)."""
        done = git(self.root, "count-objects", "-v")
        fields = dict(line.split(": ", 1) for line in done.stdout.splitlines() if ": " in line)
        kib = sum(int(fields.get(k, "0")) for k in ("size", "size-pack", "size-garbage"))
        return kib * 1024

    def recover(self) -> list[str]:
        """Undo what a killed run left inside git (``repair.recover``)."""
        return repair.recover(self.root)


_BATCH = 2000  # paths per git call: far below any command-line limit


def head_entries(root: Path, paths: Sequence[str], *, check: bool = False) -> dict[str, tuple[str, str, str]]:
    """HEAD's ``(mode, type, object id)`` of those of ``paths`` it holds, from ``ls-tree``:
    only trees are read, so a partial clone downloads nothing for it."""
    found: dict[str, tuple[str, str, str]] = {}
    for batch in _batches(paths):
        literal = [f":(literal){p}" for p in batch]
        done = git(root, "ls-tree", "-z", "HEAD", "--", *literal, check=check)
        for entry in done.stdout.split("\0"):
            head, _, path = entry.partition("\t")
            fields = head.split(" ")
            if path and len(fields) == 3:
                found[path] = (fields[0], fields[1], fields[2])
    return found


def _batches(paths: Sequence[str]) -> list[Sequence[str]]:
    return [paths[i : i + _BATCH] for i in range(0, len(paths), _BATCH)]


def _batch_contents(output: bytes) -> dict[str, bytes]:
    """``git cat-file --batch``'s output: object id → bytes (objects it reports missing left out)."""
    contents: dict[str, bytes] = {}
    at = 0
    while at < len(output):
        end = output.index(b"\n", at)
        header = output[at:end].split(b" ")
        at = end + 1
        if len(header) != 3:  # "<oid> missing"
            continue
        size = int(header[2])
        contents[header[0].decode("ascii")] = output[at : at + size]
        at += size + 1
    return contents
