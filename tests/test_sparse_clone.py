"""A run in a checkout made the way the generated workflow makes it: a partial clone
(``--filter=blob:none``, depth 1) with only ``.newsmirror`` and ``lists`` checked out.

Such a checkout holds none of the archive's articles; the run must still know every one of
them (ids continue, nothing archived twice, nothing overwritten) and push a commit that the
archive takes.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

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


def checkout_step() -> dict[str, str]:
    """What the generated workflow asks ``actions/checkout`` for."""
    flow = yaml.load(render_workflow(WorkflowSettings()), Loader=yaml.BaseLoader)
    [job] = flow["jobs"].values()
    step: dict[str, str] = job["steps"][0]["with"]
    return step


def sparse_clone(runner: Runner) -> tuple[Path, Path]:
    """The archive as a remote (``origin.git``) and a checkout of it as actions/checkout makes
    one from the workflow's settings: ``clone --depth --filter --no-checkout``, then
    ``sparse-checkout set [--cone]`` the folders, then ``checkout``."""
    origin = runner.root / "origin.git"
    sh(runner.root, "clone", "-q", "--bare", str(runner.archive), str(origin))
    sh(origin, "config", "uploadpack.allowFilter", "true")
    step = checkout_step()
    work = runner.root / "work"
    depth, blobs = step["fetch-depth"], step["filter"]
    clone = ("clone", "-q", "--no-checkout", "--no-tags", f"--depth={depth}", f"--filter={blobs}")
    sh(runner.root, *clone, f"file://{origin}", str(work))
    cone = ("--cone",) if step["sparse-checkout-cone-mode"] == "true" else ("--no-cone",)
    sh(work, "sparse-checkout", "set", *cone, *step["sparse-checkout"].split())
    sh(work, "checkout", "-q", "main")
    return origin, work


def missing_articles(work: Path) -> set[str]:
    """The article blobs of HEAD this clone has not downloaded."""
    listed = sh(work, "rev-list", "--objects", "--missing=print", "HEAD")
    missing = {line[1:] for line in listed.splitlines() if line.startswith("?")}
    tree = sh(work, "ls-tree", "-r", "HEAD", "--", "articles")
    return {line.split("\t")[1] for line in tree.splitlines() if line.split()[2] in missing}


def test_a_sparse_partial_clone_continues_the_archive_and_pushes(runner: Runner) -> None:
    runner.sources({"name": "新闻", "slug": "news", "url": runner.feed("news", rss(*OLD))})
    assert runner.run() == 0
    origin, work = sparse_clone(runner)
    assert not (work / "articles").exists()
    archived = missing_articles(work)
    assert len(archived) == 5

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
