"""The archive remembers its sources: the committed newsmirror.toml is what every run archives.

Runs through the real CLI against feeds on 127.0.0.1 and real git repositories: ``--sources``
saved into the archive, an archive that lost its file refused rather than switched to the
built-ins, ``newsmirror sources list|add|remove|rename|import|export`` (OPML files from a public
collection among them), a slug changed in the file asking for ``--rename``.
"""

from __future__ import annotations

import json
import subprocess
import tomllib
from pathlib import Path

import pytest
from lxml import etree

from newsmirror.catalog import BUILTIN_SOURCES
from newsmirror.cli import main
from newsmirror.config import load_config
from newsmirror.opml import read_opml
from newsmirror.sources import slug_for

from .conftest import NOW, Runner
from .feeds import It, rss
from .servers import Reply, RoutingTransport, serve

DATA = Path(__file__).parent / "data"
HONG_KONG = DATA / "opml" / "hong-kong-with-category.opml"
NEWS = DATA / "opml" / "news-with-category.opml"

COMMENTED = """\
# my archive's feeds: keep this comment
[fetch]
timeout = 12.0  # slow mirror

[[source]]
name = "甲"
slug = "a"
url = "{url}"
"""


def git(archive: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(archive), *args], capture_output=True, text=True, check=True
    ).stdout


def sources(archive: Path, *args: str, transport: object = None) -> int:
    return main(["sources", "--archive", str(archive), *args], transport=transport)  # type: ignore[arg-type]


def run(archive: Path, *args: str) -> int:
    return main(["run", "--archive", str(archive), *args], clock=lambda: NOW)


def two_items() -> bytes:
    return rss(It("第一", "https://example.com/1"), It("第二", "https://example.com/2"))


# -- which sources a run archives --------------------------------------------------------------


def test_sources_given_once_are_saved_and_the_next_run_archives_the_same(runner: Runner) -> None:
    url = runner.feed("a", two_items())
    given = runner.sources({"name": "甲", "slug": "a", "url": url})
    assert runner.run() == 0
    own = runner.archive / "newsmirror.toml"
    assert own.read_bytes() == given.read_bytes()
    assert "newsmirror.toml" in git(runner.archive, "show", "--name-only", "--format=", "HEAD").split()
    given.unlink()  # the next run has no --sources: the archive's file says what to archive
    runner.feed("a", rss(It("第三", "https://example.com/3"), It("第一", "https://example.com/1")))
    assert run(runner.archive) == 0
    assert runner.ids("a") == [1048572, 1048573, 1048574]


def test_another_sources_file_replacing_the_archives_own_is_said_and_committed(
    runner: Runner, capsys: pytest.CaptureFixture[str]
) -> None:
    url = runner.feed("a", two_items())
    runner.sources({"name": "甲", "slug": "a", "url": url})
    assert runner.run() == 0
    assert "now holds the " in capsys.readouterr().err
    given = runner.sources({"name": "甲", "slug": "a", "url": url}, {"name": "乙", "slug": "b", "url": url})
    assert runner.run() == 0
    err = capsys.readouterr().err
    own = runner.archive / "newsmirror.toml"
    assert (
        f"newsmirror: {own} replaced by the {given} (2 sources); the runs after this one archive those" in err
    )
    message = git(runner.archive, "log", "-1", "--format=%B")
    assert message.rstrip("\n").endswith("\nnewsmirror.toml: written by this run")
    assert runner.run() == 0  # the same file again: nothing to say
    assert "newsmirror.toml" not in capsys.readouterr().err


