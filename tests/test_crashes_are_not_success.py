"""A crash never passes for success: internal errors, Ctrl-C, bad times and unreadable saved state."""

from __future__ import annotations

import json

import pytest

from newsmirror.cli import EXIT_INTERNAL, EXIT_INTERRUPTED, main
from newsmirror.core import Archive

from .conftest import Runner
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


@pytest.mark.parametrize("now", ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "1969-07-20T20:17:00Z"])
def test_a_now_outside_the_years_an_archive_can_hold_is_refused(
    runner: Runner, capsys: pytest.CaptureFixture[str], now: str
) -> None:
    _serve(runner)
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
