"""Pushing to several remotes: real bare repositories in tmp_path that move under our feet."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from newsmirror import publish
from newsmirror.exceptions import PublishError
from newsmirror.git import git
from newsmirror.repo import ensure_repo
from newsmirror.types import PushResult

LIST = "lists/新闻.md"
OURS = "articles/news/1048573.md"
OTHER = "articles/other/1048574.md"


@pytest.fixture(autouse=True)
def no_git_identity(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """As on a fresh CI runner: rebases and merges must bring their own committer identity."""
    empty = tmp_path / "empty-gitconfig"
    empty.write_text("", encoding="utf-8")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(empty))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")


def sh(repo: Path, *args: str) -> str:
    """git in ``repo`` as another writer would run it (with an identity of its own)."""
    identity = ("-c", "user.name=other", "-c", "user.email=other@example.com")
    done = subprocess.run(
        ["git", "-C", str(repo), *identity, *args], check=False, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def write(repo: Path, path: str, text: str) -> None:
    (repo / path).parent.mkdir(parents=True, exist_ok=True)
    (repo / path).write_text(text, encoding="utf-8")


def bare(tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"{name}.git"
    sh(tmp_path, "init", "-q", "--bare", "-b", "main", str(path))
    return path


def seeded(tmp_path: Path, *names: str) -> list[Path]:
    """Bare remotes that all hold the same one-commit archive, as mirrors of one archive do."""
    seed = tmp_path / "seed"
    sh(tmp_path, "init", "-q", "-b", "main", str(seed))
    write(seed, "articles/news/1048574.md", "<!--1-->\n[甲](https://e.com/a)\n------\n\n甲\n")
    write(seed, LIST, "新闻\n------\n\n1-1 [甲](/articles/news/1048574.md)\n\n")
    write(seed, "README.md", "# 新闻\n")
    sh(seed, "add", "-A")
    sh(seed, "commit", "-q", "-m", "base")
    remotes = [bare(tmp_path, name) for name in names]
    for remote in remotes:
        sh(seed, "push", "-q", str(remote), "main")
    return remotes


def clone(tmp_path: Path, remotes: list[Path], *, depth: int | None = None) -> Path:
    """Our run's checkout: a clone of the first remote, the others added as r1, r2, …"""
    local = tmp_path / "local"
    shallow = ("--depth", str(depth)) if depth else ()
    sh(tmp_path, "clone", "-q", *shallow, f"file://{remotes[0]}", str(local))
    sh(local, "remote", "rename", "origin", "r0")
    for i, remote in enumerate(remotes[1:], start=1):
        sh(local, "remote", "add", f"r{i}", f"file://{remote}")
    return local


def our_run(local: Path, listing: str = "1-2 [乙](/articles/news/1048573.md)\n\n") -> str:
    """What newsmirror's run does: new article, rebuilt list page, one commit."""
    write(local, OURS, "<!--2-->\n[乙](https://e.com/b)\n------\n\n乙\n")
    write(local, LIST, "新闻\n------\n\n" + listing)
    sha = publish.commit(local, "newsmirror: 1 new article\n", [OURS, LIST])
    assert sha is not None
    return sha


def other_writer(tmp_path: Path, remote: Path, files: dict[str, str], message: str = "other") -> str:
    """Another clone pushes a commit to ``remote``; returns that commit."""
    work = tmp_path / f"writer-{remote.stem}-{len(list(tmp_path.glob('writer-*')))}"
    sh(tmp_path, "clone", "-q", str(remote), str(work))
    for path, text in files.items():
        write(work, path, text)
    sh(work, "add", "-A")
    sh(work, "commit", "-q", "-m", message)
    sh(work, "push", "-q", "origin", "main")
    return sh(work, "rev-parse", "HEAD").strip()


def head(repo: Path) -> str:
    return sh(repo, "rev-parse", "main").strip()


def files(repo: Path) -> set[str]:
    return set(sh(repo, "-c", "core.quotePath=false", "ls-tree", "-r", "--name-only", "main").splitlines())


def subjects(repo: Path) -> list[str]:
    return sh(repo, "log", "--format=%s", "main").splitlines()


def by_remote(results: tuple[PushResult, ...]) -> dict[str, PushResult]:
    return {r.remote: r for r in results}


def no_wait(seconds: float) -> None:
    assert 0 < seconds < 10


