"""The floor for ``bench_run.py``: the least work that turns feeds into one file per article.

Reads every ``*.xml`` feed in FEEDS from disk, parses it with fastfeedparser and writes one
file per entry (title, link, description) to ``OUT/<feed stem>/<n>.md`` — no HTTP, no
deduplication, no templates, no index, no git.  ``bench_run.py`` runs this in a child
process and compares newsmirror's articles per CPU-second against it.

Usage: ``python benchmarks/floor.py FEEDS OUT`` (OUT must not exist); prints the number of
files written.
"""

from __future__ import annotations

import sys
from pathlib import Path

import fastfeedparser  # type: ignore[import-untyped]


def write_floor(feeds: Path, out: Path) -> int:
    """Parse each feed and write one file per entry; returns how many files were written."""
    out.mkdir(parents=True)
    written = 0
    for path in sorted(feeds.glob("*.xml")):
        feed = fastfeedparser.parse(path.read_bytes())
        folder = out / path.stem
        folder.mkdir()
        for number, entry in enumerate(feed.entries):
            text = f"{entry.get('title', '')}\n{entry.get('link', '')}\n\n{entry.get('description', '')}\n"
            (folder / f"{number}.md").write_text(text, encoding="utf-8")
            written += 1
    return written


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python benchmarks/floor.py FEEDS OUT", file=sys.stderr)
        return 2
    print(write_floor(Path(argv[0]), Path(argv[1])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
