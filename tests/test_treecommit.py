"""A commit built from HEAD's trees (``treecommit``) is the commit git's own staging would make:
the same tree, byte for byte, for files added in new folders, changed, and removed down to an
empty folder — and the sparse checkout it is made in stays sparse and clean."""

from __future__ import annotations

import subprocess
from pathlib import Path

from newsmirror import treecommit

IDENTITY = ("-c", "user.name=t", "-c", "user.email=t@localhost")


def sh(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *IDENTITY, *args], cwd=cwd, capture_output=True, text=True, check=True)
    return done.stdout


def write(root: Path, relative: str, text: str) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def base(tmp_path: Path) -> Path:
    origin = tmp_path / "origin"
    sh(tmp_path, "init", "-q", "-b", "main", str(origin))
    for relative in (
        "README.md",
        "keep/a.txt",
        "keep/deep/b.txt",
        "out/x/1.md",
        "out/x/2.md",
        "out/y/3.md",
        "站/页.md",
    ):
        write(origin, relative, f"{relative}\n")
    sh(origin, "add", "-A")
    sh(origin, "commit", "-q", "-m", "base")
    return origin


CHANGES = {
    "keep/a.txt": "a, changed\n",  # in the cone
    "out/x/1.md": "1, changed\n",  # outside it
    "out/z/new/4.md": "a new folder two deep\n",
    "站/页.md": "名字不是 ASCII\n",
    "README.md": "root\n",
}
REMOVED = ("out/y/3.md", "out/x/2.md")  # out/y goes, out/x keeps 1.md


def test_the_tree_is_the_one_staging_makes_and_the_checkout_stays_sparse(tmp_path: Path) -> None:
    origin = base(tmp_path)
    full, sparse = tmp_path / "full", tmp_path / "sparse"
    sh(tmp_path, "clone", "-q", str(origin), str(full))
    sh(tmp_path, "clone", "-q", "--no-checkout", str(origin), str(sparse))
    sh(sparse, "sparse-checkout", "set", "--cone", "keep")
    sh(sparse, "checkout", "-q", "main")
    assert not (sparse / "out").exists()

    for root in (full, sparse):
        for relative, text in CHANGES.items():
            write(root, relative, text)
    for relative in REMOVED:
        (full / relative).unlink()
    sh(full, "add", "-A")
    expected = sh(full, "write-tree").strip()

    made = treecommit.commit_files(sparse, "change\n", [*CHANGES, *REMOVED], IDENTITY)
    assert made is not None
    assert sh(sparse, "rev-parse", "HEAD^{tree}").strip() == expected
    assert sh(sparse, "rev-parse", "HEAD^").strip() == sh(origin, "rev-parse", "HEAD").strip()
    assert sh(sparse, "log", "-1", "--format=%s").strip() == "change"
    assert sh(sparse, "status", "--porcelain") == ""
    assert not (sparse / "out").exists()  # written, committed, and out of the checkout again
    assert (sparse / "keep/a.txt").read_text(encoding="utf-8") == "a, changed\n"


def test_nothing_that_differs_from_head_makes_no_commit(tmp_path: Path) -> None:
    origin = base(tmp_path)
    sparse = tmp_path / "sparse"
    sh(tmp_path, "clone", "-q", "--no-checkout", str(origin), str(sparse))
    sh(sparse, "sparse-checkout", "set", "--cone", "keep")
    sh(sparse, "checkout", "-q", "main")
    write(sparse, "out/x/1.md", "out/x/1.md\n")  # as committed
    head = sh(sparse, "rev-parse", "HEAD")
    assert treecommit.commit_files(sparse, "nothing\n", ["out/x/1.md", "out/none.md"], IDENTITY) is None
    assert sh(sparse, "rev-parse", "HEAD") == head