def test_fast_forward_to_every_remote_and_a_new_empty_one(tmp_path: Path) -> None:
    remotes = seeded(tmp_path, "one", "two")
    local = clone(tmp_path, [*remotes, bare(tmp_path, "empty")])
    base = head(local)
    ours = our_run(local)
    results = by_remote(publish.push_all(local, sleep=no_wait))
    assert [r.ok for r in results.values()] == [True, True, True]
    assert results["r0"].message == f"pushed {base[:7]}..{ours[:7]}"
    assert results["r2"].message == f"created main at {ours[:7]}"
    for remote in [*remotes, tmp_path / "empty.git"]:
        assert head(remote) == ours
        assert OURS in files(remote)
    assert publish.push_all(local)[0].message == f"already at {ours[:7]}"


def test_a_remote_that_moved_since_the_clone_gets_our_commit_rebased_on_top(tmp_path: Path) -> None:
    remotes = seeded(tmp_path, "one", "two")
    local = clone(tmp_path, remotes)
    ours = our_run(local)
    theirs = other_writer(tmp_path, remotes[1], {OTHER: "其他\n"}, "other writer")
    results = by_remote(publish.push_all(local, sleep=no_wait))
    assert results["r0"].ok
    assert results["r1"].ok
    assert results["r1"].message.startswith(f"rebased onto {theirs[:7]};")
    final = head(local)
    assert final != ours  # rebased: a new commit on top of theirs
    for remote in remotes:
        assert head(remote) == final
        assert {OURS, OTHER} <= files(remote)
        assert subjects(remote) == ["newsmirror: 1 new article", "other writer", "base"]
    assert sh(local, "status", "--porcelain") == ""


def test_a_remote_that_moves_between_our_fetch_and_our_push(tmp_path: Path) -> None:
    remotes = seeded(tmp_path, "one", "two")
    local = clone(tmp_path, remotes)
    our_run(local)
    moved: list[str] = []

    def race(remote: str) -> None:
        if remote == "r0" and not moved:
            moved.append(other_writer(tmp_path, remotes[0], {OTHER: "其他\n"}, "racing writer"))

    waits: list[float] = []
    results = by_remote(publish.push_all(local, sleep=waits.append, before_push=race))
    assert results["r0"].ok
    assert results["r1"].ok
    assert results["r0"].message.startswith(f"rebased onto {moved[0][:7]} after 1 rejection;")
    assert len(waits) == 1
    assert 0.25 <= waits[0] <= 0.75
    final = head(local)
    for remote in remotes:
        assert head(remote) == final
        assert subjects(remote) == ["newsmirror: 1 new article", "racing writer", "base"]
        assert {OURS, OTHER} <= files(remote)


def test_a_race_after_another_remote_took_our_commit_is_merged_not_rebased(tmp_path: Path) -> None:
    remotes = seeded(tmp_path, "one", "two")
    local = clone(tmp_path, remotes)
    ours = our_run(local)
    moved: list[str] = []

    def race(remote: str) -> None:
        if remote == "r1" and not moved:
            moved.append(other_writer(tmp_path, remotes[1], {OTHER: "其他\n"}, "racing writer"))

    results = by_remote(publish.push_all(local, sleep=no_wait, before_push=race))
    assert results["r0"].ok
    assert results["r1"].ok
    assert results["r1"].message.startswith(f"merged {moved[0][:7]} after 1 rejection;")
    final = head(local)
    # r0 took `ours` before r1 moved: it is kept as it is (never rewritten), and merged with theirs
    assert sh(local, "rev-parse", f"{final}^1", f"{final}^2").split() == [ours, moved[0]]
    for remote in remotes:
        assert head(remote) == final
        assert {OURS, OTHER} <= files(remote)


def test_three_remotes_two_of_them_moved_apart_all_end_with_every_article(tmp_path: Path) -> None:
    remotes = seeded(tmp_path, "one", "two", "three")
    local = clone(tmp_path, remotes)
    our_run(local)
    x = other_writer(tmp_path, remotes[1], {OTHER: "其他\n"}, "writer x")
    y = other_writer(tmp_path, remotes[2], {"articles/third/1048574.md": "第三\n"}, "writer y")
    results = by_remote(publish.push_all(local, sleep=no_wait))
    assert [r.ok for r in results.values()] == [True, True, True]
    assert results["r1"].message.startswith(f"rebased onto {x[:7]};")
    # writer x's commit is on r1 now, so reaching y by rebasing would copy it: merged instead
    assert results["r2"].message.startswith(f"merged {y[:7]};")
    final = head(local)
    for remote in remotes:
        assert head(remote) == final
        assert {OURS, OTHER, "articles/third/1048574.md"} <= files(remote)
        assert sh(remote, "merge-base", "--is-ancestor", x, "main") == ""
        assert sh(remote, "merge-base", "--is-ancestor", y, "main") == ""


