"""The full-text stage (transform/fulltext.py): site rules on pages in each site's structure, the
generic extractors on real pages of others (tests/fulltext/cwce, MIT), the quality gate, page
encodings, and a run that keeps an article's feed body when its page gives none."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from selectolax.lexbor import LexborHTMLParser

from newsmirror.parse.page import decode_page
from newsmirror.transform.fulltext import full_text
from newsmirror.transform.sites import SiteRule, rule_for, site_rules

from .conftest import Runner
from .feeds import It, rss
from .servers import Reply

HERE = Path(__file__).parent / "fulltext"
SITES = HERE / "sites"
CWCE = HERE / "cwce"
FEED_SUMMARY = "<p>摘要：一句话。</p>"


def text_of(html: str) -> str:
    body = LexborHTMLParser(html).body
    return "".join((body.text() if body is not None else "").split())


def expected(name: str) -> tuple[list[str], list[str]]:
    """The test page's expected paragraphs, and the boilerplate that must not be in the body."""
    wanted, _, unwanted = (SITES / f"{name}.txt").read_text("utf-8").partition("\n----\n")
    return wanted.split(), unwanted.splitlines()


def test_every_rule_has_its_test_page() -> None:
    assert {r.test_page for r in site_rules()} == {p.name for p in SITES.glob("*.html")}


@pytest.mark.parametrize("rule", site_rules(), ids=lambda r: r.name)
def test_a_sites_rule_takes_its_body_and_nothing_around_it(rule: SiteRule) -> None:
    name = rule.name
    url = f"https://www.{rule.hosts[0]}/a/2026/story.html"
    assert rule_for(url) is rule
    page = (SITES / f"{name}.html").read_text("utf-8")
    body = full_text(page, url, "auto", FEED_SUMMARY)
    assert (body.via, body.reason) == (f"rule {name}", None)
    text = text_of(body.html)
    wanted, unwanted = expected(name)
    assert all(paragraph in text for paragraph in wanted), name
    assert not [line for line in unwanted if "".join(line.split()) in text]
    # the lazy image is promoted and made absolute against the page's URL
    assert f'src="https://www.{rule.hosts[0]}/images/{name}-1.jpg"' in body.html
    assert "data-src" not in body.html


def cwce(name: str) -> tuple[bytes, list[str]]:
    if not CWCE.is_dir():
        pytest.skip(f"DATA MISSING: {CWCE}")
    lines = (CWCE / "cleaned" / f"{name}.txt").read_text("utf-8", errors="replace").splitlines()
    return (CWCE / "original" / f"{name}.html").read_bytes(), [
        "".join(x.split()) for x in lines if len(x.strip()) >= 15
    ]


@pytest.mark.parametrize(
    ("name", "encoding", "origin"),
    [
        ("05e98007-d810-4036-b154-2ef2fe68c2af", "gb18030", "meta"),  # <meta charset=gb2312>
        ("c38e2b2d-b578-4808-9251-3abf183ef19e", "gb18030", "guessed"),  # GBK, declaring nothing
        ("274a65d9-46df-45be-b9f6-4d18ba911427", "utf-8", "byte order mark"),
    ],
)
def test_real_chinese_pages_are_decoded_and_their_text_found_by_the_generic_extractor(
    name: str, encoding: str, origin: str
) -> None:
    data, lines = cwce(name)
    page = decode_page(data)
    assert (page.encoding, page.origin) == (encoding, origin)
    assert "\ufffd" not in page.text
    body = full_text(page.text, "https://example.org/a.html", "auto", FEED_SUMMARY)
    assert body.via in ("readability", "trafilatura")
    text = text_of(body.html)
    assert sum(line in text for line in lines) >= 0.9 * len(lines)  # the hand-copied main text


def test_a_page_of_links_keeps_the_feeds_body_with_the_reason() -> None:
    items = "".join(f"<li><a href='/n/{n}'>第{n}条新闻的标题，点击阅读全文</a> 评论</li>" for n in range(40))
    page = f"<html><body><div id='list'><ul>{items}</ul></div></body></html>"
    body = full_text(page, "https://example.org/a.html", "auto", FEED_SUMMARY)
    assert (body.html, body.via) == (FEED_SUMMARY, "feed")
    assert body.reason is not None
    assert "mostly links" in body.reason or body.reason == "no extractor found an article body on the page"


