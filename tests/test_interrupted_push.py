"""``newsmirror run --push`` with its Python process killed alone at a git step, then run again at once.

A plain ``kill``, ``timeout`` or the OOM killer ends newsmirror's process and leaves the git
command it was running to go on by itself. Each trial here continues an archive whose remote got
another writer's commit, so the run's push fetches, rebases and pushes. A ``git`` wrapper put
first on ``PATH`` (the run's only) counts the run's git commands and, at the chosen one, kills
its parent, newsmirror, with SIGKILL:

* ``before``: the git command then starts, an orphan, and runs to its end;
* ``orphan``: the same, held up by hooks at each checkout and ref update until the rerun has
  tried, so that the rerun starts while it is half way through (a rebase: HEAD detached);
* ``during``: the git command starts first and newsmirror is killed while it runs.

The rerun starts at once and is repeated while it exits 3 (the lock held by the orphan git, as
the next hourly run would find it). Then the branch must be checked out (not detached), the
index readable, the tree clean, nothing of git's half done, every item in exactly one article
file, the other writer's commit kept and the remote at the local head.

The default run kills at the rebase and the push; ``-m slow`` at every git command of the run.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from newsmirror.cli import main

from .feeds import It, rss
from .servers import Reply, Server, serve

REAL_GIT = shutil.which("git") or "/usr/bin/git"
NOW = "2026-01-02T03:04:05Z"
LATER = "2026-01-02T04:04:05Z"
WRAPPER = """#!/bin/sh
n=$(($(cat "$NM_GIT_COUNTER" 2>/dev/null || echo 0) + 1))
echo "$n" >"$NM_GIT_COUNTER"
printf '%s\\n' "$*" >>"$NM_GIT_LOG"
if [ "$n" = "$NM_KILL_AT" ]; then
    case $NM_KILL_MODE in
    before) kill -KILL "$PPID" ;;
    orphan)
        kill -KILL "$PPID"
        i=${GIT_CONFIG_COUNT:-0}
        export GIT_CONFIG_COUNT=$((i + 1)) "GIT_CONFIG_KEY_$i=core.hooksPath" \\
            "GIT_CONFIG_VALUE_$i=$NM_SLOW_HOOKS"
        ;;
    during) parent=$PPID; (sleep 0.02; kill -KILL "$parent") & ;;
    esac
fi
exec "$NM_REAL_GIT" "$@"
"""
LINK = re.compile(r"^\[.*\]\((https://example\.com/[^)]*)\)$", re.MULTILINE)
# An orphan git's hooks wait until the harness has started the rerun (at most 30 s).
HOLD = """#!/bin/sh
i=0
while [ ! -e "$NM_RELEASE" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
exit 0
"""
RUN = "from newsmirror.cli import entry; entry()"
OLD_DATE, NEW_DATE = "Mon, 20 Jul 2020 07:41:21 GMT", "Thu, 01 Jan 2026 07:41:21 GMT"
FIRST = [It(f"第{n}条", f"https://example.com/{n}", OLD_DATE) for n in range(1, 4)]
NEW = [It(f"新的第{n}条", f"https://example.com/new/{n}", NEW_DATE) for n in range(1, 6)]


@dataclass
class Scene:
    """The starting archive (a clone whose remote moved on) and the feed the run will read."""

    root: Path
    server: Server
    sources: Path
    wrapper: Path

    def copy(self, name: str) -> tuple[Path, Path]:
        trial = self.root / name
        archive, remote = trial / "archive", trial / "remote.git"
        shutil.copytree(self.root / "start" / "archive", archive, symlinks=True)
        shutil.copytree(self.root / "start" / "remote.git", remote, symlinks=True)
        git(archive, "remote", "set-url", "origin", str(remote))
        return archive, remote

    def run(self, archive: Path, kill_at: int = 0, mode: str = "") -> tuple[int, list[str]]:
        """One ``newsmirror run --push`` through the git wrapper; exit status and git's commands."""
        log = archive.parent / "git.log"
        env = {
            **os.environ,
            "PATH": f"{self.wrapper.parent}{os.pathsep}{os.environ['PATH']}",
            "NM_REAL_GIT": REAL_GIT,
            "NM_GIT_COUNTER": str(archive.parent / "git.count"),
            "NM_GIT_LOG": str(log),
            "NM_KILL_AT": str(kill_at),
            "NM_KILL_MODE": mode,
            "NM_SLOW_HOOKS": str(self.wrapper.parent.parent / "slow-hooks"),
            "NM_RELEASE": str(archive.parent / "release"),
        }
        args = ["run", "--archive", str(archive), "--sources", str(self.sources), "--push", "--now", LATER]
        done = subprocess.run([sys.executable, "-c", RUN, *args], env=env, capture_output=True, check=False)
        return done.returncode, log.read_text().splitlines() if log.exists() else []


def git(root: Path, *args: str) -> str:
    return subprocess.run(
        [REAL_GIT, "-C", str(root), *args], capture_output=True, text=True, check=True
    ).stdout.strip()


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scene]:
    root = tmp_path_factory.mktemp("interrupted-push")
    with serve({}) as server:
        server.routes["/news.xml"] = Reply(rss(*FIRST))
        sources = root / "sources.toml"
        sources.write_text(f'[[source]]\nname = "新闻"\nslug = "news"\nurl = "{server.url("/news.xml")}"\n')
        start, remote = root / "start" / "archive", root / "start" / "remote.git"
        subprocess.run([REAL_GIT, "init", "-q", "--bare", "-b", "main", str(remote)], check=True)
        assert main(["run", "--archive", str(start), "--sources", str(sources), "--now", NOW]) == 0
        git(start, "remote", "add", "origin", str(remote))
        git(start, "push", "-q", "origin", "main")
        _another_writer_pushes(root / "other", remote)
        server.routes["/news.xml"] = Reply(rss(*FIRST, *NEW))
        wrapper = root / "bin" / "git"
        wrapper.parent.mkdir()
        wrapper.write_text(WRAPPER)
        wrapper.chmod(0o755)
        for hook in ("post-checkout", "reference-transaction", "post-rewrite"):
            slow = root / "slow-hooks" / hook
            slow.parent.mkdir(exist_ok=True)
            slow.write_text(HOLD)
            slow.chmod(0o755)
        yield Scene(root, server, sources, wrapper)


