"""The git-tree store: state rebuilt from the files, no-clobber writes, reads that follow the
feed rather than the archive, interrupted writes finished from the journal."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path

import pytest

from newsmirror.archive_format import list_title, render_article
from newsmirror.exceptions import StorageError
from newsmirror.identity import identity_keys
from newsmirror.store import TreeStore, lines
from newsmirror.store.files import TreeFiles
from newsmirror.store.tree import NothingCommitted
from newsmirror.types import Article, Record

ARTICLE = "<!--1595230881000-->\n[标题 [视频]](https://e.com/a_(b))\n------\n\n<p>x</p>\n"
MAY_2024 = 1_716_000_000_000


def article(article_id: int, title: str = "标题") -> Article:
    return Article(article_id, MAY_2024, title, f"https://e.com/{article_id}", f"g{article_id}", "<p>x</p>")


def make(tmp_path: Path) -> TreeStore:
    local = tmp_path / "git"
    local.mkdir(exist_ok=True)
    return TreeStore(tmp_path / "archive", local=local, layout="flat")


def test_state_is_rebuilt_from_the_files_and_strays_are_ignored(tmp_path: Path) -> None:
    store = make(tmp_path)
    folder = store.root / "articles/s"
    folder.mkdir(parents=True)
    (folder / "1048574.md").write_text(ARTICLE, encoding="utf-8")
    (folder / "401707.md").write_text(
        "<!--NaN-->\n[无日期](https://e.com/n)\n------\n\nb\n", encoding="utf-8"
    )
    for stray in ("README.md", ".DS_Store", "0123.md", "1_标题.md"):
        (folder / stray).write_text("stray", encoding="utf-8")
    records = {r.id: r for r in store.records("s")}
    assert sorted(records) == [401707, 1048574]
    found = records[1048574]
    assert (found.ms, found.title, found.link) == (1595230881000, "标题 [视频]", "https://e.com/a_(b)")
    assert records[401707].ms is None
    assert store.summary("s").articles == 2


def test_an_index_of_the_first_format_is_taken_over_with_its_guids(tmp_path: Path) -> None:
    store = make(tmp_path)
    folder = store.root / "articles/s"
    folder.mkdir(parents=True)
    (folder / "7.md").write_text(ARTICLE, encoding="utf-8")
    old = store.root / ".newsmirror/index/s.jsonl"
    old.parent.mkdir(parents=True)
    old.write_text(
        '{"id":8,"ms":2,"title":"u","link":"https://e.com/8","guid":"g8"}\n'  # its file is gone
        '{"id":7,"ms":1595230881000,"title":"t","link":"https://e.com/a_(b)","guid":"g7"}\n',
        encoding="utf-8",
    )
    assert [(r.id, r.guid) for r in store.records("s")] == [(7, "g7")]
    assert not old.exists()
    assert ".newsmirror/index/s.jsonl" in store.changed_paths()
    assert list(store.known("s", identity_keys("https://x.example/", "g7"), (), 1).records) == [7]


def test_an_archived_file_is_never_overwritten(tmp_path: Path) -> None:
    store = make(tmp_path)
    folder = store.root / "articles/s"
    folder.mkdir(parents=True)
    (folder / "1.md").write_text(ARTICLE, encoding="utf-8")
    with pytest.raises(StorageError, match="refusing to overwrite"):
        store.add("s", [article(1)], feed_dates={})
    assert (folder / "1.md").read_text(encoding="utf-8") == ARTICLE


def test_pages_are_written_only_when_their_bytes_change(tmp_path: Path) -> None:
    store = make(tmp_path)
    assert store.write_page("lists/甲.md", "甲\n------\n\n\n") is True
    assert store.write_page("lists/甲.md", "甲\n------\n\n\n") is False
    assert (store.root / "lists/甲.md").read_bytes() == "甲\n------\n\n\n".encode()


@pytest.mark.parametrize(
    "damage",
    [
        b"{not json\n",
        b'{"id": 5, "ms": 1, "ti',  # half a line: a run killed while writing it
        b"\xff\xfe not utf-8\n",
        b'{"id": 5, "ms": "soon", "title": "t", "link": "https://e.com/a"}\n',
        b'{"id": 5, "ms": 1, "title": null, "link": "https://e.com/a"}\n',
    ],
)
def test_a_damaged_state_file_is_rebuilt_from_the_article_files(
    tmp_path: Path, damage: bytes, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(logging.getLogger("newsmirror"), "propagate", True)  # the CLI turns it off
    caplog.set_level(logging.WARNING, logger="newsmirror")  # and may have left it at ERROR
    make(tmp_path).add("s", [article(5, "原题")], feed_dates={})
    (tmp_path / "archive/.newsmirror/records/s/2024-05.jsonl").write_bytes(damage)
    store = make(tmp_path)  # a new run, reading that month (the summary's newest records aside)
    assert [r.title for r in store.records("s", "2024-05")] == ["原题"]
    assert "2024-05.jsonl" in caplog.text
    found = store.known("s", identity_keys("https://e.com/5", "g5"), (), 1).records
    assert list(found) == [5]
    assert found[5].title == "原题"
    assert "rebuilding the state of s" in caplog.text


def test_titles_with_unicode_line_separators_survive_the_state(tmp_path: Path) -> None:
    make(tmp_path).add("s", [article(5, "上\u2028下\x85尾\x1c")], feed_dates={})
    (record,) = make(tmp_path).records("s")
    assert record.title == list_title(render_article(article(5, "上\u2028下\x85尾\x1c")))


def test_a_look_up_reads_the_shards_its_keys_name_not_the_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lines, "SHARD_LINES", 4)  # 3 000 articles' keys over 256+ shards
    make(tmp_path).add("s", [article(i) for i in range(1, 3001)], feed_dates={})
    store = make(tmp_path)
    read: list[str] = []
    real = TreeFiles.read

    def spy(files: TreeFiles, relative: str) -> str | None:
        read.append(relative)
        return real(files, relative)

    monkeypatch.setattr(TreeFiles, "read", spy)
    known = store.known("s", identity_keys("https://e.com/1234", "g1234"), (5,), 1)
    assert sorted(known.records) == [5, 1234]
    keys = [r for r in read if r.startswith(".newsmirror/keys/")]
    assert 1 <= len(keys) <= 5  # three keys asked, two ids tried for the free one
    assert set(read) - set(keys) == {".newsmirror/sources/s.json", ".newsmirror/records/s/2024-05.jsonl"}
    assert len(list((store.root / ".newsmirror/keys/s").rglob("*.txt"))) > 200


def test_keys_are_spread_over_more_shards_as_a_source_grows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lines, "SHARD_LINES", 2)
    store = make(tmp_path)
    for start in range(1, 400, 40):
        store.add("s", [article(i) for i in range(start, start + 40)], feed_dates={})
    meta = json.loads((store.root / ".newsmirror/sources/s.json").read_text(encoding="utf-8"))
    assert meta["key_digits"] == 3
    assert meta["key_lines"] == 400 * 3
    fresh = make(tmp_path)
    for i in (1, 200, 399):
        assert list(fresh.known("s", identity_keys(f"https://e.com/{i}", None), (), 1).records) == [i]


def test_an_interrupted_write_is_finished_from_the_journal(tmp_path: Path) -> None:
    store = make(tmp_path)
    store.add("s", [article(10)], feed_dates={})
    store.settled()  # committed
    meta = (store.root / ".newsmirror/sources/s.json").read_bytes()
    store.add("s", [article(9), article(8)], feed_dates={})  # ... killed before the commit:
    (store.root / ".newsmirror/sources/s.json").write_bytes(meta)  # its summary not yet written
    (store.root / "articles/s/8.md").write_bytes(b"")  # and 8's data lost in a power cut

    def committed(relative: str) -> bytes | None:
        return meta if relative == ".newsmirror/sources/s.json" else None

    again = TreeStore(tmp_path / "archive", local=tmp_path / "git", layout="flat", committed=Head(committed))
    done = again.recover()
    assert "kept articles/s/9.md, written by an interrupted run" in done
    assert "removed the empty articles/s/8.md, left by a write that never reached the disk" in done
    assert not (again.root / "articles/s/8.md").exists()
    assert sorted(r.id for r in again.records("s")) == [9, 10]
    assert again.summary("s").articles == 2
    assert again.known("s", (), (8,), 1).taken == frozenset()
    assert {"articles/s/8.md", "articles/s/9.md"} <= set(again.changed_paths())


class Head(NothingCommitted):
    def __init__(self, read: Callable[[str], bytes | None]) -> None:
        self.read = read

    def committed(self, relative: str) -> bytes | None:
        return self.read(relative)


def test_temporary_files_stay_out_of_the_tree(tmp_path: Path) -> None:
    store = make(tmp_path)
    store.add("s", [article(10)], feed_dates={})
    store.settled()
    (tmp_path / "git/newsmirror-tmp/999-1").write_bytes(b"half")
    written = sorted(p.relative_to(store.root).as_posix() for p in store.root.rglob("*") if p.is_file())
    assert not [p for p in written if ".tmp-" in p]
    assert make(tmp_path).recover() == ["removed the leftover 999-1"]
    assert not (tmp_path / "git/newsmirror-tmp").exists()


def test_records_of_legacy_files_are_found_but_not_listed(tmp_path: Path) -> None:
    store = make(tmp_path)
    folder = store.root / "articles/站"
    folder.mkdir(parents=True)
    (folder / "1048000_旧.md").write_text(ARTICLE, encoding="utf-8")
    legacy = Record(1048000, 1595230881000, "旧", "https://e.com/a_(b)", path="articles/站/1048000_旧.md")
    store.adopt_legacy("s", [legacy])
    known = make(tmp_path).known("s", identity_keys("https://e.com/a_(b)", None), (), 1)
    assert [r.path for r in known.legacy] == ["articles/站/1048000_旧.md"]
    assert (store.summary("s").articles, store.summary("s").listed) == (1, ())


def test_keys_spread_over_more_shards_as_a_source_grows_and_every_article_is_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lines, "SHARD_LINES", 1)  # 16 key lines a digit: 1, 2, then 3 digits
    store = make(tmp_path)
    keys = store.root / ".newsmirror/keys/s"
    seen_digits = set()
    for batch in range(40):  # 4 articles, 12 key lines (guid, link, id) a batch
        ids = range(1000 + batch * 4, 1000 + batch * 4 + 4)
        store.add("s", [article(i) for i in ids], feed_dates={})
        names = [p.relative_to(keys).as_posix() for p in keys.rglob("*.txt")]
        seen_digits.add(len(names[0].replace("/", "")) - len(".txt"))
        assert len({len(n) for n in names}) == 1  # no shard of the old width is left
    assert seen_digits == {1, 2, 3}
    store = make(tmp_path)  # a new run, reading the shards only
    for i in range(1000, 1000 + 40 * 4):
        found = store.known("s", identity_keys(f"https://e.com/{i}", f"g{i}"), (), 0).records
        assert list(found) == [i]
    spread = {p.relative_to(keys).as_posix(): p.read_bytes() for p in keys.rglob("*.txt")}
    store.reindex("s")  # what the article files give
    assert spread == {p.relative_to(keys).as_posix(): p.read_bytes() for p in keys.rglob("*.txt")}


def test_an_article_copied_by_hand_into_a_second_folder_is_indexed_once(tmp_path: Path) -> None:
    store = TreeStore(tmp_path / "archive", local=None, layout="monthly")
    for folder in ("2024/05/18", "2024/05/19"):  # the same id filed under two days
        path = store.root / f"articles/s/{folder}/7.md"
        path.parent.mkdir(parents=True)
        path.write_text(ARTICLE, encoding="utf-8")
    other = store.root / "articles/s/2024/05/18/8.md"
    other.write_text(ARTICLE.replace("a_(b)", "c"), encoding="utf-8")
    store.files.write(".newsmirror/archive.json", '{"format": 2, "layout": "monthly"}\n')
    store.reindex("s")
    records = {r.id: r for r in store.records("s")}
    assert sorted(records) == [7, 8]
    assert (records[7].month, records[7].day) == ("2024-05", 19)  # the folder that sorts last
    assert store.summary("s").articles == 2
