"""A run in a checkout made the way the generated workflow makes it: a partial clone
(``--filter=blob:none``, depth 1, a sparse index) with only the sources' summaries checked out.

Such a checkout holds none of the archive's articles, records, key shards or list pages; the
run must still know every article (ids continue, nothing archived twice, nothing overwritten),
download only the few state files its feeds ask about, and push a commit that changes what it
changed and deletes nothing it left out.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any, cast

import pytest
import yaml

from newsmirror.scaffold import WorkflowSettings, render_workflow
from newsmirror.store import TreeStore

from .conftest import Runner
from .feeds import It, rss

JUL20 = "Mon, 20 Jul 2020 07:41:21 GMT"
OLD = [It(f"旧闻{n}", f"https://e.com/old{n}", JUL20) for n in range(5)]


def sh(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True)
    return done.stdout


def workflow_job() -> dict[str, Any]:
    flow = yaml.load(render_workflow(WorkflowSettings()), Loader=yaml.BaseLoader)
    [job] = flow["jobs"].values()
    return cast(dict[str, Any], job)


def checkout_step() -> dict[str, str]:
    """What the generated workflow asks ``actions/checkout`` for."""
    step: dict[str, str] = workflow_job()["steps"][0]["with"]
    return step


@pytest.fixture(autouse=True)
def _the_jobs_git_config(monkeypatch: pytest.MonkeyPatch) -> None:
    """The git configuration the workflow's job gives every git it runs (its ``env``), added to
    what the tests give theirs."""
    env = workflow_job()["env"]
    count = int(os.environ.get("GIT_CONFIG_COUNT") or 0)
    for number in range(int(env["GIT_CONFIG_COUNT"])):
        monkeypatch.setenv(f"GIT_CONFIG_KEY_{count + number}", env[f"GIT_CONFIG_KEY_{number}"])
        monkeypatch.setenv(f"GIT_CONFIG_VALUE_{count + number}", env[f"GIT_CONFIG_VALUE_{number}"])
    monkeypatch.setenv("GIT_CONFIG_COUNT", str(count + int(env["GIT_CONFIG_COUNT"])))


def sparse_clone(runner: Runner) -> tuple[Path, Path]:
    """The archive as a remote (``origin.git``) and a checkout of it as actions/checkout makes
    one from the workflow's settings: ``clone --depth --filter --no-checkout``, then
    ``sparse-checkout set [--cone]`` the folders, then ``checkout``."""
    origin = runner.root / "origin.git"
    if origin.exists():
        shutil.rmtree(origin)
    sh(runner.root, "clone", "-q", "--bare", str(runner.archive), str(origin))
    sh(origin, "config", "uploadpack.allowFilter", "true")
    step = checkout_step()
    work = runner.root / "work"
    if work.exists():
        shutil.rmtree(work)
    depth, blobs = step["fetch-depth"], step["filter"]
    clone = ("clone", "-q", "--no-checkout", "--no-tags", f"--depth={depth}", f"--filter={blobs}")
    sh(runner.root, *clone, f"file://{origin}", str(work))
    cone = ("--cone",) if step["sparse-checkout-cone-mode"] == "true" else ("--no-cone",)
    sh(work, "sparse-checkout", "set", *cone, *step["sparse-checkout"].split())
    sh(work, "checkout", "-q", "main")
    return origin, work


def missing(work: Path, prefix: str = "") -> set[str]:
    """The files of HEAD (under ``prefix``) this clone has not downloaded."""
    listed = sh(work, "rev-list", "--objects", "--missing=print", "HEAD")
    absent = {line[1:] for line in listed.splitlines() if line.startswith("?")}
    tree = sh(work, "ls-tree", "-r", "HEAD", "--", *([prefix] if prefix else []))
    return {line.split("\t")[1] for line in tree.splitlines() if line.split()[2] in absent}


def missing_articles(work: Path) -> set[str]:
    """The article files of HEAD this clone has not downloaded."""
    return missing(work, "articles")


def files_at(repo: Path, rev: str = "HEAD") -> dict[str, str]:
    """path → object id of every file at ``rev``."""
    tree = sh(repo, "ls-tree", "-r", "-z", rev)
    entries = [e.split("\t", 1) for e in tree.split("\0") if e]
    return {path: head.split()[2] for head, path in entries}


def test_a_sparse_partial_clone_continues_the_archive_and_pushes(runner: Runner) -> None:
    runner.sources({"name": "新闻", "slug": "news", "url": runner.feed("news", rss(*OLD))})
    assert runner.run() == 0
    origin, work = sparse_clone(runner)
    assert not (work / "articles").exists()
    assert not (work / "lists").exists()
    assert not (work / ".newsmirror/records").exists()
    assert (work / ".newsmirror/sources/news.json").is_file()
    assert sh(work, "config", "--bool", "index.sparse").strip() == "true"
    archived = missing_articles(work)
    assert len(archived) == 5
    before = files_at(origin)

    runner.feed("news", rss(It("新闻一", "https://e.com/new1", JUL20), *OLD))
    assert runner.run("--push", archive=work) == 0
    assert archived <= missing_articles(work)  # not one archived article downloaded
    sh(runner.archive, "pull", "-q", str(origin), "main")
    ids = runner.ids("news")
    assert len(ids) == 6
    assert ids[0] == min(ids) == 1048574 - 5  # numbered below every archived article
    assert "[新闻一](https://e.com/new1)" in runner.article("news", ids[0])
    listing = (runner.archive / "lists/新闻.md").read_text("utf-8")
    assert all(f"/articles/news/{i}.md" in listing for i in ids)
    after = files_at(origin)
    assert set(before) < set(after)  # nothing the checkout left out was taken for deleted
    changed = {p for p in before if before[p] != after[p]}
    pages = {
        "README.md",
        "lists/新闻.md",
        "lists/新闻/README.md",
        "lists/新闻/2020-07.md",
        "status.md",
        "status.xml",
    }
    assert changed <= pages | {p for p in before if p.startswith(".newsmirror/")}
    assert not any(p.startswith("articles/") for p in changed)

    commits = runner.commits(archive=work)
    assert runner.run("--push", archive=work) == 0  # nothing new: nothing committed
    assert runner.commits(archive=work) == commits
    assert sh(work, "status", "--porcelain") == ""


def test_records_from_before_body_hashes_learn_them_once_then_nothing_is_downloaded(runner: Runner) -> None:
    runner.sources({"name": "新闻", "slug": "news", "url": runner.feed("news", rss(*OLD))})
    assert runner.run() == 0
    # the state as an import of a duty-machine tree makes it: from the files alone, no body hashes
    shutil.rmtree(runner.archive / ".newsmirror/records")
    shutil.rmtree(runner.archive / ".newsmirror/keys")
    (runner.archive / ".newsmirror/sources/news.json").unlink()
    TreeStore(runner.archive, local=runner.archive / ".git").reindex("news")
    sh(runner.archive, "add", "-A", ".newsmirror")
    sh(runner.archive, "commit", "-q", "-m", "state from the files")
    assert '"feed_sha"' not in (runner.archive / ".newsmirror/records/news/2020-07.jsonl").read_text("utf-8")

    assert runner.run() == 0  # the feed's items are known by their bodies, read once: hashes kept
    assert '"feed_sha"' in (runner.archive / ".newsmirror/records/news/2020-07.jsonl").read_text("utf-8")
    _, work = sparse_clone(runner)
    archived = missing_articles(work)
    assert runner.run(archive=work) == 0
    assert archived == missing_articles(work)  # known without reading one of them


def test_a_no_change_run_downloads_only_what_its_feed_asks_about(runner: Runner) -> None:
    items = [It(f"旧闻{n}", f"https://e.com/old{n}", JUL20) for n in range(40)]
    runner.sources({"name": "新闻", "slug": "news", "url": runner.feed("news", rss(*items))})
    assert runner.run() == 0
    runner.feed("news", rss(*items[:3]))  # the feed now carries three of them
    _, work = sparse_clone(runner)
    state = missing(work, ".newsmirror")
    pages = missing(work, "lists")
    assert runner.run(archive=work) == 0
    fetched = state - missing(work, ".newsmirror")
    assert fetched  # the key shards and months of three items …
    assert len(fetched) < len(state) // 2  # … not the source's state
    assert fetched <= {p for p in state if p.startswith((".newsmirror/keys/", ".newsmirror/records/"))}
    assert pages == missing(work, "lists")  # pages that did not change are compared, not downloaded
    assert sh(work, "status", "--porcelain") == ""


def test_new_articles_in_a_sparse_checkout_go_into_the_state_and_every_page(
    runner: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner.sources({"name": "新闻", "slug": "news", "url": runner.feed("news", rss(*OLD))})
    assert runner.run() == 0
    origin, work = sparse_clone(runner)
    fresh = [It(f"新闻{n}", f"https://e.com/new{n}", "Thu, 01 Jan 2026 07:00:00 GMT") for n in range(3)]
    runner.feed("news", rss(*fresh, *OLD))
    trace = runner.root / "git-trace.txt"
    monkeypatch.setenv("GIT_TRACE", str(trace))
    assert runner.run("--push", archive=work) == 0
    monkeypatch.delenv("GIT_TRACE")
    commands = [line for line in trace.read_text("utf-8").splitlines() if "built-in: git" in line]
    # newsmirror's own (git's lazy fetch of the push's delta bases has no -q: one more request)
    downloads = [line for line in commands if " fetch -q " in line and "--filter=blob:none --stdin" in line]
    assert len(downloads) == 2  # the feed's key shards, then what storing new articles reads
    # committed straight into HEAD's trees: the checkout is as sparse and as clean as it was,
    # its index a handful of entries (staging them would have expanded it to every file)
    assert not (work / "articles").exists()
    assert sh(work, "status", "--porcelain") == ""
    indexed = sh(work, "ls-files", "--sparse").splitlines()
    assert "articles/" in indexed
    assert not any(p.startswith("articles/news") for p in indexed)
    sh(runner.archive, "pull", "-q", str(origin), "main")
    assert len(runner.ids("news")) == 8
    month = (runner.archive / "lists/新闻/2026-01.md").read_text("utf-8")
    assert all(f"[新闻{n}]" in month for n in range(3))
    assert "2026-01" in (runner.archive / "lists/新闻/README.md").read_text("utf-8")
    assert "[旧闻0]" in (runner.archive / "lists/新闻/2020-07.md").read_text("utf-8")  # kept as it was
    # the state written from a checkout that held almost none of it is the state of the files
    assert runner.run(archive=work) == 0  # and a second run there knows all eight
    assert runner.commits(archive=work) == runner.commits()


def test_keys_spread_over_more_shards_in_a_sparse_checkout_lose_none(
    runner: Runner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr("newsmirror.store.lines.SHARD_LINES", 1)  # 16 key lines fill one digit
    runner.sources({"name": "新闻", "slug": "news", "url": runner.feed("news", rss(*OLD))})
    assert runner.run() == 0  # 5 articles, 10 key lines (link, id): one hex digit
    assert all(len(p.stem) == 1 for p in (runner.archive / ".newsmirror/keys/news").iterdir())
    origin, work = sparse_clone(runner)
    fresh = [It(f"新闻{n}", f"https://e.com/new{n}", "Thu, 01 Jan 2026 07:00:00 GMT") for n in range(5)]
    runner.feed("news", rss(*fresh, *OLD))
    assert runner.run("--push", archive=work) == 0  # 20 key lines: two digits, from HEAD's shards
    sh(runner.archive, "pull", "-q", str(origin), "main")
    keys = runner.archive / ".newsmirror/keys/news"
    assert all(len(p.stem) == 2 for p in keys.iterdir())
    spread = {p.name: p.read_bytes() for p in keys.iterdir()}
    rebuilt = tmp_path / "rebuilt"
    shutil.copytree(runner.archive, rebuilt)
    TreeStore(rebuilt, local=rebuilt / ".git").reindex("news")  # the keys of the article files
    assert spread == {p.name: p.read_bytes() for p in (rebuilt / ".newsmirror/keys/news").iterdir()}
    assert sum(len(b.splitlines()) for b in spread.values()) == 10 * 2


def test_state_that_cannot_be_downloaded_fails_that_source_with_the_reason(
    runner: Runner, capsys: pytest.CaptureFixture[str]
) -> None:
    runner.sources({"name": "新闻", "slug": "news", "url": runner.feed("news", rss(*OLD))})
    assert runner.run() == 0
    origin, work = sparse_clone(runner)
    origin.rename(origin.with_name("gone.git"))  # the remote is unreachable from now on
    capsys.readouterr()
    assert runner.run(archive=work) == 1  # the source failed; nothing was taken for new
    out = capsys.readouterr()
    said = out.out + out.err
    assert "cannot download" in said
    assert ".newsmirror/keys/news/" in said
    changed = sh(work, "show", "--name-only", "--format=", "HEAD").split()
    assert sorted(changed) == [
        ".newsmirror/status.json",
        "README.md",
        "status.md",
        "status.xml",
    ]  # the failure
    assert not (work / "articles").exists()
