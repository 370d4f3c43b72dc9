"""A crash never passes for success: internal errors, Ctrl-C, bad times and unreadable saved state."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from newsmirror.cli import EXIT_INTERNAL, EXIT_INTERRUPTED, main
from newsmirror.core import Archive

from .conftest import Runner
from .feeds import It, rss
from .test_health import FEED, state


def _serve(runner: Runner) -> None:
    runner.sources({"name": "新闻", "slug": "news", "url": runner.feed("news", FEED)})


@pytest.mark.parametrize(
    ("raised", "code", "said"),
    [
        (RuntimeError("boom at https://u:s3cr3t@h/x"), EXIT_INTERNAL, "internal error (a bug; -v shows"),
        (KeyboardInterrupt(), EXIT_INTERRUPTED, "newsmirror: interrupted"),
    ],
)
def test_a_crash_has_its_own_exit_status_and_one_clear_line(
    runner: Runner,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    raised: BaseException,
    code: int,
    said: str,
) -> None:
    _serve(runner)

    def crash(*_args: object, **_kwargs: object) -> None:
        raise raised

    monkeypatch.setattr(Archive, "run", crash)
    assert runner.run() == code  # not 1, which the workflow takes for "some sources failed"
    err = capsys.readouterr().err
    assert said in err
    assert "Traceback" not in err
    assert "s3cr3t" not in err
    assert len(err.strip().splitlines()) == 1


def test_an_internal_error_in_actions_is_annotated_on_the_runs_page(
    runner: Runner, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _serve(runner)

    def crash(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("boom at https://u:s3cr3t@h/x")

    monkeypatch.setattr(Archive, "run", crash)
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    assert runner.run() == EXIT_INTERNAL
    out = capsys.readouterr().out
    assert out.startswith("::error title=newsmirror%3A internal error (a bug)::RuntimeError: boom at ")
    assert "s3cr3t" not in out


@pytest.mark.parametrize("now", ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "1969-07-20T20:17:00Z"])
def test_a_now_outside_the_years_an_archive_can_hold_is_refused(
    runner: Runner, capsys: pytest.CaptureFixture[str], now: str
) -> None:
    _serve(runner)
    shutil.rmtree(runner.archive)  # none yet: a refused run must not make one
    with pytest.raises(SystemExit) as caught:
        runner.run("--now", now)
    assert caught.value.code == 2
    assert "outside the years 1990–9000" in capsys.readouterr().err
    assert not runner.archive.exists()


@pytest.mark.parametrize("saved", ["1-01-01T00:00:00Z", "soon", "2026-13-45T99:00:00Z", 12345])
def test_an_unreadable_saved_time_is_not_honoured_and_the_run_goes_on(
    runner: Runner, capsys: pytest.CaptureFixture[str], saved: object
) -> None:
    _serve(runner)
    assert runner.run() == 0
    path = runner.archive / ".newsmirror/status.json"
    data = json.loads(path.read_text("utf-8"))
    data["news"].update(not_before=saved, since=saved, last_success=saved)
    path.write_text(json.dumps(data), encoding="utf-8")
    capsys.readouterr()
    assert runner.run("--json") == 0
    assert json.loads(capsys.readouterr().out)["sources"][0]["outcome"] == "updated"
    assert runner.run() == 0
    sources = str(runner.root / "sources.toml")
    assert main(["status", "--archive", str(runner.archive), "--sources", sources]) in (0, 1)
    assert state(runner, "news")["result"] == "ok"


def _chattr(flag: str, path: Path) -> bool:
    done = subprocess.run(["chattr", "-R", flag, str(path)], capture_output=True, check=False)
    return done.returncode == 0


@pytest.mark.parametrize(("part", "status", "words"), [
    (".git", 5, "cannot open the run lock"),
    (".git/objects", 5, "git update-index failed"),
    ("articles", 1, "FAILED storage_error: "),  # that source fails alone; its state is committed
])  # fmt: skip
def test_a_read_only_archive_is_a_storage_error_and_the_next_run_catches_up(
    runner: Runner, capsys: pytest.CaptureFixture[str], part: str, status: int, words: str
) -> None:
    """Made read-only even for root (``chattr +i``, the immutable flag): exit 5 (or the source
    fails, status 1), a line that says what could not be written, no traceback; writable
    again, nothing is missing."""
    url = runner.feed("news", rss(It("甲", "https://e.com/a")))
    runner.sources({"name": "新闻", "slug": "news", "url": url})
    assert runner.run() == 0
    runner.feed("news", rss(It("甲", "https://e.com/a"), It("乙", "https://e.com/b")))
    capsys.readouterr()
    if not _chattr("+i", runner.archive / part):
        pytest.skip("CHATTR +i UNAVAILABLE HERE (not root, or not ext2/3/4): read-only archive NOT tested")
    try:
        code = runner.run()
    finally:
        assert _chattr("-i", runner.archive / part)
    out, err = capsys.readouterr()
    assert code == status, out + err
    assert words in out + err
    assert "Traceback" not in out + err
    assert runner.run() == 0
    assert len(runner.ids("news")) == 2
    assert runner.git("status", "--porcelain") == ""