def test_a_remote_with_unrelated_history_is_left_alone_the_others_pushed(tmp_path: Path) -> None:
    remotes = seeded(tmp_path, "one", "two")
    forge = bare(tmp_path, "forge")  # created on a forge "with a README": a history of its own
    starter = tmp_path / "starter"
    sh(tmp_path, "init", "-q", "-b", "main", str(starter))
    write(starter, "README.md", "# archive\n")
    sh(starter, "add", "-A")
    sh(starter, "commit", "-q", "-m", "Initial commit")
    sh(starter, "push", "-q", str(forge), "main")
    local = clone(tmp_path, [*remotes, forge])
    ours = our_run(local)
    results = by_remote(publish.push_all(local, sleep=no_wait))
    assert results["r0"].ok
    assert results["r1"].ok
    assert not results["r2"].ok
    assert "shares no history with the local main" in results["r2"].message
    assert subjects(forge) == ["Initial commit"]
    assert head(local) == ours == head(remotes[0]) == head(remotes[1])


@pytest.mark.parametrize(
    ("path", "theirs"),
    [
        (LIST, "新闻\n------\n\n1-2 [别的](/articles/news/1048573.md)\n\n"),  # same page, rebuilt otherwise
        (OURS, "<!--3-->\n[丙](https://e.com/c)\n------\n\n丙\n"),  # same new article path, other article
    ],
    ids=["list-page", "article-path"],
)
def test_a_conflicting_remote_fails_and_the_local_commit_stays_as_it_was(
    tmp_path: Path, path: str, theirs: str
) -> None:
    remotes = seeded(tmp_path, "one", "two", "three")
    local = clone(tmp_path, remotes)
    ours = our_run(local)
    conflicting = other_writer(tmp_path, remotes[1], {path: theirs})
    results = by_remote(publish.push_all(local, sleep=no_wait))
    assert not results["r1"].ok
    assert results["r1"].message == (
        f"rebase with r1/main ({conflicting[:7]}) failed: conflict in {path}; "
        f"aborted, local main kept at {ours[:7]}, nothing pushed to r1"
    )
    assert results["r0"].ok
    assert results["r2"].ok
    assert sh(local, "rev-parse", "HEAD").strip() == ours
    assert sh(local, "symbolic-ref", "HEAD").strip() == "refs/heads/main"
    assert sh(local, "status", "--porcelain") == ""
    git_dir = Path(sh(local, "rev-parse", "--absolute-git-dir").strip())
    assert not (git_dir / "rebase-merge").exists()
    assert not (git_dir / "rebase-apply").exists()
    assert head(remotes[0]) == head(remotes[2]) == ours
    assert head(remotes[1]) == conflicting  # never forced


def test_a_shallow_clone_rebases_onto_a_remote_that_moved(tmp_path: Path) -> None:
    remotes = seeded(tmp_path, "one")
    local = clone(tmp_path, remotes, depth=1)
    assert sh(local, "rev-parse", "--is-shallow-repository").strip() == "true"
    our_run(local)
    theirs = other_writer(tmp_path, remotes[0], {OTHER: "其他\n"}, "other writer")
    [result] = publish.push_all(local, sleep=no_wait)
    assert result.ok
    assert result.message.startswith(f"rebased onto {theirs[:7]};")
    assert head(remotes[0]) == head(local)
    assert subjects(remotes[0]) == ["newsmirror: 1 new article", "other writer", "base"]
    assert {OURS, OTHER} <= files(remotes[0])


