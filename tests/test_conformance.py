"""Conformance with the original program: every case of ../shared/golden, byte for byte.

Where KNOWN_BUGS.md says the original was wrong, these tests assert the corrected behaviour
it describes instead, building the expected bytes from the golden and corpus files (not from
newsmirror's own output).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from .golden import CORPUS, GOLDEN, RUN_MS, CaseRun, collect, run_case

pytestmark = pytest.mark.skipif(
    not GOLDEN.is_dir(),
    reason=f"GOLDEN CASES MISSING: {GOLDEN} not found — conformance with the original is NOT tested",
)


def known_bug_files(run: CaseRun) -> set[str]:
    return {f for bug in run.case.get("known_bugs", []) for f in bug["files"]}


def assert_matches_outside_known_bugs(run: CaseRun, also_excluded: set[str] = frozenset()) -> None:
    skip = known_bug_files(run) | also_excluded
    expected = {k: v for k, v in run.expected().items() if k not in skip}
    actual = {k: v for k, v in run.tree().items() if k not in skip}
    missing = sorted(set(expected) - set(actual))
    mismatched = sorted(k for k in set(expected) & set(actual) if expected[k] != actual[k])
    assert missing == []
    assert mismatched == []


def extra_files(run: CaseRun) -> set[str]:
    return set(run.tree()) - set(run.expected())


def with_timestamp(text: bytes, ms: int) -> bytes:
    first, rest = text.split(b"\n", 1)
    assert first.startswith(b"<!--")
    return f"<!--{ms}-->".encode() + b"\n" + rest


def body_lines(text: bytes) -> bytes:
    """Lines 2–5 (title/link, rule, blank, body): an article without its timestamp."""
    return text.split(b"\n", 1)[1]


def month_day(ms: int) -> str:
    moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms, hours=8)
    return f"{moment.month}-{moment.day}"


def list_entries(text: bytes) -> list[str]:
    _header, _, entries = text.decode().partition("------\n\n")
    return [e for e in entries.split("\n") if e]


def timestamp(text: bytes) -> int:
    return int(text.split(b"\n", 1)[0][4:-3])


def test_case01_fresh(tmp_path: Path) -> None:
    run = run_case("case01_fresh", tmp_path)
    assert run.exit_code == 0
    assert_matches_outside_known_bugs(run, {"lists/中国数字时代.md"})
    actual, expected = run.tree(), run.expected()
    # KB4: the undated CDT item carries the time it was first seen, not NaN; listed with that date.
    cdt = "articles/cdt/401707.md"
    assert actual[cdt] == with_timestamp(expected[cdt], RUN_MS)
    fixed_list = expected["lists/中国数字时代.md"].replace(
        b"\n[\xe3\x80\x90CDTV", f"\n{month_day(RUN_MS)} [\u3010CDTV".encode()
    )
    assert actual["lists/中国数字时代.md"] == fixed_list
    # KB9: the ft item with an unparsable date is archived (not dropped) as the run's newest.
    assert extra_files(run) == {"articles/ft/1048571.md"}
    later = (GOLDEN / "case02_incremental/expected/articles/ft/1048571.md").read_bytes()
    assert actual["articles/ft/1048571.md"] == with_timestamp(later, RUN_MS)
    assert list_entries(actual["lists/金融时报.md"]) == [
        f"{month_day(RUN_MS)} [刺激计划何时会变得过度？](/articles/ft/1048571.md)",
        *list_entries(expected["lists/金融时报.md"]),
    ]
    # KB8: the zone-less date was read as UTC.
    assert actual["articles/bbc/1048573.md"].startswith(b"<!--1594273600000-->\n")
    # the category filter fetched only the pages of accepted CDT items
    assert not any("399197" in r for r in run.requests)


def test_case01_does_not_depend_on_the_machine_time_zone(tmp_path: Path) -> None:
    utc = run_case("case01_fresh", tmp_path / "utc")
    shanghai = run_case("case01_fresh", tmp_path / "sh", zone="Asia/Shanghai")
    assert utc.tree() == shanghai.tree()
    assert shanghai.tree()["articles/bbc/1048573.md"] == utc.expected()["articles/bbc/1048573.md"]


def test_case02_incremental(tmp_path: Path) -> None:
    run = run_case("case02_incremental", tmp_path)
    assert run.exit_code == 0
    assert_matches_outside_known_bugs(run, {"lists/中国数字时代.md"})
    actual, expected = run.tree(), run.expected()
    # KB2: the late twin with a timestamp equal to the newest dw file is archived, oldest first.
    newest_before = timestamp(expected["articles/dw/1048572.md"])
    twin = actual["articles/dw/1048571.md"]
    assert twin.startswith(f"<!--{newest_before}-->\n[新冠前後兩重天".encode())
    assert actual["articles/dw/1048570.md"] == expected["articles/dw/1048571.md"]
    assert actual["articles/dw/1048569.md"] == expected["articles/dw/1048570.md"]
    assert extra_files(run) == {"articles/dw/1048569.md"}
    dw_ids = [e.split("/")[-1] for e in list_entries(actual["lists/德国之声.md"])]
    assert dw_ids[:4] == ["1048569.md)", "1048570.md)", "1048571.md)", "1048572.md)"]
    # KB4 carried over: the NaN file from case01 now gets a numeric first-seen time.
    assert actual["articles/cdt/401707.md"] == with_timestamp(expected["articles/cdt/401707.md"], RUN_MS)
    # CDT: the changed page rewrote its file; unchanged files kept their bytes.
    before = collect(GOLDEN / "case01_fresh/expected")
    assert actual["articles/cdt/399605.md"] != before["articles/cdt/399605.md"]
    assert actual["articles/cdt/365567.md"] == before["articles/cdt/365567.md"]


def test_case02_twice_changes_nothing(tmp_path: Path) -> None:
    first = run_case("case02_incremental", tmp_path)
    tree = first.tree()
    second = run_case("case02_incremental", tmp_path, archive=first.archive)
    assert second.exit_code == 0
    assert second.tree() == tree


def test_case03_continue_existing(tmp_path: Path) -> None:
    run = run_case("case03_continue_existing", tmp_path)
    assert run.exit_code == 0
    assert_matches_outside_known_bugs(run)
    actual = run.tree()
    before = collect(run.case_dir / "input/archive_before")
    # KB3: numeric order — 999999 is the newest file; nothing overwritten, no second copy of it.
    assert actual["articles/rfi/999999.md"] == before["articles/rfi/999999.md"]
    assert actual["articles/rfi/1000000.md"] == before["articles/rfi/1000000.md"]
    # The 10-04 item was never archived: it is archived once, under the next free id, whatever its
    # date (the original wrote it over 999999.md: those bytes are the expected article).
    late = run.expected()["articles/rfi/999999.md"]
    assert actual["articles/rfi/999998.md"] == late
    assert sum(text == late for text in actual.values()) == 1
    # Listed by date: 999999 (10-28) first, the late 10-04 item, then 1000000 (09-26).
    entries = list_entries(actual["lists/法广.md"])
    assert [e.rsplit("/", 1)[1] for e in entries] == ["999999.md)", "999998.md)", "1000000.md)"]
    assert entries[0].startswith(f"{month_day(timestamp(before['articles/rfi/999999.md']))} [")
    assert entries[1].startswith(f"{month_day(timestamp(late))} [")
    assert extra_files(run) == set()


def test_case04_failure_modes(tmp_path: Path) -> None:
    run = run_case("case04_failure_modes", tmp_path)
    assert run.exit_code == 1  # reuters (404) and nyt (broken XML) failed; the rest went on
    assert_matches_outside_known_bugs(run, {"articles/cdt/401707.md"})
    actual, expected = run.tree(), run.expected()
    result = json.loads(Path(run.archive / ".newsmirror/status.json").read_text())
    assert result["reuters"]["code"] == "http_404"
    assert result["nyt"]["code"] == "bad_xml"
    assert {k for k, v in result.items() if v["result"] == "failed"} == {"reuters", "nyt"}
    # KB5: every remaining valid item is written and every list of a working source rebuilt; the
    # CDT item whose page is missing (404) keeps its feed body instead of being left out.
    assert extra_files(run) == {
        "articles/voa/1048568.md",
        "articles/voa/1048567.md",
        "articles/rfi/1048570.md",
        "articles/ft/1048571.md",
        "articles/cdt/332717.md",
    }
    missing_page = actual["articles/cdt/332717.md"].decode()
    feed = (
        run.case_dir / next(s["feed_file"] for s in run.case["sources"] if s["abbr"] == "cdt")
    ).read_text()
    assert f"?p={0xFFFFF ^ 332717}" in feed  # the item of that post
    assert missing_page.split("\n")[4].strip()  # with a body: the feed's own
    assert actual["articles/voa/1048569.md"] == expected["articles/voa/1048569.md"]
    no_description = actual["articles/voa/1048568.md"].decode()
    assert no_description.endswith("------\n\n\n")  # archived with an empty body, not dropped
    assert "[美防长呼吁北约伙伴加强在欧洲防御中的作用](" in no_description
    assert "[美防長呼籲北約夥伴加強在歐洲防禦中的作用](" in actual["articles/voa/1048567.md"].decode()
    relative = actual["articles/rfi/1048570.md"].decode().split("\n")[1]
    assert relative.startswith(
        "[调查指逾半专业人才拟离港 顾问指人才外流比例之高令人忧](https://feedx.net/cn/"
    )
    # KB7: the stray README.md does not stop ft; the ft/1046000 article is written.
    corpus = (CORPUS / "ft/1046000.md").read_bytes()
    assert body_lines(actual["articles/ft/1048571.md"]) == body_lines(corpus)
    assert actual["articles/ft/README.md"] == expected["articles/ft/README.md"]
    assert actual["articles/bbc/.DS_Store"] == expected["articles/bbc/.DS_Store"]
    assert "ft/README.md" not in actual["lists/金融时报.md"].decode()
    assert list_entries(actual["lists/金融时报.md"])[0].endswith("(/articles/ft/1048571.md)")
    # failed sources keep their old list; working ones list their new files
    assert actual["lists/路透.md"] == expected["lists/路透.md"]
    assert "(/articles/voa/1048567.md)" in list_entries(actual["lists/美国之音.md"])[0]


def test_case05_creates_the_lists_folder(tmp_path: Path) -> None:
    run = run_case("case05_no_lists_dir", tmp_path)
    assert run.exit_code == 0
    assert_matches_outside_known_bugs(run, {"articles/cdt/401707.md", "articles/ft/1048571.md"})
    fresh = collect(GOLDEN / "case01_fresh/expected")
    actual = run.tree()
    # KB6: lists/ is created and equals case01's lists (with the KB4/KB9 corrections).
    case01 = run_case("case01_fresh", tmp_path / "case01")
    assert {k: v for k, v in actual.items() if k.startswith("lists/")} == {
        k: v for k, v in case01.tree().items() if k.startswith("lists/")
    }
    assert len([k for k in fresh if k.startswith("lists/")]) == 9


def test_case06_undated_item_in_the_middle(tmp_path: Path) -> None:
    run = run_case("case06_nan_pubdate_sort", tmp_path)
    assert run.exit_code == 0
    assert_matches_outside_known_bugs(run, {"lists/中国数字时代.md"})
    actual, expected = run.tree(), run.expected()
    # KB1: ids follow dates — the 07:51:58 article before its 08:51:58 twin.
    assert actual["articles/ft/1048571.md"] == expected["articles/ft/1048570.md"]
    assert actual["articles/ft/1048570.md"] == expected["articles/ft/1048571.md"]
    assert timestamp(actual["articles/ft/1048571.md"]) < timestamp(actual["articles/ft/1048570.md"])
    # KB9: the undated item is archived once, as the newest of the run.
    assert extra_files(run) == {"articles/ft/1048569.md"}
    assert timestamp(actual["articles/ft/1048569.md"]) == RUN_MS
    ids = [e.rsplit("/", 1)[1] for e in list_entries(actual["lists/金融时报.md"])]
    assert ids[:3] == ["1048569.md)", "1048570.md)", "1048571.md)"]
