"""How many feeds and entries newsmirror's parser reads, strict only and with recovery,
beside feedparser and fastfeedparser, over a folder of feed files (searched recursively)::

    python benchmarks/bench_parse_recovery.py FOLDER [FOLDER ...]

Needs the ``test`` extra (feedparser, fastfeedparser).  For each parser it prints the files it
read, the feeds it lost (files in which some parser found entries and this one found none or
failed), the entries it found and the time it took (best of ``--repeat`` runs for the fast
parsers, one run for feedparser).  "strict" counts the files newsmirror reads without needing
recovery; "recovery" is ``parse_feed`` as a run calls it.  Then it lists each file where
newsmirror finds fewer entries than feedparser, and each file it recovered, with the fault.
Nothing is written.
"""

from __future__ import annotations

import argparse
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import fastfeedparser
import feedparser

from newsmirror.exceptions import NewsmirrorError
from newsmirror.parse import parse_feed

Counter = Callable[[bytes], int | None]
"""Entries a parser finds in a document; None when it fails."""


def newsmirror_strict(data: bytes) -> int | None:
    try:
        feed = parse_feed(data, slug="bench")
    except NewsmirrorError:
        return None
    return len(feed.entries) if feed.recovered is None else None


def newsmirror_recovering(data: bytes) -> int | None:
    try:
        return len(parse_feed(data, slug="bench").entries)
    except NewsmirrorError:
        return None


def with_feedparser(data: bytes) -> int | None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = feedparser.parse(data, sanitize_html=False, resolve_relative_uris=False)
    if result.bozo and not result.entries and not result.feed:
        return None
    return len(result.entries)


def with_fastfeedparser(data: bytes) -> int | None:
    try:
        return len(fastfeedparser.parse(data).entries)
    except Exception:  # it raises plain ValueError and others for what it cannot read
        return None


PARSERS: dict[str, tuple[Counter, bool]] = {  # name: (counter, timed over several runs)
    "newsmirror strict": (newsmirror_strict, True),
    "newsmirror + recovery": (newsmirror_recovering, True),
    "feedparser": (with_feedparser, False),
    "fastfeedparser": (with_fastfeedparser, True),
}


@dataclass(frozen=True, slots=True)
class Tally:
    counts: dict[Path, int | None]
    seconds: float


def tally(counter: Counter, files: dict[Path, bytes], repeat: int) -> Tally:
    best = float("inf")
    counts: dict[Path, int | None] = {}
    for _ in range(repeat):
        started = time.perf_counter()
        counts = {path: counter(data) for path, data in files.items()}
        best = min(best, time.perf_counter() - started)
    return Tally(counts, best)


def feed_files(folders: list[Path]) -> dict[Path, bytes]:
    paths = sorted(p for folder in folders for p in folder.rglob("*") if p.is_file())
    return {path: path.read_bytes() for path in paths}


def report(files: dict[Path, bytes], tallies: dict[str, Tally]) -> None:
    feeds = {p for p in files if any((t.counts[p] or 0) > 0 for t in tallies.values())}
    size = sum(len(d) for d in files.values()) / 1e6
    print(f"{len(files)} files ({size:.1f} MB); {len(feeds)} in which some parser finds entries\n")
    print(f"{'parser':24}{'read':>7}{'lost':>7}{'entries':>10}{'seconds':>10}")
    for name, t in tallies.items():
        read = sum(1 for c in t.counts.values() if c is not None)
        lost = sum(1 for p in feeds if not t.counts[p])
        entries = sum(c or 0 for c in t.counts.values())
        print(f"{name:24}{read:7}{lost:7}{entries:10}{t.seconds:10.2f}")
    ours, theirs = tallies["newsmirror + recovery"].counts, tallies["feedparser"].counts
    fewer = [p for p in files if (ours[p] or 0) < (theirs[p] or 0)]
    print(f"\nfiles where newsmirror finds fewer entries than feedparser: {len(fewer)}")
    for path in fewer:
        print(f"  {path}: newsmirror {ours[path]}, feedparser {theirs[path]}{_why(files[path])}")
    recovered = [p for p in files if ours[p] and tallies["newsmirror strict"].counts[p] is None]
    print(f"\nfiles read only with recovery: {len(recovered)}")
    for path in recovered:
        print(f"  {path}: {ours[path]} entries; recovered: {parse_feed(files[path], slug='b').recovered}")


def _why(data: bytes) -> str:
    try:
        parse_feed(data, slug="bench")
    except NewsmirrorError as e:
        return f" ({e.code}: {e.reason[:100]})"
    return ""


def main() -> None:
    arguments = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    arguments.add_argument("folders", nargs="+", type=Path)
    arguments.add_argument("--repeat", type=int, default=3, help="runs of each fast parser (best is kept)")
    options = arguments.parse_args()
    files = feed_files(options.folders)
    tallies = {
        name: tally(counter, files, options.repeat if timed else 1)
        for name, (counter, timed) in PARSERS.items()
    }
    report(files, tallies)


if __name__ == "__main__":
    main()
