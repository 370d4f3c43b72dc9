"""Hostile feed items, end to end (``newsmirror run`` against feeds on 127.0.0.1).

Ids, guids, titles and links carrying ``../``, ``/``, NUL, control characters, line breaks,
``](``; a 1 MB title; duplicate guids; 10,000 items; bodies with ``<script>``, ``on…=``
handlers and ``javascript:`` URLs.  Whatever the feed says: every file stays inside the
archive under a numeric name, list pages stay well-formed, nothing executes when an
article is rendered, and the run exits 0 with the unarchivable items skipped with a reason.
"""

from __future__ import annotations

import json
import os
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from newsmirror.archive_format import record_from_text, render_article
from newsmirror.decide import decide
from newsmirror.parse import parse_feed
from newsmirror.transform.items import prepare
from newsmirror.types import Article, Source, SourceIndex

from .conftest import NOW_MS, Runner
from .feeds import It, rss

JUL20 = "Mon, 20 Jul 2020 07:41:21 GMT"
STATE_FILES = re.compile(
    r"^\.newsmirror/(legacy|marks)/[a-z0-9-]+\.jsonl$"
    r"|^\.newsmirror/sources/[a-z0-9-]+\.json$"
    r"|^\.newsmirror/(records|revisions)/[a-z0-9-]+/([0-9]{4}-[0-9]{2}|undated)\.jsonl$"
    r"|^\.newsmirror/keys/[a-z0-9-]+/([0-9a-f]{1,2}|[0-9a-f]{1,2}/[0-9a-f]{2})\.txt$"
    r"|^\.newsmirror/[a-z._]+$"
)
TOP_FILES = {"README.md", "status.md", "status.xml", ".gitignore", ".gitattributes", "newsmirror.toml"}


