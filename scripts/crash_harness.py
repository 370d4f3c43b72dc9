"""Crash-safety harness: SIGKILL ``newsmirror run`` at random points, rerun it, compare.

    python scripts/crash_harness.py --kills 120 --seed 1 [--sources 6] [--items 60]
                                    [--tmpdir DIR] [--keep DIR] [--quiet]

What one run does, in order (the stages below follow it):

   1. startup: recovery of a killed run, then the fetch and parse of every source, concurrently;
   2. per source with new articles, one source at a time as the fetches complete: a line per
      new article appended to the journal ``.git/newsmirror-journal.jsonl`` (fsynced; the file
      is made, empty, before the run's first write of any kind if that comes earlier, and stays
      until the commit), then the article files ``articles/<slug>/<id>.md`` (by month,
      ``articles/<slug>/<YYYY>/<MM>/<id>.md``, in the monthly layout; oldest first, which is the
      highest id first; each a temporary file in ``.git/newsmirror-tmp/`` hard-linked into
      place), then the source's state: ``.newsmirror/records/<slug>/<YYYY-MM>.jsonl``,
      ``.newsmirror/keys/<slug>/<shard>.txt`` and, last, its summary
      ``.newsmirror/sources/<slug>.json``; no page yet;
   3. after every source: ``.newsmirror/status.json``, then ``.git/newsmirror-status.json``;
   4. the pages: ``lists/<name>.md`` of every source read (then its month pages under
      ``lists/<name>/``, where the version has them), ``README.md``, ``status.md``,
      ``status.xml``, each only when its bytes change (the harness takes every file the
      reference run changed outside ``articles/`` and ``.newsmirror/`` as a page);
   5. git: ``update-index --add --remove -z --stdin`` (stages what the run wrote), ``diff
      --cached --name-only``, ``commit``, ``gc --auto``, ``rev-parse HEAD``; then the journal is
      removed.

The harness:

1. Generates deterministic RSS feeds (``--sources`` × ``--items``, Chinese bodies of 2–10 KB,
   items sharing timestamps, one undated item per feed) and serves them from a separate process
   on 127.0.0.1, with ``ETag``/``If-None-Match`` like real feed hosts.
2. Builds a *starting archive*: a first run over an older window of every feed (one commit), so
   that the runs under test continue an archive (known items, ids below existing ones, state).
3. *Reference*: one uninterrupted ``newsmirror run --now …`` on a copy of the starting archive.
4. ``--kills`` times: a fresh copy of the starting archive, a run in its own process group,
   killed with SIGKILL (the whole group, git included, as a CI timeout or the OOM killer would).
   The first kills, and a share of the later ones, are aimed at *stage markers*: the run freezes
   itself (SIGSTOP to its process group) at a point of its own progress and is killed there, so
   that every stage is hit by construction, however slow or busy the machine is:

   * in newsmirror's process, an audit hook (``sys.addaudithook``, installed by the harness's
     child bootstrap) stops the run at the first file, socket or subprocess operation after a
     condition holds: the first connection; a source's journal lines written; k of its new
     articles, or all of them, on disk; its month records or key shards rewritten; k sources'
     summaries rewritten; ``status.json``, the local state, list pages or ``README.md``
     rewritten; ``git update-index``, ``git diff``, ``git commit`` or ``git gc`` about to
     start; the branch moved;
   * inside git, hooks (``core.hooksPath``, given to that run alone) stop it in ``git
     update-index`` (``post-index-change``: the index written, update-index not yet exited) and
     in ``git commit`` (``prepare-commit-msg``: before the commit object; ``reference-transaction
     prepared``: the branch's lock taken, not yet moved; ``post-commit``). Linux only
     (``/proc``), git ≥ 2.31 (``GIT_CONFIG_COUNT``).

   The other kills come after a random delay drawn over the reference run's duration (plus very
   early and very late ones) or the moment the harness sees an event on disk (a source's
   journal lines, an article file appears, the last article of a source, a source's summary,
   ``status.json``, a list page, ``status.md``, ``.git/index.lock`` appearing or vanishing, the
   branch moving, the journal removed), plus 0–2 ms at random. Then the same run again, to
   completion, and checks:

   * the rerun exits 0; ``git ls-tree -r HEAD`` equals the reference's (paths and blob ids) and
     the branch has as many commits;
   * ``git status --porcelain --untracked-files=all`` is empty; no ``*.tmp-*`` file in the tree,
     nothing left in ``.git/newsmirror-tmp/``, no journal, no ``*.lock`` file in ``.git``
     (``index.lock``, ref locks);
   * ``git fsck --full`` exits 0 and prints nothing but ``dangling …`` lines. Dangling objects
     are what a commit killed after writing blobs or trees leaves: unreachable, harmless, pruned
     by ``git gc``. ``tmp_obj_*`` files (an object write killed half way, never renamed into
     place) are likewise git's own garbage: counted, not a failure;
   * every item link of the feeds is in exactly one article file (none lost, none duplicated).

Where each kill landed is classified from what the process was running (its git child, read
from /proc just before the kill) and what it had written (the journal, the article files, the
summaries, ``status.json`` and the pages, compared with the starting archive and the
reference): the per-stage counts show that every stage was hit, and a marker kill that landed
in another stage than the one it aims at is listed (the markers or the classification no longer
match what a run does). Prints the figures; exits 1 on any mismatch, 0 otherwise.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

START_NOW = "2024-06-01T06:00:00Z"
RUN_NOW = "2024-06-01T12:00:00Z"
# The run under test: newsmirror's CLI, behind a bootstrap that arms a stage marker (see
# stop_at_marker) when the harness asks for one; the reference run and the reruns have none.
STOP_ENV = "CRASH_HARNESS_STOP"
GIT_STOP_ENV = "CRASH_HARNESS_GIT_STOP"
RUN_CHILD = f"""import os, sys
if os.environ.get({STOP_ENV!r}):
    import importlib.util
    spec = importlib.util.spec_from_file_location("crash_harness", {str(Path(__file__).resolve())!r})
    harness = importlib.util.module_from_spec(spec)
    sys.modules["crash_harness"] = harness
    spec.loader.exec_module(harness)
    harness.stop_at_marker(os.environ.pop({STOP_ENV!r}))
