"""Publish stage: one commit per run that changed something, push to every remote."""

from __future__ import annotations

import logging
import os
import random
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import product
from pathlib import Path

from . import treecommit
from .exceptions import PublishError
from .git import branch as _branch
from .git import git, git_dir, maintain
from .git import reason as _reason
from .repair import clear_mark, operation_in_progress, write_mark
from .timing import timed
from .types import PushResult

__all__ = ["commit", "identity", "push_all"]

_FALLBACK_IDENTITY = ("-c", "user.name=newsmirror", "-c", "user.email=newsmirror@localhost")

_BACKOFF_SECONDS = 0.5
# A shallow clone (CI checks out with depth 1) cannot tell whether a remote head it lacks is ahead
# of it or behind it; fetching a head that is behind sends that remote's whole history. A day of
# hourly commits fetched first from a remote that has our base lets a mirror that missed up to a
# day of pushes negotiate against history we hold instead.
_PREDEEPEN = "--deepen=24"
# Then, while a remote's head still shares no visible history with ours, deepen further.
_CONNECT_STEPS = ("--deepen=256", "--deepen=4096", "--unshallow")

log = logging.getLogger(__name__)


def commit(root: Path, message: str, paths: Sequence[str]) -> str | None:
    """Commit exactly ``paths`` (files written or removed, relative to ``root``) as they are in
    the working tree; other staged changes stay staged.  None when none of them changed: no
    empty commits.

    Only the named files are read: a run stages what it wrote, never the whole tree (in a
    sparse checkout most of the archive is not even there).
    """
    if not paths:
        return None
    with timed(log, "commit", files=len(paths)) as found:
        found["commit"] = sha = _commit(root, message, paths)
    return sha


def _commit(root: Path, message: str, paths: Sequence[str]) -> str | None:
    # Durable before committed: git hardens its objects, refs and index (``_EVERY_CALL``), but
    # an article file not yet on disk when the commit is would come back empty after a power
    # loss, and the next run would commit it so. One sync flushes the run's files together.
    os.sync()
    if sparse_cone(root):  # the workflow's checkout: staging would expand its index (treecommit)
        sha = treecommit.commit_files(root, message, paths, identity(root))
        if sha is None:
            treecommit.settle(root, paths)  # what was written as it was still goes out of the tree
        else:
            maintain(root)
        return sha
    # update-index stages a present file and unstages a missing one; a path neither in the tree
    # nor in the index is passed over (git add would fail on it, and on a path outside a sparse
    # checkout's cone).
    # Loose objects are deflated again when git packs them (gc, push): the fastest level here.
    stage = ("-c", "core.looseCompression=1", "update-index", "--add", "--remove", "-z", "--stdin")
    git(root, *stage, stdin="\0".join(paths) + "\0")
    staged = [n for n in git(root, "diff", "--cached", "--name-only", "-z").stdout.split("\0") if n]
    wanted = set(paths)
    ours = [name for name in staged if name in wanted]
    if not ours:
        return None
    # `commit -- paths` re-reads every named file into a temporary index: only worth it when
    # something else is staged that must stay out of this commit.
    only = ("--", *ours) if len(ours) < len(staged) else ()
    git(root, *identity(root), "commit", "-q", "--no-verify", "-F", "-", *only, stdin=message)
    maintain(root)
    return git(root, "rev-parse", "HEAD").stdout.strip()


def sparse_cone(root: Path) -> bool:
    """Whether the checkout is a cone-mode sparse one (git's cone patterns: whole folders)."""
    config = git(root, "config", "--bool", "--get-regexp", r"^core\.sparsecheckout(cone)?$", check=False)
    settings = dict(line.split(" ", 1) for line in config.stdout.splitlines() if " " in line)
    return settings.get("core.sparsecheckout") == "true" and settings.get("core.sparsecheckoutcone") == "true"


def identity(root: Path) -> Sequence[str]:
    """git options for a commit: none when git knows who commits, else newsmirror's own identity."""
    configured = git(root, "config", "user.email", check=False).stdout.strip()
    return () if configured else _FALLBACK_IDENTITY


