"""The pure decision stage: identity, id numbering, horizon, post ids."""

from __future__ import annotations

from newsmirror.decide import decide, post_id
from newsmirror.types import Candidate, Record, Source, SourceIndex

SRC = Source(name="源", slug="s", url="https://feed.example/rss")
POST = Source(name="源", slug="s", url="https://feed.example/rss", ids="post-id", refresh=True)
HOUR = 3_600_000
NOW = 1_700_000_000_000


def cand(n: int, ms: int | None, *, link: str | None = None, guid: str | None = None) -> Candidate:
    return Candidate(
        title=f"t{n}", link=link or f"https://e.com/{n}", guid=guid, ms=ms, body_html="", position=n
    )


def index(*records: Record) -> SourceIndex:
    return SourceIndex(records={r.id: r for r in records})


def rec(article_id: int, ms: int | None, n: int, guid: str | None = None) -> Record:
    return Record(id=article_id, ms=ms, title=f"t{n}", link=f"https://e.com/{n}", guid=guid)


def ids_of(plan: object) -> list[tuple[int, str]]:
    return [(p.id, p.candidate.title) for p in plan.writes]  # type: ignore[attr-defined]


def test_empty_archive_numbers_oldest_first_from_1048574() -> None:
    plan = decide(SRC, index(), [cand(1, 300), cand(2, 100), cand(3, 200)], now_ms=NOW)
    assert ids_of(plan) == [(1048574, "t2"), (1048573, "t3"), (1048572, "t1")]


def test_equal_times_keep_feed_order() -> None:
    plan = decide(SRC, index(), [cand(1, 100), cand(2, 100)], now_ms=NOW)
    assert ids_of(plan) == [(1048574, "t1"), (1048573, "t2")]


def test_continues_below_the_numerically_lowest_id() -> None:
    archive = index(rec(1000000, 500, 1), rec(1000001, 400, 2))
    plan = decide(SRC, archive, [cand(9, 600)], now_ms=NOW)
    assert ids_of(plan) == [(999999, "t9")]


def test_known_by_link_or_guid_whatever_the_date() -> None:
    archive = index(rec(1048574, 500, 1), rec(1048573, 600, 2, guid="g2"))
    plan = decide(SRC, archive, [cand(1, 9999), cand(7, 9999, guid="g2")], now_ms=NOW)
    assert plan.writes == ()
    assert plan.known == 2


def test_undated_items_take_now_and_sort_last() -> None:
    plan = decide(SRC, index(), [cand(1, None), cand(2, 100)], now_ms=NOW)
    assert [(p.id, p.ms) for p in plan.writes] == [(1048574, 100), (1048573, NOW)]


def test_old_unseen_items_beyond_the_late_window_are_skipped_with_a_reason() -> None:
    newest = NOW - 10 * HOUR
    archive = index(rec(1048574, newest, 1))
    late = cand(2, newest - 23 * HOUR)
    too_old = cand(3, newest - 25 * HOUR)
    plan = decide(SRC, archive, [late, too_old], now_ms=NOW)
    assert ids_of(plan) == [(1048573, "t2")]
    assert [s.reason for s in plan.skipped] == ["older than the archive's newest article"]


def test_a_future_dated_archive_does_not_block_new_items() -> None:
    archive = index(rec(1048574, NOW + 1000 * HOUR, 1))
    plan = decide(SRC, archive, [cand(2, NOW - HOUR)], now_ms=NOW)
    assert ids_of(plan) == [(1048573, "t2")]


def test_duplicates_within_one_feed_are_skipped() -> None:
    plan = decide(
        SRC,
        index(),
        [cand(1, 1), cand(2, 2, link="https://e.com/1"), cand(3, 3, guid="g"), cand(4, 4, guid="g")],
        now_ms=NOW,
    )
    assert ids_of(plan) == [(1048574, "t1"), (1048573, "t3")]
    assert len(plan.skipped) == 2


def test_post_ids() -> None:
    assert post_id("https://chinadigitaltimes.net/chinese/?p=650486") == 0xFFFFF ^ 650486 == 398089
    assert post_id("https://x/no-number") == 0
    assert post_id(None) == 0


def test_post_id_collisions_never_overwrite() -> None:
    archive = index(rec(0, 1, 1))
    plan = decide(POST, archive, [cand(2, 5, guid="https://x/a"), cand(3, 6, guid="https://x/b")], now_ms=NOW)
    assert ids_of(plan) == [(1, "t2"), (2, "t3")]


def test_post_id_known_items_are_refreshed_with_their_id_and_date() -> None:
    archive = index(rec(398089, 77, 1))
    plan = decide(POST, archive, [cand(1, None, guid="https://x/?p=650486")], now_ms=NOW)
    assert [(p.id, p.is_new, p.ms) for p in plan.writes] == [(398089, False, 77)]


def test_running_out_of_ids_is_reported_not_silent() -> None:
    plan = decide(SRC, index(rec(1, 5, 1)), [cand(2, 6), cand(3, 7)], now_ms=NOW)
    assert ids_of(plan) == [(0, "t2")]
    assert [s.reason for s in plan.skipped] == ["no id left below the lowest id (0)"]
