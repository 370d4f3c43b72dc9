"""A feed's control characters and escape sequences never reach the operator's terminal, and a
title of nothing visible is not archived as an invisible entry."""

from __future__ import annotations

import json

import pytest

from newsmirror.cli import main
from newsmirror.cli.terminal import printable

from .conftest import Runner
from .test_hostile_items import one_source

ESCAPES = "\x1b[2J\x1b[H\x1b]0;pwned\x07\x1b]8;;https://evil.example\x1b\\点我\x1b]8;;\x1b\\\x9b31m\u202e"
DATE = {"date_published": "2020-07-20T07:41:21Z"}


def json_feed(*items: dict[str, str]) -> bytes:
    return json.dumps({"version": "https://jsonfeed.org/version/1.1", "title": "J", "items": items}).encode()


def test_printable_escapes_what_drives_a_terminal_and_keeps_the_rest() -> None:
    assert printable("标题\t一\n二\r") == "标题\t一\n二\r"
    assert printable("\x1b[2J") == "\\u001b[2J"
    assert printable("\x9b\u202e\x7f\x00") == "\\u009b\\u202e\\u007f\\u0000"


def test_escape_sequences_in_titles_reach_no_terminal_and_invisible_titles_are_skipped(
    runner: Runner, capsys: pytest.CaptureFixture[str]
) -> None:
    items = [
        {"id": "a", "url": "https://e.com/a", "title": f"标题{ESCAPES}", "content_html": "<p>文</p>", **DATE},
        {"id": "b", "url": "https://e.com/b", "title": "\x1b\x07\x00\u200b\u202e\ufeff", **DATE},
        {"id": "c", "url": "https://e.com/c", "title": "\x1b[2J", "content_html": "<p>正文</p>", **DATE},
    ]
    one_source(runner, json_feed(*items), content_type="application/feed+json")

    args = ["-v", "run", "--archive", str(runner.archive), "--sources", str(runner.root / "sources.toml")]
    assert main(args, clock=runner.clock) == 0
    out, err = capsys.readouterr()
    for text in (out, err):
        assert not any(c in text for c in "\x1b\x07\x00\x9b\u202e")
    assert "item has no title (only control or invisible characters)" in out
    assert "\\u001b\\u0007" in out  # the skipped item is named, its characters escaped

    titles = [runner.article("news", i).split("\n")[1] for i in runner.ids("news")]
    assert sorted(titles) == sorted(
        [
            "[标题[2J[H]0;pwned]8;;https://evil.example\\点我]8;;\\\x9b31m\u202e](https://e.com/a)",
            "[[2J](https://e.com/c)",
        ]
    )

    assert runner.run("--json") == 0
    report = capsys.readouterr().out
    assert "\x1b" not in report
    assert json.loads(report)["sources"][0]["unchanged"] == 2