from newsmirror.cli import entry
entry()
"""
# The git hooks of a kill aimed inside git: the one named in CRASH_HARNESS_GIT_STOP ("<hook>
# <its first argument>" or "<hook> <the git subcommand running it>") freezes the run's process
# group, the others do nothing (and change nothing: no message edited, every hook exits 0).
GIT_HOOK = """#!/bin/sh
# crash harness stage marker (see scripts/crash_harness.py)
want=$CRASH_HARNESS_GIT_STOP
hook=${0##*/}
case $want in
"$hook $1") kill -STOP 0 ;;
"$hook "*) tr '\\0' '\\n' <"/proc/$PPID/cmdline" | grep -qx -- "${want#"$hook "}" && kill -STOP 0 ;;
esac
exit 0
"""
GIT_HOOKS = ("post-index-change", "prepare-commit-msg", "reference-transaction", "post-commit")
# What newsmirror's process does to files, sockets and children: a marker fires at one of these.
IO_EVENTS = frozenset(
    {"open", "os.link", "os.rename", "os.remove", "os.mkdir", "os.rmdir", "os.listdir", "os.scandir",
     "os.truncate", "os.utime", "os.chmod", "shutil.rmtree", "subprocess.Popen", "socket.connect"}
)  # fmt: skip
SERVE_FLAG = "--serve-feeds"
RUN_TIMEOUT_S = 300.0
HANZI = (
    "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面"
    "而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性"
    "政府研究报告官员部门法院警方选举议员总统总理社会环境能源交通医疗卫生人口就业工资价格增长下降上升数据调查"
)
LINK = re.compile(r"^\[.*\]\((https://[^)\s]+)\)$", re.M)

# Stages, in the order a run passes them (see classify()). Per source, one at a time (a
# source's store step never yields to the others): its journal lines, its articles, its state
# with the summary last; "between sources" is from one source's summary to the next one's
# journal lines, or to status.json after the last.
STAGES = (
    "startup, fetch, parse",
    "journal written, no article yet",
    "writing articles",
    "articles written, state not yet",
    "between sources",
    "status and pages",
    "pages written, git not started",
    "git update-index",
    "git diff",
    "git commit",
    "git (other, or between commands)",
    "after the commit",
)
# The git commands that are stages of their own (the others, run between them or at startup,
# are classified by what the run had written).
GIT_STAGES = ("update-index", "diff", "commit")
JOURNAL = ".git/newsmirror-journal.jsonl"
SCRATCH = ".git/newsmirror-tmp"
LOCAL_STATE = ".git/newsmirror-status.json"
# Stages a full count must hit: all but the milliseconds inside `git diff --cached`, which no
# stage marker can stop in (a kill there is the same as one just before or after it).
REQUIRED_STAGES = tuple(s for s in STAGES if s != "git diff")


# -- feeds ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Item:
    number: int
    title: str
    link: str
    date: datetime | None
    body: str


@dataclass(frozen=True)
class Feed:
    slug: str
    name: str
    items: tuple[Item, ...]  # oldest first

    def rss(self, first: int, last: int) -> bytes:
        """RSS 2.0 of items ``[first, last)``, newest first as feeds list them."""
        parts = [
            '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0">\n<channel>\n',
            f"<title>{escape(self.name)}</title>\n<link>https://news.example.com/{self.slug}/</link>\n",
        ]
        for item in reversed(self.items[first:last]):
            date = f"<pubDate>{format_datetime(item.date)}</pubDate>\n" if item.date else ""
            parts.append(
                f"<item>\n<title>{escape(item.title)}</title>\n<link>{item.link}</link>\n"
                f'<guid isPermaLink="false">urn:crash:{self.slug}:{item.number}</guid>\n{date}'
                f"<description>{escape(item.body)}</description>\n</item>\n"
            )
        parts.append("</channel>\n</rss>\n")
        return "".join(parts).encode("utf-8")


def make_feeds(sources: int, items: int, seed: int) -> list[Feed]:
    """Deterministic feeds; every 7th item shares the previous one's time, the newest is undated."""
    rng = random.Random(seed)
    feeds = []
    for s in range(sources):
        slug = f"crash-{s:02d}"
        moment = datetime(2024, 5, 31, 0, 0, tzinfo=UTC) + timedelta(minutes=rng.randint(0, 60))
        made = []
        for n in range(items):
            if n % 7 != 6:
                moment += timedelta(minutes=rng.randint(3, 30), seconds=rng.randint(0, 59))
            date = None if n == items - 1 else moment
            made.append(
                Item(n, _text(rng, 8, 24), f"https://news.example.com/{slug}/{n:05d}.html", date, _body(rng))
            )
        feeds.append(Feed(slug, f"测试源{s:02d}", tuple(made)))
    return feeds


def _text(rng: random.Random, low: int, high: int) -> str:
    return "".join(rng.choices(HANZI, k=rng.randint(low, high)))


def _body(rng: random.Random) -> str:
    paragraphs = []
    size = rng.randint(2048, 10240)
    while size > 0:
        paragraph = f"<p>{_text(rng, 40, 200)}。</p>"
        paragraphs.append(paragraph)
        size -= len(paragraph.encode("utf-8"))
    return "\n".join(paragraphs)


def windows(items: int) -> tuple[tuple[int, int], tuple[int, int]]:
    """The older window (starting archive) and the current one; they overlap by a few items."""
    old_end = items // 3
    return (0, old_end), (max(0, old_end - 5), items)


