"""The working-tree store: index rebuilt from files, atomic and no-clobber writes."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from newsmirror.exceptions import StorageError
from newsmirror.render import list_title
from newsmirror.store import RepoStore
from newsmirror.types import Record, SourceIndex

ARTICLE = "<!--1595230881000-->\n[标题 [视频]](https://e.com/a_(b))\n------\n\n<p>x</p>\n"


def test_index_is_rebuilt_from_files_and_ignores_strays(tmp_path: Path) -> None:
    store = RepoStore(tmp_path)
    folder = tmp_path / "articles/s"
    folder.mkdir(parents=True)
    (folder / "1048574.md").write_text(ARTICLE, encoding="utf-8")
    (folder / "401707.md").write_text(
        "<!--NaN-->\n[无日期](https://e.com/n)\n------\n\nb\n", encoding="utf-8"
    )
    for stray in ("README.md", ".DS_Store", "0123.md", "1_标题.md"):
        (folder / stray).write_text("stray", encoding="utf-8")
    records = store.load_index("s").records
    assert sorted(records) == [401707, 1048574]
    assert records[1048574] == Record(1048574, 1595230881000, "标题 [视频]", "https://e.com/a_(b)")
    assert records[401707].ms is None


def test_saved_index_keeps_guids_and_drops_deleted_files(tmp_path: Path) -> None:
    store = RepoStore(tmp_path)
    store.create_article("s", 7, ARTICLE)
    store.create_article("s", 8, ARTICLE)
    store.save_index(
        "s",
        SourceIndex(
            {7: Record(7, 1, "t", "https://e.com/a_(b)", "g7"), 8: Record(8, 2, "u", "https://e.com/8", "g8")}
        ),
    )
    (tmp_path / "articles/s/8.md").unlink()
    assert store.load_index("s").records == {7: Record(7, 1, "t", "https://e.com/a_(b)", "g7")}
    lines = (tmp_path / ".newsmirror/index/s.jsonl").read_text(encoding="utf-8").splitlines()
    assert lines[0] == '{"id":8,"ms":2,"title":"u","link":"https://e.com/8","guid":"g8"}'


def test_create_never_overwrites(tmp_path: Path) -> None:
    store = RepoStore(tmp_path)
    store.create_article("s", 1, ARTICLE)
    with pytest.raises(StorageError, match="refusing to overwrite"):
        store.create_article("s", 1, "other")
    assert store.read_article("s", 1) == ARTICLE
    assert [p.name for p in (tmp_path / "articles/s").iterdir()] == ["1.md"]


def test_pages_are_written_only_when_their_bytes_change(tmp_path: Path) -> None:
    store = RepoStore(tmp_path)
    assert store.write_page("lists/甲.md", "甲\n------\n\n\n") is True
    assert store.write_page("lists/甲.md", "甲\n------\n\n\n") is False
    assert (tmp_path / "lists/甲.md").read_bytes() == "甲\n------\n\n\n".encode()


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
def test_a_damaged_index_is_rebuilt_from_the_article_files(
    tmp_path: Path, damage: bytes, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(logging.getLogger("newsmirror"), "propagate", True)  # the CLI turns it off
    caplog.set_level(logging.WARNING, logger="newsmirror")  # and may have left it at ERROR
    store = RepoStore(tmp_path)
    store.create_article("s", 5, ARTICLE)
    path = tmp_path / ".newsmirror/index/s.jsonl"
    path.parent.mkdir(parents=True)
    path.write_bytes(damage)
    index = store.load_index("s")
    assert list(index.records) == [5]
    assert index.records[5].title == list_title(ARTICLE)
    assert "s.jsonl" in caplog.text
    assert "rebuilding the index of s" in caplog.text


def test_titles_with_unicode_line_separators_survive_the_index(tmp_path: Path) -> None:
    store = RepoStore(tmp_path)
    store.create_article("s", 5, ARTICLE)
    odd = Record(5, 1, "上\u2028下\x85尾\x1c", "https://e.com/a_(b)", "g")
    store.save_index("s", SourceIndex({5: odd}))
    assert store.load_index("s").records == {5: odd}
