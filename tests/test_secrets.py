"""Secrets in feed URLs stay secret: not in any file, commit, report, JSON or log line."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from newsmirror.cli import main
from newsmirror.redact import redact_text, redact_url, restore

from .conftest import Runner
from .servers import Reply
from .test_health import FEED, at

TOKENS = ("s3cr3tPASS", "tok3nQUERY", "k3yAPI", "acc3ssGONE")


def everything_written(archive: Path) -> str:
    """Every file of the working tree and of ``.git`` that git keeps as text, and every commit."""
    texts = [
        p.read_text("utf-8", errors="replace")
        for p in archive.rglob("*")
        if p.is_file() and "objects" not in p.parts
    ]
    log = subprocess.run(
        ["git", "-C", str(archive), "log", "-p", "--all", "--format=%H %s%n%b"],
        capture_output=True,
        text=True,
        check=True,
    )
    return "\n".join([*texts, log.stdout])


def test_no_token_of_a_feed_url_is_written_or_printed(
    runner: Runner, capsys: pytest.CaptureFixture[str]
) -> None:
    server = runner.server
    base = server.base.replace("http://", f"http://reader:{TOKENS[0]}@")
    server.routes[f"/a.xml?token={TOKENS[1]}&page=1"] = Reply(b"", 404)
    old, new = f"/b.xml?api_key={TOKENS[2]}", f"/b2.xml?api_key={TOKENS[2]}"
    server.routes[old] = Reply(b"", 301, headers=(("Location", new),))
    server.routes[new] = Reply(FEED)
    server.routes[f"/c.xml?access_token={TOKENS[3]}"] = Reply(b"", 410)
    runner.sources(
        {"name": "认证", "slug": "auth", "url": f"{base}/a.xml?token={TOKENS[1]}&page=1"},
        {"name": "迁移", "slug": "moved", "url": server.url(old)},
        {"name": "消失", "slug": "gone", "url": server.url(f"/c.xml?access_token={TOKENS[3]}")},
    )
    printed = []
    sources = str(runner.root / "sources.toml")
    run = ["-vv", "run", "--archive", str(runner.archive), "--sources", sources]
    for hour in range(4):  # three runs see the redirect and move the source; the fourth uses the move
        at(runner, hour)
        main([*run, "--json"], clock=runner.clock)
        main(run, clock=runner.clock)
        main(["status", "--archive", str(runner.archive), "--sources", sources, "--json"])
        out, err = capsys.readouterr()
        printed += [out, err]
    # the moved source is fetched at its new address with its key put back
    assert server.requests.count(f"200 {new}") >= 2
    assert f"302 {old}" not in server.requests
    state = json.loads((runner.archive / ".newsmirror/status.json").read_text("utf-8"))
    assert state["moved"]["moved_to"] == server.url("/b2.xml?api_key=***")
    assert state["gone"]["result"] == "disabled"
    written = everything_written(runner.archive) + "\n".join(printed)
    assert "api_key=***" in written  # the URLs are shown, their secrets masked
    for token in TOKENS:
        assert token not in written, token


def test_redaction_and_restoring() -> None:
    url = "https://user:pw@e.com/feed?token=abc&id=7&API_KEY=z#top"
    assert redact_url(url) == "https://***@e.com/feed?token=***&id=7&API_KEY=***#top"
    assert redact_url("https://e.com/a?key=&x=1") == "https://e.com/a?key=&x=1"  # nothing to hide
    assert redact_url("https://e.com/a?monkey=banana") == "https://e.com/a?monkey=banana"
    assert restore(redact_url(url), url) == url
    moved = redact_url("https://user:pw@new.example/feed?token=abc&id=7")
    assert restore(moved, url) == "https://user:pw@new.example/feed?token=abc&id=7"
    assert restore("https://n.example/?secret=***", url) == url  # no value to put back: configured URL
    assert redact_text("cannot connect to https://u:p@h/x?sig=1 (timeout)") == (
        "cannot connect to https://***@h/x?sig=*** (timeout)"
    )
