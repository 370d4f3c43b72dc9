"""Races: two runs started together on one archive; a push that races another writer, end to end.

Every run here is a real ``newsmirror run`` process (the lock is a file lock between processes);
the feeds are served on 127.0.0.1 by a thread of the test process.
"""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from .feeds import It, rss
from .servers import Reply, Server

NOW = "2026-01-02T03:04:05Z"
DAY = "20 Jul 2020"  # + " HH:MM:SS": no zone, read as UTC
LINK = re.compile(r"^\[.*\]\((https://[^)\s]+)\)$", re.M)
BODY = "<p>" + "新闻正文。" * 400 + "</p>"  # 6 KB: enough files and bytes that runs overlap


def items(source: int, first: int, last: int) -> bytes:
    return rss(
        *(
            It(f"标题{source}-{n}", f"https://example.com/{source}/{n}", f"{DAY} 0{n % 10}:{n:02d}:00", BODY)
            for n in range(first, last)
        )
    )  # fmt: skip


def serve_feeds(server: Server, root: Path, last: int, sources: int = 4) -> Path:
    lines = []
    for s in range(sources):
        server.routes[f"/s{s}.xml"] = Reply(items(s, 0, last))
        lines += [
            "[[source]]",
            f'name = "源{s}"',
            f'slug = "s{s}"',
            f'url = "{server.url(f"/s{s}.xml")}"',
            "",
        ]
    path = root / "sources.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def command(archive: Path, sources: Path, *extra: str) -> list[str]:
    entry = "from newsmirror.cli import entry; entry()"
    return [sys.executable, "-c", entry, "run", "--archive", str(archive), "--sources", str(sources), "--now",
            NOW, *extra]  # fmt: skip


def run_together(archive: Path, sources: Path) -> list[tuple[int, str]]:
    """Start two runs at once (both spawned before either is waited for)."""
    processes = [
        subprocess.Popen(command(archive, sources), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    return [(p.wait(120), p.communicate()[1]) for p in processes]


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, check=True).stdout


def links(root: Path) -> Counter[str]:
    found: Counter[str] = Counter()
    for path in (root / "articles").rglob("*.md"):
        match = LINK.search(path.read_text(encoding="utf-8"))
        assert match, path
        found[match.group(1)] += 1
    return found


def expected_links(last: int, sources: int = 4) -> Counter[str]:
    return Counter(f"https://example.com/{s}/{n}" for s in range(sources) for n in range(last))


def assert_sound(archive: Path) -> None:
    assert git(archive, "status", "--porcelain", "--untracked-files=all") == ""
    fsck = subprocess.run(
        ["git", "-C", str(archive), "fsck", "--full"], capture_output=True, text=True, check=False
    )
    assert fsck.returncode == 0, fsck.stderr
    assert [line for line in fsck.stdout.splitlines() if not line.startswith("dangling ")] == []


@pytest.mark.parametrize("rounds", [3])
def test_two_runs_started_together_one_archives_the_other_waits_or_exits_3(
    server: Server, tmp_path: Path, rounds: int
) -> None:
    archive = tmp_path / "archive"
    sources = serve_feeds(server, tmp_path, 10)
    assert subprocess.run(command(archive, sources), capture_output=True, check=False).returncode == 0
    for round_ in range(1, rounds + 1):
        last = 10 + 30 * round_
        serve_feeds(server, tmp_path, last)
        results = run_together(archive, sources)
        codes = sorted(code for code, _ in results)
        assert codes in ([0, 0], [0, 3]), results
        if codes == [0, 3]:
            loser = next(err for code, err in results if code == 3)
            assert "another newsmirror run holds the lock" in loser
        assert links(archive) == expected_links(last)  # nothing lost, nothing twice
        assert int(git(archive, "rev-list", "--count", "HEAD")) == 1 + round_  # one commit per round
        assert git(archive, "log", "-1", "--format=%s") == "newsmirror: 120 new articles\n"
        assert_sound(archive)


def test_two_first_runs_started_together_on_a_missing_archive(server: Server, tmp_path: Path) -> None:
    archive = tmp_path / "new" / "archive"
    sources = serve_feeds(server, tmp_path, 20)
    results = run_together(archive, sources)
    codes = sorted(code for code, _ in results)
    assert codes in ([0, 0], [0, 3]), results
    assert links(archive) == expected_links(20)
    assert int(git(archive, "rev-list", "--count", "HEAD")) == 1
    assert_sound(archive)


PRE_PUSH = """#!/bin/sh
# Another writer pushes to the remote while this push is under way (once).
[ -e "$MARK" ] && exit 0
touch "$MARK"
unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE GIT_PREFIX
git -C "$OTHER" push -q origin HEAD:main
"""


def test_push_racing_another_writer_ends_with_both_commits_at_the_remote(
    server: Server, tmp_path: Path
) -> None:
    remote, ours, other = tmp_path / "remote.git", tmp_path / "ours", tmp_path / "other"
    sources = serve_feeds(server, tmp_path, 10)
    assert subprocess.run(command(ours, sources), capture_output=True, check=False).returncode == 0
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(remote)], check=True)
    git(ours, "remote", "add", "origin", str(remote))
    git(ours, "push", "-q", "origin", "main")
    subprocess.run(["git", "clone", "-q", str(remote), str(other)], check=True)
    # the other writer's commit: an article of a source we do not run
    (other / "articles/extra").mkdir(parents=True)
    (other / "articles/extra/1048574.md").write_text(
        "<!--1-->\n[外](https://example.com/x)\n------\n\n<p>外</p>\n"
    )
    git(other, "add", "-A")
    git(
        other,
        "-c",
        "user.name=other",
        "-c",
        "user.email=other@localhost",
        "commit",
        "-q",
        "-m",
        "other writer",
    )
    hook = ours / ".git/hooks/pre-push"
    hook.write_text(PRE_PUSH, encoding="utf-8")
    hook.chmod(hook.stat().st_mode | stat.S_IXUSR)
    serve_feeds(server, tmp_path, 40)
    env = {**os.environ, "MARK": str(tmp_path / "pushed-once"), "OTHER": str(other)}
    done = subprocess.run(
        command(ours, sources, "--push", "--json"), capture_output=True, text=True, env=env, check=False
    )
    assert (tmp_path / "pushed-once").exists()  # the other writer did push in the middle of ours
    assert done.returncode == 0, done.stdout + done.stderr
    subjects = git(remote, "log", "--format=%s", "main").splitlines()
    assert subjects[:2] == ["newsmirror: 120 new articles", "other writer"]
    clone = tmp_path / "check"
    subprocess.run(["git", "clone", "-q", str(remote), str(clone)], check=True)
    assert links(clone) == expected_links(40) + Counter({"https://example.com/x": 1})
    assert git(ours, "rev-parse", "HEAD") == git(remote, "rev-parse", "main")
    assert_sound(ours)
