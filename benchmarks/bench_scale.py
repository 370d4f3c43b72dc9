"""What a run costs as the archive grows: synthetic archives of 10k, 100k, 1M articles (issue 9).

    python benchmarks/bench_scale.py [--sizes 10000,100000,1000000] [--tmpdir DIR] [--seed 1] [--keep]

For each size N it builds an archive as a user taking over a duty-machine archive has one:

1. N article files in the archive format (``render_article``), over nine sources, one of them
   lopsided (40 % of the articles); Chinese bodies of 2–8 KB; committed with plain git; then
   ``newsmirror import`` indexes them and ``newsmirror reshard`` moves them into month
   folders (both measured).
2. Nine feeds, served from a separate process on 127.0.0.1, carrying each source's 20 newest
   archived items: a first run (it writes the list and month pages and README), then the
   **no-change run** that every hour is.
3. The same feeds with 20 new items each: the **incremental run**, and what its commit adds to
   ``.git`` (bytes, after git's detached maintenance has finished).
4. The checkout the generated workflow makes (``--filter=blob:none --depth 1``, sparse:
   ``.newsmirror`` and ``lists``), measured; in it, a no-change run and an incremental run
   (20 more new items per feed), each with the clone counted, as an hourly CI job pays them.
5. The largest folder under ``articles/`` before and after the reshard.

Each run is a child process measured with ``os.wait4`` (newsmirror *and* its git); git's
detached maintenance is waited for before the next step. Prints one table;
``benchmarks/README.md`` explains the lines.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

sys.path.insert(0, str(Path(__file__).resolve().parent))

import yaml

from bench_run import Corpus, Measured, feed_server, run_measured, run_newsmirror, wait_for_detached
from newsmirror.archive_format import render_article
from newsmirror.scaffold import WorkflowSettings, render_workflow
from newsmirror.types import FIRST_ID, Article

SOURCES = 9
LOPSIDED_SHARE = 0.4
FEED_ITEMS = 20
NEWEST = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
GIT = ["git", "-c", "gc.auto=0", "-c", "user.name=bench", "-c", "user.email=bench@localhost"]


def share_of(source: int, total: int) -> int:
    """Articles of ``source``: 40 % for the first, the rest split evenly."""
    if source == 0:
        return int(total * LOPSIDED_SHARE)
    rest = total - int(total * LOPSIDED_SHARE)
    return rest // (SOURCES - 1) + (1 if source - 1 < rest % (SOURCES - 1) else 0)


def item(corpus: Corpus, slug: str, number: int, when: datetime) -> tuple[str, str, str, datetime]:
    """Title, link, body and date of one synthetic story."""
    body = corpus.body(slug, number, corpus.rng.randint(2000, 8000)).replace("\n", "")
    return corpus.title(), f"https://news.example/{slug}/{number}.html", body, when


def build_archive(root: Path, size: int, seed: int) -> dict[str, list[tuple[str, str, str, datetime]]]:
    """Write and commit ``size`` articles; each source's newest items, newest first."""
    rng = random.Random(seed)
    corpus = Corpus(rng)
    newest: dict[str, list[tuple[str, str, str, datetime]]] = {}
    for source in range(SOURCES):
        slug = f"s{source}"
        folder = root / "articles" / slug
        folder.mkdir(parents=True)
        count = share_of(source, size)
        step = timedelta(days=5 * 365) / max(count, 1)
        kept = []
        for k in range(count):  # k = 0 is the newest: the lowest id (countdown)
            title, link, body, when = item(corpus, slug, k, NEWEST - k * step)
            number = FIRST_ID - 1 - (count - 1 - k)
            article = Article(number, int(when.timestamp() * 1000), title, link, None, body)
            (folder / f"{article.id}.md").write_text(render_article(article), encoding="utf-8")
            if k < FEED_ITEMS:
                kept.append((title, link, body, when))
        newest[slug] = kept
    subprocess.run([*GIT, "init", "-q", "-b", "main", str(root)], check=True)
    subprocess.run([*GIT, "-C", str(root), "add", "-A"], check=True)
    subprocess.run([*GIT, "-C", str(root), "commit", "-q", "-m", "archive"], check=True)
    # Packed as a remote holds it, without the delta search a first `git gc` of a million loose
    # objects would start in the background during the measurements (and take longer than them).
    subprocess.run([*GIT, "-C", str(root), "repack", "-a", "-d", "-q", "--window=0"], check=True)
    subprocess.run([*GIT, "-C", str(root), "prune-packed"], check=True)
    return newest