def test_a_declared_encoding_with_a_few_broken_bytes_is_still_read_as_declared() -> None:
    data, _ = cwce("b70f455d-50d6-4c8c-a450-07d8e5ca2e06")  # gb2312 declared, 12 bytes broken
    page = decode_page(data)
    assert (page.encoding, page.origin) == ("gb18030", "meta")
    assert 0 < page.text.count("\ufffd") <= 20


def test_http_charset_that_lies_about_a_gbk_page_is_passed_over() -> None:
    data, _ = cwce("05e98007-d810-4036-b154-2ef2fe68c2af")
    assert decode_page(data, "utf-8").encoding == "gb18030"


ARTICLE = "".join(
    f"<p>第{n}段：这是一篇完整的新闻报道，记者在现场采访了多位当事人，记录了事情的经过。</p>"
    for n in range(6)
)


@pytest.mark.parametrize(
    ("page", "reason"),
    [
        ("<html><body><article><p>太短了。</p></article></body></html>", "too short"),
        ("<html><title>Just a moment...</title><body><p>Just a moment... Checking your browser before "
         "accessing the site. Enable JavaScript and cookies to continue. 请开启JavaScript并刷新。" * 2
         + "</p></body></html>", "bot check"),
    ],
)  # fmt: skip
def test_the_gate_rejects_what_is_no_article(page: str, reason: str) -> None:
    body = full_text(page, "https://example.org/a.html", "auto", FEED_SUMMARY)
    assert (body.html, body.via) == (FEED_SUMMARY, "feed")
    assert body.reason is not None
    assert reason in body.reason


def test_a_feed_that_already_has_the_full_text_keeps_it() -> None:
    page = f"<html><body><nav><a href='/'>首页</a></nav><article>{ARTICLE}</article></body></html>"
    body = full_text(page, "https://example.org/a.html", "auto", ARTICLE)
    assert (body.html, body.via, body.reason) == (ARTICLE, "feed", None)


def test_a_sources_own_selector_stays_as_the_original_read_it() -> None:
    page = '<html><body><div class="post-content"><p>正文 <a href="/x">链接</a></p></div></body></html>'
    body = full_text(page, "https://example.org/a.html", "div.post-content", FEED_SUMMARY)
    assert (body.html, body.via) == ('<p>正文 <a href="/x">链接</a></p>', "selector")  # no rewrite
    missed = full_text(page, "https://example.org/a.html", "div.nothing", FEED_SUMMARY)
    assert (missed.html, missed.via) == (FEED_SUMMARY, "feed")
    assert missed.reason == "no element matches 'div.nothing'"


def test_a_run_keeps_the_feed_body_of_an_article_whose_page_gives_none(
    runner: Runner, capsys: pytest.CaptureFixture[str]
) -> None:
    base = runner.server.url("")
    runner.server.routes["/good.html"] = Reply(
        f"<html><body><nav>导航</nav><article>{ARTICLE}</article></body></html>".encode("gb18030"),
        content_type="text/html; charset=gbk",
    )
    runner.server.routes["/image.html"] = Reply(b"\x89PNG\r\n\x1a\n", content_type="image/png")
    feed = rss(
        It("好", f"{base}/good.html", body=FEED_SUMMARY),
        It("图", f"{base}/image.html", body=FEED_SUMMARY),
        It("缺", f"{base}/missing.html", body=FEED_SUMMARY),
    )
    runner.sources({"name": "全文", "slug": "full", "url": runner.feed("full", feed), "fulltext": "auto"})
    assert runner.run() == 0
    out = capsys.readouterr().out
    bodies = {}
    for path in (runner.archive / "articles/full").rglob("*.md"):
        lines = path.read_text("utf-8").split("\n")
        bodies[re.sub(r"^\[(.*?)\].*", r"\1", lines[1])] = lines[4]
    assert set(bodies) == {"好", "图", "缺"}  # none left out
    assert "第5段" in bodies["好"]
    assert bodies["图"] == bodies["缺"] == FEED_SUMMARY
    assert "图): kept the feed's body: article page: not an HTML page (image/png)" in out
    assert "缺): kept the feed's body: article page: HTTP 404" in out
    # each article's record says which path produced its body
    records = [json.loads(line) for f in (runner.archive / ".newsmirror/records/full").glob("*.jsonl")
               for line in f.read_text("utf-8").splitlines()]  # fmt: skip
    assert {r["title"]: r["body_from"] for r in records} == {"好": "readability", "图": "feed", "缺": "feed"}


