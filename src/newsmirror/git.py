"""Running git: the one place newsmirror starts a git command, and what every call carries."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, overload

from .exceptions import PublishError

# Every git call: objects, refs and the index are fsynced (git's default leaves loose objects
# unsynced, and a power loss after a commit could then leave a branch pointing at empty objects).
_EVERY_CALL = (
    "-c", "core.fsync=committed,index", "-c", "core.fsyncMethod=batch",
    # In a sparse checkout the files a run writes outside the checked-out folders are expected:
    # git must not take each for a reason to expand the index (and clear its sparse bits).
    "-c", "sparse.expectFilesOutsideOfPatterns=true",
)  # fmt: skip
# And every call that holds the run lock starts no automatic gc or maintenance: git would detach
# it, and it would hold the lock it inherits long after the run (``maintain`` starts it instead,
# without the lock: git's gc is made to run beside other git commands).
_NO_AUTO_MAINTENANCE = ("-c", "gc.auto=0", "-c", "maintenance.auto=false")
# File descriptors of run locks this process holds: every git child inherits them, so a lock is
# released only when newsmirror *and* every git it started are gone. A run killed alone (plain
# `kill`, `timeout`, the OOM killer) leaves its git running; the next run must not touch the
# repository until that git has finished.
HELD_LOCKS: set[int] = set()


@overload
def git(
    root: Path,
    *args: str,
    check: bool = ...,
    stdin: str | None = ...,
    locked: bool = ...,
    text: Literal[True] = ...,
    env: Mapping[str, str] | None = ...,
) -> subprocess.CompletedProcess[str]: ...


@overload
def git(
    root: Path,
    *args: str,
    check: bool = ...,
    stdin: str | bytes | None = ...,
    locked: bool = ...,
    text: Literal[False],
    env: Mapping[str, str] | None = ...,
) -> subprocess.CompletedProcess[bytes]: ...


def git(
    root: Path,
    *args: str,
    check: bool = True,
    stdin: str | bytes | None = None,
    locked: bool = True,
    text: bool = True,
    env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[Any]:
    """Run git in ``root``; a failure (when ``check``) is a ``PublishError`` with git's words.

    ``locked``: the command holds the run locks this process holds (``HELD_LOCKS``) until it
    exits, and starts no automatic maintenance.  ``env``: variables added to the environment
    (``GIT_INDEX_FILE``); ``stdin`` may be bytes when ``text`` is False.
    """
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C", **(env or {})}
    options = (*_EVERY_CALL, *_NO_AUTO_MAINTENANCE) if locked else _EVERY_CALL
    try:
        done = subprocess.run(
            ["git", *options, *args],
            cwd=root,
            env=env,
            input=stdin.encode("utf-8") if isinstance(stdin, str) and not text else stdin,
            text=text,
            capture_output=True,
            check=False,
            pass_fds=tuple(sorted(HELD_LOCKS)) if locked else (),
        )
    except OSError as e:
        raise PublishError(f"cannot run git: {e}") from e
    if check and done.returncode != 0:
        raise PublishError(f"git {_command(args)} failed in {root}: {reason(done)}")
    return done


def _command(args: tuple[str, ...]) -> str:
    """The git subcommand, past ``-c key=value`` and other global options (``git -c … add``
    failing must say ``add``)."""
    rest = list(args)
    while rest and rest[0].startswith("-"):
        option = rest.pop(0)
        if option in ("-c", "-C") and rest:
            rest.pop(0)
    return rest[0] if rest else " ".join(args)


def maintain(root: Path) -> None:
    """Let git pack loose objects when it thinks it is time (``git gc --auto``, as ``git commit``
    would): it detaches and goes on beside the next runs, outside the run lock."""
    git(root, "gc", "--auto", "--quiet", check=False, locked=False)


def git_dir(root: Path) -> Path:
    return Path(git(root, "rev-parse", "--absolute-git-dir").stdout.strip())


def branch(root: Path) -> str | None:
    """The checked-out branch; None when detached or when it has no commit yet."""
    name = git(root, "symbolic-ref", "-q", "--short", "HEAD", check=False).stdout.strip()
    has_commit = git(root, "rev-parse", "-q", "--verify", "HEAD^{commit}", check=False).returncode == 0
    return name if name and has_commit else None


def reason(done: subprocess.CompletedProcess[Any]) -> str:
    """git's error lines (``fatal:``/``error:``), else its last line."""
    out = done.stderr if isinstance(done.stderr, str) else done.stderr.decode("utf-8", "replace")
    lines = [line.strip() for line in out.splitlines() if line.strip()]
    if isinstance(done.stdout, str):
        lines += [line.strip() for line in done.stdout.splitlines() if line.strip()]
    errors = dict.fromkeys(line for line in lines if line.startswith(("fatal:", "error:")))
    if errors:
        return "; ".join(errors)
    return lines[-1] if lines else f"git exited with status {done.returncode}"
