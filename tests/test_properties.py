"""Hypothesis properties of the archive format: round trips, ids, list pages.

* an article file always parses back to the timestamp, title and link it was written with, and
  keeps the five-line shape (line 2 is ``[title](link)``);
* ids stay unique, countdown-ordered and never reused under any interleaving of runs;
* list pages are always well-formed and give back their ids in order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsmirror.archive_format import list_title, month_day, record_from_text, render_article
from newsmirror.decide import decide
from newsmirror.render import render_list
from newsmirror.transform.sanitize import neutralize
from newsmirror.transform.text import clean_title, join_lines, one_line, unescape_title
from newsmirror.transform.urls import BadLink, normalize_link
from newsmirror.types import FIRST_ID, Article, Candidate, Record, Source, SourceIndex

BASE = "https://feed.example/rss"
MAX_MS = 2**41

# Fragments that have broken line-oriented readers and Markdown link syntax before.
HOSTILE = st.sampled_from(
    [
        "](",
        "]\\(",
        "]\\\\(",
        "[",
        "]",
        "(",
        ")",
        "\\",
        "\n",
        "\r",
        "\r\n",
        "\x00",
        "\x1f",
        "\x85",
        "\u2028",
        "\u3000",
        "\ufeff",
        " ",
        "\t",
        "<!--1-->",
        "](https://evil.example/)",
        "../",
        "/",
        "新闻",
    ]
)
ANY_CHAR = st.characters(blacklist_categories=("Cs",))
TITLES = st.lists(st.one_of(HOSTILE, st.text(ANY_CHAR, max_size=8)), max_size=12).map("".join)
PATH_TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12)


@st.composite
def links(draw: st.DrawFn) -> str:
    """A WHATWG-serialised http(s) link, with hostile paths, queries and fragments."""
    scheme = draw(st.sampled_from(["http", "https", "HTTPS"]))
    host = draw(
        st.sampled_from(["example.com", "EXAMPLE.com:443", "新闻.example", "127.0.0.1:8080", "[::1]"])
    )
    path = "/".join(draw(st.lists(PATH_TEXT, max_size=4)))
    query = draw(st.one_of(st.just(""), PATH_TEXT.map(lambda q: "?" + q)))
    fragment = draw(st.one_of(st.just(""), PATH_TEXT.map(lambda f: "#" + f)))
    try:
        return normalize_link(f"{scheme}://{host}/{path}{query}{fragment}", BASE)
    except BadLink:
        return normalize_link(f"{scheme}://{host}/", BASE)


@given(title=TITLES, link=links(), ms=st.integers(0, MAX_MS), body=st.text(ANY_CHAR, max_size=200))
@settings(max_examples=400, deadline=None)
def test_article_file_parses_back_to_its_timestamp_title_and_link(
    title: str, link: str, ms: int, body: str
) -> None:
    article = Article(
        id=1048574, ms=ms, title=clean_title(title), link=link, guid=None, body=join_lines(neutralize(body))
    )
    text = render_article(article)

    lines = text.split("\n")
    assert len(lines) == 6  # five lines, each ended by LF
    assert lines[0] == f"<!--{ms}-->"
    assert lines[1] == f"[{article.title}]({link})"
    assert lines[2:5] == ["------", "", article.body]
    assert lines[5] == ""

    record = record_from_text(1048574, text)
    assert record.ms == ms
    assert record.link == link
    assert record.title == article.title
    # the documented normalisation: stripped, line breaks folded to one space; nothing else lost
    assert unescape_title(record.title) == one_line(title)
    assert "](" not in record.title


@given(title=TITLES)
def test_cleaned_titles_cannot_end_the_link_text_early(title: str) -> None:
    cleaned = clean_title(title)
    assert "\n" not in cleaned
    assert "\r" not in cleaned
    assert "](" not in cleaned
    assert unescape_title(cleaned) == one_line(title)


# -- ids under any interleaving of runs ----------------------------------------------------------


@dataclass(frozen=True)
class Story:
    """One news item as feeds show it over time: fixed guid (or none), a link that may change."""

    number: int
    guid: str | None

    def link(self, variant: int) -> str:
        # without a guid the link is the only identity, so it must not change
        return f"https://e.com/{self.number}" + (f"/v{variant}" if self.guid and variant else "")


STORIES = st.lists(st.booleans(), min_size=1, max_size=12).map(
    lambda guids: tuple(Story(n, f"g{n}" if has else None) for n, has in enumerate(guids))
)
EPOCH = 1_600_000_000_000  # 2020-09-13: dates around it are believed, 0 and 10^15 are not
DATES = st.one_of(
    st.none(),
    st.sampled_from([EPOCH + 1_000, EPOCH + 5_000, EPOCH + 5_000, EPOCH + 9_000, 0, 10**15]),
    st.integers(EPOCH - 200_000_000_000, EPOCH + 200_000_000),
)


@st.composite
def runs(draw: st.DrawFn) -> tuple[tuple[Story, ...], list[list[tuple[Story, int, int | None]]]]:
    stories = draw(STORIES)
    item = st.tuples(st.sampled_from(stories), st.integers(0, 1), DATES)
    feeds = draw(st.lists(st.lists(item, max_size=15), min_size=1, max_size=6))
    return stories, feeds


def candidates(feed: list[tuple[Story, int, int | None]]) -> list[Candidate]:
    return [
        Candidate(
            title=f"t{story.number}",
            link=story.link(variant),
            guid=story.guid,
            ms=ms,
            body_html="",
            position=position,
        )
        for position, (story, variant, ms) in enumerate(feed)
    ]


@given(scenario=runs(), refresh=st.booleans())
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_countdown_ids_stay_unique_ordered_and_never_reused(
    scenario: tuple[tuple[Story, ...], list[list[tuple[Story, int, int | None]]]],
    refresh: bool,
) -> None:
    _stories, feeds = scenario
    source = Source(name="源", slug="s", url=BASE, refresh=refresh)
    records: dict[int, Record] = {}
    archived: dict[int, int] = {}  # story number → its id
    now = EPOCH
    for feed in feeds:
        now += 3_600_000
        plan = decide(source, SourceIndex(records=dict(records)), candidates(feed), now_ms=now)
        new = [p for p in plan.writes if p.is_new]
        ids = [p.id for p in new]
        assert len(set(ids)) == len(ids)
        assert all(0 <= i < min(records, default=FIRST_ID) for i in ids)  # countdown, never reused
        assert ids == sorted(ids, reverse=True)
        times = [p.ms for p in sorted(new, key=lambda p: -p.id)]
        assert times == sorted(times)  # oldest first: the newest item of a batch has the lowest id
        for planned in plan.writes:
            number = int(planned.candidate.title[1:])
            if planned.is_new:
                assert number not in archived  # every story archived at most once
                archived[number] = planned.id
            else:
                assert archived[number] == planned.id  # a refresh rewrites the story's own file
        updated = {p.id for p in plan.writes if not p.is_new}
        assert len(updated) == len([p for p in plan.writes if not p.is_new])
        for p in new:
            c = p.candidate
            records[p.id] = Record(id=p.id, ms=p.ms, title=c.title, link=c.link, guid=c.guid)
    assert len(set(archived.values())) == len(archived)
    # nothing is skipped for its date: every story any feed carried is archived
    assert set(archived) == {story.number for feed in feeds for story, _variant, _ms in feed}


@given(scenario=runs())
@settings(max_examples=150, deadline=None)
def test_post_ids_never_overwrite_another_article(
    scenario: tuple[tuple[Story, ...], list[list[tuple[Story, int, int | None]]]],
) -> None:
    _stories, feeds = scenario
    source = Source(name="源", slug="s", url=BASE, ids="post-id", refresh=True)
    records: dict[int, Record] = {}
    owner: dict[int, int] = {}  # id → story number
    for feed in feeds:
        items = [(s, v, ms) for s, v, ms in feed]
        cands = [
            Candidate(
                title=f"t{s.number}",
                link=s.link(v),
                guid=f"https://cdt.example/?p={s.number % 3}" if s.guid else None,
                ms=ms,
                body_html="",
                position=i,
            )
            for i, (s, v, ms) in enumerate(items)
        ]
        plan = decide(source, SourceIndex(records=dict(records)), cands, now_ms=1)
        written = [p.id for p in plan.writes]
        assert len(set(written)) == len(written)
        for p in plan.writes:
            if p.is_new:
                assert p.id not in records
                owner[p.id] = int(p.candidate.title[1:])
                c = p.candidate
                records[p.id] = Record(id=p.id, ms=p.ms, title=c.title, link=c.link, guid=c.guid)
            else:
                assert p.id in records


# -- list pages ----------------------------------------------------------------------------------


@st.composite
def record_sets(draw: st.DrawFn) -> list[Record]:
    ids = draw(st.sets(st.integers(0, 999_999_999), max_size=320))
    return [
        Record(
            id=i,
            ms=draw(st.one_of(st.none(), st.integers(0, MAX_MS))),
            title=draw(TITLES),
            link="https://e.com/",
        )
        for i in ids
    ]


def entry_pattern(slug: str) -> re.Pattern[str]:
    return re.compile(rf"^(\d{{1,2}}-\d{{1,2}} )?\[[^\n]*\]\(/articles/{re.escape(slug)}/(\d+)\.md\)$")


@given(
    name=st.sampled_from(["新闻", "BBC", "自由亚洲电台", "a b"]),
    slug=st.from_regex(r"[a-z0-9][a-z0-9-]{0,11}", fullmatch=True),
    records=record_sets(),
)
@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
def test_list_pages_are_always_well_formed(name: str, slug: str, records: list[Record]) -> None:
    page = render_list(name, slug, records, by_date=False)
    header = f"{name}\n------\n\n"
    assert page.startswith(header)
    if not records:
        assert page == header + "\n"
        return
    assert page.endswith(")\n\n")
    entries = page[len(header) : -2].split("\n\n")
    newest = sorted(records, key=lambda r: r.id)[:300]
    assert len(entries) == len(newest)
    pattern = entry_pattern(slug)
    for entry, record in zip(entries, newest, strict=True):
        match = pattern.match(entry)
        assert match is not None, entry
        assert int(match.group(2)) == record.id
        assert match.group(1) == (None if record.ms is None else f"{month_day(record.ms)} ")
        if "](" not in record.title:
            # the title on one line; a "](" that folding creates is escaped so the link holds
            assert list_title(entry) == one_line(record.title).replace("](", "\\]\\(")
