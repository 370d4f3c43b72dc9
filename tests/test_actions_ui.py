"""What a run shows on GitHub Actions' page, when the job fails, and the heartbeat a monitor
watches: the job summary (``$GITHUB_STEP_SUMMARY``), ``::warning::``/``::error::`` annotations,
the workflow's own accepted statuses, ``status.xml``'s last successful run and ``status
--max-age``."""

from __future__ import annotations

import json
import subprocess
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import yaml

from newsmirror.cli import main
from newsmirror.cli.actions import command
from newsmirror.scaffold import WorkflowSettings, render_workflow

from .conftest import NOW, Runner
from .feeds import It, rss
from .servers import Reply

JUL20 = "Mon, 20 Jul 2020 07:41:21 GMT"
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def in_actions(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """The environment Actions gives a step: GITHUB_ACTIONS and a job summary file."""
    summary = tmp_path / "step_summary.md"
    summary.write_text("earlier step\n", encoding="utf-8")
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    return summary


def two_sources(runner: Runner) -> None:
    good = runner.feed(
        "good", rss(It("甲", "https://example.com/a", JUL20), It("乙", "https://example.com/b"))
    )
    runner.server.routes["/bad.xml"] = Reply(b"gone", status=404, content_type="text/plain")
    runner.sources(
        {"name": "好|源", "slug": "good", "url": good},
        {"name": "坏", "slug": "bad", "url": runner.server.url("/bad.xml?token=s3cr3t-value")},
    )


def test_a_run_in_actions_writes_the_summary_and_one_warning_per_failing_source(
    runner: Runner, in_actions: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    two_sources(runner)
    assert runner.run() == 1
    out = capsys.readouterr().out
    warnings = [line for line in out.splitlines() if line.startswith("::")]
    assert len(warnings) == 1
    assert warnings[0].startswith("::warning title=bad failed::坏 (bad): http_404: ")
    summary = in_actions.read_text("utf-8")
    assert summary.startswith("earlier step\n### newsmirror: 2 new articles in `")  # appended
    rows = [line for line in summary.splitlines() if line.startswith("| ")]
    assert rows[0] == "| source | new | updated | unchanged | skipped | result |"
    assert rows[1] == "| 好\\|源 (`good`) | 2 | 0 | 0 | 0 | ok |"  # the | stays in its cell
    assert rows[2].startswith("| 坏 (`bad`) | 0 | 0 | 0 | 0 | **failed** `http_404`: ")
    assert "exit status 1: some sources failed" in summary
    assert "s3cr3t-value" not in summary + out  # redacted like every report


def test_outside_actions_there_are_no_annotations_and_no_summary(
    runner: Runner, in_actions: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("GITHUB_ACTIONS")
    two_sources(runner)
    assert runner.run() == 1
    assert "::" not in capsys.readouterr().out
    assert in_actions.read_text("utf-8") == "earlier step\n"


def test_with_json_the_annotations_go_to_stderr_and_stdout_stays_json(
    runner: Runner, in_actions: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    two_sources(runner)
    assert runner.run("--json") == 1
    captured = capsys.readouterr()
    assert json.loads(captured.out)["exit_code"] == 1
    assert "::warning title=bad failed::" in captured.err


def test_workflow_commands_escape_what_github_would_read_as_syntax() -> None:
    assert command("warning", "a\nb%c\r", title="x:y,z") == "::warning title=x%3Ay%2Cz::a%0Ab%25c%0D\n"
    assert command("error", "https://u:pw@h/f") == "::error::https://***@h/f\n"


def test_a_failed_push_fails_the_run_even_when_sources_failed_too(
    runner: Runner, in_actions: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Status 1 lets the workflow pass; a push that failed must not hide behind it."""
    two_sources(runner)
    assert runner.run() == 1
    runner.git("remote", "add", "origin", str(runner.root / "no-such-remote.git"))
    runner.server.routes["/good.xml"] = Reply(rss(It("丙", "https://example.com/c")))
    capsys.readouterr()
    assert runner.run("--push") == 4
    out = capsys.readouterr().out
    assert "::error title=push to origin failed::push to origin failed: " in out
    assert "::warning title=bad failed::" in out
    assert "exit status 4: archived and committed, but a push failed" in in_actions.read_text("utf-8")


def test_an_error_that_stops_the_run_is_annotated(
    runner: Runner, in_actions: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (runner.root / "sources.toml").write_text("[[source]]\nname = 1\n", encoding="utf-8")
    assert runner.run() == 2
    out = capsys.readouterr().out
    assert out.startswith("::error title=newsmirror%3A config_error::")
    assert "sources.toml" in out


@pytest.mark.parametrize(("status", "passes"), [(0, True), (1, True), (2, False), (4, False), (5, False)])
def test_the_workflow_passes_on_0_and_1_only(tmp_path: Path, status: int, passes: bool) -> None:
    """The workflow's own command line, with a newsmirror that exits ``status``."""
    [job] = yaml.load(render_workflow(WorkflowSettings()), Loader=yaml.BaseLoader)["jobs"].values()
    line = job["steps"][-1]["run"]
    fake = tmp_path / "bin" / "newsmirror"
    fake.parent.mkdir()
    fake.write_text(f"#!/bin/sh\nexit {status}\n", encoding="utf-8")
    fake.chmod(0o755)
    done = subprocess.run(
        ["bash", "-e", "-c", line], env={"PATH": f"{fake.parent}:/usr/bin:/bin"}, check=False
    )
    assert (done.returncode == 0) is passes


# -- the heartbeat --------------------------------------------------------------------------------


def at(runner: Runner, hours: float) -> datetime:
    moment = NOW + timedelta(hours=hours)
    runner.clock = lambda: moment
    return moment


def heartbeat_in_feed(runner: Runner) -> tuple[str, str]:
    """status.xml as committed: (its updated, its subtitle), and its machine-readable heartbeat
    equal to the updated one when there was a run."""
    text = runner.git("show", "HEAD:status.xml")
    feed = ET.fromstring(text)
    updated, subtitle = feed.findtext(f"{ATOM}updated") or "", feed.findtext(f"{ATOM}subtitle") or ""
    beat = feed.findtext("{urn:newsmirror:status:1}last-successful-run")
    if beat is None:
        assert subtitle == "last successful run: none yet"
    else:  # the same moment, for monitors to the second, for people to the minute
        shown = datetime.fromisoformat(beat.replace("Z", "+00:00")).strftime("%Y-%m-%d %H:%M UTC")
        assert subtitle == f"last successful run: {shown}"
    return updated, subtitle


def status(runner: Runner, *extra: str) -> int:
    args = ["status", "--archive", str(runner.archive), "--sources", str(runner.root / "sources.toml")]
    return main([*args, *extra], clock=runner.clock)


def quiet_source(runner: Runner) -> None:
    """One feed that never changes (its one item undated: dated when first seen, so the source
    is not stale by its newest article)."""
    url = runner.feed("news", rss(It("旧闻", "https://example.com/old", date=None)))
    runner.sources({"name": "新闻", "slug": "news", "url": url})


def test_status_xml_carries_the_last_successful_run_refreshed_every_three_hours(runner: Runner) -> None:
    quiet_source(runner)
    at(runner, 0)
    assert runner.run() == 0
    assert heartbeat_in_feed(runner) == ("2026-01-02T03:04:05Z", "last successful run: 2026-01-02 03:04 UTC")
    first = runner.commits()
    for hour in (1, 2):
        at(runner, hour)
        assert runner.run() == 0
    assert runner.commits() == first  # quiet hours: nothing committed
    assert heartbeat_in_feed(runner)[1] == "last successful run: 2026-01-02 03:04 UTC"
    at(runner, 3)
    assert runner.run() == 0
    assert runner.commits() == first + 1
    assert sorted(runner.git("show", "--name-only", "--format=", "HEAD").split()) == [
        ".newsmirror/status.json",
        "status.xml",
    ]
    assert heartbeat_in_feed(runner) == ("2026-01-02T06:04:05Z", "last successful run: 2026-01-02 06:04 UTC")


def test_a_run_where_every_source_fails_is_not_a_heartbeat(runner: Runner) -> None:
    quiet_source(runner)
    at(runner, 0)
    assert runner.run() == 0
    runner.server.routes["/news.xml"] = Reply(b"down", status=503, content_type="text/plain")
    at(runner, 5)
    assert runner.run() == 1
    assert heartbeat_in_feed(runner)[1] == "last successful run: 2026-01-02 03:04 UTC"


def test_status_max_age_exits_1_when_the_archive_is_stale(
    runner: Runner, capsys: pytest.CaptureFixture[str]
) -> None:
    quiet_source(runner)
    at(runner, 0)
    assert runner.run() == 0
    at(runner, 5.5)
    capsys.readouterr()
    assert status(runner, "--max-age", "6h") == 0
    assert "last successful run: 2026-01-02 03:04 UTC (5h30m ago)\n" in capsys.readouterr().out
    at(runner, 6.25)
    assert status(runner, "--max-age", "6h") == 1
    out = capsys.readouterr().out
    assert "last successful run: 2026-01-02 03:04 UTC (6h15m ago); STALE: older than --max-age 6h\n" in out
    assert status(runner, "--max-age", "1d", "--json") == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["last_successful_run"], data["archive_stale"]) == ("2026-01-02T03:04:05Z", False)


def test_status_max_age_answers_whether_the_archive_runs_not_whether_every_feed_works(
    runner: Runner, capsys: pytest.CaptureFixture[str]
) -> None:
    url = runner.feed("news", rss(It("旧闻", "https://example.com/old", date=None)))
    runner.sources(
        {"name": "新闻", "slug": "news", "url": url},
        {"name": "坏", "slug": "bad", "url": runner.server.url("/missing.xml")},
    )
    at(runner, 0)
    assert runner.run() == 1
    capsys.readouterr()
    assert status(runner) == 1  # a source is failing
    capsys.readouterr()
    assert status(runner, "--max-age", "6h") == 0  # but the archive runs
    assert "failed: http_404" in capsys.readouterr().out  # and the table still says what fails


def test_status_max_age_of_an_archive_that_never_succeeded_is_stale(
    runner: Runner, capsys: pytest.CaptureFixture[str]
) -> None:
    runner.server.routes["/news.xml"] = Reply(b"down", status=503, content_type="text/plain")
    runner.sources({"name": "新闻", "slug": "news", "url": runner.server.url("/news.xml")})
    assert runner.run() == 1
    capsys.readouterr()
    assert status(runner, "--max-age", "90m", "--json") == 1
    data = json.loads(capsys.readouterr().out)
    assert (data["last_successful_run"], data["archive_stale"]) == (None, True)


@pytest.mark.parametrize("age", ["6", "h", "6x", "0h", "-1h", "6h 3"])
def test_a_bad_max_age_exits_2(runner: Runner, capsys: pytest.CaptureFixture[str], age: str) -> None:
    quiet_source(runner)
    assert runner.run() == 0
    with pytest.raises(SystemExit) as stop:
        status(runner, "--max-age", age)
    assert stop.value.code == 2
    assert "--max-age" in capsys.readouterr().err
