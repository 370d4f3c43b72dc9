"""The full-text gold set (tests/gold/goldset.py) scored in CI: body F1 and empty bodies.

The figures asserted are floors under what this version measures (benchmarks/bench_fulltext.py
prints them: F1 0.937, trafilatura alone 0.864), so that a change that makes extraction worse
fails; the issue's target of F1 ≥ 0.95 is not met yet and is reported, not faked here.
"""

from __future__ import annotations

import statistics

import pytest
import trafilatura

from newsmirror.parse.page import decode_page
from newsmirror.transform.fulltext import full_text

from .gold.goldset import GOLD, GoldPage, Score, html_text, pages, score, summary_of

pytestmark = pytest.mark.skipif(
    not (GOLD / "daniel" / "html").is_dir(), reason=f"GOLD SET MISSING: {GOLD} — full text NOT measured"
)


def trafilatura_alone(page: GoldPage) -> tuple[str, str]:
    return trafilatura.extract(decode_page(page.html).text, url=page.url) or "", "trafilatura"


def stage(page: GoldPage) -> tuple[str, str]:
    body = full_text(decode_page(page.html).text, page.url, "auto", summary_of(page))
    return html_text(body.html), body.via


@pytest.fixture(scope="module")
def scores() -> list[Score]:
    return score(stage)


def test_the_gold_set_is_over_100_pages_from_over_10_sites() -> None:
    every = list(pages())
    assert len(every) >= 100
    assert len({p.url.split("/")[2] for p in every}) >= 10
    assert all(p.expected.strip() for p in every)


def test_no_body_is_empty(scores: list[Score]) -> None:
    assert [s.page.name for s in scores if s.empty] == []


def test_body_f1_stays_above_its_floor_and_beats_trafilatura_alone_by_005(scores: list[Score]) -> None:
    ours = statistics.mean(s.f1 for s in scores)
    alone = statistics.mean(s.f1 for s in score(trafilatura_alone))
    assert ours >= 0.92
    assert ours >= alone + 0.05
    site_pages = [s for s in scores if s.page.part == "sites"]
    assert all(s.via.startswith("rule ") for s in site_pages)
    assert min(s.f1 for s in site_pages) >= 0.95