def test_a_new_archive_without_sources_gets_the_built_in_ones_written_down(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with serve({}) as server:
        transport = RoutingTransport({}, server.url("/not-found"))  # every built-in feed: 404
        code = main(["run", "--archive", str(tmp_path / "new")], transport=transport, clock=lambda: NOW)
    assert code == 1  # the nine feeds failed here, as they would without a network
    assert load_config(tmp_path / "new" / "newsmirror.toml").sources == BUILTIN_SOURCES
    assert "newsmirror.toml" in git(tmp_path / "new", "ls-files").split()
    assert sorted(transport.seen) == sorted(s.url for s in BUILTIN_SOURCES)


def test_an_archive_that_lost_its_sources_file_is_not_switched_to_the_built_ins(
    runner: Runner, capsys: pytest.CaptureFixture[str]
) -> None:
    runner.sources({"name": "甲", "slug": "a", "url": runner.feed("a", two_items())})
    assert runner.run() == 0
    git(runner.archive, "rm", "-q", "newsmirror.toml")
    git(runner.archive, "commit", "-qm", "lost it")
    head = git(runner.archive, "rev-parse", "HEAD")
    capsys.readouterr()
    assert run(runner.archive) == 2
    err = capsys.readouterr().err
    assert "has archived before but has no newsmirror.toml" in err
    assert "will not switch it to the built-in sources" in err
    assert git(runner.archive, "rev-parse", "HEAD") == head
    assert not (runner.archive / "articles" / "reuters").exists()
    # the README's way back: the built-ins written down on purpose (--archive after the action too)
    assert main(["sources", "add", "--builtin", "--no-check", "--archive", str(runner.archive)]) == 0
    restored = load_config(runner.archive / "newsmirror.toml")
    assert [s.slug for s in restored.sources] == [s.slug for s in BUILTIN_SOURCES]


def test_a_sources_file_with_a_credential_is_used_but_never_saved_in_the_public_archive(
    runner: Runner, capsys: pytest.CaptureFixture[str]
) -> None:
    runner.server.routes["/a.xml?token=hunter2"] = Reply(two_items())
    runner.sources({"name": "甲", "slug": "a", "url": runner.server.url("/a.xml?token=hunter2")})
    assert runner.run() == 0
    assert runner.ids("a") == [1048573, 1048574]
    assert not (runner.archive / "newsmirror.toml").exists()
    assert "carries a credential" in capsys.readouterr().err
    assert "hunter2" not in git(runner.archive, "log", "-p", "--all")


def test_unknown_keys_are_warned_about_and_the_run_goes_on(
    runner: Runner, capsys: pytest.CaptureFixture[str]
) -> None:
    url = runner.feed("a", two_items())
    path = runner.root / "sources.toml"
    path.write_text(f'[[source]]\nname = "甲"\nslug = "a"\nurl = "{url}"\nbodyy = "content"\n', "utf-8")
    assert runner.run() == 0
    err = capsys.readouterr().err
    assert f"{path}:5: warning: source #1: unknown key 'bodyy', ignored (did you mean 'body'?)" in err
    assert runner.ids("a") == [1048573, 1048574]


# -- sources list | add | remove ---------------------------------------------------------------


def test_add_fetches_the_feed_names_it_and_keeps_the_files_comments(
    runner: Runner, capsys: pytest.CaptureFixture[str]
) -> None:
    first = runner.feed("a", two_items())
    runner.archive.mkdir(exist_ok=True)
    git(runner.archive, "init", "-q")
    (runner.archive / "newsmirror.toml").write_text(COMMENTED.format(url=first), "utf-8")
    real = runner.feed("rss2", (DATA / "rss2.xml").read_bytes())  # a captured feed, not one of ours
    assert sources(runner.archive, "add", real, "--body", "content") == 0
    text = (runner.archive / "newsmirror.toml").read_text("utf-8")
    assert text.startswith(COMMENTED.format(url=first))  # comments and layout as they were
    added = tomllib.loads(text)["source"][1]
    title = tomllib.loads(text)  # the feed's own title names the source
    assert added["url"] == real
    assert added["body"] == "content"
    assert added["slug"] == "feed"
    assert added["name"] == _channel_title(DATA / "rss2.xml")
    assert title["fetch"]["timeout"] == 12.0
    assert git(runner.archive, "log", "-1", "--format=%s") == "newsmirror: add source feed\n"
    out = capsys.readouterr()
    assert "a feed of" in out.err
    assert out.out.startswith("added feed; committed ")
    # the same URL twice, and a feed that does not answer, are refused and change nothing
    assert sources(runner.archive, "add", real) == 2
    assert "already a source (feed)" in capsys.readouterr().err
    missing = runner.server.url("/missing.xml")
    assert sources(runner.archive, "add", missing) == 2
    err = capsys.readouterr().err
    assert missing in err
    assert "404" in err
    assert "--no-check adds it all the same" in err
    assert sources(runner.archive, "add", missing, "--no-check", "--slug", "later", "--name", "以后") == 0
    assert [s.slug for s in load_config(runner.archive / "newsmirror.toml").sources] == ["a", "feed", "later"]


def _channel_title(path: Path) -> str:
    title = etree.fromstring(path.read_bytes()).findtext("channel/title")
    assert title
    return title.strip()


def test_list_shows_each_source_and_its_last_fetch(
    runner: Runner, capsys: pytest.CaptureFixture[str]
) -> None:
    runner.sources(
        {"name": "甲", "slug": "a", "url": runner.feed("a", two_items())},
        {"name": "乙", "slug": "b", "url": runner.server.url("/gone.xml"), "fulltext": "div.post"},
    )
    assert runner.run() == 1
    capsys.readouterr()
    assert sources(runner.archive, "list", "--json") == 0
    listed = json.loads(capsys.readouterr().out)["sources"]
    assert [(s["slug"], s["name"], s["last_fetch"]["result"]) for s in listed] == [
        ("a", "甲", "ok"),
        ("b", "乙", "failed"),
    ]
    assert listed[1]["last_fetch"] == {
        "result": "failed",
        "since": "2026-01-02T03:04:05Z",
        "code": "http_404",
        "failures": 1,
    }
    assert listed[1]["fulltext"] == "div.post"
    assert sources(runner.archive, "list") == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines()]
    assert rows[0] == ["slug", "name", "url", "settings", "last", "fetch"]
    assert rows[2][:3] == ["a", "甲", runner.server.url("/a.xml")]
    assert rows[3][:4] == ["b", "乙", runner.server.url("/gone.xml"), "fulltext=div.post"]