def push_all(
    root: Path,
    *,
    retries: int = 3,
    sleep: Callable[[float], None] = time.sleep,
    before_push: Callable[[str], None] | None = None,
) -> tuple[PushResult, ...]:
    """Push the current branch to every remote (``git remote`` order); one result per remote.

    Nothing is ever force-pushed, and the run's commit is never lost: the local branch only
    ever moves forward to a commit that contains it.

    1. *Look*: read every remote's head of the branch (``git ls-remote``) and fetch the heads
       we lack. A remote that cannot be read fails now; the others go on.
    2. *Integrate* each remote head into the local branch before anything is published: our
       unpublished commits are rebased onto it, so that the usual case — one remote got another
       writer's commit — gives one linear history that every remote accepts as a fast-forward,
       including the remotes that are behind (they receive the other writer's commit too).
    3. *Push* to each remote not yet at the local head. A ``[rejected]`` push means the remote
       moved since step 1: the round stops there, that remote is fetched and integrated again,
       and after a short jittered pause (``sleep``) every remote not at the new head is pushed
       again — also those that took the previous head. Up to ``retries`` times; the last round
       pushes to every remote whatever happens, so one remote that keeps moving cannot hold
       back the others.

    Once a commit is on some remote it is never rebased: rebasing it would give a copy that
    remote can no longer take as a fast-forward, and the remotes would split for good. When a
    remote's head must be integrated but our commits to replay are already published (another
    remote took them, or two remotes had diverged), its head is merged instead; the merge
    commit descends from both sides, so every remote takes it.

    A remote whose head conflicts with ours (the same generated page or article file changed
    both ways) or shares no history with ours fails with the reason; the rebase or merge is
    aborted and the local branch is exactly as it was. ``before_push(remote)`` runs right
    before each ``git push``; tests use it to move a remote at that moment.
    """
    names = git(root, "remote").stdout.split()
    branch = _branch(root)
    if branch is None:
        return tuple(PushResult(remote=n, ok=False, message=_unpushable(root)) for n in names)
    session = _Session(root, branch, [_Remote(n) for n in names])
    _look(session)
    _fetch_unknown(session)
    for remote in session.live():
        _integrate(session, remote)
    _push_rounds(session, retries, sleep, before_push or _nothing)
    return tuple(_result(session, r) for r in session.remotes)


@dataclass
class _Remote:
    """What one push_all call knows about one remote; ``error`` set means it is left alone."""

    name: str
    head: str | None = None
    """Where the branch is on the remote as last seen (None: no such branch there)."""
    start: str | None = None
    error: str = ""
    notes: list[str] = field(default_factory=list)
    rejections: int = 0
    rejected: str = ""


@dataclass
class _Session:
    root: Path
    branch: str
    remotes: list[_Remote]

    def live(self) -> list[_Remote]:
        return [r for r in self.remotes if not r.error]

    def head(self) -> str:
        return _rev(self.root, "HEAD")


def _nothing(remote: str) -> None:
    del remote


def _unpushable(root: Path) -> str:
    if git(root, "symbolic-ref", "-q", "HEAD", check=False).returncode != 0:
        return "nothing pushed: HEAD is detached, not on a branch"
    return "nothing pushed: the branch has no commit yet"


def _look(s: _Session) -> None:
    for r in s.remotes:
        done = git(s.root, "ls-remote", "--heads", r.name, f"refs/heads/{s.branch}", check=False)
        if done.returncode != 0:
            r.error = f"cannot read {r.name}: {_reason(done)}"
            continue
        lines = (line.split("\t") for line in done.stdout.splitlines())
        r.head = r.start = next((sha for sha, ref in lines if ref == f"refs/heads/{s.branch}"), None)


def _fetch_unknown(s: _Session) -> None:
    unknown = [r for r in s.live() if r.head and not _has_commit(s.root, r.head)]
    if unknown and _is_shallow(s.root):
        base = next((r for r in s.live() if r.head and r not in unknown), None)
        if base is not None:
            _deepen(s, base, _PREDEEPEN)
    for remote in unknown:
        _fetch(s, remote)


def _fetch(s: _Session, r: _Remote) -> None:
    tracking = f"refs/remotes/{r.name}/{s.branch}"
    refspec = f"+refs/heads/{s.branch}:{tracking}"
    done = git(s.root, "fetch", "--quiet", "--no-tags", r.name, refspec, check=False)
    if done.returncode != 0:
        r.error = f"cannot fetch {r.name}: {_reason(done)}"
    else:
        r.head = _rev(s.root, tracking)


def _deepen(s: _Session, r: _Remote, how: str) -> None:
    # Fails harmlessly when that remote lacks our shallow boundary: the next one is tried.
    git(s.root, "fetch", "--quiet", "--no-tags", how, r.name, f"refs/heads/{s.branch}", check=False)


