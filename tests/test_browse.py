"""Every archived article is reachable from the README in three clicks: README → a source's
months → a month → the article; the README shows the newest headlines across sources."""

from __future__ import annotations

import re
import urllib.parse
from pathlib import Path

from .conftest import Runner
from .feeds import It, rss

LINK = re.compile(r"\]\(([^)\s]+)\)")
DEC_2025 = "Wed, 31 Dec 2025 10:00:00 GMT"  # 18:00 in GMT+8: still 2025 there
JAN_2026 = "Thu, 01 Jan 2026 20:00:00 GMT"  # 2026-01-02 04:00 in GMT+8
LATER = "Wed, 31 Dec 2025 11:00:00 GMT"
JUL_2020 = "Mon, 20 Jul 2020 07:41:21 GMT"


def serve(runner: Runner) -> None:
    news = [It("新年", "https://e.com/n1", JAN_2026), It("年末", "https://e.com/n2", DEC_2025)]
    old = [It(f"旧闻{n}", f"https://e.com/o{n}", JUL_2020) for n in range(3)]
    runner.sources(
        {"name": "新闻", "slug": "news", "url": runner.feed("news", rss(*news, *old))},
        {
            "name": "世界",
            "slug": "world",
            "url": runner.feed("world", rss(It("世界消息", "https://e.com/w", LATER))),
        },
    )


def links(page: Path) -> list[str]:
    return [urllib.parse.unquote(m) for m in LINK.findall(page.read_text("utf-8"))]


def reachable(archive: Path) -> set[str]:
    """Articles linked within three clicks of README.md, following the pages' own links."""
    found: set[str] = set()
    frontier = [archive / "README.md"]
    for _ in range(3):
        following = []
        for page in frontier:
            for target in links(page):
                path = archive / target.lstrip("/") if target.startswith("/") else page.parent / target
                path = path.resolve()
                relative = path.relative_to(archive.resolve()).as_posix()
                if relative.startswith("articles/"):
                    found.add(relative)
                elif path.suffix == ".md" and path.is_file():
                    following.append(path)
        frontier = following
    return found


def test_every_article_is_three_clicks_from_the_readme(runner: Runner) -> None:
    serve(runner)
    assert runner.run() == 0
    every = {p.relative_to(runner.archive).as_posix() for p in (runner.archive / "articles").rglob("*.md")}
    assert len(every) == 6
    assert reachable(runner.archive) == every


def test_months_are_listed_with_their_counts_and_pages_show_the_year_before_this_one(runner: Runner) -> None:
    serve(runner)
    assert runner.run() == 0
    index = (runner.archive / "lists/新闻/README.md").read_text("utf-8")
    rows = [line for line in index.splitlines() if line.startswith("| [")]
    assert rows == [
        "| [2026年1月](2026-01.md) | 1 |",
        "| [2025年12月](2025-12.md) | 1 |",
        "| [2020年7月](2020-07.md) | 3 |",
    ]
    january = (runner.archive / "lists/新闻/2026-01.md").read_text("utf-8")
    assert "\n1-2 [新年](/articles/news/" in january  # this year (the run's clock): no year
    december = (runner.archive / "lists/新闻/2025-12.md").read_text("utf-8")
    assert "\n2025-12-31 [年末](/articles/news/" in december
    july = (runner.archive / "lists/新闻/2020-07.md").read_text("utf-8")
    newest = (runner.archive / "lists/新闻.md").read_text("utf-8")
    assert titles(july) == [t for t in titles(newest) if t.startswith("旧闻")]  # ties as the list orders them
    assert sorted(titles(july)) == ["旧闻0", "旧闻1", "旧闻2"]


def titles(page: str) -> list[str]:
    return [line.split(" [", 1)[1].split("]")[0] for line in page.splitlines() if "](/articles/" in line]


def test_the_readme_shows_the_newest_headlines_across_sources(runner: Runner) -> None:
    serve(runner)
    assert runner.run() == 0
    readme = (runner.archive / "README.md").read_text("utf-8")
    newest = readme.split("最新 newest\n------\n\n", 1)[1].split("\n\nArchived by", 1)[0]
    titles = [line.split(" [")[1].split("]")[0] for line in newest.split("\n\n")]
    assert titles[:3] == ["新年", "世界消息", "年末"]
    assert newest.startswith("1-2 [新年](articles/news/")
    assert " · 世界" in newest


def test_a_run_rewrites_only_the_month_pages_it_touched(runner: Runner) -> None:
    serve(runner)
    assert runner.run() == 0
    july = runner.archive / "lists/新闻/2020-07.md"
    july.write_text("hand-edited\n", encoding="utf-8")
    runner.feed("news", rss(It("又一条", "https://e.com/n3", JAN_2026)))
    assert runner.run() == 0
    assert july.read_text("utf-8") == "hand-edited\n"  # not touched: not rendered again
    assert "[又一条]" in (runner.archive / "lists/新闻/2026-01.md").read_text("utf-8")