def write_feeds(folder: Path, items: dict[str, list[tuple[str, str, str, datetime]]]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for slug, stories in items.items():
        entries = "".join(
            f"<item><title>{escape(t)}</title><link>{escape(link)}</link>"
            f"<pubDate>{format_datetime(when, usegmt=True)}</pubDate>"
            f"<description>{escape(body)}</description></item>"
            for t, link, body, when in stories
        )
        channel = f"<channel><title>{slug}</title>{entries}</channel>"
        rss = f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0">{channel}</rss>'
        (folder / f"{slug}.xml").write_text(rss, encoding="utf-8")


def write_sources(path: Path, base: str) -> None:
    lines = []
    for source in range(SOURCES):
        url = f"{base}/feeds/s{source}.xml"
        lines += ["[[source]]", f'name = "源{source}"', f'slug = "s{source}"', f'url = "{url}"', ""]
    path.write_text("\n".join(lines), encoding="utf-8")


def fresh_items(size: int, seed: int) -> dict[str, list[tuple[str, str, str, datetime]]]:
    corpus = Corpus(random.Random(seed + 1))
    later = [NEWEST + timedelta(hours=1, minutes=n) for n in range(FEED_ITEMS)]
    slugs = [f"s{source}" for source in range(SOURCES)]
    return {slug: [item(corpus, slug, size + n, when) for n, when in enumerate(later)] for slug in slugs}


def git_bytes(root: Path) -> int:
    return sum(p.stat().st_size for p in (root / ".git").rglob("*") if p.is_file())


def largest_folder(root: Path) -> tuple[str, int]:
    folders = [p for p in (root / "articles").rglob("*") if p.is_dir()]
    counts = [(str(p.relative_to(root)), sum(1 for _ in p.iterdir())) for p in folders]
    return max(counts, key=lambda c: c[1])


@dataclass
class Figures:
    size: int
    build_s: float
    imported: Measured
    reshard: Measured
    first: Measured
    no_change: Measured
    incremental: Measured
    new: int
    git_growth: int
    clone: Measured
    clone_no_change: Measured
    clone_incremental: Measured
    clone_new: int
    flat_largest: tuple[str, int]
    largest: tuple[str, int]
    git_total: int


def workflow_checkout() -> tuple[dict[str, str], dict[str, str]]:
    """What the generated workflow gives actions/checkout (``with``) and every git (``env``)."""
    flow = yaml.load(render_workflow(WorkflowSettings()), Loader=yaml.BaseLoader)
    [job] = flow["jobs"].values()
    return job["steps"][0]["with"], job.get("env", {})


def workflow_clone(archive: Path, clone: Path, logs: Path) -> tuple[Measured, dict[str, str]]:
    """The checkout of the generated workflow (actions/checkout with its settings), as one step;
    and the environment the job's steps run in."""
    step, job_env = workflow_checkout()
    cone = "--cone" if step["sparse-checkout-cone-mode"] == "true" else "--no-cone"
    folders = " ".join(step["sparse-checkout"].split())
    script = (
        "set -e; "
        f"git clone -q --no-checkout --no-tags --depth={step['fetch-depth']} --filter={step['filter']} "
        f"file://{archive} {clone}; "
        f"git -C {clone} sparse-checkout set {cone} {folders}; "
        f"git -C {clone} checkout -q main"
    )
    env = {**os.environ, **job_env}
    measured, _ = run_measured("workflow clone", ["sh", "-c", script], logs, env)
    return measured, env


@dataclass
class InCheckout:
    clone: Measured
    no_change: Measured
    incremental: Measured
    new: int


def measure_checkout(work: Path, sources: Path, logs: Path) -> InCheckout:
    """In a fresh checkout made the workflow's way: a no-change run (feeds as ``feeds-now``),
    then an incremental one (``feeds-later``): what an hourly CI job pays."""
    archive, feeds, clone_dir = work / "archive", work / "feeds", work / "clone"
    shutil.rmtree(clone_dir, ignore_errors=True)
    shutil.copytree(work / "feeds-now", feeds, dirs_exist_ok=True)
    clone, env = workflow_clone(archive, clone_dir, logs)
    no_change, _ = run_newsmirror("clone no-change run", clone_dir, sources, logs, env=env)
    shutil.copytree(work / "feeds-later", feeds, dirs_exist_ok=True)
    incremental, result = run_newsmirror("clone incremental run", clone_dir, sources, logs, env=env)
    return InCheckout(clone, no_change, incremental, int(result.get("new", 0)))


def measure(size: int, work: Path, seed: int) -> Figures:
    archive, feeds, logs = work / "archive", work / "feeds", work / "logs"
    started = time.perf_counter()
    newest = build_archive(archive, size, seed)
    build_s = time.perf_counter() - started
    flat_largest = largest_folder(archive)
    write_feeds(feeds, newest)
    with feed_server(feeds) as base:
        sources = work / "sources.toml"
        write_sources(sources, base)
        importing = ["import", str(archive), "--sources", str(sources)]
        imported, _ = run_newsmirror("import", archive, sources, logs, importing)
        wait_for_detached(archive)
        resharding = ["reshard", "--archive", str(archive), "--sources", str(sources)]
        reshard, _ = run_newsmirror("reshard", archive, sources, logs, resharding)
        wait_for_detached(archive)
        first, _ = run_newsmirror("first run", archive, sources, logs)
        wait_for_detached(archive)
        no_change, _ = run_newsmirror("no-change run", archive, sources, logs)
        wait_for_detached(archive)
        subprocess.run(
            [*GIT, "-C", str(archive), "gc", "-q"], check=True
        )  # a packed archive, as a remote holds it
        subprocess.run([*GIT, "-C", str(archive), "config", "uploadpack.allowFilter", "true"], check=True)
        before = git_bytes(archive)
        fresh = fresh_items(size, seed)
        write_feeds(feeds, {slug: [*items, *newest[slug]] for slug, items in fresh.items()})
        incremental, result = run_newsmirror("incremental run", archive, sources, logs)
        wait_for_detached(archive)
        growth = git_bytes(archive) - before
        shutil.copytree(feeds, work / "feeds-now")
        later = fresh_items(size + FEED_ITEMS, seed + 7)
        after = {slug: [*later[slug], *items, *newest[slug]] for slug, items in fresh.items()}
        write_feeds(work / "feeds-later", after)
        checkout = measure_checkout(work, sources, logs)
    return Figures(
        size, build_s, imported, reshard, first, no_change, incremental, int(result.get("new", 0)), growth,
        checkout.clone, checkout.no_change, checkout.incremental, checkout.new, flat_largest,
        largest_folder(archive), git_bytes(archive),
    )  # fmt: skip


def row(label: str, m: Measured) -> str:
    split = f"{m.python_cpu_s:.2f} + {m.children_cpu_s:.2f}" if m.python_cpu_s is not None else ""
    # newsmirror's own peak (its git's is below it); wait4's figure also counts the image of
    # this process that a child is forked from, so it is shown only for git alone (the clone)
    rss = (
        max(m.python_maxrss_mb or 0.0, m.children_maxrss_mb or 0.0)
        if m.python_cpu_s is not None
        else m.maxrss_mb
    )
    return f"  {label:<24} {m.wall_s:8.2f} {m.cpu_s:8.2f} {split:>15} {rss:8.0f} {m.exit_code:5d}"


def report(all_figures: list[Figures]) -> str:
    lines = []
    mb = 2**20
    for f in all_figures:
        lines += [
            f"\n{f.size:,} articles (built and committed in {f.build_s:.0f} s; "
            f".git {f.git_total / mb:.0f} MB)",
            f"  {'':<24} {'wall s':>8} {'CPU s':>8} {'python + git':>15} {'RSS MB':>8} {'exit':>5}",
            row("import", f.imported),
            row("reshard", f.reshard),
            row("first run", f.first),
            row("no-change run", f.no_change),
            row("incremental run", f.incremental),
            row("workflow clone", f.clone),
            row("  + no-change run", f.clone_no_change),
            row("  + incremental run", f.clone_incremental),
            f"  incremental: {f.new} new articles; .git grew {f.git_growth / mb:.2f} MB",
            f"  in the workflow's checkout: no-change {f.clone.wall_s + f.clone_no_change.wall_s:.1f} s wall "
            f"with the clone (target ≤ 10 at 1M); incremental ({f.clone_new} new) "
            f"{f.clone.wall_s + f.clone_incremental.wall_s:.1f} s (target ≤ 20)",
            f"  largest folder: {f.flat_largest[0]} ({f.flat_largest[1]:,} entries) flat; "
            f"{f.largest[0]} ({f.largest[1]:,}) by month",
        ]
    if len(all_figures) >= 2:
        small, big = all_figures[0], all_figures[1]
        ratio = big.no_change.cpu_s / small.no_change.cpu_s
        lines.append(
            f"\nno-change run CPU at {big.size:,} ÷ at {small.size:,}: {ratio:.2f} (issue 9 target ≤ 1.3)"
        )
        clone_ratio = big.clone_no_change.cpu_s / small.clone_no_change.cpu_s
        lines.append(f"  the same in the workflow's checkout: {clone_ratio:.2f}")
    peak = max(
        m.maxrss_mb for f in all_figures for m in (f.first, f.no_change, f.incremental, f.clone_incremental)
    )
    lines.append(f"peak RSS of any run: {peak:.0f} MB (target ≤ 300)")
    return "\n".join(lines)


def checkout_again(work: Path) -> str:
    """The workflow's checkout of a kept archive, measured again (after a change of the code
    or of the workflow), with the feeds the kept run used."""
    logs = work / "logs"
    with feed_server(work / "feeds") as base:
        sources = work / "sources.toml"
        write_sources(sources, base)
        checkout = measure_checkout(work, sources, logs)
    return "\n".join(
        [
            f"  {'':<24} {'wall s':>8} {'CPU s':>8} {'python + git':>15} {'RSS MB':>8} {'exit':>5}",
            row("workflow clone", checkout.clone),
            row("  + no-change run", checkout.no_change),
            row("  + incremental run", checkout.incremental),
            f"  no-change {checkout.clone.wall_s + checkout.no_change.wall_s:.1f} s wall with the clone; "
            f"incremental ({checkout.new} new) {checkout.clone.wall_s + checkout.incremental.wall_s:.1f} s",
        ]
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--sizes", default="10000,100000", help="comma-separated article counts (1000000 too)"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--tmpdir", type=Path, default=None, help="where to build (default: the system's)")
    parser.add_argument(
        "--keep", action="store_true", help="leave each built archive, its feeds and its clone in place"
    )
    parser.add_argument(
        "--checkout",
        type=Path,
        default=None,
        metavar="WORK",
        help="only measure the workflow's checkout again, in an archive a --keep run left in WORK",
    )
    options = parser.parse_args(argv)
    if options.checkout is not None:
        print(checkout_again(options.checkout))
        return 0
    figures = []
    for size in (int(s) for s in options.sizes.split(",")):
        work = Path(tempfile.mkdtemp(prefix=f"bench-scale-{size}-", dir=options.tmpdir))
        try:
            print(f"building {size:,} articles in {work} …", file=sys.stderr)
            figures.append(measure(size, work, options.seed))
        finally:
            if options.keep:
                print(f"kept {work}", file=sys.stderr)
            else:
                shutil.rmtree(work, ignore_errors=True)
    print(report(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
