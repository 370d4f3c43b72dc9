"""CLI shell: structured logs on stderr, only data on stdout with --json, the progress bar."""

from __future__ import annotations

import importlib.metadata
import io
import json
import logging
import os
import re
import subprocess
import sys

import pytest

from newsmirror.cli import logs, main
from newsmirror.cli.run import progress
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


def test_formatter_quotes_values_with_spaces() -> None:
    record = logging.LogRecord("newsmirror.x", logging.INFO, "", 0, 'say "hi" now', None, None)
    record.source = "a b"
    line = logs.KeyValueFormatter().format(record)
    assert line.endswith('level=info logger=newsmirror.x msg="say \\"hi\\" now" source="a b"')


def test_no_progress_bar_when_stderr_is_not_a_terminal() -> None:
    with progress(3) as advance:
        assert advance is None


def test_progress_bar_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal = Tty()
    monkeypatch.setattr(sys, "stderr", terminal)
    with progress(2) as advance:
        assert advance is not None
        advance(SourceResult("a", "A", ok=True))
        advance(SourceResult("b", "B", ok=True))
    assert terminal.getvalue() == ""  # finished within the 2 s delay: no bar drawn
    with progress(2, delay=0) as advance:
        assert advance is not None
        advance(SourceResult("a", "A", ok=True))
    assert "newsmirror:" in terminal.getvalue()
    assert "0/2 [" in terminal.getvalue()  # drawn at once; later redraws are rate-limited


def test_version_prints_the_package_version_and_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["--version"])
    assert stopped.value.code == 0
    assert capsys.readouterr().out == f"newsmirror {importlib.metadata.version('newsmirror')}\n"


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
