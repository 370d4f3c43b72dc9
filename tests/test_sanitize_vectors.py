"""Known XSS vectors from public collections (tests/xss/SOURCES.md) through the sanitizer.

Each vector is a body, and a title, of an archived article. Whatever comes out is rendered the
ways a reader's mirror may render it — as HTML, by markdown-it-py (raw HTML on, every link
accepted) and by cmark-gfm in unsafe mode — and parsed by an HTML5 parser: nothing in any of
them may run (``tests/browser_view.py``, the oracle, is written apart from the code it checks).
"""

from __future__ import annotations

import json
from pathlib import Path

import cmarkgfm
import pytest
from cmarkgfm.cmark import Options
from selectolax.lexbor import LexborHTMLParser

from newsmirror.transform import active as active_module
from newsmirror.transform import cmark
from newsmirror.transform.active import has_active_content
from newsmirror.transform.sanitize import neutralize, neutralize_title
from newsmirror.transform.text import clean_title, join_lines

from .browser_view import renderings, running_parts
from .conftest import Runner
from .test_hostile_items import assert_contained, assert_list_well_formed, one_source, run_json

VECTOR_FILES = sorted((Path(__file__).parent / "xss").glob("vectors*.jsonl"))
if not VECTOR_FILES:
    pytest.skip("XSS VECTOR CORPUS MISSING (tests/xss/vectors*.jsonl)", allow_module_level=True)
# one record a line: split on LF alone (a vector can hold U+2028, which splitlines() splits on)
LINES = [line for path in VECTOR_FILES for line in path.read_text("utf-8").split("\n") if line]
VECTORS = [json.loads(line)["vector"] for line in LINES]

# The cases the adversarial pass found (issue 8, part 5), each with what must stay of it.
NAMED = {
    '<p>甲</p><img src="x"onerror=alert(1)>': "<p>甲</p>",
    '<p>甲</p><img src="x"/onerror=alert(1)>': "<p>甲</p>",
    '<p>甲</p><a href="x"onclick=alert(1)>链</a>': ">链</a>",
    '<p>甲</p><iframe srcdoc="&lt;script&gt;alert(1)&lt;/script&gt;"></iframe>': "<p>甲</p>",
    '<a href="data:application/xhtml+xml,&lt;script&gt;alert(1)&lt;/script&gt;">甲</a>': ">甲</a>",
    '<iframe src="data:image/svg+xml,&lt;svg onload=alert(1)&gt;"></iframe><p>乙</p>': "<p>乙</p>",
    "<p>丙</p>\n\n[点此](javascript:alert(1))": "<p>丙</p>",
    "<p>丁</p>\n\n<javascript:alert(1)>": "<p>丁</p>",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript><p>戊</p>': "<p>戊</p>",
}


def test_the_corpus_is_there_and_the_oracle_sees_its_vectors_run() -> None:
    assert len(VECTORS) >= 1500
    running = sum(bool(running_parts(v)) for v in VECTORS)
    assert running > len(VECTORS) // 2  # the oracle is not blind: most vectors run as they are


def test_the_archivers_cmark_gfm_call_renders_what_cmarkgfms_own_does() -> None:
    extensions = list(cmark.EXTENSIONS)
    for vector in VECTORS:
        own = cmarkgfm.markdown_to_html_with_extensions(vector, Options.CMARK_OPT_UNSAFE, extensions)
        assert cmark.render(vector) == own


def test_a_one_line_body_opening_with_a_block_tag_is_rendered_as_itself_by_both() -> None:
    """The detector's shortcut (``active._renderings``): such a body is one HTML block."""
    one_line = [join_lines(v) for v in VECTORS] + [f"<p>{v}</p>".replace("\n", "") for v in VECTORS]
    taken = [t for t in one_line if active_module._renderings(t) == ()]
    assert len(taken) > 1000
    for text in taken:
        for renderer, html in renderings(text).items():
            assert html.rstrip("\n") == text.rstrip(), (renderer, text)


def test_no_vector_runs_in_any_rendering_after_the_sanitizer() -> None:
    left = [(v, parts) for v in VECTORS if (parts := running_parts(neutralize(v)))]
    assert left == []


