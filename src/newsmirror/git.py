"""Running git: the one place newsmirror starts a git command, and what every call carries."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from .exceptions import PublishError

# Every git call: automatic gc and maintenance run in the foreground, so that no git process
# outlives the call that started it (a detached gc would hold the run lock it inherits into the
# next run). Objects, refs and the index are fsynced: git's default leaves loose objects
# unsynced, and a power loss after a commit could then leave a branch pointing at empty objects.
_EVERY_CALL = (
    "-c", "gc.autoDetach=false", "-c", "maintenance.autoDetach=false",
    "-c", "core.fsync=committed,index", "-c", "core.fsyncMethod=batch",
)  # fmt: skip
# File descriptors of run locks this process holds: every git child inherits them, so a lock is
# released only when newsmirror *and* every git it started are gone. A run killed alone (plain
# `kill`, `timeout`, the OOM killer) leaves its git running; the next run must not touch the
# repository until that git has finished.
HELD_LOCKS: set[int] = set()


def git(
    root: Path, *args: str, check: bool = True, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run git in ``root``; a failure (when ``check``) is a ``PublishError`` with git's words."""
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}
    try:
        done = subprocess.run(
            ["git", *_EVERY_CALL, *args],
            cwd=root,
            env=env,
            input=stdin,
            text=True,
            capture_output=True,
            check=False,
            pass_fds=tuple(sorted(HELD_LOCKS)),
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


def git_dir(root: Path) -> Path:
    return Path(git(root, "rev-parse", "--absolute-git-dir").stdout.strip())


def branch(root: Path) -> str | None:
    """The checked-out branch; None when detached or when it has no commit yet."""
    name = git(root, "symbolic-ref", "-q", "--short", "HEAD", check=False).stdout.strip()
    has_commit = git(root, "rev-parse", "-q", "--verify", "HEAD^{commit}", check=False).returncode == 0
    return name if name and has_commit else None


def reason(done: subprocess.CompletedProcess[str]) -> str:
    """git's error lines (``fatal:``/``error:``), else its last line."""
    lines = [line.strip() for line in f"{done.stderr}\n{done.stdout}".splitlines() if line.strip()]
    errors = dict.fromkeys(line for line in lines if line.startswith(("fatal:", "error:")))
    if errors:
        return "; ".join(errors)
    return lines[-1] if lines else f"git exited with status {done.returncode}"
