"""The ``ArchiveStore`` contract, held against every store: the git tree and the memory store.

A store that passes these can stand behind ``open_archive(store=…)`` without a caller changing.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from newsmirror.archive_format import content_hash, render_article
from newsmirror.config import load_config
from newsmirror.core import open_archive
from newsmirror.exceptions import StorageError
from newsmirror.identity import identity_keys
from newsmirror.schedule import SourceState
from newsmirror.store import ArchiveStore, MemoryStore, TreeStore
from newsmirror.types import Article, Mark

from .conftest import Runner
from .feeds import It, rss

MAY_2024 = 1_716_000_000_000  # 2024-05-18 GMT+8
JUNE_2024 = 1_718_000_000_000


def tree(tmp_path: Path) -> ArchiveStore:
    local = tmp_path / "local"
    local.mkdir()
    return TreeStore(tmp_path / "archive", local=local)


def memory(tmp_path: Path) -> ArchiveStore:
    del tmp_path
    return MemoryStore()


@pytest.fixture(params=[tree, memory], ids=["tree", "memory"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ArchiveStore:
    make: Callable[[Path], ArchiveStore] = request.param
    return make(tmp_path)


def article(
    article_id: int, ms: int = MAY_2024, *, title: str = "标题", body: str = "<p>正文</p>"
) -> Article:
    return Article(article_id, ms, title, f"https://e.com/{article_id}", f"guid-{article_id}", body)


def test_an_empty_source_has_an_empty_summary(store: ArchiveStore) -> None:
    summary = store.summary("s")
    assert (summary.articles, summary.lowest_id, summary.listed, dict(summary.months)) == (0, None, (), {})
    assert list(store.records("s")) == []
    assert store.body("s", 1) is None


def test_added_articles_are_summarised_found_and_read_back(store: ArchiveStore) -> None:
    store.add("s", [article(10), article(9, JUNE_2024), article(8)], feed_dates={9: "0001-01-01"})
    summary = store.summary("s")
    assert (summary.articles, summary.lowest_id) == (3, 8)
    assert dict(summary.months) == {"2024-05": 2, "2024-06": 1}
    assert [r.id for r in summary.listed] == [9, 8, 10]  # newest first, ties by id
    assert summary.newest_ms() == JUNE_2024
    records = {r.id: r for r in store.records("s")}
    assert records[9].feed_date == "0001-01-01"
    assert records[9].sha == content_hash(render_article(article(9, JUNE_2024)))
    assert [r.id for r in store.records("s", "2024-06")] == [9]
    assert store.body("s", 10) == "<p>正文</p>"


def test_known_finds_by_guid_link_and_id_and_nothing_else(store: ArchiveStore) -> None:
    store.add("s", [article(10), article(9)], feed_dates={})
    by_guid = store.known("s", identity_keys("https://other.example/x", "guid-10"), (), 1)
    assert list(by_guid.records) == [10]
    by_link = store.known("s", identity_keys("http://E.com/9/?utm_source=x", None), (), 1)
    assert list(by_link.records) == [9]
    by_id = store.known("s", (), (9, 11), 2)
    assert (by_id.taken, by_id.lowest_id, by_id.free_ids) == (frozenset({9}), 9, (0, 1))
    assert store.known("s", identity_keys("https://e.com/nope", "nope"), (), 1).records == {}


def test_an_id_taken_is_refused_and_nothing_is_written(store: ArchiveStore) -> None:
    store.add("s", [article(10)], feed_dates={})
    with pytest.raises(StorageError, match="refusing to overwrite"):
        store.add("s", [article(9), article(10, title="另一篇")], feed_dates={})
    assert [r.id for r in store.records("s")] == [10]
    assert [r.title for r in store.records("s")] == ["标题"]


def test_replace_rewrites_changed_articles_and_keeps_what_they_were(store: ArchiveStore) -> None:
    store.add("s", [article(10), article(9)], feed_dates={})
    changed = store.replace("s", [article(10, title="新标题"), article(9)], seen_ms=JUNE_2024)
    assert changed == (10,)
    assert {r.id: r.title for r in store.records("s")} == {10: "新标题", 9: "标题"}
    assert [r.title for r in store.summary("s").listed if r.id == 10] == ["新标题"]
    (revision,) = store.revisions("s", 10)
    assert (revision.seen_ms, revision.title, revision.text) == (
        JUNE_2024,
        "标题",
        render_article(article(10)),
    )
    assert store.revisions("s", 9) == ()
    with pytest.raises(StorageError, match="no archived article 7"):
        store.replace("s", [article(7)], seen_ms=JUNE_2024)


def test_marks_belong_to_archived_articles(store: ArchiveStore) -> None:
    store.add("s", [article(10)], feed_dates={})
    store.mark("s", Mark(10, "deleted", JUNE_2024, "404 at the source"))
    assert store.marks("s", 10) == (Mark(10, "deleted", JUNE_2024, "404 at the source"),)
    assert store.marks("s", 9) == ()
    with pytest.raises(StorageError, match="no archived article 9"):
        store.mark("s", Mark(9, "deleted", JUNE_2024))


def test_states_are_kept_and_lasting_ones_kept_apart(store: ArchiveStore) -> None:
    first = {"s": SourceState(result="ok", etag='"1"')}
    store.save_states(first, lasting=True)
    second = {"s": SourceState(result="ok", etag='"2"')}
    store.save_states(second, lasting=False)
    assert store.load_states() == second
    assert store.load_states(lasting=True) == first


def test_sources_are_apart_and_the_archive_id_is_stable(store: ArchiveStore) -> None:
    store.add("a", [article(10)], feed_dates={})
    store.add("b", [article(10, title="乙")], feed_dates={})
    assert [r.title for r in store.records("b")] == ["乙"]
    assert store.summary("a").articles == 1
    assert store.archive_id() == store.archive_id()
    assert store.archive_id().startswith("urn:uuid:")


def test_a_remembered_feed_hash_is_found_with_the_record(store: ArchiveStore) -> None:
    store.add("s", [article(10)], feed_dates={})
    store.remember("s", {10: "abc", 11: "not archived"})
    (record,) = store.known("s", (), (10,), 0).records.values()
    assert record.feed_sha == "abc"
    assert [r.id for r in store.records("s")] == [10]


def test_an_archive_runs_with_any_store_passed_in(runner: Runner) -> None:
    """``open_archive(store=…)``: the articles go to the store given; the pages, rendered from it,
    to the tree; a second run finds the articles there and archives only what is new."""
    items = [It(f"第{n}条", f"https://e.com/{n}", "Mon, 20 Jul 2020 07:41:21 GMT") for n in range(3)]
    config = load_config(
        runner.sources({"name": "新闻", "slug": "news", "url": runner.feed("news", rss(*items))})
    )
    memory = MemoryStore()
    archive = open_archive(runner.archive, store=memory, clock=runner.clock)
    first = archive.run(config)
    assert [len(s.new) for s in first.sources] == [3]
    assert sorted(r.title for r in memory.records("news")) == ["第0条", "第1条", "第2条"]
    assert not (runner.archive / "articles").exists()  # none in the tree: the store holds them
    listing = (runner.archive / "lists/新闻.md").read_text("utf-8")
    assert all(f"[第{n}条]" in listing for n in range(3))
    runner.feed("news", rss(It("第3条", "https://e.com/3", "Mon, 20 Jul 2020 07:41:21 GMT"), *items))
    second = archive.run(config)
    assert [(len(s.new), s.unchanged) for s in second.sources] == [(1, 3)]
    assert memory.summary("news").articles == 4
