"""Coverage-guided fuzz target: feed bytes → parse → prepare → render (atheris / libFuzzer).

Run from the repository root (see fuzz/README.md)::

    python fuzz/fuzz_feed.py -max_total_time=60 fuzz/corpus tests/data

Only newsmirror's own errors (``NewsmirrorError`` and subclasses, e.g. ``ParseError`` for a
broken document) are acceptable outcomes.  Any other exception, or a broken invariant of the
archive format (an assertion below), is a bug and stops the fuzzer with a crash file.
"""

from __future__ import annotations

import re
import sys

import atheris

with atheris.instrument_imports(include=["newsmirror"]):
    from newsmirror.archive_format import list_title, record_from_text, render_article
    from newsmirror.exceptions import NewsmirrorError
    from newsmirror.parse import parse_feed
    from newsmirror.render import render_list
    from newsmirror.transform.items import prepare
    from newsmirror.transform.sanitize import has_active_content, neutralize
    from newsmirror.transform.text import join_lines
    from newsmirror.types import FIRST_ID, Article, Candidate, Record, Source

SOURCES = (
    Source(name="新闻", slug="fuzz", url="https://feed.example/rss"),
    Source(name="新闻", slug="fuzz", url="https://feed.example/rss", body="content", link="guid"),
)
ENTRY = re.compile(r"^(\d{1,2}-\d{1,2} )?\[[^\n]*\]\(/articles/fuzz/(\d+)\.md\)$")


def TestOneInput(data: bytes) -> None:  # the name atheris expects
    source = SOURCES[data[0] % 2] if data else SOURCES[0]
    try:
        feed = parse_feed(data, slug=source.slug)
        prepared = prepare(source, feed)
    except NewsmirrorError:
        return
    records = [_check_article(FIRST_ID - 1 - n, candidate) for n, candidate in enumerate(prepared.candidates)]
    _check_list(records)


def _check_article(article_id: int, candidate: Candidate) -> Record:
    body = neutralize(join_lines(candidate.body_html))
    assert "\n" not in body
    assert not has_active_content(body) or body != candidate.body_html or not body, body
    ms = candidate.ms if candidate.ms is not None else 0
    article = Article(article_id, ms, candidate.title, candidate.link, candidate.guid, body)
    text = render_article(article)
    lines = text.split("\n")
    assert len(lines) == 6, lines
    assert lines[1] == f"[{candidate.title}]({candidate.link})", lines[1]
    record = record_from_text(article_id, text)
    assert (record.ms, record.title, record.link) == (ms, candidate.title, candidate.link), record
    assert list_title(text) == candidate.title
    return record


def _check_list(records: list[Record]) -> None:
    page = render_list("新闻", "fuzz", records)
    header = "新闻\n------\n\n"
    if not records:
        assert page == header + "\n", page
        return
    assert page.startswith(header)
    assert page.endswith(")\n\n")
    entries = page[len(header) : -2].split("\n\n")
    matches = [ENTRY.match(entry) for entry in entries]
    assert all(matches), entries
    listed = [int(m.group(2)) for m in matches if m]
    assert sorted(listed) == sorted(r.id for r in records)[:300] or len(records) > 300, listed
    by_ms = {r.id: r.ms if r.ms is not None else -(2**62) for r in records}
    assert [by_ms[i] for i in listed] == sorted((by_ms[i] for i in listed), reverse=True), listed


def main() -> None:
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