def _integrate(s: _Session, r: _Remote) -> None:
    """Make the local branch contain ``r``'s head, or fail ``r`` leaving the branch as it was."""
    head = s.head()
    if r.head is None or _is_ancestor(s.root, r.head, head):
        return
    if not _connect(s, r.head):
        r.error = (
            f"{r.name}/{s.branch} ({_short(r.head)}) shares no history with the local {s.branch}; "
            "left as it is (never force-pushed)"
        )
    elif _published(s, r, head):
        _merge(s, r, head)
    else:
        _rebase(s, r, head)


def _connect(s: _Session, sha: str) -> bool:
    """Whether HEAD and ``sha`` share history; a shallow clone is deepened until they do."""
    for step, source in product(_CONNECT_STEPS, s.live()):
        if _related(s.root, sha) or not _is_shallow(s.root):
            break
        _deepen(s, source, step)
    return _related(s.root, sha)


def _published(s: _Session, r: _Remote, head: str) -> bool:
    """Whether integrating ``r`` by rebase would rewrite a commit another remote already has."""
    others = [o.head for o in s.remotes if o is not r and o.head and _has_commit(s.root, o.head)]
    replayed = _count(s.root, head, "--not", str(r.head))
    return _count(s.root, head, "--not", str(r.head), *others) < replayed


def _rebase(s: _Session, r: _Remote, before: str) -> None:
    onto = str(r.head)
    with _marked(s, "rebase", before):
        done = git(s.root, *identity(s.root), "rebase", "--no-verify", "--quiet", onto, check=False)
    if done.returncode != 0:
        _undo(s, r, before, "rebase", done)
    elif _is_ancestor(s.root, before, onto):
        r.notes.append(_after_rejections(f"fast-forwarded to {_short(onto)}", r))
    else:
        r.notes.append(_after_rejections(f"rebased onto {_short(onto)}", r))


def _merge(s: _Session, r: _Remote, before: str) -> None:
    onto = str(r.head)
    message = (
        f"newsmirror: merge {r.name}/{s.branch}\n\n"
        f"{r.name} had commits that other remotes lack, and ours were already pushed there:\n"
        "merged rather than rebased, so that every remote takes the result as a fast-forward.\n"
    )
    args = ("merge", "--no-verify", "--no-edit", "--quiet", "-m", message, onto)
    with _marked(s, "merge", before):
        done = git(s.root, *identity(s.root), *args, check=False)
    if done.returncode != 0:
        _undo(s, r, before, "merge", done)
    else:
        r.notes.append(_after_rejections(f"merged {_short(onto)}", r))


@contextmanager
def _marked(s: _Session, action: str, before: str) -> Iterator[None]:
    """Mark ``action`` as newsmirror's own while it runs; a failed one is aborted before the mark
    goes (``_undo``), so a kill at any moment leaves either no operation or a marked one."""
    folder = git_dir(s.root)
    write_mark(folder, action, s.branch, before)
    yield
    if operation_in_progress(folder) is None:
        clear_mark(folder)


def _undo(s: _Session, r: _Remote, before: str, action: str, done: subprocess.CompletedProcess[str]) -> None:
    """Abort a failed rebase or merge; the local branch must be back where it was."""
    conflicts = git(s.root, "diff", "--name-only", "-z", "--diff-filter=U", check=False).stdout
    git(s.root, action, "--abort", check=False)
    clear_mark(git_dir(s.root))
    if s.head() != before or _branch(s.root) != s.branch:
        raise PublishError(f"git {action} --abort did not restore {s.branch} to {before} in {s.root}")
    files = [f for f in conflicts.split("\0") if f]
    why = f"conflict in {', '.join(files)}" if files else _reason(done)
    r.error = (
        f"{action} with {r.name}/{s.branch} ({_short(str(r.head))}) failed: {why}; "
        f"aborted, local {s.branch} kept at {_short(before)}, nothing pushed to {r.name}"
    )


def _after_rejections(note: str, r: _Remote) -> str:
    if not r.rejections:
        return note
    return f"{note} after {r.rejections} rejection{'s' if r.rejections != 1 else ''}"