def test_remove_stops_a_source_and_keeps_its_articles(
    runner: Runner, capsys: pytest.CaptureFixture[str]
) -> None:
    runner.sources(
        {"name": "甲", "slug": "a", "url": runner.feed("a", two_items())},
        {"name": "乙", "slug": "b", "url": runner.feed("b", two_items())},
    )
    assert runner.run() == 0
    assert sources(runner.archive, "remove", "b") == 0
    assert "its archived articles stay in articles/b" in capsys.readouterr().out
    assert [s.slug for s in load_config(runner.archive / "newsmirror.toml").sources] == ["a"]
    assert runner.ids("b") == [1048573, 1048574]
    assert sources(runner.archive, "remove", "a") == 2  # an archive keeps at least one source
    assert "only source" in capsys.readouterr().err
    assert sources(runner.archive, "remove", "zzz") == 2
    assert "no source with slug 'zzz' (there are: a)" in capsys.readouterr().err


# -- a slug that changed ---------------------------------------------------------------------


def test_a_changed_slug_asks_for_rename_and_rename_moves_without_archiving_twice(
    runner: Runner, capsys: pytest.CaptureFixture[str]
) -> None:
    url = runner.feed("a", two_items())
    runner.sources({"name": "甲", "slug": "a", "url": url})
    assert runner.run() == 0
    before = {p.name: p.read_bytes() for p in (runner.archive / "articles" / "a").glob("*.md")}
    runner.sources({"name": "甲", "slug": "renamed", "url": url})
    head = git(runner.archive, "rev-parse", "HEAD")
    capsys.readouterr()
    assert runner.run() == 2
    err = capsys.readouterr().err
    assert "archived under the slug 'a'" in err
    assert "--rename a=renamed" in err
    assert git(runner.archive, "rev-parse", "HEAD") == head
    assert not (runner.archive / "articles" / "renamed").exists()
    assert runner.run("--rename", "a=renamed", "--json") == 0
    result = json.loads(capsys.readouterr().out)
    assert result["new"] == 0  # every item was known under the old slug
    moved = {p.name: p.read_bytes() for p in (runner.archive / "articles" / "renamed").glob("*.md")}
    assert moved == before
    assert not (runner.archive / "articles" / "a").exists()
    listing = (runner.archive / "lists" / "甲.md").read_text("utf-8")
    assert "/articles/renamed/1048574.md" in listing
    assert "/articles/a/" not in listing
    renames = git(runner.archive, "show", "-M", "--name-status", "--format=", "HEAD")
    assert "R100\tarticles/a/1048574.md\tarticles/renamed/1048574.md" in renames


def test_sources_rename_changes_the_file_and_moves_the_articles_in_one_commit(
    runner: Runner, capsys: pytest.CaptureFixture[str]
) -> None:
    url = runner.feed("a", two_items())
    runner.sources({"name": "甲", "slug": "a", "url": url})
    assert runner.run() == 0
    assert sources(runner.archive, "rename", "a", "b") == 0
    assert [s.slug for s in load_config(runner.archive / "newsmirror.toml").sources] == ["b"]
    assert runner.ids("b") == [1048573, 1048574]
    assert runner.ids("a") == []
    changed = git(runner.archive, "show", "--name-only", "--format=", "HEAD").split()
    assert "newsmirror.toml" in changed
    assert "articles/b/1048574.md" in changed
    runner.feed("a", rss(It("第三", "https://example.com/3"), *[It("第一", "https://example.com/1")]))
    assert run(runner.archive) == 0
    assert runner.ids("b") == [1048572, 1048573, 1048574]  # the next id, nothing archived twice


