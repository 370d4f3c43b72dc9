"""``newsmirror import``: taking over duty-machine trees built from ../shared/corpus (both eras mixed).

The tree is declared in ``plan()``: where each file goes and what it is (current-era article,
2020-era article, stray, unknown).  Expected figures are counted here from that plan and the
files' bytes, never taken from newsmirror's own output.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from newsmirror.archive_format import list_title
from newsmirror.catalog import dead_feed, takeover_sources
from newsmirror.cli import main
from newsmirror.config import ORIGINAL_SOURCES, load_config
from newsmirror.store import TreeStore

from .conftest import Runner
from .feeds import It, rss
from .golden import CORPUS

needs_corpus = pytest.mark.skipif(
    not CORPUS.is_dir(),
    reason=f"CORPUS MISSING: {CORPUS} not found — `newsmirror import` is NOT tested on real archive files",
)

DW_NEWLINE = "1048029_《港区国安法》如何影響香港金融中心地位\n.md"
DW_NEWLINE_CORPUS = "_bug_evidence/德国之声/1048029_《港区国安法》如何影響香港金融中心地位<LF>.md"
CDT_OLD_FORMAT = "中国数字时代/401707_【CDTV】那些年我们吹过的牛 看看都实现了么？.md"
CDT_EVIDENCE = "_bug_evidence/中国数字时代"
CDT_IMPORTED = "401707_imported_from_chinadigitaltimes_repo@a3edf4c9.md"
CDT_CHURN = "399605@cd025a58_2020-07-02T11.md"
MARCH_2025 = "Sat, 01 Mar 2025 00:00:00 GMT"
MARCH_2025_MS = 1740787200000


@dataclass(frozen=True)
class Placed:
    """One entry of the test tree: ``path`` in the archive, from ``corpus`` or ``data``."""

    path: str
    slug: str | None  # the source it belongs to; None: under no source
    kind: str  # "current" | "legacy" | "stray" | "unknown" | "page"
    corpus: str | None = None
    data: bytes = b""


def _folder(corpus_folder: str, archive_folder: str, slug: str, kind: str) -> list[Placed]:
    names = sorted(p.name for p in (CORPUS / corpus_folder).iterdir())
    return [Placed(f"articles/{archive_folder}/{n}", slug, kind, f"{corpus_folder}/{n}") for n in names]


def plan() -> list[Placed]:
    """Both eras for voa, bbc, dw, rfi, reuters, cdt; nyt only in its 2020 folder."""
    placed: list[Placed] = []
    for slug, name in [("voa", "美国之音"), ("bbc", "BBC"), ("dw", "德国之声"), ("rfi", "法广")]:
        placed += _folder(slug, slug, slug, "current") + _folder(name, name, slug, "legacy")
    placed += _folder("reuters", "reuters", "reuters", "current") + _folder(
        "路透", "路透", "reuters", "legacy"
    )
    placed += _folder("cdt", "cdt", "cdt", "current") + _folder(
        "中国数字时代", "中国数字时代", "cdt", "legacy"
    )
    placed += _folder("纽约时报", "纽约时报", "nyt", "legacy")
    return [
        *placed,
        # the DW title that ended in a newline, under its real name
        Placed(f"articles/德国之声/{DW_NEWLINE}", "dw", "legacy", DW_NEWLINE_CORPUS),
        # the RFI rolling window past 1000000: an older occupant of 999999.md, and the
        # current 999999.md article also left at a lower id by an hour with a longer feed
        Placed("articles/rfi/999990.md", "rfi", "current", "_bug_evidence/rfi/999999.md@8e1c0e13"),
        Placed("articles/rfi/999989.md", "rfi", "current", "rfi/999999.md"),
        # the old CDT import format (no <!--ms-->) a second time, and a churn copy by a non-article name
        Placed(f"articles/中国数字时代/{CDT_IMPORTED}", "cdt", "legacy", f"{CDT_EVIDENCE}/{CDT_IMPORTED}"),
        Placed(f"articles/中国数字时代/{CDT_CHURN}", "cdt", "stray", f"{CDT_EVIDENCE}/{CDT_CHURN}"),
        Placed("articles/voa/README.md", "voa", "stray", data=b"# voa\n"),
        Placed("articles/美国之音/.DS_Store", "voa", "stray", data=b"\x00\x00\x00\x01Bud1\x00"),
        Placed("articles/dw/images/a.png", "dw", "stray", data=b"\x89PNG\r\n"),
        Placed("articles/old-site/index.html", None, "unknown", data=b"<html></html>\n"),
        Placed("articles/notes.txt", None, "unknown", data=b"notes\n"),
        Placed("README.md", None, "page", "_lists/README.md@131d379a_latest.md"),
        Placed("lists/美国之音.md", None, "page", "_lists/美国之音.md@0004b79e.PREFIX_first10.md"),
    ]


def build_tree(root: Path, placed: list[Placed], *, git: bool = True) -> None:
    """The tree as a duty-machine checkout: every file committed."""
    for entry in placed:
        target = root / entry.path
        target.parent.mkdir(parents=True, exist_ok=True)
        if entry.corpus is None:
            target.write_bytes(entry.data)
        else:
            shutil.copyfile(CORPUS / entry.corpus, target)
    if git:
        _git(root, "init", "-q", "-b", "main")
        _git(root, "add", "-A")
        _git(root, "-c", "user.name=duty", "-c", "user.email=duty@localhost", "commit", "-q", "-m", "archive")


def _git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, check=True).stdout


def hashes(root: Path, *, skip: tuple[str, ...] = (".git", ".newsmirror")) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in root.rglob("*")
        if p.is_file() and p.relative_to(root).parts[0] not in skip
    }


def article_hashes(root: Path) -> dict[str, str]:
    """Article files only: a run rewrites its pages (lists, README, status) by design."""
    return {k: v for k, v in hashes(root).items() if k.startswith("articles/")}


# -- what the plan says, counted independently -------------------------------------------------


def _bytes(root: Path, entry: Placed) -> bytes:
    return (root / entry.path).read_bytes()


def _link(data: bytes) -> str:
    line = next(x for x in data.decode("utf-8").split("\n") if x.startswith("["))
    return line.rsplit("](", 1)[1].removesuffix(")")


def _stamp(data: bytes) -> int | None:
    match = re.match(rb"<!--(\d+)-->\n", data)
    return int(match.group(1)) if match else None


def _leading_id(path: str) -> int:
    match = re.match(r"\d+", path.rsplit("/", 1)[1])
    assert match is not None
    return int(match.group(0))


def _reported(path: str) -> str:
    """A stray as reported: an entry of ``articles/<folder>/``, a folder with a trailing ``/``."""
    parts = path.split("/")
    return path if len(parts) == 3 else "/".join(parts[:3]) + "/"


def expected_source(root: Path, placed: list[Placed], slug: str) -> dict[str, Any]:
    mine = [e for e in placed if e.slug == slug]
    articles = [e for e in mine if e.kind in ("current", "legacy")]
    by_link: dict[str, list[str]] = defaultdict(list)
    for entry in articles:
        by_link[_link(_bytes(root, entry))].append(entry.path)
    stamps = [s for s in (_stamp(_bytes(root, e)) for e in articles) if s is not None]
    return {
        "current": sum(e.kind == "current" for e in articles),
        "legacy": sum(e.kind == "legacy" for e in articles),
        "undated": sum(_stamp(_bytes(root, e)) is None for e in articles),
        "stray": sorted({_reported(e.path) for e in mine if e.kind == "stray"}),
        "duplicates": sorted(sorted(g) for g in by_link.values() if len(g) > 1),
        "lowest_id": min((_leading_id(e.path) for e in articles), default=None),
        "newest_ms": max(stamps, default=None),
    }


def import_json(archive: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> dict[str, Any]:
    capsys.readouterr()
    assert main(["import", str(archive), "--json", *extra]) == 0
    result: dict[str, Any] = json.loads(capsys.readouterr().out)
    return result


def by_slug(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["slug"]: s for s in report["sources"]}


# -- tests -------------------------------------------------------------------------------------


@needs_corpus
def test_import_reports_each_source_and_changes_no_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    archive, placed = tmp_path / "archive", plan()
    build_tree(archive, placed)
    before = hashes(archive)
    report = import_json(archive, capsys)
    # one file more: the sources it was imported for, so that its runs archive the same ones
    assert hashes(archive, skip=(".git", ".newsmirror", "newsmirror.toml")) == before
    given = load_config(archive / "newsmirror.toml").sources
    assert given == takeover_sources()
    # the original's nine, same 站名 and slugs, none at a dead feed; Reuters has none left
    assert [(s.name, s.slug) for s in given] == [(s.name, s.slug) for s in ORIGINAL_SOURCES]
    assert [s.slug for s in given if dead_feed(s.url) is not None or not s.active] == ["reuters"]
    sources = by_slug(report)
    for slug in ("reuters", "nyt", "voa", "ft", "bbc", "rfi", "dw", "rfa", "cdt"):
        expected = expected_source(archive, placed, slug)
        actual = {k: sources[slug][k] for k in expected}
        assert actual == expected, slug
    # the same figures, spelled out
    figures = {
        s: tuple(sources[s][k] for k in ("current", "legacy", "undated", "lowest_id")) for s in sources
    }
    assert figures == {
        "reuters": (2, 3, 0, 1024951),
        "nyt": (0, 3, 0, 1048087),
        "voa": (3, 4, 0, 1008909),
        "ft": (0, 0, 0, None),
        "bbc": (1, 3, 0, 1041692),
        "rfi": (4, 3, 0, 999989),
        "dw": (2, 3, 0, 1022765),
        "rfa": (0, 0, 0, None),
        "cdt": (3, 4, 2, 0),
    }
    assert sources["rfi"]["duplicates"] == [["articles/rfi/999989.md", "articles/rfi/999999.md"]]
    assert sources["cdt"]["duplicates"] == [
        [f"articles/中国数字时代/{CDT_IMPORTED}", f"articles/{CDT_OLD_FORMAT}"]
    ]
    assert sources["voa"]["stray"] == ["articles/voa/README.md", "articles/美国之音/.DS_Store"]
    assert sources["dw"]["stray"] == ["articles/dw/images/"]
    assert sources["cdt"]["stray"] == [f"articles/中国数字时代/{CDT_CHURN}"]
    assert sources["dw"]["newest_ms"] == 1739607424000
    assert report["unknown_folders"] == ["articles/old-site/"]
    assert report["unknown_files"] == ["articles/notes.txt"]
    assert report["articles"] == sum(e.kind in ("current", "legacy") for e in placed) == 38


@needs_corpus
def test_import_commits_the_state_alone(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    archive = tmp_path / "archive"
    build_tree(archive, plan())
    (archive / "scratch.txt").write_text("the maintainer's own file, not to be committed\n", "utf-8")
    (archive / "staged.txt").write_text("staged by the maintainer, stays staged\n", "utf-8")
    _git(archive, "add", "staged.txt")
    head = _git(archive, "rev-parse", "HEAD")
    report = import_json(archive, capsys)
    assert _git(archive, "rev-parse", "HEAD^") == head
    assert report["commit"] == _git(archive, "rev-parse", "HEAD").strip()
    committed = _git(archive, "show", "--name-only", "--format=", "HEAD").split()
    assert all(name.startswith(".newsmirror/") for name in committed if name != "newsmirror.toml")
    assert "newsmirror.toml" in committed
    slugs = ("bbc", "cdt", "dw", "ft", "nyt", "reuters", "rfa", "rfi", "voa")
    for kind, suffix in (("sources", "json"), ("legacy", "jsonl")):
        found = sorted(n for n in committed if n.startswith(f".newsmirror/{kind}/"))
        assert found == [f".newsmirror/{kind}/{slug}.{suffix}" for slug in slugs]
    message = _git(archive, "log", "-1", "--format=%B")
    assert message.startswith("newsmirror: take over the archive (38 articles indexed)\n\n")
    assert "法广 (rfi): 4 current + 3 from 2020\n" in message
    assert _git(archive, "status", "--porcelain") == "A  staged.txt\n?? scratch.txt\n"


@needs_corpus
def test_a_plain_tree_becomes_a_repository(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    archive = tmp_path / "archive"
    build_tree(archive, plan(), git=False)
    report = import_json(archive, capsys)
    assert _git(archive, "rev-list", "--count", "HEAD") == "1\n"
    assert report["commit"] == _git(archive, "rev-parse", "HEAD").strip()
    assert _git(archive, "ls-files").split("\n")[0].startswith(".newsmirror/")
    assert "articles/" not in _git(archive, "ls-files")  # the articles are the maintainer's to commit


@needs_corpus
def test_state_holds_every_legacy_file_including_a_name_with_a_newline(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    archive, placed = tmp_path / "archive", plan()
    build_tree(archive, placed, git=False)
    before = hashes(archive)
    import_json(archive, capsys, "--no-commit")
    assert not (archive / ".git").exists()
    assert hashes(archive, skip=(".git", ".newsmirror", "newsmirror.toml")) == before
    store = TreeStore(archive)
    for slug in ("voa", "bbc", "dw", "rfi", "reuters", "cdt", "nyt"):
        records = list(store.records(slug))
        expected = {e.path for e in placed if e.slug == slug and e.kind == "legacy"}
        assert {r.path for r in records if r.path is not None} == expected, slug
        current = {e.path for e in placed if e.slug == slug and e.kind == "current"}
        assert {f"articles/{slug}/{r.id}.md" for r in records if r.path is None} == current, slug
    dw = {r.path: r for r in store.records("dw")}[f"articles/德国之声/{DW_NEWLINE}"]
    assert (dw.id, dw.ms, dw.title) == (1048029, 1594126459000, "《港区国安法》如何影響香港金融中心地位")
    cdt = [r for r in store.records("cdt") if r.id == 401707 and r.path is not None]
    assert [r.ms for r in cdt] == [None, None]
    assert {r.link for r in cdt} == {_link((CORPUS / CDT_OLD_FORMAT).read_bytes())}


def serve_source(
    runner: Runner, slug: str, name: str, known: list[tuple[str, str]], new: str
) -> dict[str, object]:
    """A source whose feed repeats ``known`` (title, link) pairs (dated now, as republished) and
    adds ``new``."""
    items = [*(It(title, link, MARCH_2025) for title, link in known), It("新文章", new, MARCH_2025)]
    return {"name": name, "slug": slug, "url": runner.feed(slug, rss(*items))}


@needs_corpus
def test_next_run_skips_articles_of_both_eras_and_numbers_below_both(
    runner: Runner, capsys: pytest.CaptureFixture[str]
) -> None:
    archive, placed = runner.archive, plan()
    build_tree(archive, placed)
    import_json(archive, capsys)
    story = {
        e.path: (list_title(_bytes(archive, e).decode()), _link(_bytes(archive, e)))
        for e in placed
        if e.kind in ("current", "legacy")
    }
    new = {slug: f"https://example.com/{slug}/new" for slug in ("voa", "nyt", "rfi")}
    known = {
        "voa": [
            "articles/美国之音/1047759_美国佛州疫情告急 欧洲经济复苏计划受挫.md",
            "articles/voa/1008909.md",
        ],
        "nyt": ["articles/纽约时报/1048087_五个关键要点，揭开特朗普防疫失败内幕.md"],
        "rfi": [
            "articles/法广/1047636_美股跌 日股开低 – 法国国际广播电台 - RFI.md",
            "articles/rfi/999999.md",
            "articles/rfi/999990.md",
        ],
    }
    names = {"voa": "美国之音", "nyt": "纽约时报", "rfi": "法广"}
    runner.sources(
        *(
            serve_source(runner, slug, names[slug], [story[p] for p in paths], new[slug])
            for slug, paths in known.items()
        )
    )
    before = article_hashes(archive)
    assert runner.run("--json") == 0
    result = {s["slug"]: s for s in json.loads(capsys.readouterr().out)["sources"]}
    # below the lowest id of both eras: voa's current files, nyt's 2020 folder, rfi's rolling window
    wanted = {"voa": 1008908, "nyt": 1048086, "rfi": 999988}
    assert {slug: result[slug]["new"] for slug in wanted} == {slug: [i] for slug, i in wanted.items()}
    assert {slug: result[slug]["unchanged"] for slug in wanted} == {s: len(p) for s, p in known.items()}
    after = article_hashes(archive)
    added = {f"articles/{slug}/{i}.md" for slug, i in wanted.items()}
    assert set(after) - set(before) == added
    assert {k: after[k] for k in before} == before
    for slug, article_id in wanted.items():
        assert runner.article(slug, article_id) == (
            f"<!--{MARCH_2025_MS}-->\n[新文章]({new[slug]})\n------\n\n<p>正文</p>\n"
        )
    assert runner.run() == 0  # and the run after that finds nothing new
    assert set(article_hashes(archive)) == set(after)


@needs_corpus
def test_importing_twice_changes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    archive = tmp_path / "archive"
    build_tree(archive, plan())
    first = import_json(archive, capsys)
    state = hashes(archive, skip=(".git",))
    head = _git(archive, "rev-parse", "HEAD")
    second = import_json(archive, capsys)
    assert second["commit"] is None
    assert (first["own_text_lines"] > 0, second["own_text_lines"]) == (True, 0)  # kept once
    assert {**second, "commit": first["commit"], "own_text_lines": first["own_text_lines"]} == first
    assert _git(archive, "rev-parse", "HEAD") == head
    assert hashes(archive, skip=(".git",)) == state
    assert _git(archive, "status", "--porcelain") == ""
    capsys.readouterr()
    assert main(["import", str(archive)]) == 0
    assert capsys.readouterr().out.endswith(
        f"38 articles indexed in {archive}; state unchanged, nothing to commit\n"
    )


@needs_corpus
def test_the_readmes_own_text_is_kept_and_shown_under_the_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    archive = tmp_path / "archive"
    build_tree(archive, plan())
    original = (archive / "README.md").read_text("utf-8").splitlines()
    # by hand: the README minus its title (first two lines) and its `[name](lists/name.md)` lines
    link = re.compile(r"^\[[^\]]+\]\(lists/[^)]+\.md\)$")
    own = [line for line in original[2:] if not link.match(line)]
    report = import_json(archive, capsys)
    kept = (archive / ".newsmirror/readme.md").read_text("utf-8")
    assert [line for line in kept.splitlines() if line] == [line for line in own if line]
    assert "友情链接\n------\n\n公益社会类项目汇总： https://github.com/NodeBE4/impact/\n" in kept
    assert report["own_text_lines"] == kept.count("\n")
    assert ".newsmirror/readme.md" in _git(archive, "show", "--name-only", "--format=", "HEAD").split()
    assert main(["reindex", "--archive", str(archive)]) == 0  # renders every page, fetches nothing
    readme = (archive / "README.md").read_text("utf-8")
    assert readme.index("| 来源 source |") < readme.index(kept) < readme.index("Archived by [newsmirror]")
    assert "\n[纽约时报](lists/" not in readme  # the table links the lists now
    head = _git(archive, "rev-parse", "HEAD")
    assert import_json(archive, capsys)["own_text_lines"] == 0  # the README newsmirror wrote adds nothing
    assert _git(archive, "rev-parse", "HEAD") == head
    assert (archive / ".newsmirror/readme.md").read_text("utf-8") == kept


@needs_corpus
def test_text_report_is_a_table_with_details(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    archive = tmp_path / "archive"
    build_tree(archive, plan(), git=False)
    assert main(["import", str(archive), "--no-commit"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == [
        "source", "current", "legacy", "undated", "stray", "duplicates", "lowest", "id", "newest"
    ]  # fmt: skip
    rows = [line.split() for line in lines]
    assert ["法广", "(rfi)", "4", "3", "0", "0", "1", "999989", "2023-10-28", "10:15", "UTC"] in rows
    assert "  rfi: same link in articles/rfi/999989.md, articles/rfi/999999.md" in lines
    assert "  voa: stray articles/美国之音/.DS_Store" in lines
    assert "unknown folder (no source): articles/old-site/" in lines
    assert lines[-1] == f"38 articles indexed in {archive}; not committed (--no-commit)"
    assert lines[-2] == "newsmirror.toml: now holds the original's outlets at their own feeds (the catalogue)"


@needs_corpus
def test_archive_sources_file_decides_what_belongs_to_a_source(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    archive = tmp_path / "archive"
    build_tree(archive, plan(), git=False)
    (archive / "newsmirror.toml").write_text(
        '[[source]]\nname = "美国之音"\nslug = "voa"\nurl = "https://feedx.net/rss/mgzy1.xml"\n', "utf-8"
    )
    report = import_json(archive, capsys, "--no-commit")
    assert [(s["slug"], s["current"], s["legacy"]) for s in report["sources"]] == [("voa", 3, 4)]
    assert report["unknown_folders"] == [
        f"articles/{name}/"
        for name in sorted(
            ["BBC", "bbc", "cdt", "dw", "old-site", "reuters", "rfi", "中国数字时代", "德国之声", "法广",
             "纽约时报", "路透"]
        )
    ]  # fmt: skip
    assert sorted(p.name for p in (archive / ".newsmirror/sources").iterdir()) == ["voa.json"]


def test_a_path_without_articles_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "README.md").write_text("not an archive\n", encoding="utf-8")
    assert main(["import", str(tmp_path)]) == 2
    assert capsys.readouterr().err == (
        f"newsmirror: error: {tmp_path}: no articles/ folder here; is this a duty-machine archive checkout?\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["README.md"]
    assert main(["import", str(tmp_path / "missing")]) == 2
    assert "not a directory" in capsys.readouterr().err
    assert not (tmp_path / "missing").exists()
