"""Feeds with the faults real servers send: strict first, then every item a lenient reading finds.

Each fault has a fixture (``tests/data/recovery/`` or inline) and two checks: what newsmirror
reads, with ``Feed.recovered`` naming the fault, and that it finds at least as many entries as
feedparser, the most forgiving feed parser there is.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import feedparser
import pytest

from newsmirror.exceptions import ParseError
from newsmirror.parse import parse_feed
from newsmirror.types import Feed

DATA = Path(__file__).parent / "data" / "recovery"


def read(name: str) -> bytes:
    return (DATA / name).read_bytes()


def feedparser_count(data: bytes) -> int:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # feedparser warns about its own deprecations
        return len(feedparser.parse(data).entries)


def recovered(data: bytes, *, allowance: int = 0) -> Feed:
    """The feed, which must have needed recovery and found as many entries as feedparser.

    ``allowance``: entries feedparser finds that must not be archived (an unfinished item).
    """
    feed = parse_feed(data, slug="s")
    assert feed.recovered, "the strict parse should have failed over this document"
    assert len(feed.entries) >= feedparser_count(data) - allowance
    return feed


def test_a_well_formed_feed_is_not_marked_recovered() -> None:
    data = read("entities.xml").replace(b"&nbsp;", b"&#160;").replace(b"&hellip;", b"&#8230;")
    data = data.replace(b"&mdash;", b"&#8212;").replace(b"&colon;", b":").replace(b"x=1&y", b"x=1&amp;y")
    data = data.replace(b"A & B", b"A &amp; B")
    assert parse_feed(data, slug="s").recovered is None


def test_html_named_entities_become_their_characters() -> None:
    feed = recovered(read("entities.xml"))
    first, second, _ = feed.entries
    assert first.title == "港股\u00a0收市…"
    assert second.title == "北京—上海"
    assert second.description == "说明:正文"
    assert feed.recovered is not None
    assert feed.recovered.startswith("undefined entity &nbsp; at line 7 (and 3 more)")


def test_inside_cdata_an_entity_is_text_and_stays_as_written() -> None:
    (first, *_) = recovered(read("entities.xml")).entries
    assert first.description == "<p>CDATA 里的 &nbsp; 原样</p>"


def test_a_bare_ampersand_is_kept_as_an_ampersand() -> None:
    feed = recovered(read("entities.xml"))
    third = feed.entries[2]
    assert third.title == "A & B 公司"
    assert third.link == "https://news.example/a/3?x=1&y=2"
    assert feed.recovered is not None
    assert "a bare & at line 21 (and 1 more)" in feed.recovered


def test_an_entity_html_does_not_know_either_is_kept_as_text() -> None:
    data = b"<rss><channel><item><title>a &bogus; b</title><link>https://e.com/1</link></item></channel></rss>"
    (entry,) = recovered(data).entries
    assert entry.title == "a &bogus; b"


def test_undefined_entities_under_an_external_dtd_become_their_characters() -> None:
    # libxml2 parses this strictly (the DTD might define them) and keeps "&nbsp;" as a node
    data = (
        b'<?xml version="1.0"?>\n<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN"'
        b' "http://my.netscape.com/publish/formats/rss-0.91.dtd">\n<rss version="0.91"><channel>'
        b"<item><title>a&nbsp;b</title><link>https://e.com/1</link><description>x&hellip;<b>y</b>"
        b"</description></item></channel></rss>"
    )
    feed = parse_feed(data, slug="s")
    (entry,) = feed.entries
    assert (entry.title, entry.description) == ("a\u00a0b", "x…<b>y</b>")
    assert feed.recovered == "undefined entity &nbsp; at line 3 (and 1 more)"


def test_control_characters_are_removed_and_the_items_kept() -> None:
    feed = recovered(read("control-characters.xml"))
    assert [e.title for e in feed.entries] == ["标题一", "标题二", "标题三"]
    assert feed.entries[0].description == "正文"
    assert feed.recovered == "control character U+0001 at line 7 (and 4 more)"


def test_a_script_after_the_root_element_is_ignored() -> None:
    feed = recovered(read("script-after-root.xml"))
    assert [e.title for e in feed.entries] == ["标题一", "标题二"]
    assert feed.recovered == "content after the root element at line 22"


def test_a_blank_line_before_the_xml_declaration_is_dropped() -> None:
    feed = recovered(read("blank-line-before-declaration.xml"))
    assert [e.title for e in feed.entries] == ["标题一", "标题二"]
    assert feed.recovered == "whitespace before the XML declaration"


@pytest.mark.parametrize("name", ["cut-off-rss.xml", "cut-off-atom.xml"])
def test_a_feed_cut_off_mid_item_keeps_the_complete_items_only(name: str) -> None:
    feed = recovered(read(name), allowance=1)  # feedparser also returns the unfinished item
    assert len(feed.entries) == 3
    assert feed.entries[-1].title in ("标题三", "条目3")
    assert feed.recovered is not None
    assert "cut off" in feed.recovered
    assert "the unfinished last item is left out" in feed.recovered


def test_a_feed_cut_off_before_its_first_item_ends_still_fails() -> None:
    with pytest.raises(ParseError) as caught:
        parse_feed(read("cut-off-rss.xml").split(b"</item>")[0], slug="s")
    assert caught.value.code == "bad_xml"


def test_tags_that_do_not_match_are_recovered() -> None:
    feed = recovered(read("unescaped-html-in-description.xml"))
    assert [e.title for e in feed.entries] == ["标题一", "标题二"]
    assert feed.recovered is not None
    assert feed.recovered == "an HTML <br> never closed at line 11"
    assert feed.entries[0].description == "<p>第一段<br/>第二段</p>"


def test_items_swallowed_by_a_lost_end_tag_are_found_in_order() -> None:
    data = b"<rss><channel>" + b"".join(
        b"<item><title>%d</title><link>https://e.com/%d</link>%s</item>" % (n, n, body)
        for n, body in ((1, b"<description><p>x<span>y</p></description>"), (2, b""), (3, b""))
    ) + b"</channel></rss>"
    feed = recovered(data)
    assert [e.title for e in feed.entries] == ["1", "2", "3"]
    assert feed.recovered is not None
    assert feed.recovered.startswith("invalid XML at line 1: Opening and ending tag mismatch: span")


def test_an_html_page_stays_not_a_feed() -> None:
    data = read("html-page.html")
    assert b"<html" not in data[:512]  # past the quick look: the recovered root tells
    with pytest.raises(ParseError) as caught:
        parse_feed(data, slug="s")
    assert caught.value.code == "not_a_feed"
    assert "HTML page" in caught.value.reason


@pytest.mark.parametrize(
    "data",
    [
        bytes(range(256)) * 8,
        b"<" + bytes(range(32, 128)) * 4,
        b"<?xml version='1.0'?><root><a>1</b>",
        b"<rss><channel><title>T</title></channel><junk",
        b"PK\x03\x04" + b"\x00\x10binary\xff" * 40,
    ],
    ids=["bytes", "ascii_noise", "other_xml", "no_items", "zip"],
)
def test_garbage_is_never_recovered_into_an_ok_feed(data: bytes) -> None:
    with pytest.raises(ParseError) as caught:
        parse_feed(data, slug="s")
    assert caught.value.code in ("bad_xml", "bad_encoding", "not_a_feed")


# --- encodings ---------------------------------------------------------------------------------

FEED_TEXT = (
    '<?xml version="1.0" encoding="{label}"?>\n<rss version="2.0"><channel><title>頻道</title>'
    "<item><title>中文標題</title><link>https://e.com/1</link></item></channel></rss>"
)


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"])
def test_utf16_and_utf32_without_a_byte_order_mark_are_detected(codec: str) -> None:
    label = codec[:6].upper()
    for text in (FEED_TEXT.format(label=label), FEED_TEXT.split("\n", 1)[1]):  # declared, or not
        data = text.encode(codec)
        (entry,) = parse_feed(data, slug="s").entries
        assert entry.title == "中文標題"
        assert feedparser_count(data) <= 1


@pytest.mark.parametrize(
    ("label", "codec"),
    [
        ("x-gbk", "gb18030"),
        ("csgb2312", "gb18030"),
        ("chinese", "gb18030"),
        ("GB_2312-80", "gb18030"),
        ("cn-big5", "big5hkscs"),
        ("x-x-big5", "big5hkscs"),
        ("csbig5", "big5hkscs"),
        ("EUC-CN", "gb18030"),  # not a WHATWG label: Python's, read as WHATWG reads GB2312
    ],
)
def test_whatwg_encoding_labels_are_understood(label: str, codec: str) -> None:
    text = FEED_TEXT.format(label=label).replace("中文標題", "中文標題 𠀋 鎔")
    if codec == "big5hkscs":
        text = text.replace("𠀋 ", "")  # not in Big5-HKSCS
    data = text.encode(codec)
    (entry,) = parse_feed(data, slug="s").entries
    assert entry.title == text.split("<item><title>")[1].split("<")[0]


def test_a_gbk_label_over_gb18030_only_characters_reads_them() -> None:
    data = FEED_TEXT.format(label="x-gbk").replace("中文標題", "𠀋").encode("gb18030")
    assert parse_feed(data, slug="s").entries[0].title == "𠀋"


def test_an_unknown_encoding_label_is_named_in_the_error() -> None:
    data = FEED_TEXT.format(label="x-klingon").encode("big5")
    with pytest.raises(ParseError) as caught:
        parse_feed(data, slug="s")
    assert caught.value.code == "bad_encoding"
    assert "x-klingon (declared, not an encoding label)" in caught.value.reason


def test_an_unknown_label_over_utf8_is_read_as_utf8() -> None:
    data = FEED_TEXT.format(label="x-klingon").encode("utf-8")
    assert parse_feed(data, slug="s").entries[0].title == "中文標題"


def test_a_utf16_label_over_ascii_compatible_bytes_is_disbelieved() -> None:
    data = FEED_TEXT.format(label="UTF-16").encode("utf-8")
    assert parse_feed(data, slug="s").entries[0].title == "中文標題"


def test_an_encoding_fault_is_not_recovered_into_mojibake() -> None:
    data = FEED_TEXT.format(label="UTF-8").replace("&", "").encode("gb18030") + b"&nbsp;"
    with pytest.raises(ParseError) as caught:
        parse_feed(data, slug="s")
    assert caught.value.code == "bad_encoding"