def _another_writer_pushes(other: Path, remote: Path) -> None:
    subprocess.run([REAL_GIT, "clone", "-q", str(remote), str(other)], check=True)
    (other / "notes").mkdir()
    (other / "notes" / "maintainer.md").write_text("维护者的笔记\n", encoding="utf-8")
    git(other, "add", "notes")
    git(other, "-c", "user.name=m", "-c", "user.email=m@example.com", "commit", "-q", "-m", "notes")
    git(other, "push", "-q", "origin", "main")


@pytest.fixture(scope="module")
def reference(scene: Scene) -> list[str]:
    """The git commands of an uninterrupted run, and that it does rebase onto the other writer."""
    archive, remote = scene.copy("reference")
    code, commands = scene.run(archive)
    assert code == 0
    assert git(archive, "rev-parse", "HEAD") == git(remote, "rev-parse", "main")
    assert any(subcommand(c) == "rebase" for c in commands)
    assert_consistent(archive, remote)
    return commands


def subcommand(line: str) -> str:
    words = line.split()
    while words and words[0].startswith("-"):
        option = words.pop(0)
        if option == "-c" and words:
            words.pop(0)
    return words[0] if words else ""


def rerun_until_unlocked(scene: Scene, archive: Path) -> tuple[int, int]:
    """Run again at once, and again while the lock is held; the last exit status and how many 3s.

    After the first rerun an orphan git held up by the hooks may go on (``release``).
    """
    locked = 0
    deadline = time.monotonic() + 90
    while True:
        code, _ = scene.run(archive)
        (archive.parent / "release").touch()
        if code != 3 or time.monotonic() > deadline:
            return code, locked
        locked += 1
        time.sleep(0.1)


def assert_consistent(archive: Path, remote: Path) -> None:
    folder = archive / ".git"
    assert git(archive, "symbolic-ref", "--short", "HEAD") == "main"  # not detached
    assert git(archive, "status", "--porcelain", "--untracked-files=all") == ""
    assert not [p.name for p in folder.iterdir() if p.name in ("rebase-merge", "rebase-apply", "MERGE_HEAD")]
    assert not (folder / "newsmirror-operation.json").exists()
    assert git(archive, "rev-parse", "HEAD") == git(remote, "rev-parse", "main")
    assert (archive / "notes" / "maintainer.md").read_text(encoding="utf-8") == "维护者的笔记\n"
    links = Counter(
        link.group(1)
        for path in (archive / "articles" / "news").rglob("*.md")
        if (link := LINK.search(path.read_text(encoding="utf-8")))
    )
    wanted = {item.link for item in (*FIRST, *NEW)}
    assert set(links) == wanted
    assert set(links.values()) == {1}, f"duplicated: {[k for k, v in links.items() if v > 1]}"
    fsck = subprocess.run(
        [REAL_GIT, "-C", str(archive), "fsck", "--full"], capture_output=True, text=True, check=False
    )
    assert fsck.returncode == 0, fsck.stderr


def trial(scene: Scene, kill_at: int, mode: str) -> int:
    archive, remote = scene.copy(f"kill-{kill_at}-{mode}")
    code, commands = scene.run(archive, kill_at, mode)
    assert len(commands) >= kill_at  # the run got as far as the git command to be killed at
    if mode != "during":  # killed before that git started: a run that ran to its end is impossible
        assert code == -9
    final, locked = rerun_until_unlocked(scene, archive)
    assert final == 0, f"rerun after a kill at git command {kill_at} ({mode}) exited {final}"
    assert_consistent(archive, remote)
    shutil.rmtree(archive.parent)
    return locked


def steps(commands: list[str], *names: str) -> list[int]:
    return [n for n, line in enumerate(commands, start=1) if subcommand(line) in names]


@pytest.mark.parametrize("mode", ["before", "orphan", "during"])
def test_killed_alone_in_the_rebase_a_run_started_at_once_recovers(
    scene: Scene, reference: list[str], mode: str
) -> None:
    for step in steps(reference, "rebase"):
        trial(scene, step, mode)


def test_killed_alone_while_git_rebases_the_next_run_waits_for_that_git(
    scene: Scene, reference: list[str]
) -> None:
    (step,) = steps(reference, "rebase")
    assert trial(scene, step, "orphan") >= 1  # the orphan git held the lock: the rerun did not touch it


def test_killed_alone_in_the_push_a_run_started_at_once_recovers(scene: Scene, reference: list[str]) -> None:
    for step in steps(reference, "push"):
        trial(scene, step, "orphan")


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["before", "orphan", "during"])
def test_killed_alone_at_every_git_command_a_run_started_at_once_recovers(
    scene: Scene, reference: list[str], mode: str
) -> None:
    for step in range(1, len(reference) + 1):
        trial(scene, step, mode)