def test_no_vector_runs_as_the_archive_writes_a_body_on_one_line() -> None:
    left = [(v, parts) for v in VECTORS if (parts := running_parts(neutralize(join_lines(v))))]
    assert left == []


def test_no_vector_runs_as_a_title() -> None:
    left = []
    for vector in VECTORS:
        title = neutralize_title(clean_title(vector))
        for line in (f"[{title}](https://e.com/a)", f"# {title}", f"6-13 [{title}](/articles/x/1.md)"):
            if parts := running_parts(line):
                left.append((vector, line, parts))
    assert left == []


@pytest.mark.parametrize("body", list(NAMED))
def test_the_named_cases_are_active_and_cut_to_what_is_inert(body: str) -> None:
    assert has_active_content(body)
    assert running_parts(body)
    out = neutralize(body)
    assert running_parts(out) == []
    assert NAMED[body] in out


def test_a_body_that_is_all_active_comes_out_empty_not_as_escaped_text() -> None:
    """The first inert fallback is taken, also when it is empty; escaped text is the last resort."""
    body = '<img src="x` `<script>alert(1)</script>"` `>'
    assert has_active_content(body)
    assert neutralize(body) == ""


@pytest.mark.parametrize(
    "prose",
    [
        "<p>javascript: 一种语言；vbscript: 已淘汰；data: text/html 是一种类型</p>",
        '<noscript><img src="https://e.com/a.jpg"></noscript><p>懒加载的图片</p>',
        '<img src="data:image/svg+xml,%3Csvg%20xmlns=%22http://www.w3.org/2000/svg%22%3E%3C/svg%3E">',
        "<p>一段文字 <code>&lt;script&gt;</code> 和注释</p><!-- <script>旧的</script> -->",
        '<iframe src="https://www.youtube.com/embed/x"><script>alert(1)</script></iframe>',
    ],
)
def test_what_a_browser_shows_as_text_or_only_draws_is_kept_byte_for_byte(prose: str) -> None:
    assert running_parts(prose) == []
    assert neutralize(prose) == prose


def test_hostile_titles_show_as_their_text_in_files_and_lists(
    runner: Runner, capsys: pytest.CaptureFixture[str]
) -> None:
    titles = {
        "srcdoc": '<iframe srcdoc="&lt;script&gt;alert(1)&lt;/script&gt;">标题',
        "plaintext": "<plaintext>标题",
        "phishing": '<a href="https://phish.example/login">请重新登录</a>',
        "tracking": '<img src="https://track.example/p.gif">标题',
        "image": "![](https://track.example/p.gif)标题",
        "overlay": '<div style="position:fixed;top:0;left:0;width:100%;height:100%">假页面</div>',
        "autolink": "<https://phish.example/login> 标题",
        "inert": "3 < 5 的标题",
    }
    items = [
        {"id": k, "url": f"https://e.com/{k}", "title": t, "content_html": "<p>正文</p>",
         "date_published": "2020-07-20T07:41:21Z"}
        for k, t in titles.items()
    ]  # fmt: skip
    feed = {"version": "https://jsonfeed.org/version/1.1", "title": "J", "items": items}
    one_source(runner, json.dumps(feed).encode(), content_type="application/feed+json")
    assert run_json(runner, capsys)["new"] == len(titles)

    ids = assert_contained(runner, "news", "新闻")
    page = (runner.archive / "lists/新闻.md").read_text("utf-8")
    assert_list_well_formed(page, "新闻", "news", ids)
    for text in [page, *(runner.article("news", i) for i in ids)]:
        for renderer, html in renderings(text).items():
            if renderer == "html":
                continue
            for tag in ("img", "iframe", "plaintext", "div", "script"):
                assert f"<{tag}" not in html, f"{renderer} made a <{tag}> of a title:\n{html}"
            assert deceptive_links(html) == [], renderer
    assert "[3 < 5 的标题](" in page  # a < that starts no markup stays as it was


def deceptive_links(html: str) -> list[str]:
    """Links whose target is neither the archive's own nor the very URL they show."""
    root = LexborHTMLParser(html).root
    links = root.css("a") if root is not None else []
    return [
        href
        for a in links
        if not (href := a.attributes.get("href") or "").startswith(("https://e.com/", "/articles/news/"))
        and href != a.text(deep=True).strip()
    ]