def _push_rounds(
    s: _Session, retries: int, sleep: Callable[[float], None], before_push: Callable[[str], None]
) -> None:
    for attempt in range(retries + 1):
        final = attempt == retries
        rejected = _push_round(s, before_push, keep_going=final)
        if not rejected:
            return
        if final:
            for r in rejected:
                r.error = f"still rejected after {r.rejections} attempts: {r.rejected}; nothing forced"
            return
        # Two writers retrying in step would collide again; jitter spreads them apart.
        sleep(_BACKOFF_SECONDS * 2**attempt * random.uniform(0.5, 1.5))
        for r in rejected:
            _fetch(s, r)
            if not r.error:
                _integrate(s, r)


def _push_round(s: _Session, before_push: Callable[[str], None], *, keep_going: bool) -> list[_Remote]:
    """Push HEAD to every remote not at it; the remotes that rejected it as not a fast-forward.

    Unless ``keep_going``, stops at the first rejection: our commits are then still unpublished
    elsewhere and can be rebased onto that remote's new head instead of merged.
    """
    head = s.head()
    rejected: list[_Remote] = []
    for r in [r for r in s.live() if r.head != head]:
        if _push(s, r, head, before_push):
            rejected.append(r)
            if not keep_going:
                break
    return rejected


def _push(s: _Session, r: _Remote, head: str, before_push: Callable[[str], None]) -> bool:
    """Push ``head`` to ``r``; True when rejected because the remote has commits we lack."""
    before_push(r.name)
    ref = f"refs/heads/{s.branch}"
    with timed(log, "push", remote=r.name, commit=head[:12]) as found:
        done = git(s.root, "push", "--porcelain", r.name, f"{head}:{ref}", check=False)
        summary = _porcelain_summary(done.stdout, ref)
        found["result"] = summary or f"exit {done.returncode}"
    if done.returncode == 0:
        r.head = head
        return False
    if summary.startswith("[rejected]") or _lost_race(summary):
        r.rejections += 1
        r.rejected = summary
        return True
    r.error = f"push to {r.name} failed: {summary or _reason(done)}"
    return False


def _lost_race(summary: str) -> bool:
    """A push the remote refused because its branch moved after it was advertised to us.

    ``[rejected]`` is git's verdict from the advertised head; a writer that updates the branch
    between the advertisement and our update makes the remote itself refuse it instead:
    ``[remote rejected] (failed to update ref)`` from git, ``cannot lock ref … expected`` or
    ``incorrect old value provided`` from forges. The cure is the same: fetch, integrate, retry.
    """
    return summary.startswith("[remote rejected]") and any(
        words in summary for words in ("failed to update ref", "cannot lock ref", "incorrect old value")
    )


def _porcelain_summary(stdout: str, ref: str) -> str:
    """The summary of ``ref``'s line in ``git push --porcelain`` output: flag, from:to, summary."""
    for line in stdout.splitlines():
        fields = line.split("\t")
        if len(fields) == 3 and fields[1].endswith(f":{ref}"):
            return fields[2].strip()
    return ""


def _result(s: _Session, r: _Remote) -> PushResult:
    head = s.head()
    if r.error or r.head != head:
        return PushResult(remote=r.name, ok=False, message=r.error or f"not pushed; still at {r.head}")
    if r.start == head:
        moved = f"already at {_short(head)}"
    elif r.start is None:
        moved = f"created {s.branch} at {_short(head)}"
    else:
        moved = f"pushed {_short(r.start)}..{_short(head)}"
    return PushResult(remote=r.name, ok=True, message="; ".join([*r.notes, moved]))


def _rev(root: Path, ref: str) -> str:
    return git(root, "rev-parse", "--verify", f"{ref}^{{commit}}").stdout.strip()


def _has_commit(root: Path, sha: str) -> bool:
    return git(root, "cat-file", "-e", f"{sha}^{{commit}}", check=False).returncode == 0


def _is_ancestor(root: Path, ancestor: str, descendant: str) -> bool:
    return git(root, "merge-base", "--is-ancestor", ancestor, descendant, check=False).returncode == 0


def _related(root: Path, sha: str) -> bool:
    return git(root, "merge-base", "HEAD", sha, check=False).returncode == 0


def _is_shallow(root: Path) -> bool:
    return git(root, "rev-parse", "--is-shallow-repository").stdout.strip() == "true"


def _count(root: Path, *revs: str) -> int:
    return int(git(root, "rev-list", "--count", *revs).stdout)


def _short(sha: str) -> str:
    return sha[:7]
