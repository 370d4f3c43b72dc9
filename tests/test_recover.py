"""What a run finds in git and must repair, or must leave alone.

A run repairs only what newsmirror itself left half done. The maintainer's own rebase or merge
in progress, with their conflict resolutions, is refused and left exactly as it was. Newsmirror's
own marked rebase is aborted, and its branch checked out again. An index that git cannot read,
and article files that a power loss left empty, are rebuilt from HEAD.
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from .conftest import Runner
from .feeds import It, rss

JUL20 = "Mon, 20 Jul 2020 07:41:21 GMT"
ME = ("-c", "user.name=maintainer", "-c", "user.email=m@example.com")


def archive_with_one_article(runner: Runner) -> None:
    url = runner.feed("news", rss(It("甲", "https://e.com/a", JUL20)))
    runner.sources({"name": "新闻", "slug": "news", "url": url})
    assert runner.run() == 0


def more_news(runner: Runner) -> None:
    items = (It("甲", "https://e.com/a", JUL20), It("乙", "https://e.com/b", JUL20))
    runner.feed("news", rss(*items))


def conflicting_branches(runner: Runner) -> None:
    """``mine`` and ``main`` both change notes.txt: rebasing main onto mine stops in a conflict."""
    (runner.archive / "notes.txt").write_text("base\n")
    runner.git("add", "notes.txt")
    runner.git(*ME, "commit", "-q", "-m", "notes")
    runner.git("checkout", "-q", "-b", "mine")
    (runner.archive / "notes.txt").write_text("mine\n")
    runner.git(*ME, "commit", "-q", "-am", "mine")
    runner.git("checkout", "-q", "main")
    (runner.archive / "notes.txt").write_text("main\n")
    runner.git(*ME, "commit", "-q", "-am", "main")


def git_fails(runner: Runner, *args: str) -> None:
    done = subprocess.run(["git", "-C", str(runner.archive), *ME, *args], capture_output=True, check=False)
    assert done.returncode != 0


def stopped_in_a_conflict(runner: Runner, action: str, resolution: str) -> None:
    """The maintainer's ``git rebase mine`` or ``git merge mine`` stopped in a conflict, which
    they are resolving by hand; the feed has a new item meanwhile."""
    archive_with_one_article(runner)
    conflicting_branches(runner)
    git_fails(runner, action, "mine")
    (runner.archive / "notes.txt").write_text(resolution)
    more_news(runner)


def test_the_maintainers_rebase_in_progress_is_refused_and_left_as_it_was(
    runner: Runner, capsys: pytest.CaptureFixture[str]
) -> None:
    stopped_in_a_conflict(runner, "rebase", "resolved by hand\n")
    runner.git("add", "notes.txt")
    head, commits = runner.git("rev-parse", "HEAD"), runner.commits()
    capsys.readouterr()

    assert runner.run() == 5
    err = capsys.readouterr().err
    assert "a git rebase is in progress that newsmirror did not start" in err
    assert "git rebase --continue or git rebase --abort" in err
    assert (runner.archive / ".git" / "rebase-merge").is_dir()
    assert (runner.archive / "notes.txt").read_text() == "resolved by hand\n"
    assert runner.git("diff", "--cached", "--name-only").split() == ["notes.txt"]
    assert (runner.git("rev-parse", "HEAD"), runner.commits()) == (head, commits)
    assert len(runner.ids("news")) == 1

    runner.git(*ME, "-c", "core.editor=true", "rebase", "--continue")
    assert runner.run() == 0
    assert len(runner.ids("news")) == 2
    assert (runner.archive / "notes.txt").read_text() == "resolved by hand\n"


def test_the_maintainers_merge_in_progress_is_refused(
    runner: Runner, capsys: pytest.CaptureFixture[str]
) -> None:
    stopped_in_a_conflict(runner, "merge", "merged by hand\n")
    capsys.readouterr()

    assert runner.run() == 5
    assert "a git merge is in progress that newsmirror did not start" in capsys.readouterr().err
    assert (runner.archive / ".git" / "MERGE_HEAD").is_file()
    assert (runner.archive / "notes.txt").read_text() == "merged by hand\n"
    assert len(runner.ids("news")) == 1


def test_newsmirrors_own_interrupted_rebase_is_aborted_and_its_branch_checked_out(runner: Runner) -> None:
    archive_with_one_article(runner)
    conflicting_branches(runner)
    before = runner.git("rev-parse", "HEAD").strip()
    git_fails(runner, "rebase", "mine")  # stands for the rebase of a run killed half way
    mark = {"action": "rebase", "branch": "main", "before": before}
    (runner.archive / ".git" / "newsmirror-operation.json").write_text(json.dumps(mark))
    assert runner.git("symbolic-ref", "-q", "HEAD", check=False) == ""
    more_news(runner)

    assert runner.run() == 0
    assert runner.git("symbolic-ref", "--short", "HEAD").strip() == "main"
    assert runner.git("rev-parse", "HEAD~1").strip() == before
    assert not (runner.archive / ".git" / "rebase-merge").exists()
    assert not (runner.archive / ".git" / "newsmirror-operation.json").exists()
    assert (runner.archive / "notes.txt").read_text() == "main\n"
    assert len(runner.ids("news")) == 2
    assert runner.git("status", "--porcelain") == ""


def test_an_empty_git_index_is_rebuilt_from_head(runner: Runner) -> None:
    archive_with_one_article(runner)
    (runner.archive / ".git" / "index").write_bytes(b"")
    more_news(runner)

    assert runner.run() == 0
    assert len(runner.ids("news")) == 2
    assert runner.git("status", "--porcelain") == ""
    assert runner.git("show", "--stat", "--format=", "HEAD").count("articles/news/") == 1
    assert (runner.archive / ".git" / "index.unreadable").read_bytes() == b""


def test_article_files_a_power_loss_left_empty_are_put_back_or_written_again(runner: Runner) -> None:
    archive_with_one_article(runner)
    (one,) = runner.ids("news")
    first = runner.article("news", one)
    (runner.archive / "articles" / "news" / f"{one}.md").write_bytes(b"")  # committed, then emptied
    (runner.archive / "articles" / "news" / f"{one - 1}.md").write_bytes(b"")  # never committed
    (runner.archive / ".git" / "newsmirror-journal.jsonl").write_bytes(b"")  # by a run the power cut stopped
    more_news(runner)

    assert runner.run() == 0
    assert runner.ids("news") == [one - 1, one]
    assert runner.article("news", one) == first
    assert "[乙](https://e.com/b)" in runner.article("news", one - 1)
    assert runner.git("status", "--porcelain") == ""


def test_the_gc_git_detaches_after_a_commit_does_not_hold_the_run_lock(
    runner: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run's own git commands hold the lock and start no gc; the `git gc --auto` started after
    the commit detaches without it, so a run right after is not refused (exit 3)."""
    for key, value in os.environ.items():  # the suite's own setting (conftest): gc off
        if key.startswith("GIT_CONFIG_KEY_") and value in ("gc.auto", "gc.autoDetach"):
            monkeypatch.setenv(key.replace("KEY", "VALUE"), "1" if value == "gc.auto" else "true")
    archive_with_one_article(runner)
    more_news(runner)
    assert runner.run() == 0  # its commit leaves loose objects past gc.auto = 1: git gc detaches
    runner.feed("news", rss(It("甲", "https://e.com/a", JUL20), It("丙", "https://e.com/c", JUL20)))
    assert runner.run() == 0
    assert len(runner.ids("news")) == 3
