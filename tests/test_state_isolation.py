"""One source's damaged state never stops the others: rebuilt from its files, or it fails alone."""

from __future__ import annotations

import json

import pytest

from .conftest import Runner
from .feeds import It, rss

JUL20 = "Mon, 20 Jul 2020 07:41:21 GMT"


def two_sources(runner: Runner, *, second: int = 1) -> None:
    items = [It(f"乙{n}", f"https://e.com/b{n}", JUL20) for n in range(second)]
    runner.sources(
        {"name": "甲", "slug": "a", "url": runner.feed("a", rss(It("甲一", "https://e.com/a1", JUL20)))},
        {
            "name": "乙",
            "slug": "b",
            "url": runner.feed("b", rss(*items)),
        },
    )


def report(runner: Runner, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, dict[str, object]]]:
    capsys.readouterr()
    code = runner.run("--json")
    return code, {s["slug"]: s for s in json.loads(capsys.readouterr().out)["sources"]}


def damaged_then_rerun(
    runner: Runner, capsys: pytest.CaptureFixture[str], relative: str, damage: bytes
) -> tuple[int, dict[str, dict[str, object]]]:
    """Archive both sources, damage one file of the archive, rerun with one more item for b."""
    two_sources(runner)
    assert runner.run() == 0
    (runner.archive / relative).write_bytes(damage)
    two_sources(runner, second=2)
    return report(runner, capsys)


@pytest.mark.parametrize(
    "damage",
    [b'{"id": 1048574, "ms": 1595230881000, "ti', b"\xff\xfe\x00", b'{"id": 1048574, "ms": "x"}\n'],
    ids=["half-a-line", "not-utf8", "wrong-types"],
)
def test_a_damaged_index_is_rebuilt_and_every_source_is_archived_and_committed(
    runner: Runner, capsys: pytest.CaptureFixture[str], damage: bytes
) -> None:
    code, sources = damaged_then_rerun(runner, capsys, ".newsmirror/records/a/2020-07.jsonl", damage)
    assert code == 0
    assert (sources["a"]["new"], sources["a"]["unchanged"]) == ([], 1)  # known again, from its file
    assert len(sources["b"]["new"]) == 1  # type: ignore[arg-type]
    assert runner.commits() == 2  # the first run's and this one's
    assert runner.ids("a") == [1048574]


def test_a_source_whose_folder_is_a_file_fails_alone(
    runner: Runner, capsys: pytest.CaptureFixture[str]
) -> None:
    two_sources(runner)
    (runner.archive / "articles").mkdir(parents=True)
    (runner.archive / "articles/a").write_text("not a folder", encoding="utf-8")
    code, sources = report(runner, capsys)
    assert code == 1
    assert (sources["a"]["ok"], sources["a"]["error_code"]) == (False, "storage_error")
    assert "articles/a" in str(sources["a"]["error"])
    assert sources["b"]["ok"] is True
    assert runner.ids("b") == [1048574]
    assert runner.commits() == 1
    assert "乙0" in (runner.archive / "lists/乙.md").read_text("utf-8")


@pytest.mark.parametrize(
    "damage", [b"{garbled", b"\xff\xfe", b'{"a": {"failures": "many", "not_before": 7}}']
)
def test_a_garbled_status_file_starts_the_sources_over(
    runner: Runner, capsys: pytest.CaptureFixture[str], damage: bytes
) -> None:
    code, sources = damaged_then_rerun(runner, capsys, ".newsmirror/status.json", damage)
    assert code == 0
    assert len(sources["b"]["new"]) == 1  # type: ignore[arg-type]
    state = json.loads((runner.archive / ".newsmirror/status.json").read_text("utf-8"))
    assert state["a"]["result"] == state["b"]["result"] == "ok"
