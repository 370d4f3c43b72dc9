"""The built-in catalogue of sources (src/newsmirror/catalog.toml) and what uses it: a new
archive's sources, ``import``'s, ``sources catalog [--apply]``, ``add --catalog`` and inactive
sources."""

from __future__ import annotations

import json
import subprocess
import tomllib
from dataclasses import replace
from email.utils import format_datetime
from pathlib import Path
from urllib.parse import quote

import pytest

from newsmirror.catalog import BUILTIN_SOURCES, catalogue, current, dead_feed, moves, takeover_sources
from newsmirror.cli import main
from newsmirror.config import ORIGINAL_SOURCES, Config, load_config
from newsmirror.scaffold import render_config
from newsmirror.types import Source

from .conftest import NOW, Runner
from .feeds import It, rss
from .servers import RoutingTransport


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, check=True).stdout


def test_every_original_outlet_keeps_its_name_and_slug_and_none_is_left_on_a_dead_feed() -> None:
    original = {(s.name, s.slug) for s in ORIGINAL_SOURCES}
    assert {(e.source.name, e.source.slug) for e in catalogue() if e.original} == original
    for source in ORIGINAL_SOURCES:  # every feed the original read is known: dead, retired or live
        entry = next(e for e in catalogue() if e.source.url == source.url)
        now = current(source.slug)
        assert now is not None, source.slug
        assert entry.status != "live" or entry == now, source.slug  # only CDT's feed did not move
    assert [s.slug for s in takeover_sources()] == [s.slug for s in ORIGINAL_SOURCES]


def test_the_defaults_are_live_and_no_dead_or_retired_feed_is_among_them() -> None:
    live = {e.source.url for e in catalogue() if e.status == "live"}
    assert BUILTIN_SOURCES
    assert all(s.url in live and s.active for s in BUILTIN_SOURCES)
    assert all(dead_feed(s.url) is None for s in BUILTIN_SOURCES)
    assert len({s.slug for s in BUILTIN_SOURCES}) == len(BUILTIN_SOURCES)
    retired = [e for e in catalogue() if e.status == "retired"]
    assert retired
    assert all(not e.source.active for e in retired)
    assert all(e.evidence for e in catalogue())  # every entry says where it comes from


def test_cdt_keeps_the_rules_the_original_ran_it_with() -> None:
    cdt = current("cdt")
    assert cdt is not None
    original = next(s for s in ORIGINAL_SOURCES if s.slug == "cdt")
    # the feed did not move, its rules are the original's (byte-identical output on the golden
    # cases); only its images now go through the proxy, as every new source's do
    assert replace(cdt.source, images="keep") == original
    assert cdt.source.images == "proxy"


