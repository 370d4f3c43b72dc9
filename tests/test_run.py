"""``newsmirror run`` end to end: real HTTP on 127.0.0.1, real git repositories."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from newsmirror.cli import main
from newsmirror.core import Archive
from newsmirror.store import TreeStore
from newsmirror.types import Article

from .conftest import NOW, NOW_MS, Runner
from .feeds import It, rss
from .servers import Reply

JUL20 = "Mon, 20 Jul 2020 07:41:21 GMT"
JUL20_MS = 1595230881000
JUL21 = "Tue, 21 Jul 2020 07:41:21 GMT"
JUL21_MS = JUL20_MS + 86_400_000


def one_source(runner: Runner, body: bytes, **options: object) -> None:
    url = runner.feed("news", body)
    runner.sources({"name": "新闻", "slug": "news", "url": url, **options})


def test_first_run_creates_repo_files_and_one_commit(
    runner: Runner, capsys: pytest.CaptureFixture[str]
) -> None:
    one_source(
        runner,
        rss(
            It("第二篇", "https://example.com/b", JUL21, "<p>乙</p>\n  <p>丙</p>"),
            It("  第一篇 ", "https://EXAMPLE.com:443/a 文", JUL20, "<p>甲</p>"),
        ),
    )
    assert runner.run() == 0
    assert runner.ids("news") == [1048573, 1048574]
    assert runner.article("news", 1048574) == (
        f"<!--{JUL20_MS}-->\n[第一篇](https://example.com/a%20%E6%96%87)\n------\n\n<p>甲</p>\n"
    )
    assert runner.article("news", 1048573) == (
        f"<!--{JUL21_MS}-->\n[第二篇](https://example.com/b)\n------\n\n<p>乙</p><p>丙</p>\n"
    )
    assert (runner.archive / "lists/新闻.md").read_text("utf-8") == (
        "新闻\n------\n\n7-21 [第二篇](/articles/news/1048573.md)\n\n"
        "7-20 [第一篇](/articles/news/1048574.md)\n\n"
    )
    assert runner.commits() == 1
    message = runner.git("log", "-1", "--format=%B")
    assert message.startswith("newsmirror: 2 new articles\n")
    assert "新闻 (news): 2 new" in message
    assert runner.git("status", "--porcelain") == ""
    out = capsys.readouterr().out
    assert "新闻 (news)" in out
    assert "2 new articles" in out


def test_readme_lists_each_source_with_count_newest_and_status(runner: Runner) -> None:
    ok = runner.feed("ok", rss(It("甲", "https://example.com/a", JUL21)))
    runner.sources(
        {"name": "好", "slug": "ok", "url": ok},
        {"name": "坏", "slug": "bad", "url": runner.server.url("/missing.xml")},
    )
    assert runner.run() == 1
    readme = (runner.archive / "README.md").read_text("utf-8")
    good = "| [好](lists/%E5%A5%BD.md) | 1 | 2020-07-21 07:41 UTC | ok (since 2026-01-02 03:04 UTC) |"
    assert good in readme
    assert "| [坏](lists/%E5%9D%8F.md) | 0 | — | failed: http_404 ×1 (since 2026-01-02 03:04 UTC) |" in readme
    # a source that never succeeded still has the list page the README links to
    assert (runner.archive / "lists/坏.md").read_text("utf-8") == "坏\n------\n\n\n"
    assert "\n坏 (bad): failed, http_404\n" in runner.git("log", "-1", "--format=%B")


def test_quick_failing_runs_never_back_off(runner: Runner) -> None:
    """Backoff counts time, not runs: five runs by hand within a minute all fetch the feed."""
    runner.sources({"name": "坏", "slug": "bad", "url": runner.server.url("/missing.xml")})
    for attempt in range(1, 6):
        runner.clock = lambda attempt=attempt: NOW + timedelta(seconds=10 * attempt)
        assert runner.run() == 1
    assert runner.server.requests == ["404 /missing.xml"] * 5
    assert "failed: http_404 ×5" in (runner.archive / "README.md").read_text("utf-8")


def test_a_source_failing_for_three_hours_backs_off_until_enabled(
    runner: Runner, capsys: pytest.CaptureFixture[str]
) -> None:
    runner.sources({"name": "坏", "slug": "bad", "url": runner.server.url("/missing.xml")})
    for hour in range(4):  # hourly runs: failing at 0, 1, 2 and 3 hours
        runner.clock = lambda hour=hour: NOW + timedelta(hours=hour)
        assert runner.run() == 1
        assert runner.commits() == hour + 1  # each attempt records the failure count
    assert runner.git("log", "-1", "--format=%s") == "newsmirror: source status changed\n"
    requests = len(runner.server.requests)
    runner.clock = lambda: NOW + timedelta(hours=4)
    capsys.readouterr()
    assert runner.run() == 0  # backed off: not fetched, not a failure of this run
    assert len(runner.server.requests) == requests
    assert runner.commits() == 4
    out = capsys.readouterr().out
    # failing 3 hours: the next attempt 2 hours after the last (less a tenth of the run interval)
    assert (
        "  bad: postponed until 2026-01-02 07:58 UTC (failing since 2026-01-02 03:04 UTC); "
        "`newsmirror enable bad` fetches it next run\n"
    ) in out
    assert main(["enable", "--all", "--archive", str(runner.archive)]) == 0
    assert "re-enabled bad; committed " in capsys.readouterr().out
    assert runner.run() == 1
    assert len(runner.server.requests) == requests + 1
    capsys.readouterr()  # enabled, it counts from its next failure: not held back yet
    assert main(["enable", "--all", "--archive", str(runner.archive)]) == 0
    assert capsys.readouterr().out == "no source is disabled or postponed; nothing changed\n"


def test_enable_wants_slugs_or_all(runner: Runner, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["enable", "--archive", str(runner.archive)]) == 2
    assert "name the sources (SLUG ...) or pass --all" in capsys.readouterr().err


def test_rerun_with_nothing_new_makes_no_commit(runner: Runner, capsys: pytest.CaptureFixture[str]) -> None:
    one_source(runner, rss(It("甲", "https://example.com/a", JUL20)))
    assert runner.run() == 0
    tree = runner.git("ls-files", "-s")
    capsys.readouterr()
    assert runner.run("--json") == 0
    report = json.loads(capsys.readouterr().out)
    assert report["commit"] is None
    assert report["new"] == 0
    assert report["sources"][0]["unchanged"] == 1
    assert runner.commits() == 1
    assert runner.git("ls-files", "-s") == tree
    assert runner.git("status", "--porcelain") == ""


def test_republished_item_is_not_archived_again_but_equal_timestamps_are(runner: Runner) -> None:
    one_source(runner, rss(It("甲", "https://example.com/a", JUL20)))
    runner.run()
    one_source(
        runner,
        rss(
            It("甲（更新）", "https://example.com/a", JUL21),  # same link, new time: known
            It("乙", "https://example.com/b", JUL20),  # same time as the newest archived: new
            It("丙", "https://example.com/c", JUL20),  # two items sharing that time: both new
        ),
    )
    assert runner.run() == 0
    assert runner.ids("news") == [1048572, 1048573, 1048574]
    assert "[乙](https://example.com/b)" in runner.article("news", 1048573)
    assert "[丙](https://example.com/c)" in runner.article("news", 1048572)


def test_guid_identifies_an_item_whose_link_changed(runner: Runner) -> None:
    one_source(runner, rss(It("甲", "https://example.com/a", JUL20, guid="tag:a")))
    runner.run()
    one_source(runner, rss(It("甲", "https://example.com/a?utm=x", JUL21, guid="tag:a")))
    runner.run()
    assert runner.ids("news") == [1048574]


def test_undated_item_is_archived_with_the_time_first_seen_and_kept(runner: Runner) -> None:
    one_source(
        runner,
        rss(
            It("无日期", "https://example.com/a", "2021年2月24日 15:51"),
            It("有日期", "https://example.com/b", JUL20),
        ),
    )
    assert runner.run() == 0
    assert runner.ids("news") == [1048573, 1048574]
    assert runner.article("news", 1048573).startswith(f"<!--{NOW_MS}-->\n[无日期]")
    runner.clock = lambda: datetime(2026, 1, 3, tzinfo=UTC)
    assert runner.run() == 0
    assert runner.ids("news") == [1048573, 1048574]
    assert runner.article("news", 1048573).startswith(f"<!--{NOW_MS}-->\n[无日期]")
    # a day later the only commit is the heartbeat's (the state and status.xml), no article
    assert runner.commits() == 2
    assert "articles/" not in runner.git("show", "--name-only", "--format=", "HEAD")


def test_zone_less_date_is_utc(runner: Runner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "Asia/Shanghai")
    one_source(runner, rss(It("甲", "https://example.com/a", "2020/07/09 05:46:40")))
    runner.run()
    assert runner.article("news", 1048574).startswith("<!--1594273600000-->")


def test_one_failing_source_does_not_stop_the_others(
    runner: Runner, capsys: pytest.CaptureFixture[str]
) -> None:
    good = runner.feed("good", rss(It("甲", "https://example.com/a", JUL20)))
    broken = runner.feed("broken", b"<rss><channel><item><title>x</title>")
    html = runner.feed("html", b"<!DOCTYPE html><html><body>hi</body></html>", content_type="text/html")
    empty = runner.feed("empty", b"")
    runner.sources(
        {"name": "好", "slug": "good", "url": good},
        {"name": "断", "slug": "broken", "url": broken},
        {"name": "网页", "slug": "html", "url": html},
        {"name": "空", "slug": "empty", "url": empty},
        {"name": "无", "slug": "gone", "url": runner.server.url("/gone.xml")},
        {"name": "拒", "slug": "refused", "url": "http://127.0.0.1:9/feed.xml"},
    )
    assert runner.run("--json") == 1
    report = json.loads(capsys.readouterr().out)
    by_slug = {s["slug"]: s for s in report["sources"]}
    assert by_slug["good"]["ok"]
    assert by_slug["good"]["new"] == [1048574]
    codes = {slug: s["error_code"] for slug, s in by_slug.items() if not s["ok"]}
    assert codes == {
        "broken": "bad_xml",
        "html": "not_a_feed",
        "empty": "empty_feed",
        "gone": "http_404",
        "refused": "connect_error",
    }
    assert "gone.xml" in by_slug["gone"]["error"]
    assert by_slug["gone"]["error"].startswith("gone: ")
    assert report["exit_code"] == 1
    assert runner.ids("good") == [1048574]
    assert runner.commits() == 1


def test_bad_items_are_skipped_and_reported_the_rest_archived(
    runner: Runner, capsys: pytest.CaptureFixture[str]
) -> None:
    url = runner.feed(
        "news",
        rss(
            It(None, "https://example.com/no-title"),
            It("无链接", None),
            It("坏链接", "http://[::1"),
            It("脚本链接", "javascript:alert(1)"),
            It("相对链接", "/a/相对.html"),
            It("重复", "https://example.com/dup"),
            It("重复二", "https://example.com/dup"),
        ),
    )
    runner.sources({"name": "新闻", "slug": "news", "url": url})
    assert runner.run() == 0
    out = capsys.readouterr().out
    assert runner.ids("news") == [1048573, 1048574]
    assert "[相对链接](http://127.0.0.1:" in runner.article("news", 1048574)
    assert "/a/%E7%9B%B8%E5%AF%B9.html)" in runner.article("news", 1048574)
    for reason in (
        "item has no title",
        "item has no link",
        "bad link: not a valid URL",
        "unsupported link scheme 'javascript:'",
        "duplicate of an earlier item",
    ):
        assert reason in out


def test_a_fresh_clone_continues_with_the_same_ids_and_dedup(runner: Runner, tmp_path: Path) -> None:
    one_source(runner, rss(It("甲", "https://example.com/a", JUL20, guid="g-a")))
    runner.run()
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(runner.archive), str(clone)], check=True)
    one_source(
        runner,
        rss(
            It("甲", "https://example.com/a-moved", JUL21, guid="g-a"),
            It("乙", "https://example.com/b", JUL21),
        ),
    )
    assert runner.run(archive=clone) == 0
    assert runner.ids("news", archive=clone) == [1048573, 1048574]
    assert "[乙]" in runner.article("news", 1048573, archive=clone)


def test_continues_below_1000000_without_overwriting(runner: Runner) -> None:
    folder = runner.archive / "articles" / "news"
    folder.mkdir(parents=True)
    old = f"<!--{JUL20_MS}-->\n[旧](https://example.com/old)\n------\n\n<p>旧</p>\n"
    (folder / "1000000.md").write_text(old, encoding="utf-8")
    (folder / "README.md").write_text("stray file\n", encoding="utf-8")
    one_source(
        runner, rss(It("旧", "https://example.com/old", JUL20), It("新", "https://example.com/new", JUL21))
    )
    assert runner.run() == 0
    assert runner.ids("news") == [999999, 1000000]
    assert (folder / "1000000.md").read_text("utf-8") == old
    assert "[新](https://example.com/new)" in runner.article("news", 999999)
    assert (folder / "README.md").read_text("utf-8") == "stray file\n"
    listing = (runner.archive / "lists/新闻.md").read_text("utf-8")
    assert listing.index("999999.md") < listing.index("1000000.md")
    assert "README" not in listing


def test_post_ids_never_share_a_file(runner: Runner) -> None:
    one_source(
        runner,
        rss(
            It("有号", "https://example.com/p1", JUL20, guid="https://example.com/?p=650486"),
            It("无号一", "https://example.com/x", JUL20, guid="https://example.com/x"),
            It("无号二", "https://example.com/y", JUL20, guid="https://example.com/y"),
        ),
        ids="post-id",
    )
    assert runner.run() == 0
    assert runner.ids("news") == [0, 1, 0xFFFFF ^ 650486]
    assert "[无号一]" in runner.article("news", 0)
    assert "[无号二]" in runner.article("news", 1)


def test_fulltext_source_rewrites_a_file_only_when_its_content_changed(runner: Runner) -> None:
    page = runner.server.url("/story/1.html")
    runner.server.routes["/story/1.html"] = _page("<p>第一版</p>")
    url = runner.feed("cdt", rss(It("故事", page, JUL20, guid="https://x/?p=7", categories=("【标签】",))))
    runner.sources(
        {
            "name": "数字",
            "slug": "cdt",
            "url": url,
            "fulltext": "div.post-content",
            "require_category": "[\u2000-\u3300]",
            "ids": "post-id",
            "refresh": True,
        }
    )
    assert runner.run() == 0
    path = runner.archive / "articles/cdt" / f"{0xFFFFF ^ 7}.md"
    assert path.read_text("utf-8").endswith("\n<p>第一版</p>\n")
    mtime = path.stat().st_mtime_ns
    assert runner.run() == 0
    assert path.stat().st_mtime_ns == mtime
    assert runner.commits() == 1
    runner.server.routes["/story/1.html"] = _page("<p>第二版</p>")
    assert runner.run() == 0
    assert path.read_text("utf-8").endswith("\n<p>第二版</p>\n")
    assert runner.commits() == 2
    assert "1 updated" in runner.git("log", "-1", "--format=%s")


def _page(inner: str) -> Reply:
    html = f"<html><body><div class='post-content'>\n  {inner}\n</div></body></html>"
    return Reply(html.encode(), content_type="text/html; charset=utf-8")


def test_category_filter_skips_pages_of_unwanted_items(runner: Runner) -> None:
    url = runner.feed("cdt", rss(It("普通", runner.server.url("/p.html"), JUL20, categories=("普通",))))
    runner.sources(
        {"name": "数字", "slug": "cdt", "url": url, "fulltext": "div", "require_category": "[\u2000-\u3300]"}
    )
    assert runner.run() == 0
    assert runner.ids("cdt") == []
    assert not any("/p.html" in r for r in runner.server.requests)


def test_a_second_run_on_a_locked_archive_exits_3(runner: Runner, capsys: pytest.CaptureFixture[str]) -> None:
    one_source(runner, rss(It("甲", "https://example.com/a", JUL20)))
    runner.run()
    with Archive(runner.archive).locked():
        assert runner.run() == 3
    assert "another newsmirror run holds the lock" in capsys.readouterr().err
    assert runner.run() == 0


def test_push_sends_the_commit_to_every_remote(runner: Runner, tmp_path: Path) -> None:
    one_source(runner, rss(It("甲", "https://example.com/a", JUL20)))
    runner.run()
    bare = [tmp_path / "one.git", tmp_path / "two.git"]
    for i, remote in enumerate(bare):
        subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
        runner.git("remote", "add", f"r{i}", str(remote))
    one_source(runner, rss(It("乙", "https://example.com/b", JUL21)))
    assert runner.run("--push") == 0
    head = runner.git("rev-parse", "HEAD").strip()
    for remote in bare:
        assert (
            subprocess.run(
                ["git", "-C", str(remote), "rev-parse", "main"], capture_output=True, text=True, check=True
            ).stdout.strip()
            == head
        )


def test_a_failed_push_exits_4(runner: Runner, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    one_source(runner, rss(It("甲", "https://example.com/a", JUL20)))
    runner.run()
    runner.git("remote", "add", "nowhere", str(tmp_path / "missing.git"))
    assert runner.run("--push") == 4
    assert "push nowhere: FAILED" in capsys.readouterr().out


def test_only_runs_the_named_sources(runner: Runner, capsys: pytest.CaptureFixture[str]) -> None:
    a = runner.feed("a", rss(It("甲", "https://example.com/a", JUL20)))
    b = runner.feed("b", rss(It("乙", "https://example.com/b", JUL20)))
    runner.sources({"name": "A", "slug": "a", "url": a}, {"name": "B", "slug": "b", "url": b})
    assert runner.run("--only", "b") == 0
    assert runner.ids("a") == []
    assert runner.ids("b") == [1048574]
    assert "[A](lists/A.md) | 0 |" in (runner.archive / "README.md").read_text("utf-8")
    assert runner.run("--only", "zzz") == 2
    assert "no source with slug zzz" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[[source]]\nname = "x"\nurl = "https://e.com"\n', "missing required key 'slug'"),
        ('[[source]]\nname = "x"\nslug = "../x"\nurl = "https://e.com"\n', "slug must be"),
        ('[[source]]\nname = "x"\nslug = "x"\nurl = "ftp://e.com"\n', "url must be an http"),
        (
            '[[source]]\nname = "x"\nslug = "x"\nurl = "https://e.com"\nbody = "summary"\n',
            "body must be one of description, content",
        ),
        ("not toml [", "cannot read sources file"),
    ],
)
def test_bad_sources_file_exits_2_naming_file_and_cause(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, message: str
) -> None:
    path = tmp_path / "sources.toml"
    path.write_text(text, encoding="utf-8")
    assert main(["run", "--archive", str(tmp_path / "a"), "--sources", str(path)]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert str(path) in err
    assert not (tmp_path / "a").exists()


def test_leftover_temporary_files_are_removed_before_a_run(runner: Runner) -> None:
    one_source(runner, rss(It("甲", "https://example.com/a", JUL20)))
    runner.run()
    scratch = runner.archive / ".git/newsmirror-tmp"
    scratch.mkdir(exist_ok=True)
    (scratch / "999-1").write_text("half", encoding="utf-8")
    older = runner.archive / "lists/.新闻.md.tmp-999"  # where versions before 0.9 wrote them
    older.write_text("half", encoding="utf-8")
    runner.run()
    assert not scratch.exists()
    assert not older.exists()
    assert runner.git("status", "--porcelain") == ""


def test_files_left_uncommitted_by_a_killed_run_are_committed_next_time(runner: Runner) -> None:
    one_source(runner, rss(It("甲", "https://example.com/a", JUL20)))
    runner.run()
    # a run that stored 乙 and was killed before its commit
    killed = TreeStore(runner.archive, local=runner.archive / ".git")
    killed.add(
        "news", [Article(1048573, JUL21_MS, "乙", "https://example.com/b", None, "<p>乙</p>")], feed_dates={}
    )
    one_source(
        runner, rss(It("乙", "https://example.com/b", JUL21), It("丙", "https://example.com/c", JUL21))
    )
    assert runner.run() == 0
    assert runner.ids("news") == [1048572, 1048573, 1048574]
    assert runner.git("status", "--porcelain") == ""
    assert "1048573.md" in runner.git("show", "--name-only", "--format=", "HEAD")
    assert "[乙](https://example.com/b)" in runner.article("news", 1048573)


def test_now_is_the_injected_clock() -> None:
    assert int(NOW.timestamp() * 1000) == NOW_MS


def test_a_relative_archive_path_works(runner: Runner, monkeypatch: pytest.MonkeyPatch) -> None:
    one_source(runner, rss(It("甲", "https://example.com/a", JUL20)))
    monkeypatch.chdir(runner.root)
    assert main(["run", "--archive", "archive", "--sources", "sources.toml"], clock=runner.clock) == 0
    assert runner.ids("news") == [1048574]
    assert runner.commits() == 1
    assert sorted(p.name for p in runner.root.iterdir()) == ["archive", "sources.toml"]
    assert not any(p.name.startswith(".git.tmp") for p in runner.archive.iterdir())