def run_json(runner: Runner, capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    capsys.readouterr()
    assert runner.run("--json") == 0
    report: dict[str, object] = json.loads(capsys.readouterr().out)
    return report


def skip_reasons(report: dict[str, object]) -> list[str]:
    [source] = report["sources"]  # type: ignore[misc]
    return [s["reason"] for s in source["skipped"]]  # type: ignore[index]


def archive_files(archive: Path) -> list[str]:
    """Every file of the working tree (outside .git), as POSIX paths relative to it.

    The walk never enters .git: git may still be writing there (and tens of thousands of loose
    objects are not worth listing).
    """
    found = []
    for folder, dirs, names in os.walk(archive):
        if Path(folder) == archive:
            dirs[:] = [d for d in dirs if d != ".git"]
        found += [(Path(folder) / n).relative_to(archive).as_posix() for n in names]
    return sorted(found)


def assert_contained(runner: Runner, slug: str, name: str) -> list[int]:
    """Nothing but the expected files, articles under ``articles/<slug>/<number>.md``."""
    ids = []
    # nothing escaped next to the archive either (runner.root is this test's own tmp_path)
    assert sorted(p.name for p in runner.root.iterdir()) == ["archive", "sources.toml"]
    for path in archive_files(runner.archive):
        article = re.fullmatch(rf"articles/{slug}/(0|[1-9][0-9]*)\.md", path)
        if article:
            ids.append(int(article.group(1)))
        else:
            month = re.fullmatch(rf"lists/{re.escape(name)}/([0-9]{{4}}-[0-9]{{2}}|undated|README)\.md", path)
            assert path in TOP_FILES or path == f"lists/{name}.md" or month or STATE_FILES.match(path), path
    return sorted(ids)


def assert_list_well_formed(page: str, name: str, slug: str, ids: list[int]) -> None:
    header = f"{name}\n------\n\n"
    assert page.startswith(header)
    assert page.endswith(")\n\n")
    entries = page[len(header) : -2].split("\n\n")
    pattern = re.compile(rf"^(\d{{1,2}}-\d{{1,2}} )?\[[^\n]*\]\(/articles/{slug}/(\d+)\.md\)$")
    matches = [pattern.match(e) for e in entries]
    assert all(matches), [e[:200] for e, m in zip(entries, matches, strict=True) if not m]
    assert [int(m.group(2)) for m in matches if m] == sorted(ids)[:300]


def assert_article_shape(text: str) -> tuple[str, str]:
    """Five LF-ended lines; returns (line 2, body)."""
    lines = text.split("\n")
    assert len(lines) == 6
    assert re.fullmatch(r"<!--\d+-->", lines[0])
    assert lines[1].startswith("[")
    assert lines[2:4] == ["------", ""]
    assert lines[5] == ""
    return lines[1], lines[4]


def one_source(runner: Runner, body: bytes, **reply: object) -> None:
    url = runner.feed("news", body, **reply)
    runner.sources({"name": "新闻", "slug": "news", "url": url})


def test_hostile_guids_titles_and_links_stay_inside_the_archive(
    runner: Runner, capsys: pytest.CaptureFixture[str]
) -> None:
    huge = "长" * 350_000  # > 1 MB of UTF-8
    one_source(
        runner,
        rss(
            It("../../../../etc/passwd", "https://e.com/../../a", guid="../../../../tmp/x"),
            It("/", "/etc/passwd", guid="/etc/passwd"),
            It("..\\..\\win", "../../../up", guid="..\\..\\win"),
            It("第一行\n第二行\r\n  第三行", "https://e.com/n\nl", guid="g\nnl"),
            It("括号](https://evil.example/)后", "https://e.com/br", guid="br"),
            It("](", "https://e.com/only", guid="only"),
            It(huge, "https://e.com/huge", guid="huge"),
            It("同一 guid 甲", "https://e.com/d1", guid="dup"),
            It("同一 guid 甲", "https://e.com/d2", guid="dup"),  # the same story again, another link
            It("脚本链接", "javascript:alert(1)", guid="js"),
            It("文件", "file:///etc/passwd", guid="file"),
            It("数据", "data:text/html,<script>alert(1)</script>", guid="data"),
            It("空链接", "   ", guid="blank"),
        ),
    )
    report = run_json(runner, capsys)

    ids = assert_contained(runner, "news", "新闻")
    assert len(ids) == 8
    reasons = skip_reasons(report)
    assert sorted(reasons) == sorted(
        [
            "duplicate of an earlier item in the feed",
            "bad link: unsupported link scheme 'javascript:'",
            "bad link: unsupported link scheme 'file:'",
            "bad link: unsupported link scheme 'data:'",
            "item has no link",
        ]
    )
    base = runner.server.url("/")
    expected = {
        "../../../../etc/passwd": "https://e.com/a",
        "/": f"{base}etc/passwd",
        "..\\..\\win": f"{base}up",
        "第一行 第二行 第三行": "https://e.com/nl",
        "括号\\]\\(https://evil.example/)后": "https://e.com/br",
        "\\]\\(": "https://e.com/only",
        huge: "https://e.com/huge",
        "同一 guid 甲": "https://e.com/d1",
    }
    seen = {}
    for article_id in ids:
        text = runner.article("news", article_id)
        line2, _body = assert_article_shape(text)
        record = record_from_text(article_id, text)
        assert line2 == f"[{record.title}]({record.link})"
        seen[record.title] = record.link
    assert seen == expected
    page = (runner.archive / "lists/新闻.md").read_text("utf-8")
    assert_list_well_formed(page, "新闻", "news", ids)

    # a second run with the same hostile feed archives nothing again and stays contained
    assert run_json(runner, capsys)["new"] == 0
    assert assert_contained(runner, "news", "新闻") == ids


def test_nul_and_control_characters_in_a_json_feed(
    runner: Runner, capsys: pytest.CaptureFixture[str]
) -> None:
    controls = "".join(chr(c) for c in range(32) if chr(c) not in "\n\r") + "\x7f\x85\u2028"
    date = {"date_published": "2020-07-20T07:41:21Z"}
    items = [
        {"id": "../\x00/etc", "url": "https://e.com/a", "title": f"标题\x00{controls}尾", **date,
         "content_html": "<p>正\x00文</p>"},
        {"id": "nul-link", "url": "https://e.com/\x00b", "title": "NUL 链接", **date},
        {"id": "\x00", "url": "https://e.com/c\x1f\x7f", "title": "控制\x1b[31m字符", **date,
         "content_html": "<p>\x1b[2J</p>"},
    ]  # fmt: skip
    body = json.dumps({"version": "https://jsonfeed.org/version/1.1", "title": "J", "items": items})
    one_source(runner, body.encode(), content_type="application/feed+json")
    report = run_json(runner, capsys)

    ids = assert_contained(runner, "news", "新闻")
    assert len(ids) == 2
    assert skip_reasons(report) == ["bad link: link contains a NUL character"]
    for article_id in ids:
        text = runner.article("news", article_id)
        assert "\x00" not in text  # git and GitHub would show the whole article as a binary file
        line2, _body = assert_article_shape(text)
        record = record_from_text(article_id, text)
        assert line2 == f"[{record.title}]({record.link})"
        assert record.link.startswith("https://e.com/")
    assert_list_well_formed((runner.archive / "lists/新闻.md").read_text("utf-8"), "新闻", "news", ids)
    # git sees text, not a binary file (GitHub would not show the article at all)
    assert runner.git(
        "diff", "--numstat", "4b825dc642cb6eb9a060e54bf8d69288fbee4904", "HEAD", "--", "articles"
    )
    numstat = runner.git(
        "diff", "--numstat", "4b825dc642cb6eb9a060e54bf8d69288fbee4904", "HEAD", "--", "articles"
    )
    assert all(not line.startswith("-\t") for line in numstat.splitlines())


def test_ten_thousand_items_in_one_feed(runner: Runner, capsys: pytest.CaptureFixture[str]) -> None:
    items = [
        It(
            f"条目 {n}",
            f"https://e.com/{n}",
            f"Mon, 20 Jul 2020 07:{n // 600 % 60:02}:{n % 60:02} GMT",
            guid=f"g{n}",
        )
        for n in range(10_000)
    ]
    feed = rss(*items)
    # the pure stages: parse, prepare, decide, render (their speed: benchmarks/bench_run.py)
    source = Source(name="新闻", slug="news", url="https://e.com/feed")
    prepared = prepare(source, parse_feed(feed, slug="news"))
    plan = decide(source, SourceIndex(), prepared.candidates, now_ms=NOW_MS)
    texts = [
        render_article(Article(p.id, p.ms, p.candidate.title, p.candidate.link, None, ""))
        for p in plan.writes
    ]
    assert len(texts) == 10_000

    one_source(runner, feed)
    report = run_json(runner, capsys)  # end to end: also 10,000 files written and one git commit
    assert report["new"] == 10_000

    ids = assert_contained(runner, "news", "新闻")
    assert len(ids) == 10_000
    assert ids == list(range(1048575 - 10_000, 1048575))
    assert_list_well_formed((runner.archive / "lists/新闻.md").read_text("utf-8"), "新闻", "news", ids)
    assert runner.commits() == 1


class _ActiveMarkup(HTMLParser):
    """Everything in rendered HTML that could run: script-like tags, on… handlers, script URLs."""

    ACTIVE_TAGS = frozenset({"script", "object", "embed", "applet", "base", "meta", "link", "form", "frame"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.ACTIVE_TAGS:
            self.found.append(f"<{tag}>")
        for name, value in attrs:
            squeezed = re.sub(r"[\x00-\x20]", "", value or "").lower()
            if name.startswith("on") or squeezed.startswith(("javascript:", "vbscript:", "data:text/html")):
                self.found.append(f"<{tag} {name}={value!r}>")


def active_markup(html: str) -> list[str]:
    parser = _ActiveMarkup()
    parser.feed(html)
    parser.close()
    return parser.found


def render_markdown(text: str) -> str:
    """HTML of an article file as a Markdown renderer that passes raw HTML would make it."""
    markdown_it = pytest.importorskip("markdown_it", reason="markdown-it-py not installed")
    return str(markdown_it.MarkdownIt("commonmark", {"html": True}).render(text))


HOSTILE_BODIES = {
    "script": '<p>前</p><script>alert("x")</script><p>后</p>',
    "onerror": '<p>图</p><img src="https://img.example/a.jpg" onerror="alert(1)">',
    "handlers": "<div onmouseover=alert(1) ONCLICK = 'alert(2)'>悬停</div><body onload=alert(3)>",
    "js-url": '<a href="javascript:alert(1)">链接</a><a href=" JaVaScRiPt:alert(2)">二</a>',
    "entity-url": '<a href="jav&#x09;ascript&colon;alert(1)">实体</a>',
    "iframe": '<iframe src="javascript:alert(1)"></iframe>'
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    "svg": '<svg><script>alert(1)</script><a xlink:href="javascript:alert(1)">s</a></svg>',
    "split": "<scr\n<script>ipt>alert(1)</script>\n<img src=x\n onerror=alert(1)>",
    "style": '<p style="background:url(javascript:alert(1))">样式</p>'
    "<style>*{x:expression(alert(1))}</style>",
    "meta": '<meta http-equiv="refresh" content="0;url=javascript:alert(1)"><form action="javascript:x">',
}
INERT = '<p>段落 <b>粗</b></p><img src="https://img.example/a.jpg" alt="图"><a href="https://e.com/x">链</a>'


def test_active_content_never_reaches_a_rendered_article(
    runner: Runner, capsys: pytest.CaptureFixture[str]
) -> None:
    items = [It(f"正文 {k}", f"https://e.com/{k}", JUL20, body) for k, body in HOSTILE_BODIES.items()]
    items.append(It("无害正文", "https://e.com/inert", JUL20, INERT))
    items.append(It('<img src=x onerror="alert(1)"><script>alert(2)</script>', "https://e.com/t", JUL20))
    one_source(runner, rss(*items))
    report = run_json(runner, capsys)
    assert report["new"] == len(items)

    ids = assert_contained(runner, "news", "新闻")
    by_link = {}
    for article_id in ids:
        text = runner.article("news", article_id)
        _line2, body = assert_article_shape(text)
        by_link[record_from_text(article_id, text).link] = (text, body)
        assert active_markup(body) == [], body
        assert "<script" not in body.lower()
        rendered = render_markdown(text)
        assert active_markup(rendered) == [], rendered
        assert "<script" not in rendered.lower()
    # inert markup is kept byte for byte, and the rest of a cleaned body survives
    # an inert body keeps every byte but for its image, through the proxy (images = "proxy")
    proxied = INERT.replace(
        'src="https://img.example/a.jpg"', 'src="https://images.weserv.nl/?url=img.example/a.jpg"'
    )
    assert by_link["https://e.com/inert"][1] == proxied
    assert by_link["https://e.com/script"][1] == "<p>前</p><p>后</p>"
    assert (
        '<img src="https://images.weserv.nl/?url=img.example/a.jpg">' in by_link["https://e.com/onerror"][1]
    )
    assert ">链接</a>" in by_link["https://e.com/js-url"][1]


def test_an_absurd_date_leaves_the_item_undated(runner: Runner, capsys: pytest.CaptureFixture[str]) -> None:
    one_source(
        runner,
        rss(
            It("日期荒谬", "https://e.com/a", "Mon, 20 Jul 2020 19:23:1" + "0" * 90 + "4 +0800"),
            It("正常", "https://e.com/b", JUL20),
        ),
    )
    report = run_json(runner, capsys)  # found by fuzz/fuzz_feed.py
    assert report["new"] == 2
    assert len(assert_contained(runner, "news", "新闻")) == 2


def test_a_pre_1970_date_is_not_believed_and_a_negative_timestamp_reads_back(runner: Runner) -> None:
    one_source(runner, rss(It("古老", "https://e.com/old", "Tue, 03 Jan 1011 00:00:00 GMT")))
    assert runner.run() == 0
    [article_id] = assert_contained(runner, "news", "新闻")
    text = runner.article("news", article_id)
    assert text.startswith(f"<!--{NOW_MS}-->\n")  # dated when first seen: 1011 is no news date
    # files of other archives may carry one: it reads back (found by fuzz/fuzz_feed.py)
    old = text.replace(f"<!--{NOW_MS}-->", "<!---30262982400000-->", 1)
    assert record_from_text(article_id, old).ms == -30262982400000


def test_an_absurd_zone_offset_leaves_the_item_undated(runner: Runner) -> None:
    one_source(
        runner,
        rss(
            It("时区荒谬", "https://e.com/a", "Mon, 20 Jul 2020 19:23:14 +0000" + "8" * 90),
            It("正常", "https://e.com/b", JUL20),
        ),
    )
    assert runner.run() == 0  # found by fuzz/fuzz_feed.py: the list page could not show its date
    ids = assert_contained(runner, "news", "新闻")
    assert len(ids) == 2
    odd = runner.article("news", ids[0])  # undated: takes the run's time, the newest, lowest id
    assert odd.startswith(f"<!--{NOW_MS}-->\n[时区荒谬]")
    assert_list_well_formed((runner.archive / "lists/新闻.md").read_text("utf-8"), "新闻", "news", ids)
