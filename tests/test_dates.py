"""No item is ever skipped because of its date; dates that cannot be true count as undated."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta

import pytest

from newsmirror.cli import main

from .conftest import NOW, NOW_MS, Runner
from .feeds import It, rss

HOUR_MS = 3_600_000


def rfc822(moment: datetime) -> str:
    return moment.strftime("%a, %d %b %Y %H:%M:%S GMT")


def serve(runner: Runner, *items: It) -> None:
    url = runner.feed("news", rss(*items))
    runner.sources({"name": "新闻", "slug": "news", "url": url})


def result(runner: Runner, capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    capsys.readouterr()
    runner.run("--json")
    source: dict[str, object] = json.loads(capsys.readouterr().out)["sources"][0]
    return source


def index_lines(runner: Runner) -> dict[int, dict[str, object]]:
    """Every record line of the source's state, whatever month it is filed under."""
    found: dict[int, dict[str, object]] = {}
    for shard in (runner.archive / ".newsmirror/records/news").glob("*.jsonl"):
        found.update((line["id"], line) for line in map(json.loads, shard.read_text("utf-8").splitlines()))
    return found


def list_files(runner: Runner) -> list[str]:
    page = (runner.archive / "lists/新闻.md").read_text("utf-8")
    return [line.rsplit("/", 1)[1].rstrip(")") for line in page.splitlines() if "](/articles/" in line]


def test_an_item_that_appears_late_is_archived_and_listed_by_its_date(
    runner: Runner, capsys: pytest.CaptureFixture[str]
) -> None:
    serve(runner, It("今天的新闻", "https://e.com/today", rfc822(NOW - timedelta(hours=1))))
    result(runner, capsys)
    late = It("三天前的旧闻", "https://e.com/late", rfc822(NOW - timedelta(days=3)))
    serve(runner, It("今天的新闻", "https://e.com/today", rfc822(NOW - timedelta(hours=1))), late)
    second = result(runner, capsys)
    assert (second["new"], second["skipped"]) == ([1048573], [])
    assert runner.article("news", 1048573).startswith(f"<!--{NOW_MS - 72 * HOUR_MS}-->\n[三天前的旧闻]")
    assert list_files(runner) == ["1048574.md", "1048573.md"]  # newest first, by date, not by id


def test_an_item_dated_ahead_never_makes_later_items_look_old(
    runner: Runner, capsys: pytest.CaptureFixture[str]
) -> None:
    serve(runner, It("明天的预告", "https://e.com/ahead", rfc822(NOW + timedelta(hours=40))))
    result(runner, capsys)
    items = [
        It("刚刚发生", "https://e.com/now", rfc822(NOW)),
        It("上周的报道", "https://e.com/week", rfc822(NOW - timedelta(days=7))),
    ]
    serve(runner, *items)
    assert len(result(runner, capsys)["new"]) == 2  # type: ignore[arg-type]
    assert list_files(runner) == ["1048574.md", "1048572.md", "1048573.md"]


@pytest.mark.parametrize(
    ("date", "what"),
    [
        ("0001-01-01T00:00:00Z", "Hugo's zero date"),
        ("Thu, 01 Jan 1970 00:00:00 GMT", "the Unix epoch"),
        ("Sun, 31 Dec 1989 23:59:59 GMT", "before 1990"),
        (rfc822(NOW + timedelta(days=3)), "three days ahead"),
        ("Fri, 31 Dec 9999 23:59:59 GMT", "the year 9999"),
    ],
)
def test_a_date_that_cannot_be_true_is_the_time_first_seen_and_kept_in_the_index(
    runner: Runner, capsys: pytest.CaptureFixture[str], date: str, what: str
) -> None:
    odd = It("有怪日期的文章", "https://e.com/odd", date)
    serve(runner, odd, It("正常", "https://e.com/ok", rfc822(NOW)))
    first = result(runner, capsys)
    assert len(first["new"]) == 2, what  # type: ignore[arg-type]
    odd_id = next(i for i, line in index_lines(runner).items() if line["link"] == "https://e.com/odd")
    assert runner.article("news", odd_id).startswith(f"<!--{NOW_MS}-->\n"), what
    assert index_lines(runner)[odd_id]["feed_date"] == date
    assert "feed_date" not in next(v for v in index_lines(runner).values() if v["link"] == "https://e.com/ok")
    later = NOW + timedelta(hours=5)
    runner.clock = lambda: later
    again = result(runner, capsys)  # the next run knows it, and the file keeps its first-seen time
    assert (again["new"], again["unchanged"]) == ([], 2)
    assert runner.article("news", odd_id).startswith(f"<!--{NOW_MS}-->\n")


def test_every_item_of_a_feed_of_odd_dates_is_archived_once(
    runner: Runner, capsys: pytest.CaptureFixture[str]
) -> None:
    base = datetime(2025, 6, 1, tzinfo=UTC)
    dates = [None, "garbage", "0001-01-01", rfc822(base), rfc822(base - timedelta(days=400)), rfc822(NOW)]
    items = [It(f"第{n}篇", f"https://e.com/{n}", d) for n, d in enumerate(dates)]
    serve(runner, *items)
    assert len(result(runner, capsys)["new"]) == 6  # type: ignore[arg-type]
    serve(runner, *items, It("新的一篇", "https://e.com/new", rfc822(base - timedelta(days=9000))))
    second = result(runner, capsys)
    assert (len(second["new"]), second["unchanged"], second["skipped"]) == (1, 6, [])  # type: ignore[arg-type]


def test_a_file_dated_in_9999_is_not_the_newest_article_nor_silences_the_stale_alarm(
    runner: Runner, capsys: pytest.CaptureFixture[str]
) -> None:
    old = datetime(2020, 7, 20, 7, 41, 21, tzinfo=UTC)
    serve(runner, It("旧闻", "https://e.com/old", rfc822(old)))
    assert runner.run() == 0
    far = "<!--253402214400000-->\n[九九九九年](https://e.com/9999)\n------\n\n<p>x</p>\n"
    (runner.archive / "articles/news/1048573.md").write_text(far, encoding="utf-8")  # an older version's
    shutil.rmtree(runner.archive / ".newsmirror/records")  # whose state is rebuilt from the files
    (runner.archive / ".newsmirror/sources/news.json").unlink()
    runner.run()
    assert 253402214400000 in [r["ms"] for r in index_lines(runner).values()]
    capsys.readouterr()
    sources = str(runner.root / "sources.toml")
    main(["status", "--archive", str(runner.archive), "--sources", sources, "--json"])
    [status] = json.loads(capsys.readouterr().out)["sources"]
    assert status["newest_ms"] == int(old.timestamp() * 1000)
    assert status["stale"] is True
    assert "2020-07-20" in (runner.archive / "README.md").read_text("utf-8")
    assert "9999" not in (runner.archive / "README.md").read_text("utf-8")
