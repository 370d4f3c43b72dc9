"""Article folders: new archives by month (no folder past 1,000 entries), duty-machine archives
flat until ``newsmirror reshard`` moves them — with history, every byte kept."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from newsmirror.cli import main

from .conftest import Runner
from .feeds import It, rss

JUL20 = "Mon, 20 Jul 2020 07:41:21 GMT"
AUG21 = "Sat, 21 Aug 2021 01:00:00 GMT"
ENTRY = re.compile(r"^(\S* )?\[(.*)\]\(/articles/news/([^)]+)\)$", re.M)


def items() -> list[It]:
    return [
        It("七月", "https://e.com/a", JUL20),
        It("八月", "https://e.com/b", AUG21),
        It("无日期", "https://e.com/c", None),
    ]


def serve(runner: Runner, *extra: It) -> None:
    runner.sources({"name": "新闻", "slug": "news", "url": runner.feed("news", rss(*extra, *items()))})


def files(archive: Path) -> dict[str, bytes]:
    root = archive / "articles"
    return {p.relative_to(archive).as_posix(): p.read_bytes() for p in root.rglob("*.md")}


def by_id(tree: dict[str, bytes]) -> dict[int, bytes]:
    return {int(Path(path).stem): data for path, data in tree.items()}


def entries(archive: Path) -> list[tuple[str, str, int]]:
    """(date, title, id) of every list-page entry, paths aside."""
    page = (archive / "lists/新闻.md").read_text("utf-8")
    return [(m.group(1) or "", m.group(2), int(Path(m.group(3)).stem)) for m in ENTRY.finditer(page)]


def month_entries(archive: Path) -> set[tuple[str, int]]:
    found = set()
    for page in (archive / "lists/新闻").glob("*-*.md"):
        found |= {(m.group(2), int(Path(m.group(3)).stem)) for m in ENTRY.finditer(page.read_text("utf-8"))}
    return found


def git(archive: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(archive), *args], capture_output=True, text=True, check=True
    ).stdout


@pytest.fixture
def monthly(runner: Runner) -> Runner:
    (runner.archive / ".newsmirror/archive.json").unlink()  # a new archive, as `run` or `init` makes one
    return runner


def test_a_new_archive_files_articles_by_day_and_lists_link_them(
    monthly: Runner, capsys: pytest.CaptureFixture[str]
) -> None:
    serve(monthly)
    assert monthly.run() == 0
    paths = sorted(files(monthly.archive))
    assert [re.sub(r"/\d+\.md$", "", p) for p in paths] == [
        "articles/news/2020/07/20",  # GMT+8
        "articles/news/2021/08/21",
        "articles/news/2026/01/02",  # the undated item is dated when first seen (the run's clock)
    ]
    linked = {
        f"articles/news/{file}" for _, _, file in ((d, t, f) for d, t, f in _raw_entries(monthly.archive))
    }
    assert linked == set(paths)
    serve(monthly, It("又一条", "https://e.com/d", AUG21))
    assert monthly.run() == 0
    assert len(files(monthly.archive)) == 4  # the three known, one new
    assert len(list((monthly.archive / "articles/news/2021/08/21").iterdir())) == 2
    capsys.readouterr()
    assert main(
        [
            "status",
            "--archive",
            str(monthly.archive),
            "--sources",
            str(monthly.root / "sources.toml"),
            "--json",
        ]
    ) in (0, 1)
    storage = json.loads(capsys.readouterr().out)["storage"]
    assert (storage["largest_folder"], storage["largest_entries"]) == ("articles/news/2021/08/21", 2)


def _raw_entries(archive: Path) -> list[tuple[str, str, str]]:
    page = (archive / "lists/新闻.md").read_text("utf-8")
    return [(m.group(1) or "", m.group(2), m.group(3)) for m in ENTRY.finditer(page)]


def test_reshard_moves_every_file_with_history_and_loses_nothing(
    runner: Runner, capsys: pytest.CaptureFixture[str]
) -> None:
    serve(runner)
    assert runner.run() == 0
    before, listed = files(runner.archive), entries(runner.archive)
    months = month_entries(runner.archive)
    assert all(path.count("/") == 2 for path in before)  # flat
    capsys.readouterr()
    assert (
        main(["reshard", "--archive", str(runner.archive), "--sources", str(runner.root / "sources.toml")])
        == 0
    )
    assert capsys.readouterr().out.startswith("moved 3 article files into date folders; committed ")
    after = files(runner.archive)
    assert by_id(after) == by_id(before)  # every article's bytes, paths aside
    assert all(re.fullmatch(r"articles/news/\d{4}/\d{2}/\d{2}/\d+\.md", p) for p in after)
    assert entries(runner.archive) == listed  # every list entry, paths aside
    assert month_entries(runner.archive) == months
    assert git(runner.archive, "status", "--porcelain") == ""
    moved = git(runner.archive, "show", "--name-status", "-M", "--format=", "HEAD")
    assert moved.count("R100\t") == 3  # renames: `git log --follow` keeps each file's history
    one = next(iter(after))
    assert len(git(runner.archive, "log", "--follow", "--format=%H", "--", one).split()) == 2
    # and the archive goes on: known articles are known, a new one goes into its month
    serve(runner, It("又一条", "https://e.com/d", AUG21))
    assert runner.run() == 0
    assert len(files(runner.archive)) == 4
    assert (
        main(["reshard", "--archive", str(runner.archive), "--sources", str(runner.root / "sources.toml")])
        == 0
    )
    assert "already in date folders; nothing moved" in capsys.readouterr().out


def test_reshard_is_refused_in_a_checkout_without_the_articles(runner: Runner, tmp_path: Path) -> None:
    serve(runner)
    assert runner.run() == 0
    (runner.archive / "articles/news").rename(tmp_path / "elsewhere")  # as a sparse checkout has it
    code = main(["reshard", "--archive", str(runner.archive), "--sources", str(runner.root / "sources.toml")])
    assert code != 0
    assert not (runner.archive / "articles/news/2020").exists()


def test_reindex_takes_files_added_and_removed_by_hand_into_the_state(
    runner: Runner, capsys: pytest.CaptureFixture[str]
) -> None:
    serve(runner)
    assert runner.run() == 0
    folder = runner.archive / "articles/news"
    gone = sorted(folder.glob("*.md"))[0]
    gone.unlink()
    (folder / "1000.md").write_text(
        "<!--1595230881000-->\n[手工加的](https://e.com/hand)\n------\n\n<p>x</p>\n", "utf-8"
    )
    capsys.readouterr()
    assert (
        main(["reindex", "--archive", str(runner.archive), "--sources", str(runner.root / "sources.toml")])
        == 0
    )
    assert capsys.readouterr().out.startswith("3 articles indexed from their files; committed ")
    listed = [title for _, title, _ in entries(runner.archive)]
    assert "手工加的" in listed
    assert len(listed) == 3
    assert runner.git("status", "--porcelain") == ""
