"""Feed formats → entries, and feed dates → milliseconds."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsmirror.exceptions import ParseError
from newsmirror.parse import parse_date, parse_feed
from newsmirror.transform.items import prepare
from newsmirror.types import Entry, Source

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


def test_a_json_feed_with_lone_surrogates_is_read_with_replacement_characters() -> None:
    # Found by the fuzz target: json.loads passes a lone surrogate through (as an escape, or as
    # the bytes ED A2 98 that encode one), and no such string can be written as UTF-8.
    data = (
        b'{"version": "https://jsonfeed.org/version/1.1", "items": [{"id": "j1",'
        b' "url": "https://example.io/j/1", "title": "\xe6\xa0\x87\xed\xa2\x98",'
        b' "content_html": "<p>\\ud800 x</p>", "tags": ["\\udfff"]}]}'
    )
    (entry,) = parse_feed(data, slug="json").entries
    assert (entry.title, entry.content, entry.categories) == ("标\ufffd", "<p>\ufffd x</p>", ("\ufffd",))
    for text in (entry.title, entry.content, *entry.categories):
        assert text is not None
        text.encode("utf-8")


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


# --- items the feed really has: links and bodies in other places --------------------------------

ATOM_HEAD = b'<feed xmlns="http://www.w3.org/2005/Atom" xmlns:media="http://search.yahoo.com/mrss/">'
RSS_HEAD = (
    b'<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"'
    b' xmlns:media="http://search.yahoo.com/mrss/"><channel><title>T</title>'
)


def one_entry(data: bytes) -> Entry:
    (entry,) = parse_feed(data, slug="t").entries
    return entry


def test_an_atom_entry_with_its_url_only_in_id_takes_it_as_link() -> None:
    entry = one_entry(ATOM_HEAD + b"<entry><title>x</title><id>https://e.com/p/1</id></entry></feed>")
    assert (entry.link, entry.guid) == ("https://e.com/p/1", "https://e.com/p/1")


@pytest.mark.parametrize("entry_id", [b"urn:uuid:1234", b"tag:e.com,2020:1", b""])
def test_an_atom_id_that_is_no_web_address_is_no_link(entry_id: bytes) -> None:
    entry = one_entry(ATOM_HEAD + b"<entry><title>x</title><id>" + entry_id + b"</id></entry></feed>")
    assert entry.link is None


def test_an_atom_link_wins_over_the_id() -> None:
    data = ATOM_HEAD + b'<entry><id>https://e.com/id</id><link href="https://e.com/l"/></entry></feed>'
    assert one_entry(data).link == "https://e.com/l"


@pytest.mark.parametrize(
    ("guid", "link"),
    [
        (b"<guid>https://e.com/a/1</guid>", "https://e.com/a/1"),
        (b'<guid isPermaLink="false">HTTPS://e.com/a/1</guid>', "HTTPS://e.com/a/1"),
        (b'<guid isPermaLink="true">/a/1</guid>', "/a/1"),
        (b'<guid isPermaLink="true">12345</guid>', None),  # no address, whatever it says
        (b"<guid>a-1</guid>", None),
        (b'<guid isPermaLink="false">a-1</guid>', None),
    ],
)
def test_an_rss_item_without_link_takes_a_web_or_permalink_guid(guid: bytes, link: str | None) -> None:
    entry = one_entry(RSS_HEAD + b"<item><title>x</title>" + guid + b"</item></channel></rss>")
    assert entry.link == link


def test_an_rss_link_wins_over_the_guid_and_a_blank_link_does_not() -> None:
    data = RSS_HEAD + b"<item><link>https://e.com/l</link><guid>https://e.com/g</guid></item></channel></rss>"
    assert one_entry(data).link == "https://e.com/l"
    data = RSS_HEAD + b"<item><link> </link><guid>https://e.com/g</guid></item></channel></rss>"
    assert one_entry(data).link == "https://e.com/g"


YOUTUBE = (
    ATOM_HEAD + b"<entry><id>yt:video:abc</id><title>\xe8\xa7\x86\xe9\xa2\x91</title>"
    b'<link rel="alternate" href="https://www.youtube.com/watch?v=abc"/>'
    b"<media:group><media:title>t</media:title><media:description>line 1 &lt;b&gt;\nline 2"
    b"</media:description></media:group></entry></feed>"
)


def test_rss_items_without_a_channel_are_read() -> None:
    entry = one_entry(b"<rss><item><title>x</title><link>https://e.com/1</link></item></rss>")
    assert (entry.title, entry.link) == ("x", "https://e.com/1")


def test_media_description_is_read_from_a_media_group_as_html() -> None:
    entry = one_entry(YOUTUBE)
    assert (entry.description, entry.content) == (None, None)
    assert entry.media_description == "line 1 &lt;b&gt;<br>\nline 2"


def test_media_description_in_rss_and_of_type_html() -> None:
    data = (
        RSS_HEAD + b"<item><title>x</title><link>https://e.com/1</link><description> </description>"
        b'<media:content url="https://e.com/v.mp4"><media:description type="html">&lt;p&gt;v&lt;/p&gt;'
        b"</media:description></media:content></item></channel></rss>"
    )
    assert one_entry(data).media_description == "<p>v</p>"


def body(data: bytes, *, source_body: str = "description") -> str:
    source = Source(name="n", slug="t", url="https://e.com/feed", body=source_body)
    (candidate,) = prepare(source, parse_feed(data, slug="t")).candidates
    return candidate.body_html


def rss_item(fields: bytes) -> bytes:
    item = b"<item><title>x</title><link>https://e.com/1</link>" + fields + b"</item>"
    return RSS_HEAD + item + b"</channel></rss>"


@pytest.mark.parametrize("description", [b"", b"<description/>", b"<description>  \n </description>"])
def test_an_empty_description_falls_back_to_content_encoded(description: bytes) -> None:
    assert body(rss_item(description + b"<content:encoded>full</content:encoded>")) == "full"


def test_an_empty_atom_summary_falls_back_to_content() -> None:
    data = ATOM_HEAD + (
        b'<entry><title>x</title><link href="https://e.com/1"/><summary> </summary>'
        b'<content type="html">&lt;p&gt;c&lt;/p&gt;</content></entry></feed>'
    )
    assert body(data) == "<p>c</p>"


def test_without_description_and_content_the_media_description_is_the_body() -> None:
    assert body(YOUTUBE) == "line 1 &lt;b&gt;<br>\nline 2"
    item = rss_item(b"<description></description><media:description>m</media:description>")
    assert body(item) == "m"
    assert body(item, source_body="content") == "m"


def test_a_description_with_text_still_comes_first_and_content_first_when_asked() -> None:
    item = rss_item(
        b"<description>d</description><content:encoded>c</content:encoded>"
        b"<media:description>m</media:description>"
    )
    assert body(item) == "d"
    assert body(item, source_body="content") == "c"
    blank_content = rss_item(b"<content:encoded> </content:encoded><description>d</description>")
    assert body(blank_content, source_body="content") == "d"
