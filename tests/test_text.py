"""JavaScript whitespace, body joining, titles, WHATWG links."""

from __future__ import annotations

import pytest

from newsmirror.transform.text import clean_title, join_lines, js_strip
from newsmirror.transform.urls import BadLink, normalize_link


def test_js_strip_differs_from_python_strip() -> None:
    assert js_strip("\ufeff\u3000 a \u00a0\u2028") == "a"
    assert js_strip("\x85a\u200b") == "\x85a\u200b"  # U+0085 and U+200B are not JS whitespace
    assert "\x1ca".strip() == "a"
    assert js_strip("\x1ca") == "\x1ca"


def test_join_lines_strips_every_line_and_joins_with_nothing() -> None:
    assert join_lines("  <p>a</p> \r\n\t<p>b</p>\u3000\n\n c ") == "<p>a</p><p>b</p>c"
    assert join_lines("one\rtwo") == "one\rtwo"  # only LF splits, as in the original


def test_title_is_stripped_and_kept_on_one_line() -> None:
    assert clean_title("  标题 \u3000") == "标题"
    assert clean_title("标题\n") == "标题"
    assert clean_title("上\n  下") == "上 下"
    assert clean_title("a  b") == "a  b"


@pytest.mark.parametrize(
    ("raw", "href"),
    [
        ("https://CN.NYTIMES.COM:443/a", "https://cn.nytimes.com/a"),
        ("https://www.dw.com/zh/新冠/a-1", "https://www.dw.com/zh/%E6%96%B0%E5%86%A0/a-1"),
        ("http://www.rfi.fr//cn/x", "http://www.rfi.fr//cn/x"),
        ("https://x.net/%e3%80%90a", "https://x.net/%e3%80%90a"),
        ("https://x.net/a b", "https://x.net/a%20b"),
        ("/cn/a", "https://feed.example/cn/a"),
    ],
)
def test_links_serialise_like_new_url(raw: str, href: str) -> None:
    assert normalize_link(raw, "https://feed.example/rss/x.xml") == href


@pytest.mark.parametrize("raw", ["http://[::1", "javascript:alert(1)", "data:text/html,x", "https://a\x00b"])
def test_bad_links_raise(raw: str) -> None:
    with pytest.raises(BadLink):
        normalize_link(raw, "https://feed.example/")
