"""The full-text gold set: real Chinese news pages with their expected main text, and body F1.

Three parts, each read in place (see README.md here for sources and licences):

* ``daniel``: 69 pages of the DANIEL corpus as re-annotated in rundimeco/waddle (GPL-3.0), one
  per site, 2011–2012, simplified and traditional characters; the reference's first paragraph is
  the headline and is left out (an archived body carries no headline).
* ``cwce``: the 69 pages of the Chinese Web Content Extraction Dataset (MIT), most in GB2312/GBK.
* ``sites``: one page per rule of ``sites.toml``, written in each catalogue site's structure.

Body F1 is the F1 of the bag of tokens, a token being one CJK character or one run of Latin
letters and digits: the usual measure of main-text extraction (as in the ScrapingHub and
Bevendorff benchmarks, whose word tokens do not exist in Chinese).
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from selectolax.lexbor import LexborHTMLParser

from newsmirror.transform.sites import site_rules

GOLD = Path(__file__).resolve().parent
FULLTEXT = GOLD.parent / "fulltext"
_TOKEN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f]|[A-Za-z0-9]+")
_URL = re.compile(rb'<text id="([^"]+)"')


@dataclass(frozen=True, slots=True)
class GoldPage:
    part: str
    name: str
    url: str
    html: bytes
    expected: str
    """The main text (plain, paragraphs on lines)."""


def pages() -> Iterator[GoldPage]:
    yield from _daniel()
    yield from _cwce()
    yield from _sites()


def _daniel() -> Iterator[GoldPage]:
    folder = GOLD / "daniel"
    for path in sorted((folder / "html").glob("*.html")):
        reference = (folder / "reference" / f"{path.stem}.txt").read_text("utf-8")
        paragraphs = [re.sub(r"<[^>]+>", "", p).strip() for p in reference.split("</p>")]
        body = [p for p in paragraphs if p][1:]  # the first is the headline
        host = path.stem.split("_", 2)[1]
        yield GoldPage("daniel", path.stem, f"http://{host}/", path.read_bytes(), "\n".join(body))


def _cwce() -> Iterator[GoldPage]:
    folder = FULLTEXT / "cwce"
    for path in sorted((folder / "original").glob("*.html")):
        data = path.read_bytes()
        found = _URL.search(data[:1000])
        url = found.group(1).decode("ascii", "replace") if found else "https://example.org/"
        expected = (folder / "cleaned" / f"{path.stem}.txt").read_text("utf-8", errors="replace")
        yield GoldPage("cwce", path.stem, url, data, expected)


def _sites() -> Iterator[GoldPage]:
    for rule in site_rules():
        if rule.test_page is None:
            continue
        page = FULLTEXT / "sites" / rule.test_page
        expected = page.with_suffix(".txt").read_text("utf-8").partition("\n----\n")[0]
        yield GoldPage(
            "sites", rule.name, f"https://www.{rule.hosts[0]}/a/story.html", page.read_bytes(), expected
        )


def tokens(text: str) -> Counter[str]:
    return Counter(_TOKEN.findall(text))


def f1(found: str, expected: str) -> float:
    got, want = tokens(found), tokens(expected)
    overlap = sum((got & want).values())
    if not overlap:
        return 0.0
    precision, recall = overlap / sum(got.values()), overlap / sum(want.values())
    return 2 * precision * recall / (precision + recall)


def html_text(html: str) -> str:
    body = LexborHTMLParser(html).body
    return body.text(separator="\n") if body is not None else ""


@dataclass(frozen=True, slots=True)
class Score:
    page: GoldPage
    f1: float
    empty: bool
    seconds: float
    via: str


def score(extract: Callable[[GoldPage], tuple[str, str]]) -> list[Score]:
    """Each page scored with ``extract`` (page → its text and the path that found it)."""
    scores = []
    for page in pages():
        start = time.perf_counter()
        text, via = extract(page)
        seconds = time.perf_counter() - start
        scores.append(Score(page, f1(text, page.expected), not tokens(text), seconds, via))
    return scores


def summary_of(page: GoldPage) -> str:
    """What a summary feed would carry of the article: its first sentence or so, as HTML."""
    first = next((line for line in page.expected.splitlines() if line.strip()), "")
    return f"<p>{first.strip()[:80]}</p>"
