"""What a killed run leaves in the repository, repaired by the next one under the run lock.

The lock itself (held by every git command a run starts), the marks newsmirror puts on the git
operations it starts (so that it undoes only its own), stale lock files, an index git cannot
read, article files a power loss left empty.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from .exceptions import ArchiveLockedError, PublishError
from .git import HELD_LOCKS, git, git_dir, reason
from .git import branch as checked_out

LOCK_NAME = "newsmirror.lock"
# What newsmirror writes in .git before it starts a rebase or merge and removes when that is over:
# recover() undoes only an operation marked so, never the maintainer's own.
OPERATION_MARK = "newsmirror-operation.json"


@contextmanager
def run_lock(root: Path) -> Iterator[None]:
    """Hold the archive's run lock (``.git/newsmirror.lock``); ``ArchiveLockedError`` at once when
    another run, or a git command a killed run started, holds it.

    An ``flock`` on one open file: the git children inherit it (``HELD_LOCKS``), and the kernel
    releases it only when the last of them exits, however the run ended.
    """
    path = git_dir(root) / LOCK_NAME
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as e:
        raise PublishError(f"{root}: cannot open the run lock {path}: {e}") from e
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as e:
        os.close(fd)
        raise ArchiveLockedError(
            f"{root}: another newsmirror run holds the lock ({path}), "
            "or a git command that a killed run started is still running"
        ) from e
    HELD_LOCKS.add(fd)
    try:
        yield
    finally:
        HELD_LOCKS.discard(fd)
        os.close(fd)


def recover(root: Path) -> list[str]:
    """Undo what a killed run left inside git; a list of what was done.

    Stale lock files go, an index that git cannot read is rebuilt from HEAD, and a rebase or
    merge that newsmirror started (``OPERATION_MARK``) is aborted, leaving its branch checked out
    where it was. A rebase, merge, cherry-pick, revert or bisect that someone else started is
    never touched: ``PublishError`` says what to do, and the run changes nothing.

    Called with the run lock held: no other newsmirror process, and no git command started by
    one, is using the repository.
    """
    folder = git_dir(root)
    mark = _read_mark(folder)
    busy = operation_in_progress(folder)
    if busy and (mark is None or mark.get("action") != busy):
        raise PublishError(_not_ours(root, busy))
    done = _remove_stale_locks(folder)
    done += _rebuild_unreadable_index(root, folder)
    if mark is not None:
        done += _undo_marked(root, folder, mark, busy)
    return done


def restore_emptied(root: Path, folder: str) -> list[str]:
    """Files under ``folder`` that are new or changed since HEAD and empty: put back from HEAD,
    or removed when HEAD has none. What that is for, the caller knows (an article file is never
    empty: an empty one is what a power loss left of a write whose data never reached the disk).
    """
    listed = git(root, "ls-files", "-z", "--modified", "--others", "--exclude-standard", "--", folder)
    done = []
    for name in sorted(set(filter(None, listed.stdout.split("\0")))):
        path = root / name
        if not path.is_file() or path.stat().st_size:
            continue
        if git(root, "cat-file", "-e", f"HEAD:{name}", check=False).returncode == 0:
            git(root, "checkout", "HEAD", "--", name)
            done.append(f"restored the empty {name} from HEAD")
        else:
            path.unlink()
            done.append(f"removed the empty {name}, left by a write that never reached the disk")
    return done


def _remove_stale_locks(folder: Path) -> list[str]:
    # A commit, rebase or fetch killed while it moved a ref or deepened the clone leaves these;
    # each would fail every later commit or fetch with "cannot lock ref". A commit killed in the
    # `git maintenance run --auto` it ends with leaves objects/maintenance.lock, which silently
    # turns automatic maintenance (gc) off for good.
    done = []
    for lock in _stale_git_locks(folder):
        lock.unlink(missing_ok=True)
        done.append(f"removed a stale .git/{lock.relative_to(folder)}")
    return done


def operation_in_progress(folder: Path) -> str | None:
    """The git operation a repository is in the middle of, by the files git keeps for it."""
    if (folder / "rebase-merge").exists() or (folder / "rebase-apply").exists():
        return "rebase"
    states = {
        "MERGE_HEAD": "merge",
        "CHERRY_PICK_HEAD": "cherry-pick",
        "REVERT_HEAD": "revert",
        "BISECT_LOG": "bisect",
    }
    return next((action for name, action in states.items() if (folder / name).exists()), None)


def _not_ours(root: Path, action: str) -> str:
    finish = "git bisect reset" if action == "bisect" else f"git {action} --continue or git {action} --abort"
    return (
        f"{root}: a git {action} is in progress that newsmirror did not start; finish it ({finish}), "
        "then run again. Nothing was changed."
    )


def _rebuild_unreadable_index(root: Path, folder: Path) -> list[str]:
    """A 0-byte or garbled ``.git/index`` fails every git command: rebuild it from HEAD.

    The working tree is left as it is; whatever differs from HEAD shows as unstaged changes,
    which the run's own ``git add`` stages again.
    """
    index = folder / "index"
    if not index.exists():
        return []
    # git reads (and checks) the whole index for any pathspec; one that matches nothing keeps
    # the output empty on an archive of any size. `status`, not `ls-files`: ls-files expands a
    # sparse index into a million entries (1.2 s at 1M articles); status reads it as it is.
    nothing = ":(top,literal).newsmirror-matches-nothing"
    readable = git(root, "status", "--porcelain", "--untracked-files=no", "--", nothing, check=False)
    if readable.returncode == 0:
        return []
    broken = index.with_name("index.unreadable")
    os.replace(index, broken)
    has_head = git(root, "rev-parse", "-q", "--verify", "HEAD^{commit}", check=False).returncode == 0
    if has_head:
        git(root, "read-tree", "HEAD")
    return [f"rebuilt an unreadable .git/index from HEAD (the old one kept as .git/{broken.name})"]


def _undo_marked(root: Path, folder: Path, mark: dict[str, str], busy: str | None) -> list[str]:
    """Abort the rebase or merge newsmirror marked, and put its branch back in HEAD."""
    action, marked = mark.get("action", ""), mark.get("branch", "")
    done = []
    if busy:
        aborted = git(root, action, "--abort", check=False)
        if aborted.returncode != 0 and operation_in_progress(folder):
            raise PublishError(f"{root}: cannot abort newsmirror's interrupted {action}: {reason(aborted)}")
        done.append(f"aborted newsmirror's interrupted {action}")
    if marked and checked_out(root) != marked:
        # Killed between git's steps, HEAD may still be detached on the way: the branch itself
        # only ever holds a finished result, so check it out again, keeping local changes.
        switched = git(root, "checkout", "-q", marked, check=False)
        if switched.returncode != 0:
            why = reason(switched)
            raise PublishError(f"{root}: cannot check {marked} out after an interrupted {action}: {why}")
        done.append(f"checked {marked} out again after an interrupted {action}")
    clear_mark(folder)
    return done


def _read_mark(folder: Path) -> dict[str, str] | None:
    try:
        data = json.loads((folder / OPERATION_MARK).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {}  # half written when the run was killed: its operation had not started yet
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def write_mark(folder: Path, action: str, branch: str, before: str) -> None:
    mark = {"action": action, "branch": branch, "before": before}
    (folder / OPERATION_MARK).write_text(json.dumps(mark) + "\n", encoding="utf-8")


def clear_mark(folder: Path) -> None:
    with suppress(FileNotFoundError):
        (folder / OPERATION_MARK).unlink()


def _stale_git_locks(folder: Path) -> list[Path]:
    """Lock files of the index, refs (loose and packed), HEAD, the shallow list and maintenance."""
    names = (
        "index.lock", "HEAD.lock", "ORIG_HEAD.lock", "packed-refs.lock", "shallow.lock",
        "objects/maintenance.lock",
    )  # fmt: skip
    named = [folder / name for name in names]
    refs = folder / "refs"
    found = [p for p in named if p.is_file()]
    return found + (sorted(p for p in refs.rglob("*.lock") if p.is_file()) if refs.is_dir() else [])
