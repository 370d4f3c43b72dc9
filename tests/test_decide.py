"""The pure decision stage: identity, id numbering, date rules, post ids."""

from __future__ import annotations

import pytest

from newsmirror.decide import EARLIEST_BELIEVED_MS, believed_ms, decide, post_id
from newsmirror.types import Candidate, Record, Source, SourceIndex

SRC = Source(name="源", slug="s", url="https://feed.example/rss")
POST = Source(name="源", slug="s", url="https://feed.example/rss", ids="post-id", refresh=True)
HOUR = 3_600_000
NOW = 1_700_000_000_000


T = NOW - 100 * HOUR  # a believable date: every test time is T + a few ms or hours


def cand(
    n: int,
    ms: int | None,
    *,
    link: str | None = None,
    guid: str | None = None,
    title: str | None = None,
    body: str = "",
) -> Candidate:
    return Candidate(
        title=title or f"t{n}",
        link=link or f"https://e.com/{n}",
        guid=guid,
        ms=ms,
        body_html=body,
        position=n,
    )


def index(*records: Record) -> SourceIndex:
    return SourceIndex(records={r.id: r for r in records})


def rec(article_id: int, ms: int | None, n: int, guid: str | None = None) -> Record:
    return Record(id=article_id, ms=ms, title=f"t{n}", link=f"https://e.com/{n}", guid=guid)


def ids_of(plan: object) -> list[tuple[int, str]]:
    return [(p.id, p.candidate.title) for p in plan.writes]  # type: ignore[attr-defined]


def test_empty_archive_numbers_oldest_first_from_1048574() -> None:
    plan = decide(SRC, index(), [cand(1, T + 300), cand(2, T + 100), cand(3, T + 200)], now_ms=NOW)
    assert ids_of(plan) == [(1048574, "t2"), (1048573, "t3"), (1048572, "t1")]


def test_equal_times_keep_feed_order() -> None:
    plan = decide(SRC, index(), [cand(1, T), cand(2, T)], now_ms=NOW)
    assert ids_of(plan) == [(1048574, "t1"), (1048573, "t2")]


def test_continues_below_the_numerically_lowest_id() -> None:
    archive = index(rec(1000000, T + 500, 1), rec(1000001, T + 400, 2))
    plan = decide(SRC, archive, [cand(9, T + 600)], now_ms=NOW)
    assert ids_of(plan) == [(999999, "t9")]


def test_known_by_link_or_guid_whatever_the_date() -> None:
    archive = index(rec(1048574, T + 500, 1), rec(1048573, T + 600, 2, guid="g2"))
    renamed = cand(7, T + 9999, guid="g2", title="t2")  # same guid, same story, new link
    plan = decide(SRC, archive, [cand(1, T + 9999), renamed], now_ms=NOW)
    assert plan.writes == ()
    assert plan.known == 2
    assert plan.collisions == ()


def test_undated_items_take_now_and_sort_last() -> None:
    plan = decide(SRC, index(), [cand(1, None), cand(2, T + 100)], now_ms=NOW)
    assert [(p.id, p.ms) for p in plan.writes] == [(1048574, T + 100), (1048573, NOW)]


def test_items_are_never_skipped_for_their_date() -> None:
    # An item that appears late (dated days before the newest archived article) is archived:
    # it takes the next id; list pages put it where its date belongs.
    newest = NOW - 10 * HOUR
    archive = index(rec(1048574, newest, 1))
    late, very_late = cand(2, newest - 23 * HOUR), cand(3, newest - 2400 * HOUR)
    plan = decide(SRC, archive, [late, very_late], now_ms=NOW)
    assert [(p.id, p.candidate.title, p.ms) for p in plan.writes] == [
        (1048573, "t3", newest - 2400 * HOUR),
        (1048572, "t2", newest - 23 * HOUR),
    ]
    assert plan.skipped == ()


