"""Running for real, over many runs: conditional GET, postponements, moves, 410, status pages."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from lxml import etree

from newsmirror import health
from newsmirror.cli import main

from .conftest import NOW, Runner
from .feeds import It, rss
from .servers import Reply

JUL20 = "Mon, 20 Jul 2020 07:41:21 GMT"

ATOM = "{http://www.w3.org/2005/Atom}"
FEED = rss(It("甲", "https://example.com/a", "Mon, 20 Jul 2020 07:41:21 GMT"))


def at(runner: Runner, hours: float) -> None:
    runner.clock = lambda: NOW + timedelta(hours=hours)


def fetched(runner: Runner, path: str) -> int:
    return sum(1 for r in runner.server.requests if r.endswith(" " + path))


def report(runner: Runner, capsys: pytest.CaptureFixture[str], *extra: str) -> dict[str, dict[str, object]]:
    capsys.readouterr()
    runner.run("--json", *extra)
    return {s["slug"]: s for s in json.loads(capsys.readouterr().out)["sources"]}


def state(runner: Runner, slug: str) -> dict[str, object]:
    data = json.loads((runner.archive / ".newsmirror/status.json").read_text("utf-8"))
    entry: dict[str, object] = data[slug]
    return entry


def test_a_304_costs_no_parse_no_write_no_commit_even_on_a_fresh_clone(
    runner: Runner, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def feed(headers: Mapping[str, str]) -> Reply:
        if headers.get("if-none-match") == '"v1"':
            return Reply(b"", 304)
        return Reply(FEED, headers=(("ETag", '"v1"'),))

    runner.server.routes["/news.xml"] = feed
    runner.sources({"name": "新闻", "slug": "news", "url": runner.server.url("/news.xml")})
    assert runner.run() == 0
    assert state(runner, "news")["etag"] == '"v1"'
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(runner.archive), str(clone)], check=True)
    at(runner, 1)
    capsys.readouterr()
    assert runner.run("--json", archive=clone) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["sources"][0]["outcome"] == "not_modified"
    assert result["commit"] is None
    assert runner.server.traffic.headers[-1]["if-none-match"] == '"v1"'
    assert runner.server.requests[-1] == "304 /news.xml"
    assert runner.git("status", "--porcelain", archive=clone) == ""


def test_retry_after_postpones_only_that_source(runner: Runner, capsys: pytest.CaptureFixture[str]) -> None:
    runner.server.routes["/busy.xml"] = Reply(b"", 429, headers=(("Retry-After", "9000"),))
    ok = runner.feed("ok", FEED)
    runner.sources(
        {"name": "忙", "slug": "busy", "url": runner.server.url("/busy.xml")},
        {"name": "好", "slug": "ok", "url": ok},
    )
    first = report(runner, capsys)
    assert first["busy"]["error_code"] == "http_429"
    assert state(runner, "busy")["not_before"] == "2026-01-02T05:34:05Z"
    at(runner, 1)
    second = report(runner, capsys)
    assert second["busy"]["outcome"] == "postponed"
    assert second["busy"]["notes"] == [
        "postponed until 2026-01-02 05:34 UTC (failing since 2026-01-02 03:04 UTC); "
        "`newsmirror enable busy` fetches it next run"
    ]
    assert fetched(runner, "/busy.xml") == 1
    assert fetched(runner, "/ok.xml") == 2
    at(runner, 3)
    runner.server.routes["/busy.xml"] = Reply(FEED)
    assert report(runner, capsys)["busy"]["outcome"] == "updated"
    assert fetched(runner, "/busy.xml") == 2


def test_a_new_url_in_the_sources_file_is_fetched_at_once_whatever_the_old_ones_postponement(
    runner: Runner, capsys: pytest.CaptureFixture[str]
) -> None:
    runner.server.routes["/busy.xml"] = Reply(b"", 429, headers=(("Retry-After", "9000"),))
    runner.sources({"name": "忙", "slug": "busy", "url": runner.server.url("/busy.xml")})
    assert report(runner, capsys)["busy"]["error_code"] == "http_429"
    at(runner, 1)
    assert report(runner, capsys)["busy"]["outcome"] == "postponed"
    runner.server.routes["/fixed.xml"] = Reply(FEED)
    runner.sources({"name": "忙", "slug": "busy", "url": runner.server.url("/fixed.xml")})
    assert report(runner, capsys)["busy"]["outcome"] == "updated"  # the owner fixed the URL
    assert (fetched(runner, "/busy.xml"), fetched(runner, "/fixed.xml")) == (1, 1)


def test_max_age_postpones_beyond_the_next_run_only(runner: Runner) -> None:
    runner.server.routes["/long.xml"] = Reply(FEED, headers=(("Cache-Control", "max-age=10800"),))
    runner.server.routes["/short.xml"] = Reply(FEED, headers=(("Cache-Control", "max-age=600"),))
    runner.sources(
        {"name": "长", "slug": "long", "url": runner.server.url("/long.xml")},
        {"name": "短", "slug": "short", "url": runner.server.url("/short.xml")},
    )
    runner.run()
    assert "not_before" not in state(runner, "short")
    at(runner, 1)
    runner.run()
    assert (fetched(runner, "/long.xml"), fetched(runner, "/short.xml")) == (1, 2)
    at(runner, 3.1)
    runner.run()
    assert fetched(runner, "/long.xml") == 2


def test_a_permanent_redirect_seen_three_runs_moves_the_source(
    runner: Runner, capsys: pytest.CaptureFixture[str]
) -> None:
    runner.server.routes["/old.xml"] = Reply(b"", 301, headers=(("Location", "/new.xml"),))
    runner.server.routes["/new.xml"] = Reply(FEED)
    runner.sources({"name": "迁", "slug": "moved", "url": runner.server.url("/old.xml")})
    notes = []
    for hour in range(3):
        at(runner, hour)
        notes.append(report(runner, capsys)["moved"]["notes"])
    new = runner.server.url("/new.xml")
    assert notes[0] == [f"permanent redirect to {new} seen 1 of 3 runs"]
    assert notes[2] == [f"moved permanently to {new}: the archive now fetches it from there"]
    assert state(runner, "moved")["moved_to"] == new
    at(runner, 3)
    runner.run()
    assert fetched(runner, "/old.xml") == 3
    assert fetched(runner, "/new.xml") == 4
    assert "moved to " + new in (runner.archive / "status.md").read_text("utf-8")


def test_a_temporary_redirect_never_moves_the_source(runner: Runner) -> None:
    runner.server.routes["/old.xml"] = Reply(b"", 302, headers=(("Location", "/new.xml"),))
    runner.server.routes["/new.xml"] = Reply(FEED)
    runner.sources({"name": "临", "slug": "temp", "url": runner.server.url("/old.xml")})
    for hour in range(5):
        at(runner, hour)
        assert runner.run() == 0
    assert fetched(runner, "/old.xml") == 5
    assert "moved_to" not in state(runner, "temp")


def test_410_disables_until_re_enabled(runner: Runner, capsys: pytest.CaptureFixture[str]) -> None:
    runner.server.routes["/gone.xml"] = Reply(b"gone", 410)
    runner.server.routes["/gone.xml?new"] = Reply(b"gone", 410)
    runner.sources({"name": "无", "slug": "gone", "url": runner.server.url("/gone.xml")})
    assert runner.run() == 1
    assert state(runner, "gone")["result"] == "disabled"
    assert state(runner, "gone")["message"] == "410 Gone since 2026-01-02 03:04 UTC"  # shown to people
    at(runner, 1)
    assert report(runner, capsys)["gone"]["outcome"] == "disabled"
    assert fetched(runner, "/gone.xml") == 1
    runner.sources({"name": "无", "slug": "gone", "url": runner.server.url("/gone.xml?new")})
    assert runner.run() == 1  # a new URL in the sources file is tried again (and here is gone too)
    assert report(runner, capsys)["gone"]["outcome"] == "disabled"
    assert fetched(runner, "/gone.xml?new") == 1
    runner.sources({"name": "无", "slug": "gone", "url": runner.server.url("/gone.xml")})
    assert main(["enable", "gone", "--archive", str(runner.archive)]) == 0
    assert runner.git("log", "-1", "--format=%s") == "newsmirror: re-enable gone\n"
    runner.server.routes["/gone.xml"] = Reply(FEED)
    at(runner, 2)
    assert report(runner, capsys)["gone"]["new"] == [1048574]


def test_status_command_pages_and_problem_feed(runner: Runner, capsys: pytest.CaptureFixture[str]) -> None:
    fresh = rss(
        It("新", "https://example.com/n", "Fri, 02 Jan 2026 01:00:00 GMT"),
        It("旧", "https://example.com/o", "Tue, 30 Dec 2025 01:00:00 GMT"),
    )
    good = runner.feed("good", fresh)
    old = runner.feed("old", FEED)
    runner.sources(
        {"name": "好", "slug": "good", "url": good},
        {"name": "老", "slug": "old", "url": old},
        {"name": "坏", "slug": "bad", "url": runner.server.url("/missing.xml")},
    )
    runner.run()
    at(runner, 1)
    runner.run()
    capsys.readouterr()
    code = main(
        [
            "status",
            "--archive",
            str(runner.archive),
            "--sources",
            str(runner.root / "sources.toml"),
            "--json",
        ],
        clock=lambda: NOW + timedelta(hours=1),
    )
    rows = {r["slug"]: r for r in json.loads(capsys.readouterr().out)["sources"]}
    assert code == 1
    assert (rows["good"]["last_24h"], rows["good"]["last_7d"], rows["good"]["stale"]) == (1, 2, False)
    assert rows["good"]["last_success"] == "2026-01-02T04:04:05Z"
    assert rows["old"]["stale"] is True
    assert (rows["bad"]["code"], rows["bad"]["failures"], rows["bad"]["result"]) == ("http_404", 2, "failed")
    page = (runner.archive / "status.md").read_text("utf-8")
    assert "| [坏](lists/%E5%9D%8F.md) | failed: http_404 ×2 (since 2026-01-02 03:04 UTC) | 2 | — |" in page
    newest_good = max(int(f.read_bytes()[4:17]) for f in (runner.archive / "articles/good").glob("*.md"))
    shown = datetime.fromtimestamp(newest_good / 1000, UTC).strftime("%Y-%m-%d %H:%M UTC")
    readme = (runner.archive / "README.md").read_text("utf-8")
    assert f"| [好](lists/%E5%A5%BD.md) | 2 | {shown} |" in readme  # the one format, in UTC
    feed = etree.fromstring((runner.archive / "status.xml").read_bytes())
    titles = [e.findtext(f"{ATOM}title") for e in feed.iter(f"{ATOM}entry")]
    assert sorted(titles) == ["坏 (bad) is failing: http_404", "老 (old) is stale"]
    ids = [e.findtext(f"{ATOM}id") for e in feed.iter(f"{ATOM}entry")]
    at(runner, 2)
    runner.run()
    again = etree.fromstring((runner.archive / "status.xml").read_bytes())
    assert [e.findtext(f"{ATOM}id") for e in again.iter(f"{ATOM}entry")] == ids  # stable while it lasts


def test_status_of_a_missing_archive_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["status", "--archive", str(tmp_path / "none")]) == 2
    assert "not a newsmirror archive" in capsys.readouterr().err


def test_status_reports_the_repository_size_and_the_fullest_folder(
    runner: Runner, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    items = [It(f"第{n}条", f"https://e.com/{n}", JUL20) for n in range(3)]
    runner.sources({"name": "新闻", "slug": "news", "url": runner.feed("news", rss(*items))})
    assert runner.run() == 0
    monkeypatch.setattr(health, "FOLDER_LIMIT", 2)
    capsys.readouterr()
    status = ["status", "--archive", str(runner.archive), "--sources", str(runner.root / "sources.toml")]
    main([*status, "--json"])
    storage = json.loads(capsys.readouterr().out)["storage"]
    packed = subprocess.run(
        ["git", "-C", str(runner.archive), "count-objects", "-v"], capture_output=True, text=True, check=True
    )
    kib = {k: int(v) for k, v in (line.split(": ") for line in packed.stdout.splitlines())}
    assert storage["repository_bytes"] == (kib["size"] + kib["size-pack"] + kib["size-garbage"]) * 1024
    assert (storage["largest_folder"], storage["largest_entries"]) == ("articles/news", 3)
    assert storage["warnings"] == [
        "articles/news holds 3 entries; GitHub lists 2 per folder: "
        "`newsmirror reshard` files articles by date"
    ]
    main(status)
    out = capsys.readouterr().out
    assert "largest folder: articles/news (3 entries)" in out
    assert "warning: articles/news holds 3 entries" in out


def test_storage_warns_at_one_and_five_gigabytes() -> None:
    small = health.Storage(999 * 2**20, "articles/a", 10)
    assert small.warnings() == []
    assert health.Storage(2 * health.GB, "articles/a", 10).warnings() == [
        "repository 2.0 GB: over 1 GB, the size GitHub advises to stay under"
    ]
    (big,) = health.Storage(6 * health.GB, "articles/a", 10).warnings()
    assert big.startswith("repository 6.0 GB: over 5 GB")
