"""The archive's git repository: made when missing, repaired after a killed run, read as committed.

Publishing (commit, push) is ``publish``; this module opens the repository a store lives in.
"""

from __future__ import annotations

import functools
import os
import shutil
from collections.abc import Sequence
from pathlib import Path

from . import repair
from .exceptions import PublishError
from .git import git, git_dir

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

    def in_head(self, paths: Sequence[str]) -> set[str]:
        """Those of ``paths`` (absent from the working tree) that HEAD holds: in a sparse
        checkout, articles it leaves out.  A full checkout holds every committed file, so git is
        asked only in a sparse one (one call for all the paths)."""
        if not paths or not self.sparse:
            return set()
        query = "".join(f"HEAD:{p}\n" for p in paths)
        done = git(self.root, "cat-file", "--batch-check=%(objecttype)", stdin=query, check=False)
        answers = done.stdout.split("\n")
        return {p for p, answer in zip(paths, answers, strict=False) if answer == "blob"}

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
