"""Publish stage: git init, one commit per run that changed something, push to every remote."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from pathlib import Path

from .exceptions import PublishError
from .types import PushResult

MANAGED_PATHS = ("articles", "lists", "README.md", "status.md", "status.xml", ".newsmirror")
_FALLBACK_IDENTITY = ("-c", "user.name=newsmirror", "-c", "user.email=newsmirror@localhost")


def git(
    root: Path, *args: str, check: bool = True, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run git in ``root``; a failure (when ``check``) is a ``PublishError`` with git's words."""
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}
    try:
        done = subprocess.run(
            ["git", *args], cwd=root, env=env, input=stdin, text=True, capture_output=True, check=False
        )
    except OSError as e:
        raise PublishError(f"cannot run git: {e}") from e
    if check and done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()
        raise PublishError(f"git {args[0]} failed in {root}: {detail[-1] if detail else done.returncode}")
    return done


def ensure_repo(root: Path) -> None:
    """Create ``root`` and make it a git repository of its own when it is not one yet."""
    root.mkdir(parents=True, exist_ok=True)
    if not (root / ".git").exists():
        git(root, "init", "-q", "-b", "main")


def git_dir(root: Path) -> Path:
    return Path(git(root, "rev-parse", "--absolute-git-dir").stdout.strip())


def commit(root: Path, message: str) -> str | None:
    """Stage newsmirror's paths and commit; None when nothing changed (no empty commits)."""
    paths = [p for p in MANAGED_PATHS if (root / p).exists() or _tracked(root, p)]
    if not paths:
        return None
    # Loose objects are re-deflated when git packs them (gc, push), so compressing them here
    # is work done twice; an hourly run adds few, a first import thousands.
    git(root, "-c", "core.looseCompression=0", "add", "-A", "--", *paths)
    if git(root, "diff", "--cached", "--quiet", check=False).returncode == 0:
        return None
    git(root, *_identity(root), "commit", "-q", "--no-verify", "-F", "-", stdin=message)
    return git(root, "rev-parse", "HEAD").stdout.strip()


def _tracked(root: Path, path: str) -> bool:
    return bool(git(root, "ls-files", "--", path, check=False).stdout.strip())


def _identity(root: Path) -> Sequence[str]:
    configured = git(root, "config", "user.email", check=False).stdout.strip()
    return () if configured else _FALLBACK_IDENTITY


def push_all(root: Path) -> tuple[PushResult, ...]:
    """Push the current branch to every remote; one result per remote."""
    remotes = git(root, "remote").stdout.split()
    return tuple(_push(root, remote) for remote in remotes)


def _push(root: Path, remote: str) -> PushResult:
    done = git(root, "push", "-q", remote, "HEAD", check=False)
    if done.returncode == 0:
        return PushResult(remote=remote, ok=True)
    lines = (done.stderr or done.stdout).strip().splitlines()
    return PushResult(remote=remote, ok=False, message=lines[-1] if lines else "push failed")