def write_feeds(folder: Path, feeds: Sequence[Feed], window: tuple[int, int]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for feed in feeds:
        temp = folder / f".{feed.slug}.xml.new"
        temp.write_bytes(feed.rss(*window))
        temp.replace(folder / f"{feed.slug}.xml")


def write_sources(path: Path, feeds: Sequence[Feed], base: str) -> None:
    tables = [
        f'[[source]]\nname = "{f.name}"\nslug = "{f.slug}"\nurl = "{base}/{f.slug}.xml"\n' for f in feeds
    ]
    path.write_text("[fetch]\nretries = 0\n\n" + "\n".join(tables), encoding="utf-8")


class _FeedHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    folder: Path = Path()

    def do_GET(self) -> None:
        path = self.folder / self.path.lstrip("/")
        if "/" in self.path.lstrip("/") or not path.is_file():
            self.send_error(404)
            return
        data = path.read_bytes()
        etag = '"' + hashlib.sha1(data).hexdigest() + '"'
        if self.headers.get("If-None-Match") == etag:
            self.send_response(304)
            self.send_header("ETag", etag)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("ETag", etag)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        pass


class _Server(ThreadingHTTPServer):
    request_queue_size = 128
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a killed run resets its connections: expected, not worth a traceback


def serve_feeds(folder: Path) -> None:
    """Serve ``folder`` until killed; the port goes to stdout (``--serve-feeds``, see feed_server)."""
    handler = type("Handler", (_FeedHandler,), {"folder": folder})
    parent = os.getppid()
    with _Server(("127.0.0.1", 0), handler) as httpd:
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        print(httpd.server_address[1], flush=True)
        while os.getppid() == parent:  # a harness killed without its cleanup takes its server along
            time.sleep(0.5)


@contextmanager
def feed_server(folder: Path) -> Iterator[str]:
    """Serve ``folder``'s files on 127.0.0.1 from a separate process; yields the base URL."""
    process = subprocess.Popen(
        [sys.executable, __file__, SERVE_FLAG, str(folder)], stdout=subprocess.PIPE, text=True
    )
    with process:
        try:
            assert process.stdout is not None
            port = int(process.stdout.readline())
            yield f"http://127.0.0.1:{port}"
        finally:
            process.terminate()


# -- running and inspecting -------------------------------------------------------------------


def git(root: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, check=check)


def run_command(archive: Path, sources: Path, now: str) -> list[str]:
    return [sys.executable, "-c", RUN_CHILD, "run", "--archive", str(archive), "--sources", str(sources),
            "--now", now]  # fmt: skip


def run_to_end(archive: Path, sources: Path, now: str = RUN_NOW) -> tuple[int, str]:
    done = subprocess.run(
        run_command(archive, sources, now), capture_output=True, text=True, timeout=RUN_TIMEOUT_S, check=False
    )
    return done.returncode, done.stderr


def fingerprint(path: Path) -> tuple[int, int, int] | None:
    """Inode, mtime and size: any atomic rewrite (new inode) or in-place write changes it."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return None
    return (info.st_ino, info.st_mtime_ns, info.st_size)


def read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def git_children(pid: int) -> list[str]:
    """The git subcommands the process is running right now (its direct children)."""
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []
    found = []
    for child in children:
        try:
            argv = Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if argv and argv[0].endswith(b"git"):
            found.append(git_subcommand([a.decode(errors="replace") for a in argv[1:] if a]))
    return found


def git_subcommand(args: Sequence[str]) -> str:
    """``update-index`` of ``git -c core.fsync=committed,index update-index --add -z --stdin``."""
    words = iter(args)
    for word in words:
        if word in ("-c", "-C"):
            next(words, None)
        elif not word.startswith("-"):
            return word
    return "?"


# -- stage markers ----------------------------------------------------------------------------

Condition = Callable[[str, tuple[Any, ...]], bool]


def stop_at_marker(text: str) -> None:
    """In the run under test: freeze its process group at the marker ``text`` (JSON) describes.

    An audit hook looks at every file, socket and subprocess operation of newsmirror's process
    and, at the first one after the marker's condition holds (before that operation happens),
    sends SIGSTOP to the process group; the harness, waiting for the stop, kills the group. The
    hook only reads: ``stat`` calls, no audit events of their own.
    """
    condition = marker_condition(json.loads(text))
    guard = threading.Lock()
    fired = False

    def hook(event: str, args: tuple[Any, ...]) -> None:
        nonlocal fired
        if fired or event not in IO_EVENTS or not guard.acquire(blocking=False):
            return
        try:
            if not fired and condition(event, args):
                fired = True
                os.killpg(0, signal.SIGSTOP)
        finally:
            guard.release()

    sys.addaudithook(hook)


def marker_condition(spec: dict[str, Any]) -> Condition:
    kind = spec["kind"]
    if kind == "connect":  # the first feed request: still fetching
        return lambda event, _args: event == "socket.connect"
    if kind == "git":  # a git command about to be started
        command = spec["command"]
        return lambda event, args: (
            event == "subprocess.Popen"
            and isinstance(args[1], list | tuple)
            and bool(args[1])
            and str(args[1][0]).endswith("git")
            and git_subcommand([str(a) for a in args[1][1:]]) == command
        )
    if kind == "changed":  # at least ``count`` of these files rewritten (atomically: new inodes)
        paths, count = [Path(p) for p in spec["paths"]], spec["count"]
        before = [fingerprint(p) for p in paths]
        return lambda _event, _args: (
            sum(1 for p, b in zip(paths, before, strict=True) if fingerprint(p) != b) >= count
        )
    if kind == "written":  # at least ``count`` of these files on disk
        paths, count = [Path(p) for p in spec["paths"]], spec["count"]
        return lambda _event, _args: sum(1 for p in paths if p.exists()) >= count
    if kind == "journal":  # the journal names this source (its lines appended, fsynced)
        journalled = journal_watch(Path(spec["path"]), spec["slug"])
        return lambda _event, _args: journalled()
    raise ValueError(f"unknown marker {spec!r}")


def journal_slugs(path: Path) -> set[str]:
    """The sources the journal has article lines of (a line cut short by a kill is passed over)."""
    found = set()
    for line in (read(path) or b"").decode("utf-8", errors="replace").split("\n"):
        try:
            data = json.loads(line)
        except ValueError:
            continue
        if isinstance(data, dict) and "slug" in data and "record" in data:
            found.add(str(data["slug"]))
    return found


def journal_watch(path: Path, slug: str) -> Callable[[], bool]:
    """True once the journal at ``path`` names ``slug``; read again only when it changed."""
    seen: list[Any] = [None, False]  # fingerprint when last read, whether it named slug

    def journalled() -> bool:
        now = fingerprint(path)
        if now != seen[0]:
            seen[0] = now
            seen[1] = slug in journal_slugs(path)
        return bool(seen[1])

    return journalled


def write_git_hooks(folder: Path) -> Path:
    """The hooks directory of kills aimed inside git; somewhere hooks can run (not noexec)."""
    for base in (folder, Path(tempfile.gettempdir())):
        hooks = Path(tempfile.mkdtemp(prefix="crash-hooks-", dir=base))
        for name in GIT_HOOKS:
            (hooks / name).write_text(GIT_HOOK, encoding="utf-8")
            (hooks / name).chmod(0o755)
        try:
            probe = subprocess.run([hooks / GIT_HOOKS[0]], capture_output=True, check=False, timeout=30)
        except OSError:
            probe = None
        if probe is not None and probe.returncode == 0:
            return hooks
        shutil.rmtree(hooks)
    raise RuntimeError("no directory where the git hooks of the stage markers can run")


def with_git_config(env: dict[str, str], key: str, value: str) -> dict[str, str]:
    """``env`` plus one ``git -c key=value`` for every git command (GIT_CONFIG_COUNT, git ≥ 2.31)."""
    count = int(env.get("GIT_CONFIG_COUNT") or 0)
    return {
        **env,
        "GIT_CONFIG_COUNT": str(count + 1),
        f"GIT_CONFIG_KEY_{count}": key,
        f"GIT_CONFIG_VALUE_{count}": value,
    }


@dataclass(frozen=True)
class Expected:
    """What the starting archive and the reference run hold: for classifying and comparing."""

    start: Path
    head: str
    tree: str
    commits: int
    new_articles: dict[str, tuple[str, ...]]  # slug -> new article paths, in the order written
    summaries: dict[str, tuple[bytes | None, bytes]]  # slug -> .newsmirror/sources/<slug>.json: start, ref
    state_files: dict[str, dict[str, tuple[str, ...]]]  # slug -> "records"/"keys" -> paths the run rewrites
    status: tuple[bytes | None, bytes]  # .newsmirror/status.json: start, reference
    list_paths: dict[str, str]  # slug -> list path
    pages: dict[str, bytes | None]  # every page (README.md, status.*, lists/…) at the reference
    links: frozenset[str]
    duration: float
    message: str


def tree_of(root: Path) -> str:
    return git(root, "ls-tree", "-r", "--full-tree", "HEAD").stdout


def head_of(root: Path) -> str:
    return git(root, "rev-parse", "HEAD").stdout.strip()


def summary_path(slug: str) -> str:
    return f".newsmirror/sources/{slug}.json"


def expectations(start: Path, reference: Path, feeds: Sequence[Feed], duration: float) -> Expected:
    diff = ("diff", "--name-only", "-z", head_of(start), "HEAD")
    added = git(reference, *diff, "--diff-filter=A").stdout.split("\0")
    changed = [p for p in git(reference, *diff).stdout.split("\0") if p]
    new: dict[str, tuple[str, ...]] = {}
    state_files: dict[str, dict[str, tuple[str, ...]]] = {}
    for feed in feeds:
        paths = [p for p in added if p.startswith(f"articles/{feed.slug}/")]
        # the store writes oldest first, which is the highest id first
        new[feed.slug] = tuple(sorted(paths, key=lambda p: -int(Path(p).stem)))
        state_files[feed.slug] = {
            kind: tuple(p for p in changed if p.startswith(f".newsmirror/{kind}/{feed.slug}/"))
            for kind in ("records", "keys")
        }
    summaries = {
        f.slug: (read(start / summary_path(f.slug)), (reference / summary_path(f.slug)).read_bytes())
        for f in feeds
    }
    # what classify() takes as a source stored, and as the run past its sources
    for slug, written in new.items():
        if written and summaries[slug][0] == summaries[slug][1]:
            raise RuntimeError(f"the reference run stored articles of {slug} but kept its summary")
    status = (read(start / ".newsmirror/status.json"), (reference / ".newsmirror/status.json").read_bytes())
    if any(new.values()) and status[0] == status[1]:
        raise RuntimeError("the reference run stored articles but did not rewrite status.json")
    # the pages: whatever the run changed beside the articles and the state, lists included
    generated = [p for p in changed if not p.startswith(("articles/", ".newsmirror/"))]
    pages = {p: read(reference / p) for p in sorted({"README.md", "status.md", "status.xml", *generated})}
    return Expected(
        start=start,
        head=head_of(start),
        tree=tree_of(reference),
        commits=int(git(reference, "rev-list", "--count", "HEAD").stdout),
        new_articles=new,
        summaries=summaries,
        state_files=state_files,
        status=status,
        list_paths={f.slug: f"lists/{f.name}.md" for f in feeds},
        pages=pages,
        links=frozenset(i.link for f in feeds for i in f.items),
        duration=duration,
        message=git(reference, "log", "-1", "--format=%B").stdout,
    )


def classify(root: Path, expected: Expected, running: list[str]) -> str:
    """Where the kill landed: what git was doing, else how far the writes had got.

    A git command of its own stage (update-index, diff, commit) is that stage; any other git
    command (``rev-parse`` and ``ls-files`` at startup, ``config`` before the commit) and the
    moments between commands are placed by the writes: once every page is written, or once
    update-index has staged them, the run is in git.
    """
    if head_of(root) != expected.head:
        return "after the commit"
    if running and running[0] in GIT_STAGES:
        return f"git {running[0]}"
    if git(root, "diff", "--cached", "--quiet", check=False).returncode != 0:
        return "git (other, or between commands)"  # staged by git update-index, not yet committed
    stage = _writes_stage(root, expected)
    if running and stage == "pages written, git not started":
        return "git (other, or between commands)"
    return stage


def _writes_stage(root: Path, expected: Expected) -> str:
    """How far the writes had got: the pages last, status.json before them, the sources first."""
    if all(read(root / p) == data for p, data in expected.pages.items()):
        return "pages written, git not started"
    if read(root / ".newsmirror/status.json") != expected.status[0]:
        return "status and pages"
    journalled = journal_slugs(root / JOURNAL)
    states = [_source_state(root, expected, slug, journalled) for slug in expected.new_articles]
    # the sources are stored one at a time: at most one of them is part way
    for state in ("articles written, state not yet", "writing articles", "journal written, no article yet"):
        if state in states:
            return state
    return "between sources" if "done" in states else "startup, fetch, parse"


def _source_state(root: Path, expected: Expected, slug: str, journalled: set[str]) -> str:
    """One source's progress: journal lines, then its articles, then its state (summary last)."""
    paths = expected.new_articles[slug]
    if not paths:
        return "nothing new"
    if read(root / summary_path(slug)) != expected.summaries[slug][0]:
        return "done"  # the summary, written last, rewritten
    written = sum(1 for p in paths if (root / p).exists())
    if written == len(paths):
        return "articles written, state not yet"
    if written:
        return "writing articles"
    if slug in journalled:
        return "journal written, no article yet"
    return "untouched"


@dataclass
class Check:
    problems: list[str] = field(default_factory=list)
    dangling: int = 0
    tmp_objects: int = 0
    lost: int = 0
    duplicated: int = 0
    message_differs: bool = False


def check(root: Path, expected: Expected, rerun_code: int, rerun_err: str) -> Check:
    """Compare a finished archive with the reference; every problem is one line."""
    result = Check()
    problems = result.problems
    if rerun_code != 0:
        problems.append(f"rerun exited {rerun_code}: {rerun_err.strip()[-500:]}")
    if tree_of(root) != expected.tree:
        problems.append("tree differs from the reference: " + _tree_diff(tree_of(root), expected.tree))
    commits = int(git(root, "rev-list", "--count", "HEAD").stdout)
    if commits != expected.commits:
        problems.append(f"{commits} commits, the reference has {expected.commits}")
    status = git(root, "status", "--porcelain", "--untracked-files=all").stdout
    if status:
        problems.append(f"working tree not clean: {status[:300]!r}")
    if (root / JOURNAL).exists():
        problems.append(f"journal left after a finished run: {JOURNAL}")
    _leftovers(root, result)
    fsck = git(root, "fsck", "--full", "--no-progress", check=False)
    lines = [line for line in (fsck.stdout + fsck.stderr).splitlines() if line.strip()]
    result.dangling = sum(1 for line in lines if line.startswith("dangling "))
    bad = [line for line in lines if not line.startswith("dangling ")]
    if fsck.returncode != 0 or bad:
        problems.append(f"git fsck exited {fsck.returncode}: {bad[:5]}")
    links = article_links(root)
    result.lost = len(expected.links - links.keys())
    result.duplicated = sum(1 for n in links.values() if n > 1)
    if result.lost or result.duplicated:
        problems.append(f"{result.lost} articles lost, {result.duplicated} duplicated")
    result.message_differs = git(root, "log", "-1", "--format=%B").stdout != expected.message
    return result


def _leftovers(root: Path, result: Check) -> None:
    """Temporary files (in the tree, or newsmirror's in .git) and git locks a finished run left."""
    for folder, _dirs, names in os.walk(root):
        inside_git = Path(folder).is_relative_to(root / ".git")
        for name in names:
            where = Path(folder, name).relative_to(root)
            if Path(folder).is_relative_to(root / SCRATCH):
                result.problems.append(f"temporary file left: {where}")
            elif inside_git and name.endswith(".lock") and name != "newsmirror.lock":
                result.problems.append(f"lock file left: {where}")
            elif inside_git and name.startswith("tmp_obj_"):
                result.tmp_objects += 1
            elif not inside_git and ".tmp-" in name:
                result.problems.append(f"temporary file left: {where}")


def _tree_diff(got: str, want: str) -> str:
    a, b = set(got.splitlines()), set(want.splitlines())
    return f"only here {sorted(a - b)[:3]}, only in the reference {sorted(b - a)[:3]}"


def article_links(root: Path) -> Counter[str]:
    """How many article files name each link (``articles/<slug>/<id>.md``, or by month in the
    monthly layout: ``articles/<slug>/<YYYY>/<MM>/<id>.md``)."""
    found: Counter[str] = Counter()
    for path in (root / "articles").rglob("*.md"):
        match = LINK.search(path.read_text(encoding="utf-8"))
        if match:
            found[match.group(1)] += 1
    return found


# -- kills ------------------------------------------------------------------------------------

Trigger = Callable[[], bool]


@dataclass(frozen=True)
class Plan:
    """When to kill: ``delay`` seconds after ``trigger`` fires (or after the start, without one).

    A marker plan (``aim`` set) has the run stop itself at a stage marker instead: ``marker``
    for newsmirror's process (see stop_at_marker), ``git_stop`` for a git hook (see GIT_HOOK).
    """

    label: str
    delay: float
    trigger: Trigger | None = None
    aim: str | None = None
    marker: dict[str, Any] | None = None
    git_stop: str | None = None

    def env(self, hooks: Path) -> dict[str, str] | None:
        if self.aim is None:
            return None
        env = dict(os.environ)
        if self.marker is not None:
            env[STOP_ENV] = json.dumps(self.marker)
        if self.git_stop is not None:
            env[GIT_STOP_ENV] = self.git_stop
            env = with_git_config(env, "core.hooksPath", str(hooks))
        return env


def plan_kill(rng: random.Random, number: int, root: Path, expected: Expected) -> Plan:
    """One kill per stage marker first (every stage by construction), then a mix.

    Of the rest, in every ten: 3 at stage markers, 1 very early, 1 very late, 2 timed over the
    reference's duration, 3 on events the harness sees on disk.
    """
    if number < MARKERS:
        return _marker_plan(rng, number, root, expected)
    number -= MARKERS
    kind = number % 10
    if kind < 3:
        return _marker_plan(rng, number // 10 * 3 + kind, root, expected)
    if kind == 3:
        return Plan("very early", rng.uniform(0.0, 0.15))
    if kind == 4:
        return Plan("very late", rng.uniform(0.85 * expected.duration, 1.05 * expected.duration))
    if kind < 7:
        return Plan("timed", rng.uniform(0.0, expected.duration))
    return _event_plan(rng, number // 10 * 3 + kind - 7, root, expected)


def _marker_plan(rng: random.Random, number: int, root: Path, expected: Expected) -> Plan:
    """The ``number``-th marker kill (round robin over the markers), on a random source."""
    slug = rng.choice([s for s, paths in expected.new_articles.items() if len(paths) > 1])
    counts = Counts(
        articles=rng.randint(1, len(expected.new_articles[slug]) - 1),
        keys=rng.randint(1, max(1, len(expected.state_files[slug]["keys"]))),
        sources=rng.randint(1, len(expected.list_paths) - 1),
        lists=rng.randint(1, len(expected.list_paths)),
    )
    markers = _markers(root, expected, slug, counts)
    assert len(markers) == MARKERS
    aim, label, marker, git_stop = markers[number % MARKERS]
    return Plan(f"at {label}", 0.0, aim=aim, marker=marker, git_stop=git_stop)


Marker = tuple[str, str, dict[str, Any] | None, str | None]  # aim, label, marker, git hook
REF_PREPARED = "reference-transaction prepared"
MARKERS = 20


@dataclass(frozen=True)
class Counts:
    """How far a marker waits: ``articles`` of the source's new articles on disk (fewer than
    all), ``keys`` of its key shards rewritten, ``sources`` summaries rewritten (fewer than
    all), ``lists`` list pages rewritten."""

    articles: int
    keys: int
    sources: int
    lists: int


def _markers(root: Path, expected: Expected, slug: str, counts: Counts) -> list[Marker]:
    """The stage markers: one for each required stage first, in the order a run passes them,
    then more points inside the stages. ``slug``: the source of the per-source markers."""
    articles = [str(root / p) for p in expected.new_articles[slug]]
    records = [str(root / p) for p in expected.state_files[slug]["records"]]
    keys = [str(root / p) for p in expected.state_files[slug]["keys"]]
    summaries = [str(root / summary_path(s)) for s in expected.summaries]
    lists = [str(root / p) for p in expected.list_paths.values()]
    status = str(root / ".newsmirror/status.json")
    branch = str(root / ".git/refs/heads/main")
    journal = {"kind": "journal", "path": str(root / JOURNAL), "slug": slug}
    return [
        ("startup, fetch, parse", "the first connection", {"kind": "connect"}, None),
        ("journal written, no article yet", "a source's journal lines written", journal, None),
        ("writing articles", "some of a source's new articles written",
         _written(articles, counts.articles), None),
        ("articles written, state not yet", "all of a source's new articles", _written(articles), None),
        ("between sources", "some sources' summaries rewritten", _changed(summaries, counts.sources), None),
        ("status and pages", "status.json rewritten", _changed([status]), None),
        ("pages written, git not started", "git update-index about to start", _git("update-index"), None),
        ("git update-index", "git update-index, index written (post-index-change)", None,
         "post-index-change update-index"),
        ("git (other, or between commands)", "git diff about to start", _git("diff"), None),
        ("git commit", "git commit, no commit yet (prepare-commit-msg)", None, "prepare-commit-msg commit"),
        ("after the commit", "the branch moved", _changed([branch]), None),
        # more points inside the stages
        ("articles written, state not yet", "a source's month records rewritten", _changed(records), None),
        ("articles written, state not yet", "some of a source's key shards rewritten",
         _changed(keys, counts.keys), None),
        ("status and pages", "the local state rewritten", _changed([str(root / LOCAL_STATE)]), None),
        ("status and pages", "some list pages rewritten", _changed(lists, counts.lists), None),
        ("status and pages", "README.md rewritten", _changed([str(root / "README.md")]), None),
        ("git (other, or between commands)", "git commit about to start", _git("commit"), None),
        ("git commit", "git commit, ref locked (reference-transaction)", None, REF_PREPARED),
        ("after the commit", "git commit, in post-commit", None, "post-commit commit"),
        ("after the commit", "git gc --auto about to start", _git("gc"), None),
    ]  # fmt: skip


def _changed(paths: list[str], count: int = 1) -> dict[str, Any]:
    return {"kind": "changed", "paths": paths, "count": count}


def _written(paths: list[str], count: int | None = None) -> dict[str, Any]:
    return {"kind": "written", "paths": paths, "count": len(paths) if count is None else count}


def _git(command: str) -> dict[str, Any]:
    return {"kind": "git", "command": command}


def _event_plan(rng: random.Random, number: int, root: Path, expected: Expected) -> Plan:
    """The ``number``-th event kill (round robin over the events), on a random source."""
    slug = rng.choice([s for s, paths in expected.new_articles.items() if paths])
    articles = expected.new_articles[slug]
    lock = root / ".git/index.lock"
    journal = root / JOURNAL
    watch = journal_watch(journal, slug)
    events: list[tuple[str, Trigger]] = [
        ("a source's journal lines are written", watch),
        ("an article appears", (root / rng.choice(articles)).exists),
        ("a source's last article appears", (root / articles[-1]).exists),
        ("a source's summary is written", _changes(root / summary_path(slug))),
        ("status.json is written", _changes(root / ".newsmirror/status.json")),
        ("a list page is written", _changes(root / expected.list_paths[slug])),
        ("status.md is written", _changes(root / "status.md")),
        ("git update-index starts", lock.exists),
        ("git update-index ends", _flips(lock, 2)),
        ("git commit starts", _flips(lock, 3)),
        ("the branch moves", _changes(root / ".git/refs/heads/main")),
        ("the journal is removed", _flips(journal, 2)),
    ]
    label, trigger = events[number % len(events)]
    delay = rng.choice((0.0, 0.0, 0.0, rng.uniform(0.0, 0.002)))
    return Plan(f"when {label}", delay, trigger)


def _changes(path: Path) -> Trigger:
    before = fingerprint(path)
    return lambda: fingerprint(path) != before


def _flips(path: Path, times: int) -> Trigger:
    """True once ``path`` has appeared or vanished ``times`` times (index.lock: update-index, then
    commit; the journal: made, then removed after the commit)."""
    seen = [path.exists(), 0]

    def flipped() -> bool:
        now = path.exists()
        if now != seen[0]:
            seen[0] = now
            seen[1] += 1
        return seen[1] >= times

    return flipped


@dataclass
class KillOutcome:
    plan: str
    stage: str
    after_s: float
    aim: str | None = None
    check: Check | None = None
    temp_left: bool = False
    lock_left: bool = False
    journal_left: bool = False


def kill_once(root: Path, sources: Path, plan: Plan, expected: Expected, hooks: Path) -> KillOutcome:
    """Start a run, kill its process group at the planned moment, classify, rerun, check."""
    process = subprocess.Popen(
        run_command(root, sources, RUN_NOW),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        env=plan.env(hooks),
    )
    start = time.perf_counter()
    deadline = start + RUN_TIMEOUT_S
    if plan.aim is not None:
        # The run stops itself at the marker: no race, however slow the machine.
        while process.poll() is None and not stopped(process.pid) and time.perf_counter() < deadline:
            time.sleep(0.001)
    elif plan.trigger is not None:
        while process.poll() is None and not plan.trigger() and time.perf_counter() < deadline:
            pass
    fire = time.perf_counter() + plan.delay
    while process.poll() is None and time.perf_counter() < fire:
        time.sleep(min(0.001, max(0.0, fire - time.perf_counter())))
    killed = process.poll() is None
    running = []
    if killed:
        # Freeze the group first, so that what it was running can be read at leisure: the
        # SIGKILL that follows finds every process exactly where the SIGSTOP did.
        os.killpg(process.pid, signal.SIGSTOP)
        running = git_children(process.pid)
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    after = time.perf_counter() - start
    stage = classify(root, expected, running) if killed else "run finished before the kill"
    outcome = KillOutcome(plan.label, stage, after, aim=plan.aim)
    outcome.temp_left = any(".tmp-" in p.name for p in root.rglob("*") if ".git" not in p.parts) or any(
        (root / SCRATCH).glob("*")
    )
    outcome.lock_left = (root / ".git/index.lock").exists()
    outcome.journal_left = (root / JOURNAL).exists()
    code, err = run_to_end(root, sources)
    outcome.check = check(root, expected, code, err)
    return outcome


def stopped(pid: int) -> bool:
    """Whether the process is stopped (SIGSTOP): the state after the command in /proc/PID/stat."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2 :].startswith("T")


# -- the whole harness ------------------------------------------------------------------------


@dataclass
class Report:
    kills: int = 0
    stages: Counter[str] = field(default_factory=Counter)
    plans: Counter[str] = field(default_factory=Counter)
    finished_early: int = 0
    reruns: int = 0
    mismatches: list[str] = field(default_factory=list)
    off_target: list[str] = field(default_factory=list)  # marker kills landed elsewhere
    fsck_clean: int = 0
    dangling_runs: int = 0
    dangling_objects: int = 0
    tmp_objects: int = 0
    temp_left_by_kill: int = 0
    lock_left_by_kill: int = 0
    journal_left_by_kill: int = 0
    lost: int = 0
    duplicated: int = 0
    messages_differ: int = 0
    reference_s: float = 0.0
    new_articles: int = 0
    start_articles: int = 0
    seconds: float = 0.0

    @property
    def missing_stages(self) -> list[str]:
        return [s for s in REQUIRED_STAGES if not self.stages[s]]

    @property
    def ok(self) -> bool:
        return not self.mismatches and not self.lost and not self.duplicated


@dataclass(frozen=True)
class Options:
    kills: int = 120
    seed: int = 1
    sources: int = 6
    items: int = 60
    tmpdir: Path | None = None
    keep: Path | None = None
    progress: Callable[[str], None] | None = None


def run_harness(options: Options) -> Report:
    began = time.perf_counter()
    if options.keep is not None:
        options.keep.mkdir(parents=True, exist_ok=True)
        return _run_in(options.keep, options, began)
    tmpdir = options.tmpdir or default_tmpdir()
    with tempfile.TemporaryDirectory(prefix="crash-harness-", dir=tmpdir) as folder:
        return _run_in(Path(folder), options, began)


def default_tmpdir() -> Path | None:
    """/dev/shm when there is one: the kills and reruns write ~20 MB each, tmpfs keeps it quick."""
    shm = Path("/dev/shm")
    return shm if shm.is_dir() and os.access(shm, os.W_OK) else None


def _run_in(folder: Path, options: Options, began: float) -> Report:
    feeds = make_feeds(options.sources, options.items, options.seed)
    old, current = windows(options.items)
    served = folder / "feeds"
    write_feeds(served, feeds, old)
    with feed_server(served) as base:
        sources = folder / "sources.toml"
        write_sources(sources, feeds, base)
        start = _starting_archive(folder / "start", sources)
        write_feeds(served, feeds, current)
        reference = folder / "reference"
        shutil.copytree(start, reference, symlinks=True)
        began_ref = time.perf_counter()
        code, err = run_to_end(reference, sources)
        duration = time.perf_counter() - began_ref
        if code != 0:
            raise RuntimeError(f"the reference run exited {code}: {err}")
        expected = expectations(start, reference, feeds, duration)
        report = Report(reference_s=duration)
        report.new_articles = sum(len(p) for p in expected.new_articles.values())
        report.start_articles = sum(article_links(start).values())
        reference_check = check(reference, expected, 0, "")
        if reference_check.problems:
            raise RuntimeError(f"the reference run itself fails the checks: {reference_check.problems}")
        hooks = write_git_hooks(folder)
        try:
            _kill_loop(folder / "work", sources, expected, options, report, hooks)
        finally:
            shutil.rmtree(hooks, ignore_errors=True)
    report.seconds = time.perf_counter() - began
    return report


def _starting_archive(root: Path, sources: Path) -> Path:
    code, err = run_to_end(root, sources, START_NOW)
    if code != 0:
        raise RuntimeError(f"building the starting archive: run exited {code}: {err}")
    # A detached `git gc --auto` would outlive a killed run and race the checks; the archives
    # here stay far below gc.auto's 6,700 loose objects, this only makes sure.
    git(root, "config", "gc.auto", "0")
    return root


def _kill_loop(
    work: Path, sources: Path, expected: Expected, options: Options, report: Report, hooks: Path
) -> None:
    rng = random.Random(options.seed)
    attempt = 0
    while report.kills < options.kills and attempt < options.kills * 3:
        if work.exists():
            shutil.rmtree(work)
        shutil.copytree(expected.start, work, symlinks=True)
        plan = plan_kill(rng, attempt, work, expected)
        attempt += 1
        outcome = kill_once(work, sources, plan, expected, hooks)
        _tally(report, outcome, attempt)
        if options.progress is not None:
            problems = "; ".join(outcome.check.problems) if outcome.check else ""
            options.progress(
                f"{attempt:4d} {outcome.after_s * 1000:7.1f} ms  {outcome.plan:50s} {outcome.stage:32s}"
                + (f"  MISMATCH {problems}" if problems else "")
            )


def _tally(report: Report, outcome: KillOutcome, attempt: int) -> None:
    if outcome.stage == "run finished before the kill":
        report.finished_early += 1
    else:
        report.kills += 1
        report.stages[outcome.stage] += 1
        report.plans[outcome.plan] += 1
    report.reruns += 1
    report.temp_left_by_kill += outcome.temp_left
    report.lock_left_by_kill += outcome.lock_left
    report.journal_left_by_kill += outcome.journal_left
    result = outcome.check
    assert result is not None
    report.fsck_clean += not any(p.startswith("git fsck") for p in result.problems)
    report.dangling_runs += result.dangling > 0
    report.dangling_objects += result.dangling
    report.tmp_objects += result.tmp_objects
    report.lost += result.lost
    report.duplicated += result.duplicated
    report.messages_differ += result.message_differs
    where = f"attempt {attempt} ({outcome.plan}, {outcome.stage})"
    if outcome.aim is not None and outcome.stage != outcome.aim:
        report.off_target.append(f"{where}: aimed at {outcome.aim!r}")
    report.mismatches += [f"{where}: {p}" for p in result.problems]


def format_report(report: Report, options: Options) -> str:
    lines = [
        f"crash harness: seed {options.seed}, {options.sources} sources x {options.items} items",
        f"starting archive: {report.start_articles} articles, one commit; "
        f"reference run: {report.new_articles} new articles in {report.reference_s:.2f} s",
        "",
        f"kills (SIGKILL to the run's process group): {report.kills}"
        f"   (+ {report.finished_early} runs that finished before their kill moment)",
        "kills per stage:",
        *(f"  {report.stages[s]:5d}  {s}" for s in STAGES),
        "kills per trigger:",
        *(f"  {n:5d}  {p}" for p, n in sorted(report.plans.items())),
        "",
        f"left by the kill: a temporary file {report.temp_left_by_kill} times, "
        f".git/index.lock {report.lock_left_by_kill} times (both cleaned by the rerun), "
        f"the journal {report.journal_left_by_kill} times (replayed by the rerun)",
        f"reruns: {report.reruns}, mismatches: {len(report.mismatches)}",
        f"git fsck --full clean: {report.fsck_clean}/{report.reruns} "
        f"(dangling objects after {report.dangling_runs} kills, {report.dangling_objects} in all: harmless)",
        f"git tmp_obj_* files left in .git/objects: {report.tmp_objects} (git's own garbage, pruned by gc)",
        f"articles lost: {report.lost}, duplicated: {report.duplicated}",
        f"commit message differs from the reference (fewer 'new' after a partial run): "
        f"{report.messages_differ}",
        f"stages never hit: {', '.join(report.missing_stages) or 'none'}",
        f"marker kills that landed in another stage than their own: {len(report.off_target) or 'none'}",
        *(f"  {line}" for line in report.off_target[:20]),
        f"time: {report.seconds:.1f} s",
        "",
        *report.mismatches[:50],
        "RESULT: " + ("PASS" if report.ok else "FAIL"),
    ]
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--kills", type=int, default=120, help="kills to land (default 120)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the feeds and the kill plan")
    parser.add_argument("--sources", type=int, default=6, help="feeds (default 6)")
    parser.add_argument("--items", type=int, default=60, help="items per feed (default 60)")
    parser.add_argument("--tmpdir", type=Path, default=None, help="where to work (default /dev/shm if any)")
    parser.add_argument("--keep", type=Path, default=None, help="work in DIR and keep it")
    parser.add_argument("--quiet", action="store_true", help="no line per kill")
    args = parser.parse_args(argv)
    return Options(
        kills=args.kills,
        seed=args.seed,
        sources=args.sources,
        items=args.items,
        tmpdir=args.tmpdir,
        keep=args.keep,
        progress=None if args.quiet else lambda line: print(line, flush=True),
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else list(argv)
    if args[:1] == [SERVE_FLAG]:
        serve_feeds(Path(args[1]))
        return 0
    options = parse_args(argv)
    report = run_harness(options)
    print(format_report(report, options))
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