def test_a_future_dated_item_never_makes_later_items_look_old() -> None:
    archive = index(rec(1048574, NOW + 1000 * HOUR, 1))
    first = decide(SRC, archive, [cand(2, NOW - HOUR)], now_ms=NOW)
    assert ids_of(first) == [(1048573, "t2")]
    ahead = decide(SRC, index(), [cand(3, NOW + 47 * HOUR), cand(4, NOW - HOUR)], now_ms=NOW)
    assert ids_of(ahead) == [(1048574, "t4"), (1048573, "t3")]


@pytest.mark.parametrize(
    ("what", "ms"),
    [
        ("Hugo's zero date 0001-01-01", -62_135_596_800_000),
        ("the Unix epoch", 0),
        ("1989-12-31", 631_065_600_000),
        ("more than two days ahead", NOW + 49 * HOUR),
        ("the year 9999", 253_402_214_400_000),
    ],
)
def test_dates_that_cannot_be_true_count_as_undated(what: str, ms: int) -> None:
    plan = decide(SRC, index(), [cand(1, ms), cand(2, T)], now_ms=NOW)
    assert [(p.candidate.title, p.ms) for p in plan.writes] == [("t2", T), ("t1", NOW)], what


def test_believed_dates_are_kept() -> None:
    assert believed_ms(EARLIEST_BELIEVED_MS, NOW) == EARLIEST_BELIEVED_MS
    assert believed_ms(NOW + 47 * HOUR, NOW) == NOW + 47 * HOUR
    assert believed_ms(None, NOW) is None


def test_a_refresh_keeps_the_archived_date_when_the_feed_date_is_a_sentinel() -> None:
    archive = index(rec(398089, T, 1, guid="https://x/?p=650486"))
    plan = decide(POST, archive, [cand(1, 0, guid="https://x/?p=650486")], now_ms=NOW)
    assert [(p.id, p.is_new, p.ms) for p in plan.writes] == [(398089, False, T)]


def test_duplicates_within_one_feed_are_skipped() -> None:
    items = [
        cand(1, T + 1),
        cand(2, T + 2, link="https://e.com/1", title="t1"),  # the same story again
        cand(3, T + 3, guid="g"),
        cand(4, T + 4, guid="g", title="t3"),
    ]
    plan = decide(SRC, index(), items, now_ms=NOW)
    assert ids_of(plan) == [(1048574, "t1"), (1048573, "t3")]
    assert [s.reason for s in plan.skipped] == ["duplicate of an earlier item in the feed"] * 2


def test_post_ids() -> None:
    assert post_id("https://chinadigitaltimes.net/chinese/?p=650486") == 0xFFFFF ^ 650486 == 398089
    assert post_id("https://x/no-number") == 0
    assert post_id(None) == 0
    assert post_id("https://x/?p=2000000000") == 0xFFFFF ^ 2_000_000_000 == 2_000_317_439  # 10 digits
    assert post_id("https://x/?p=" + "9" * 30) == 0  # not a post number: a free id instead


def test_post_id_collisions_never_overwrite() -> None:
    archive = index(rec(0, T + 1, 1))
    items = [cand(2, T + 5, guid="https://x/a"), cand(3, T + 6, guid="https://x/b")]
    plan = decide(POST, archive, items, now_ms=NOW)
    assert ids_of(plan) == [(1, "t2"), (2, "t3")]


def test_post_id_known_items_are_refreshed_with_their_id_and_date() -> None:
    archive = index(rec(398089, T + 77, 1))
    plan = decide(POST, archive, [cand(1, None, guid="https://x/?p=650486")], now_ms=NOW)
    assert [(p.id, p.is_new, p.ms) for p in plan.writes] == [(398089, False, T + 77)]


def test_running_out_of_ids_is_reported_not_silent() -> None:
    plan = decide(SRC, index(rec(1, T + 5, 1)), [cand(2, T + 6), cand(3, T + 7)], now_ms=NOW)
    assert ids_of(plan) == [(0, "t2")]
    assert [s.reason for s in plan.skipped] == ["no id left below the lowest id (0)"]