def test_catalog_lists_every_entry_with_its_status_and_this_archives_use(
    runner: Runner, capsys: pytest.CaptureFixture[str]
) -> None:
    archive = runner.archive
    assert main(["init", str(archive)]) == 0
    capsys.readouterr()
    assert main(["sources", "catalog", "--json", "--archive", str(archive)]) == 0
    rows = json.loads(capsys.readouterr().out)["entries"]
    assert len(rows) == len(catalogue())
    assert {(r["slug"], r["url"], r["status"]) for r in rows} == {
        (e.source.slug, e.source.url, e.status) for e in catalogue()
    }
    used = {r["url"] for r in rows if r["this_archive"] == "reads this feed"}
    assert used == {s.url for s in BUILTIN_SOURCES}
    assert main(["sources", "catalog", "--archive", str(archive)]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == ["slug", "name", "status", "default", "url", "this", "archive", "notes"]
    assert len([line for line in table if " dead " in line]) == sum(e.status == "dead" for e in catalogue())


def an_archive_on_the_original_feeds(runner: Runner) -> Path:
    """An archive made by an earlier newsmirror: its newsmirror.toml names the feedx URLs."""
    archive = runner.archive
    assert main(["init", str(archive)]) == 0
    text = "# my comment stays\n" + render_config(Config(ORIGINAL_SOURCES))
    (archive / "newsmirror.toml").write_text(text, "utf-8")
    git(archive, "commit", "-qam", "the sources of before")
    return archive


def test_a_run_on_a_dead_feed_warns_and_apply_moves_it(
    runner: Runner, capsys: pytest.CaptureFixture[str]
) -> None:
    archive = an_archive_on_the_original_feeds(runner)
    nowhere = RoutingTransport({}, fallback=runner.server.url("/missing.xml"))
    assert main(["run", "--archive", str(archive)], transport=nowhere, clock=runner.clock) == 1
    err = capsys.readouterr().err
    assert "bbc: https://feedx.net/rss/bbc.xml is a dead feed (" in err
    assert (
        "`newsmirror sources catalog --apply` moves it to https://feeds.bbci.co.uk/zhongwen/simp/rss.xml"
        in err
    )
    assert main(["config", "check", "--archive", str(archive)]) == 0  # accepted, and warned
    assert (
        "newsmirror.toml: warning: bbc: https://feedx.net/rss/bbc.xml is a dead feed ("
        in capsys.readouterr().out
    )
    assert main(["sources", "catalog", "--apply", "--archive", str(archive)]) == 0
    out = capsys.readouterr().out
    assert "reuters: https://feedx.net/rss/reuters.xml → inactive (its articles stay listed)" in out
    text = (archive / "newsmirror.toml").read_text("utf-8")
    assert text.startswith("# my comment stays\n")
    moved = {s.slug: s for s in load_config(archive / "newsmirror.toml").sources}
    assert [(s.name, s.slug) for s in moved.values()] == [(s.name, s.slug) for s in ORIGINAL_SOURCES]
    original = {s.slug: s for s in ORIGINAL_SOURCES}
    for slug, source in moved.items():
        entry = current(slug)
        assert entry is not None
        if slug == "cdt":  # its feed is live: not moved, and the file's own settings stay
            assert source == original["cdt"]
        else:  # the feed and its rules (RFA's link no longer from the guid); the file's images = "keep" stays
            assert replace(source, images=entry.source.images) == entry.source, slug
            assert source.images == "keep"
    assert git(archive, "log", "-1", "--format=%s").startswith("newsmirror: move reuters, nyt, voa")
    assert tomllib.loads(text)["source"][7]["link"] == "link"  # a file with every key keeps them
    assert main(["sources", "catalog", "--apply", "--archive", str(archive)]) == 0
    assert "no source reads a dead feed" in capsys.readouterr().out


def test_add_from_the_catalogue(runner: Runner, capsys: pytest.CaptureFixture[str]) -> None:
    archive = runner.archive
    assert main(["init", str(archive)]) == 0
    assert main(["sources", "add", "--catalog", "initium", "twreporter", "--archive", str(archive)]) == 0
    added = {s.slug: s for s in load_config(archive / "newsmirror.toml").sources}
    assert added["initium"] == current("initium").source  # type: ignore[union-attr]
    assert "twreporter" in added
    capsys.readouterr()
    assert main(["sources", "add", "--catalog", "nosuch", "--archive", str(archive)]) == 2
    assert "no catalogue entry 'nosuch' (there are: " in capsys.readouterr().err


def test_an_inactive_source_is_not_fetched_and_stays_listed(
    runner: Runner, capsys: pytest.CaptureFixture[str]
) -> None:
    url = runner.feed("old", rss(It("旧闻", "https://example.com/old", format_datetime(NOW))))
    runner.sources({"name": "旧台", "slug": "old", "url": url}, {"name": "新台", "slug": "new", "url": url})
    assert runner.run() == 0
    runner.sources(
        {"name": "旧台", "slug": "old", "url": url, "active": False},
        {"name": "新台", "slug": "new", "url": url},
    )
    fetched = len(runner.server.requests)
    capsys.readouterr()
    assert runner.run("--json") == 0
    result = json.loads(capsys.readouterr().out)
    assert [s["slug"] for s in result["sources"]] == ["new"]
    assert len(runner.server.requests) == fetched + 1  # the active one only
    readme = (runner.archive / "README.md").read_text("utf-8")
    assert f"| [旧台](lists/{quote('旧台')}.md) | 1 | " in readme
    assert "| not fetched (active = false) |" in readme
    assert (runner.archive / "lists/旧台.md").read_text("utf-8").count("(/articles/old/") == 1
    assert main(["status", "--archive", str(runner.archive), "--json"], clock=runner.clock) == 0


def test_the_readme_table_lists_every_entry_that_is_not_dead_as_the_catalogue_has_it() -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text("utf-8")
    for entry in catalogue():
        s = entry.source
        row = f"| {s.name} ({s.slug}) | `{s.url}` | "
        assert (row in readme) is (entry.status != "dead"), row


def test_import_moves_an_archive_that_reads_dead_feeds_onto_the_live_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    archive = tmp_path / "archive"
    (archive / "articles/bbc").mkdir(parents=True)
    (archive / "articles/bbc/1048574.md").write_text(
        "<!--1594000000000-->\n[标题](https://www.bbc.com/zhongwen/simp/a)\n------\n\n<p>正文</p>\n", "utf-8"
    )
    (archive / "newsmirror.toml").write_text("# kept\n" + render_config(Config(ORIGINAL_SOURCES)), "utf-8")
    assert main(["import", str(archive)]) == 0
    out = capsys.readouterr().out
    assert "newsmirror.toml: now holds the catalogue's live feeds for its dead ones" in out
    given = load_config(archive / "newsmirror.toml").sources
    original = {s.slug: s for s in ORIGINAL_SOURCES}
    wanted = [original["cdt"] if s.slug == "cdt" else replace(s, images="keep") for s in takeover_sources()]
    assert list(given) == wanted  # each dead feed moved, the file's own choices (images) kept
    assert (archive / "newsmirror.toml").read_text("utf-8").startswith("# kept\n")
    assert "newsmirror.toml" in git(archive, "show", "--name-only", "--format=", "HEAD").split()


def test_apply_never_makes_two_sources_read_one_feed() -> None:
    """A file with BBC at its live feed and a second source still on feedx's copy: the second
    stops (active = false) instead of archiving every BBC article twice."""
    live = Source(name="BBC", slug="bbc", url="https://feeds.bbci.co.uk/zhongwen/simp/rss.xml")
    dead = Source(name="BBC旧", slug="bbc-feedx", url="https://feedx.net/rss/bbc.xml")
    (move,) = moves(Config((live, dead)))
    assert move.source == dead
    assert (move.to.source.url, move.to.source.active) == (dead.url, False)
