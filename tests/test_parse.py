"""Feed formats → entries, and feed dates → milliseconds."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsmirror.exceptions import ParseError
from newsmirror.parse import parse_date, parse_feed
from newsmirror.types import Entry

DATA = Path(__file__).parent / "data"


def entries(name: str) -> tuple[Entry, ...]:
    return parse_feed((DATA / name).read_bytes(), slug="t").entries


def test_rss2_fields_are_taken_as_written() -> None:
    first, second = entries("rss2.xml")
    assert first.title == "  标题一 "  # stripping is the transform stage's job
    assert first.link == "https://example.com/一"
    assert first.guid == "tag:example.com,2024:1"
    assert first.published == "Mon, 20 Jul 2020 19:23:14 +0800"
    assert first.description == "<p>摘要 &amp; 更多</p>"
    assert first.content == '<p>全文</p>\n<img src="https://img.example.com/1.jpg">'
    assert first.categories == ("【标签】", "普通")
    assert second.published == "2020-10-13T05:23:21.000Z"  # dc:date when there is no pubDate
    assert second.description == "<p>inline <b>markup</b></p>"  # inline XML kept as markup
    assert second.content is None


def test_rdf() -> None:
    (entry,) = entries("rdf.xml")
    assert (entry.title, entry.link, entry.guid) == (
        "RDF 标题",
        "https://example.org/rdf/1",
        "https://example.org/rdf/1",
    )
    assert entry.description == "<p>RDF 正文</p>"
    assert entry.published == "2021-05-06T01:02:16+08:00"
    assert entry.categories == ("政治",)


def test_atom() -> None:
    first, second = entries("atom.xml")
    assert first.link == "https://example.net/a/1"  # the alternate link, not rel=self
    assert first.guid == "urn:uuid:1"
    assert first.published == "2022-06-13T09:00:00Z"
    assert first.description == "<p>摘要</p>"
    assert first.content is not None
    assert "<p" in first.content
    assert "全文 " in first.content
    assert first.categories == ("新闻",)
    assert second.link == "/relative/2"
    assert second.published == "2022-06-14T00:00:00+09:00"  # updated when no published


def test_json_feed() -> None:
    first, second = entries("feed.json")
    assert (first.title, first.link, first.guid) == ("JSON 标题", "https://example.io/j/1", "j1")
    assert first.content == "<p>JSON 正文</p>"
    assert first.description == "摘要"
    assert first.categories == ("科技",)
    assert second.content == "a &lt; b"
    assert second.published == "2023-01-03T00:00:00Z"


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "empty_feed"),
        (b"   \n", "empty_feed"),
        (b"<rss><channel><item>", "bad_xml"),
        (b"<!DOCTYPE html><html><body><p>x</body></html>", "not_a_feed"),
        (b"<?xml version='1.0'?><svg xmlns='http://www.w3.org/2000/svg'/>", "not_a_feed"),
        (b'{"version": "1", "items": []}', "not_a_feed"),
        (b"{not json", "bad_json"),
    ],
)
def test_what_is_not_a_feed_fails_with_a_code(data: bytes, code: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse_feed(data, slug="src")
    assert caught.value.code == code
    assert caught.value.slug == "src"
    assert str(caught.value).startswith("src: ")


def test_other_encodings_are_read_from_the_xml_declaration() -> None:
    text = (
        '<?xml version="1.0" encoding="GB18030"?>'
        "<rss><channel><item><title>中文</title></item></channel></rss>"
    )
    (entry,) = parse_feed(text.encode("gb18030"), slug="t").entries
    assert entry.title == "中文"


@pytest.mark.parametrize(
    ("text", "ms"),
    [
        ("Mon, 20 Jul 2020 07:41:21 GMT", 1595230881000),
        ("Mon, 20 Jul 2020 19:23:14 +0800", 1595244194000),
        ("20 Jul 2020 07:41:21 +0000", 1595230881000),
        ("  Mon, 20 Jul 2020 07:41:21 GMT\n", 1595230881000),
        ("2020-10-13T05:23:21.000Z", 1602566601000),
        ("2020-10-13T05:23:21.123Z", 1602566601123),
        ("2020-10-13T13:23:21+08:00", 1602566601000),
        ("2020-10-13T05:23:21", 1602566601000),  # no zone: UTC
        ("2020-10-13", 1602547200000),
        ("2020/07/09 05:46:40", 1594273600000),  # no zone: UTC (the original used local time)
        ("2020/7/9", 1594252800000),
        ("2021年2月24日 15:51", None),
        ("", None),
        ("yesterday", None),
        ("Mon, 32 Jul 2020 07:41:21 GMT", None),
        (None, None),
    ],
)
def test_dates(text: str | None, ms: int | None) -> None:
    assert parse_date(text) == ms


def test_external_entities_are_never_read() -> None:
    data = (
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        b"<rss><channel><item><title>x&e;</title></item></channel></rss>"
    )
    (entry,) = parse_feed(data, slug="t").entries
    assert entry.title is not None
    assert "root:" not in entry.title


@pytest.mark.parametrize("label", ["uu", "rot13", "zlib", "base64"])
def test_a_non_text_codec_named_as_encoding_is_a_parse_error(label: str) -> None:
    data = f'<?xml version="1.0" encoding="{label}"?><rss><channel><item><title>'.encode()
    data += "中".encode("big5") + b"</title></item></channel></rss>"
    with pytest.raises(ParseError) as caught:
        parse_feed(data, slug="s")
    assert caught.value.code == "bad_encoding"