def test_sources_rename_after_the_slug_was_changed_in_the_file_moves_the_archive_to_it(
    runner: Runner, capsys: pytest.CaptureFixture[str]
) -> None:
    url = runner.feed("a", two_items())
    runner.sources({"name": "甲", "slug": "a", "url": url})
    assert runner.run() == 0
    own = runner.archive / "newsmirror.toml"
    own.write_text(own.read_text("utf-8").replace('slug = "a"', 'slug = "b"'), "utf-8")
    git(runner.archive, "commit", "-qam", "a new slug, by hand")
    capsys.readouterr()
    assert main(["config", "check", "--archive", str(runner.archive)]) == 2  # says what a run would
    assert "its URL was archived under the slug 'a'; a run asks for --rename a=b" in capsys.readouterr().out
    assert run(runner.archive) == 2  # the FAQ's case: asked for a rename
    assert sources(runner.archive, "rename", "a", "b") == 0
    assert (runner.ids("a"), runner.ids("b")) == ([], [1048573, 1048574])
    assert run(runner.archive) == 0


# -- OPML ------------------------------------------------------------------------------------


def test_import_of_public_opml_lists_adds_each_feed_once(
    runner: Runner, capsys: pytest.CaptureFixture[str]
) -> None:
    runner.sources({"name": "甲", "slug": "a", "url": runner.feed("a", two_items())})
    assert runner.run() == 0
    assert sources(runner.archive, "import", str(HONG_KONG)) == 0
    config = load_config(runner.archive / "newsmirror.toml")
    expected = [o.values["url"] for o in read_opml(HONG_KONG.read_bytes(), origin="x")]
    assert len(expected) == 5  # the bare "&" in one description did not lose the file
    assert [s.url for s in config.sources] == [runner.server.url("/a.xml"), *expected]
    names = {s.url: s.name for s in config.sources}
    assert names["https://hd.stheadline.com/rss/news/daily/"] == "頭條日報 Headline Daily - 頭條網"
    assert {s.slug for s in config.sources} >= {"hongkongfp", "thestandard", "stheadline", "hket"}
    assert git(runner.archive, "log", "-1", "--format=%s").startswith("newsmirror: 5 sources from")
    # again: nothing new, each one named
    capsys.readouterr()
    assert sources(runner.archive, "import", str(HONG_KONG)) == 0
    out = capsys.readouterr()
    assert out.err.count("already a source, left as it is") == 5
    assert "nothing changed" in out.out
    assert sources(runner.archive, "import", str(NEWS)) == 0
    assert len(load_config(runner.archive / "newsmirror.toml").sources) == 1 + 5 + 11


def test_export_then_import_gives_the_same_sources(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    for archive in (first, second):
        archive.mkdir()
        git(archive, "init", "-q")
    assert sources(first, "add", "--builtin") == 0
    assert sources(first, "export", "-o", str(tmp_path / "out.opml")) == 0
    (second / "newsmirror.toml").write_text(
        '[[source]]\nname = "本地"\nslug = "local"\nurl = "http://127.0.0.1:9/feed.xml"\n', "utf-8"
    )
    assert sources(second, "import", str(tmp_path / "out.opml")) == 0
    imported = load_config(second / "newsmirror.toml").sources[1:]
    assert imported == BUILTIN_SOURCES  # slugs, bodies, selectors, category rules, ids, refresh
    capsys.readouterr()
    assert sources(first, "export") == 0
    assert capsys.readouterr().out.encode() == (tmp_path / "out.opml").read_bytes()


def test_a_file_that_is_not_opml_is_refused_by_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    archive = tmp_path / "a"
    archive.mkdir()
    git(archive, "init", "-q")
    (tmp_path / "feed.xml").write_bytes((DATA / "rss2.xml").read_bytes())
    assert sources(archive, "import", str(tmp_path / "feed.xml")) == 2
    assert f"{tmp_path / 'feed.xml'}: not OPML (the root element is <rss>)" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("url", "slug"),
    [
        ("http://feeds.bbci.co.uk/news/world/rss.xml", "bbci"),
        ("https://cn.nytimes.com/rss/", "nytimes"),
        ("https://www.rfa.org/mandarin/rss2.xml", "rfa"),
        ("https://chinadigitaltimes.net/chinese/feed/", "chinadigitaltimes"),
        ("http://127.0.0.1:8080/feed.xml", "feed"),
    ],
)
def test_a_slug_is_the_registered_name_of_the_host(url: str, slug: str) -> None:
    assert slug_for(url, ()) == slug
    assert slug_for(url, (slug,)) == f"{slug}-2"
