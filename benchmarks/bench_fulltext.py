"""Full text on the gold set: body F1 of trafilatura alone and of newsmirror's stage, empty
bodies, time per page, and extraction and rewriting throughput.

    python benchmarks/bench_fulltext.py            # the table
    python benchmarks/bench_fulltext.py --worst 10 # and the pages newsmirror does worst on

Both read the same decoded text (newsmirror's page decoding); trafilatura alone is run as it is
usually run (``trafilatura.extract``, plain text); newsmirror's stage gets a summary feed body
(the gold text's first line), which it keeps when it rejects the page, as a run would.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import trafilatura

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.gold.goldset import GoldPage, Score, html_text, pages, score, summary_of

from newsmirror.parse.page import decode_page
from newsmirror.transform.fulltext import full_text, rewrite


def trafilatura_alone(page: GoldPage) -> tuple[str, str]:
    text = decode_page(page.html).text
    return trafilatura.extract(text, url=page.url) or "", "trafilatura"


def newsmirror_stage(page: GoldPage) -> tuple[str, str]:
    text = decode_page(page.html).text
    body = full_text(text, page.url, "auto", summary_of(page))
    return html_text(body.html), body.via


def _row(name: str, scores: list[Score]) -> str:
    f1s = [s.f1 for s in scores]
    ms = [s.seconds * 1000 for s in scores]
    empty = sum(s.empty for s in scores)
    return (
        f"{name:<22} {statistics.mean(f1s):6.3f} {statistics.median(f1s):6.3f} {empty:6d} "
        f"{statistics.mean(ms):8.1f} {sorted(ms)[int(len(ms) * 0.95) - 1]:8.1f}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--worst", type=int, default=0, help="list the N pages newsmirror does worst on")
    args = parser.parse_args()
    every = list(pages())
    sites = {p.url.split("/")[2] for p in every}
    print(f"gold set: {len(every)} pages from {len(sites)} hosts")
    alone, ours = score(trafilatura_alone), score(newsmirror_stage)
    print(f"{'':<22} {'F1':>6} {'median':>6} {'empty':>6} {'ms/page':>8} {'p95 ms':>8}")
    for part in ("daniel", "cwce", "sites", None):
        label = part or "all"
        pick = [i for i, s in enumerate(ours) if part is None or s.page.part == part]
        print(_row(f"trafilatura  {label}", [alone[i] for i in pick]))
        print(_row(f"newsmirror   {label}", [ours[i] for i in pick]))
    vias: dict[str, int] = {}
    for s in ours:
        vias[s.via] = vias.get(s.via, 0) + 1
    print("newsmirror's bodies came from: " + ", ".join(f"{k} {v}" for k, v in sorted(vias.items())))
    rules = [s for s in ours if s.page.part == "sites"]
    print("per site rule (F1): " + ", ".join(f"{s.page.name} {s.f1:.3f}" for s in rules))
    _throughput(every)
    for s in sorted(ours, key=lambda s: s.f1)[: args.worst]:
        print(f"  {s.f1:.3f} {s.via:<12} {s.page.part}/{s.page.name}")
    return 0


def _throughput(every: list[GoldPage]) -> None:
    decoded = [(p, decode_page(p.html).text) for p in every]
    start = time.perf_counter()
    bodies = [full_text(text, p.url, "auto", summary_of(p)).html for p, text in decoded]
    extracting = time.perf_counter() - start
    start = time.perf_counter()
    for (page, _), body in zip(decoded, bodies, strict=True):
        rewrite(body, page.url)
    rewriting = time.perf_counter() - start
    print(
        f"throughput: extraction {len(decoded) / extracting:.0f} pages/s, "
        f"rewriting {len(decoded) / rewriting:.0f} bodies/s (one process, one core)"
    )


if __name__ == "__main__":
    raise SystemExit(main())
