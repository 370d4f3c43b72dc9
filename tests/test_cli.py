"""CLI shell: structured logs on stderr, only data on stdout with --json, the progress bar."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import shlex
import subprocess
from pathlib import Path

import pytest
from rich.cells import cell_len

from newsmirror.cli import logs, main
from newsmirror.cli.progress import finished_line, progress
from newsmirror.cli.tables import write_table
from newsmirror.types import SourceResult

from .conftest import Runner, tool
from .feeds import It, rss


def test_verbose_logs_are_key_value_lines_and_stdout_stays_json(
    runner: Runner, capsys: pytest.CaptureFixture[str]
) -> None:
    url = runner.feed("news", rss(It("甲", "https://example.com/a")))
    runner.sources(
        {"name": "新闻", "slug": "news", "url": url},
        {"name": "坏", "slug": "bad", "url": runner.server.url("/missing.xml")},
    )
    assert runner.run("--json") == 1
    capsys.readouterr()
    args = [
        "-vv",
        "run",
        "--archive",
        str(runner.archive),
        "--sources",
        str(runner.root / "sources.toml"),
        "--json",
    ]
    assert main(args, clock=runner.clock) == 1
    out, err = capsys.readouterr()
    assert json.loads(out)["sources"][0]["slug"] == "news"  # stdout: nothing but the JSON document
    lines = [line for line in err.splitlines() if line.startswith("ts=")]
    done = [line for line in lines if 'msg="source done"' in line]
    assert len(done) == 2
    assert any("source=news outcome=updated new=0" in line for line in done)
    failed = next(line for line in lines if 'msg="source failed' in line)
    assert re.search(r"level=warning logger=newsmirror.update .* source=bad code=http_404", failed)


def log_events(err: str) -> list[dict[str, str]]:
    """The key=value log lines on stderr, each as a dict (values unquoted)."""
    return [
        dict(pair.split("=", 1) for pair in shlex.split(line))
        for line in err.splitlines()
        if line.startswith("ts=")
    ]


def test_verbose_logs_every_stage_of_a_run_with_its_duration(
    runner: Runner, capsys: pytest.CaptureFixture[str]
) -> None:
    feed = rss(It("甲", "https://example.com/a"), It("乙", "https://example.com/b"), It(None, None))
    runner.sources(
        {"name": "新闻", "slug": "news", "url": runner.feed("news", feed)},
        {"name": "坏", "slug": "bad", "url": runner.server.url("/missing.xml")},
    )
    remote = runner.root / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    assert runner.run() == 1
    runner.git("remote", "add", "origin", str(remote))
    runner.feed("news", rss(It("丙", "https://example.com/c"), It("甲", "https://example.com/a")))
    capsys.readouterr()
    assert runner.run("-v", "--push") == 1
    events = log_events(capsys.readouterr().err)
    stages = {(e["msg"], e.get("source", "")): e for e in events}
    assert stages["fetch", "news"]["status"] == "200"
    assert int(stages["fetch", "news"]["bytes"]) == len(runner.server.routes["/news.xml"].body)
    assert stages["fetch", "bad"]["failed"] == "FetchError"
    assert (stages["parse", "news"]["format"], stages["parse", "news"]["entries"]) == ("rss 2.0", "2")
    assert (stages["decide", "news"]["writes"], stages["decide", "news"]["known"]) == ("1", "1")
    assert (stages["write", "news"]["new"], stages["write", "news"]["updated"]) == ("1", "0")
    head = runner.git("rev-parse", "HEAD").strip()
    assert stages["commit", ""]["commit"] == head
    assert stages["push", ""]["remote"] == "origin"
    assert stages["push", ""]["commit"] == head[:12]
    assert int(stages["pages", ""]["pages"]) > 0
    timed = [
        e for e in events if e["msg"] in ("fetch", "parse", "decide", "write", "pages", "commit", "push")
    ]
    assert len(timed) == 8
    assert all(float(e["seconds"]) >= 0 for e in timed)
    order = [e["msg"] for e in timed if e.get("source", "news") == "news"]
    assert order == ["fetch", "parse", "decide", "write", "pages", "commit", "push"]
    assert not [e for e in events if e["msg"] == "decision"]  # each item's decision only at -vv


def test_very_verbose_logs_each_items_decision(runner: Runner, capsys: pytest.CaptureFixture[str]) -> None:
    feed = rss(It("甲", "https://example.com/a"), It(None, None, body=None))
    runner.sources({"name": "新闻", "slug": "news", "url": runner.feed("news", feed)})
    assert runner.run("-vv") == 0
    decisions = [e for e in log_events(capsys.readouterr().err) if e["msg"] == "decision"]
    assert [(d["action"], d.get("id")) for d in decisions] == [
        ("new", str(runner.ids("news")[0])),
        ("skip", None),
    ]
    assert "甲" in decisions[0]["item"]
    assert decisions[1]["reason"]


def test_formatter_quotes_values_with_spaces() -> None:
    record = logging.LogRecord("newsmirror.x", logging.INFO, "", 0, 'say "hi" now', None, None)
    record.source = "a b"
    line = logs.KeyValueFormatter().format(record)
    assert line.endswith('level=info logger=newsmirror.x msg="say \\"hi\\" now" source="a b"')


def test_no_progress_when_stderr_is_not_a_terminal_or_logs_are_on() -> None:
    with progress(3) as advance:
        assert advance is None  # pytest's stderr is no terminal
    with progress(3, quiet=True, stream=Tty()) as advance:
        assert advance is None


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_on_a_terminal_prints_each_source_as_it_finishes() -> None:
    terminal = Tty()
    failed = SourceResult("bad", "坏", ok=False, error_code="http_404", error="bad: HTTP 404 \x1b[2J")
    with progress(3, stream=terminal) as advance:
        assert advance is not None
        advance(SourceResult("news", "新闻", ok=True, new=(1048575, 1048574), updated=(7,)))
        advance(failed)
        advance(SourceResult("late", "迟", ok=True, outcome="postponed", notes=("postponed until …",)))
    shown = terminal.getvalue()
    lines = [line.strip() for line in re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "\n", shown).splitlines()]
    assert "✓ 新闻 (news): 2 new, 1 updated" in lines
    assert "✗ 坏 (bad): FAILED http_404: bad: HTTP 404 \\u001b[2J" in lines  # the feed's escape, inert
    assert "· 迟 (late): postponed until …" in lines
    assert shown.index("新闻 (news)") < shown.index("坏 (bad)") < shown.index("迟 (late)")


def test_finished_lines_name_the_outcome() -> None:
    assert finished_line(SourceResult("a", "甲", ok=True, outcome="not_modified")) == "✓ 甲 (a): not modified"
    assert finished_line(SourceResult("a", "甲", ok=True)) == "✓ 甲 (a): 0 new"


# -- conventions ----------------------------------------------------------------------------------


def test_verbose_is_accepted_after_the_command_too(
    runner: Runner, capsys: pytest.CaptureFixture[str]
) -> None:
    runner.sources(
        {"name": "新闻", "slug": "news", "url": runner.feed("news", rss(It("甲", "https://e.com/a")))}
    )
    assert runner.run("-v") == 0
    assert "level=info" in capsys.readouterr().err
    assert logging.getLogger("newsmirror").level == logging.INFO
    assert runner.run("-vv") == 0
    assert logging.getLogger("newsmirror").level == logging.DEBUG
    capsys.readouterr()
    assert runner.run() == 0
    assert "level=" not in capsys.readouterr().err
    assert logging.getLogger("newsmirror").level == logging.ERROR


def closed_stdout(*args: str) -> subprocess.CompletedProcess[str]:
    """``newsmirror ARGS`` writing into a pipe nobody reads any more (``… | head`` after head left)."""
    read, write = os.pipe()
    os.close(read)
    try:
        return subprocess.run(
            [tool("newsmirror"), *args], stdout=write, stderr=subprocess.PIPE, text=True, check=False
        )
    finally:
        os.close(write)


@pytest.mark.parametrize("command", [["status", "--json"], ["status"], ["run", "--json"], ["run"]])
def test_a_closed_stdout_ends_quietly_with_141(runner: Runner, command: list[str]) -> None:
    runner.sources(
        {"name": "新闻", "slug": "news", "url": runner.feed("news", rss(It("甲", "https://e.com/a")))}
    )
    assert runner.run() == 0
    args = [*command, "--archive", str(runner.archive), "--sources", str(runner.root / "sources.toml")]
    done = closed_stdout(*args)
    assert (done.returncode, done.stderr) == (141, "")


def test_a_command_typed_inside_an_archive_acts_on_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    archive = tmp_path / "my-archive"
    assert main(["init", str(archive)]) == 0
    monkeypatch.chdir(archive)
    capsys.readouterr()
    assert main(["sources", "list", "--json"]) == 0  # no --archive: this folder, not ./archive
    assert len(json.loads(capsys.readouterr().out)["sources"]) > 0
    assert main(["status", "--json"]) == 0
    assert not (archive / "archive").exists()
    monkeypatch.chdir(tmp_path)  # elsewhere, ./archive as before
    assert main(["status"]) == 2
    assert "archive: not a newsmirror archive" in capsys.readouterr().err


def test_a_table_on_a_terminal_fits_its_width_and_in_a_pipe_keeps_each_row_on_one_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rows = [
        ("source", "new", "result"),
        (
            "美国之音 (voa)",
            "3",
            "FAILED http_404: 美国之音: HTTP 404 Not Found (https://www.voachinese.com/api/x)",
        ),
        ("BBC (bbc)", "12", "ok"),
    ]
    monkeypatch.setattr("shutil.get_terminal_size", lambda *a, **k: os.terminal_size((60, 24)))
    terminal = Tty()
    write_table(rows, terminal, right=(1,))
    lines = terminal.getvalue().splitlines()
    assert max(cell_len(line) for line in lines) <= 60  # CJK counted two cells each
    assert len(lines) > 4  # the long cell wrapped inside its column
    pipe = io.StringIO()
    write_table(rows, pipe, right=(1,))
    assert len(pipe.getvalue().splitlines()) == 4  # header, rule, two rows: grep finds whole rows
