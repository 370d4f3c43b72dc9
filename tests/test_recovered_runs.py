"""A feed recovered by the lenient parse is archived and reported ``ok`` with its fault, everywhere."""

from __future__ import annotations

import json

import pytest

from newsmirror.cli import main

from .conftest import Runner
from .servers import Reply

BROKEN = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel><title>频道</title>'
    "<item><title>第一篇&nbsp;报道</title><link>https://e.com/1</link>"
    "<pubDate>Mon, 20 Jul 2020 07:41:21 GMT</pubDate><description>甲 &amp; 乙</description></item>"
    "<item><title>第二篇 R&D</title><link>https://e.com/2</link>"
    "<pubDate>Mon, 20 Jul 2020 08:41:21 GMT</pubDate><description>丙&hellip;</description></item>"
    "</channel></rss>"
).encode()
GOOD = BROKEN.replace(b"&nbsp;", b"&#160;").replace(b"R&D", b"R&amp;D").replace(b"&hellip;", b"&#8230;")


def test_a_recovered_feed_is_ok_with_its_fault_in_the_report_json_and_status(
    runner: Runner, capsys: pytest.CaptureFixture[str]
) -> None:
    runner.sources(
        {"name": "坏", "slug": "broken", "url": runner.feed("broken", BROKEN)},
        {"name": "好", "slug": "good", "url": runner.feed("good", GOOD)},
    )
    assert runner.run() == 0
    table = capsys.readouterr().out
    assert "ok (recovered)" in table
    assert "broken: recovered: " in table
    # the same articles as the well-formed copy of the feed, byte for byte
    for article_id in (1048574, 1048573):
        assert runner.article("broken", article_id) == runner.article("good", article_id)
    assert "[第一篇\u00a0报道](https://e.com/1)" in runner.article("broken", 1048574)
    assert runner.article("broken", 1048573).endswith("\n丙…\n")
    assert runner.run("--json") == 0
    sources = {s["slug"]: s for s in json.loads(capsys.readouterr().out)["sources"]}
    assert sources["broken"]["ok"] is True
    assert sources["broken"]["recovered"]
    assert f"recovered: {sources['broken']['recovered']}" in sources["broken"]["notes"]
    assert sources["good"]["recovered"] is None
    sources_file = str(runner.root / "sources.toml")
    main(["status", "--archive", str(runner.archive), "--sources", sources_file, "--json"])  # 1: stale (2020)
    status = {s["slug"]: s for s in json.loads(capsys.readouterr().out)["sources"]}
    assert status["broken"]["result"] == "ok"
    assert status["broken"]["recovered"] == sources["broken"]["recovered"]
    assert "recovered: " in (runner.archive / "status.md").read_text("utf-8")


def test_an_html_page_instead_of_a_feed_stays_a_failure(
    runner: Runner, capsys: pytest.CaptureFixture[str]
) -> None:
    page = b"<!DOCTYPE html><html><head><title>Home</title></head><body><p>Hi &nbsp; there</p></body></html>"
    runner.server.routes["/page.xml"] = Reply(page, content_type="text/html; charset=utf-8")
    runner.sources({"name": "页", "slug": "page", "url": runner.server.url("/page.xml")})
    assert runner.run("--json") == 1
    source = json.loads(capsys.readouterr().out)["sources"][0]
    assert (source["ok"], source["error_code"], source["recovered"]) == (False, "not_a_feed", None)
    assert not (runner.archive / "articles/page").exists()