def test_bad_pages_each_keep_the_feed_body_with_their_reason_and_the_run_goes_on(
    runner: Runner, capsys: pytest.CaptureFixture[str]
) -> None:
    """Part 4 of the content issue: an enormous page, broken markup, a bot check, a paywall, an
    error page served with 200 — each article archived with its feed body and the reason."""
    base = runner.server.url("")
    pages = {
        "huge": (b"<html><body><p>" + "很长的页面。".encode() * 40_000 + b"</p></body></html>", "too_large"),
        "broken": (
            f"<html><body><div><p>{ARTICLE}<div><table><tr><td>未闭合".encode() + b"\xff\xfe<<<>>></td>",
            None,  # broken markup is still read: the article's text is found
        ),
        "bot": (
            b"<html><head><title>Just a moment...</title></head><body><p>Checking your browser "
            b"before accessing. Enable JavaScript and cookies to continue</p></body></html>",
            "bot check",
        ),
        "paywall": (
            "<html><body><article><p>订阅后继续阅读全文。</p></article></body></html>".encode(),
            "too short",
        ),
        "error": (b"<html><body><h1>500</h1><p>Internal error</p></body></html>", "too short"),
    }  # fmt: skip
    for name, (body, _) in pages.items():
        runner.server.routes[f"/{name}.html"] = Reply(body, content_type="text/html; charset=utf-8")
    feed = rss(*(It(name, f"{base}/{name}.html", body=FEED_SUMMARY) for name in pages))
    sources = runner.sources(
        {"name": "坏页", "slug": "bad", "url": runner.feed("bad", feed), "fulltext": "auto"}
    )
    sources.write_text("[fetch]\nmax_bytes = 200000\n" + sources.read_text("utf-8"), "utf-8")
    assert runner.run() == 0
    out = capsys.readouterr().out
    bodies = {}
    for path in (runner.archive / "articles/bad").rglob("*.md"):
        lines = path.read_text("utf-8").split("\n")
        bodies[re.sub(r"^\[(.*?)\].*", r"\1", lines[1])] = lines[4]
    assert set(bodies) == set(pages)  # every article archived
    for name, (_, reason) in pages.items():
        if reason is None:
            assert "第5段" in bodies[name]
        else:
            assert bodies[name] == FEED_SUMMARY, name
            assert re.search(rf"{name}\): kept the feed's body: .*{reason}", out), name


@pytest.mark.parametrize(
    ("data", "charset", "encoding", "origin"),
    [
        (b"<meta charset=x-user-defined><p>abc</p>", None, "utf-8", "UTF-8"),  # no Python codec: passed over
        (
            "<p>中文新闻正文内容，这是一段国标编码的文本。</p>".encode("gb18030") * 20,
            "utf-8",
            "gb18030",
            "guessed",
        ),
        (b"\xfe\xff" + "<p>中文</p>".encode("utf-16-be"), None, "utf-16-be", "byte order mark"),
        (b"<html><meta charset=utf-16><p>Hello world</p>", None, "utf-8", "meta"),  # UTF-16 meta: UTF-8
    ],
)
def test_page_encodings_a_review_found(data: bytes, charset: str | None, encoding: str, origin: str) -> None:
    page = decode_page(data, charset)
    assert (page.encoding, page.origin) == (encoding, origin)
    assert "\ufffd" not in page.text