@pytest.mark.parametrize("missed", [3, 30])
def test_a_shallow_clone_brings_a_mirror_that_missed_pushes_up_to_date(tmp_path: Path, missed: int) -> None:
    [origin, mirror] = seeded(tmp_path, "origin", "mirror")
    writer = tmp_path / "writer"
    sh(tmp_path, "clone", "-q", str(origin), str(writer))
    for hour in range(40):
        sh(writer, "commit", "-q", "--allow-empty", "-m", f"hour {hour}")
    sh(writer, "push", "-q", str(mirror), "main")  # the mirror's last good hour
    for hour in range(40, 40 + missed):
        sh(writer, "commit", "-q", "--allow-empty", "-m", f"hour {hour}")
    sh(writer, "push", "-q", "origin", "main")
    local = clone(tmp_path, [origin, mirror], depth=1)
    ours = our_run(local)
    results = by_remote(publish.push_all(local, sleep=no_wait))
    assert results["r0"].ok
    assert results["r1"].ok
    assert head(origin) == head(mirror) == ours
    assert subjects(mirror)[: missed + 1] == [
        "newsmirror: 1 new article",
        *(f"hour {hour}" for hour in reversed(range(40, 40 + missed))),
    ]
    assert len(subjects(mirror)) == missed + 42
    if missed < 24:  # a day of missed pushes is bridged without fetching the whole history
        assert sh(local, "rev-parse", "--is-shallow-repository").strip() == "true"
        assert int(sh(local, "rev-list", "--count", "--all")) < 40


def test_an_unreachable_remote_fails_with_gits_reason_the_others_are_pushed(tmp_path: Path) -> None:
    remotes = seeded(tmp_path, "one", "two")
    local = clone(tmp_path, remotes)
    sh(local, "remote", "add", "gone", str(tmp_path / "missing.git"))
    ours = our_run(local)
    results = by_remote(publish.push_all(local, sleep=no_wait))
    assert not results["gone"].ok
    assert results["gone"].message.startswith("cannot read gone: fatal: ")
    assert "does not appear to be a git repository" in results["gone"].message
    assert results["r0"].ok
    assert results["r1"].ok
    assert head(remotes[0]) == head(remotes[1]) == ours


def test_a_remote_that_keeps_moving_fails_after_the_retries_and_never_blocks_the_others(
    tmp_path: Path,
) -> None:
    remotes = seeded(tmp_path, "one", "two")
    local = clone(tmp_path, remotes)
    our_run(local)
    moves: list[str] = []

    def always(remote: str) -> None:
        if remote == "r0":
            moves.append(other_writer(tmp_path, remotes[0], {f"articles/other/{len(moves)}.md": "x\n"}))

    waits: list[float] = []
    results = by_remote(publish.push_all(local, retries=2, sleep=waits.append, before_push=always))
    assert not results["r0"].ok
    assert results["r0"].message.startswith("still rejected after 3 attempts: [rejected] (fetch first)")
    assert len(moves) == 3
    assert head(remotes[0]) == moves[-1]  # the other writer's work is never overwritten
    assert results["r1"].ok
    assert head(remotes[1]) == head(local)
    assert OURS in files(remotes[1])
    assert len(waits) == 2
    assert 0.25 <= waits[0] <= 0.75  # 0.5 s, then 1 s, each ± half of it
    assert 0.5 <= waits[1] <= 1.5


def test_a_detached_head_pushes_nothing(tmp_path: Path) -> None:
    remotes = seeded(tmp_path, "one")
    local = clone(tmp_path, remotes)
    sh(local, "checkout", "-q", "--detach")
    assert publish.push_all(local) == (
        PushResult(remote="r0", ok=False, message="nothing pushed: HEAD is detached, not on a branch"),
    )


def test_a_push_the_remote_declines_fails_with_its_reason_and_is_not_retried(tmp_path: Path) -> None:
    remotes = seeded(tmp_path, "one", "guarded")
    hook = remotes[1] / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'protected branch' >&2\nexit 1\n", encoding="utf-8")
    hook.chmod(0o755)
    local = clone(tmp_path, remotes)
    ours = our_run(local)
    waits: list[float] = []
    results = by_remote(publish.push_all(local, sleep=waits.append))
    assert results["r1"] == PushResult(
        remote="r1", ok=False, message="push to r1 failed: [remote rejected] (pre-receive hook declined)"
    )
    assert waits == []
    assert results["r0"].ok
    assert head(remotes[0]) == ours


def test_a_branch_without_a_commit_pushes_nothing(tmp_path: Path) -> None:
    local = tmp_path / "archive"
    ensure_repo(local)
    sh(local, "remote", "add", "r0", str(bare(tmp_path, "one")))
    assert publish.push_all(local) == (
        PushResult(remote="r0", ok=False, message="nothing pushed: the branch has no commit yet"),
    )


def test_a_failing_git_command_is_named_past_its_global_options(tmp_path: Path) -> None:
    ensure_repo(tmp_path)
    with pytest.raises(PublishError, match=r"^git add failed in .*did not match any files"):
        git(tmp_path, "-c", "core.quotepath=false", "add", "--", "no-such-file")
