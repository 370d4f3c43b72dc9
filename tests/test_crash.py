"""Crash safety: ``newsmirror run`` killed with SIGKILL anywhere, then rerun, equals an uninterrupted run.

The harness is ``scripts/crash_harness.py`` (see its docstring). The fast test lands one kill
at a stage marker of each stage, where the run freezes itself: every stage is hit by
construction, however busy the machine. The slow one (``-m slow``) lands the full count of 120,
markers, random delays and disk events mixed. Two more tests pin down leftovers that random
kills hit rarely: temporary page files in the archive's root and stale git ref locks.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from .conftest import Runner
from .feeds import It, rss

HARNESS_PATH = Path(__file__).resolve().parents[1] / "scripts" / "crash_harness.py"
JUL20 = "Mon, 20 Jul 2020 07:41:21 GMT"
JUL21 = "Tue, 21 Jul 2020 07:41:21 GMT"


def load_harness() -> ModuleType:
    name = "crash_harness"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, HARNESS_PATH)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


def work_dir(tmp_path: Path) -> Path:
    shm = Path("/dev/shm")
    return shm if shm.is_dir() and shm.stat().st_mode & 0o2 else tmp_path


def assert_clean(report: object, kills: int) -> None:
    harness = load_harness()
    assert isinstance(report, harness.Report)
    assert report.mismatches == []
    assert report.kills == kills
    assert report.reruns == kills + report.finished_early
    assert report.fsck_clean == report.reruns
    assert (report.lost, report.duplicated) == (0, 0)
    assert report.ok


def test_a_kill_at_every_stage_marker_then_reruns_equal_the_uninterrupted_run(tmp_path: Path) -> None:
    harness = load_harness()
    kills = len(harness.REQUIRED_STAGES)  # the first markers: one for each required stage
    options = harness.Options(kills=kills, seed=7, sources=3, items=30, tmpdir=work_dir(tmp_path))
    report = harness.run_harness(options)
    assert_clean(report, kills)
    assert report.new_articles == 3 * 20  # the 25 items of the current window, 5 already archived
    assert report.start_articles == 3 * 10
    assert report.finished_early == 0  # every marker is reached, none depends on timing
    assert report.off_target == []  # each landed in the stage it aims at
    assert report.missing_stages == [], report.stages
    assert sum(report.plans.values()) == kills
    assert all(plan.startswith("at ") for plan in report.plans), report.plans


@pytest.mark.slow
def test_full_count_of_kills_covers_every_stage(tmp_path: Path) -> None:
    harness = load_harness()
    report = harness.run_harness(harness.Options(kills=120, seed=1, tmpdir=work_dir(tmp_path)))
    print(harness.format_report(report, harness.Options(kills=120, seed=1)))
    assert_clean(report, 120)
    assert report.off_target == []
    assert report.missing_stages == []


def one_source(runner: Runner, *items: It) -> None:
    url = runner.feed("news", rss(*items))
    runner.sources({"name": "新闻", "slug": "news", "url": url})


def test_temporary_page_files_left_in_the_root_are_removed(runner: Runner) -> None:
    one_source(runner, It("甲", "https://example.com/a", JUL20))
    assert runner.run() == 0
    # what a run killed while writing README.md, status.md, status.xml or a list leaves
    for name in (".README.md.tmp-4242", ".status.xml.tmp-4242", "lists/.新闻.md.tmp-4242"):
        (runner.archive / name).write_text("half writ", encoding="utf-8")
    one_source(runner, It("乙", "https://example.com/b", JUL21), It("甲", "https://example.com/a", JUL20))
    assert runner.run() == 0
    assert runner.git("status", "--porcelain", "--untracked-files=all") == ""
    assert sorted(p.name for p in runner.archive.glob(".*.tmp-*")) == []
    assert not (runner.archive / "lists/.新闻.md.tmp-4242").exists()
    assert runner.ids("news") == [1048573, 1048574]


def test_stale_ref_locks_of_a_killed_commit_do_not_block_later_runs(runner: Runner) -> None:
    one_source(runner, It("甲", "https://example.com/a", JUL20))
    assert runner.run() == 0
    git_dir = runner.archive / ".git"
    # a commit killed while it moved the branch or ran maintenance; a fetch --deepen killed half way
    for name in (
        "refs/heads/main.lock",
        "HEAD.lock",
        "shallow.lock",
        "index.lock",
        "objects/maintenance.lock",
    ):
        (git_dir / name).write_text("", encoding="utf-8")
    one_source(runner, It("乙", "https://example.com/b", JUL21), It("甲", "https://example.com/a", JUL20))
    assert runner.run() == 0
    assert runner.commits() == 2
    assert "[乙](https://example.com/b)" in runner.article("news", 1048573)
    assert sorted(p.name for p in git_dir.rglob("*.lock") if p.name != "newsmirror.lock") == []
    assert runner.git("status", "--porcelain") == ""
