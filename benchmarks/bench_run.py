"""End-to-end benchmark of ``newsmirror run`` against a floor of the least possible work.

    python benchmarks/bench_run.py --sources 200 --items 50 [--seed 1] [--cdata]
                                   [--tmpdir DIR | --keep DIR] [--json]

1. Generates N sources × M items of RSS 2.0 (seeded, deterministic): Chinese titles, bodies
   of 2–20 KB as ``<p>`` paragraphs on separate lines with a few ``<img>`` tags, distinct
   links and guids, RFC 822 dates.
2. Runs the floor (``benchmarks/floor.py``: fastfeedparser + one file per entry) in a child
   process, and for information ``git add``/``commit`` of its files.
3. Serves the feeds from a ThreadingHTTPServer on 127.0.0.1 in a separate process (its CPU
   is not newsmirror's) and writes a sources TOML pointing at it.
4. Runs ``newsmirror run --json`` into a fresh archive in a child process, waits for the
   ``git gc --auto`` it may leave detached (measured apart), then runs it once more (nothing
   new); measures wall time, CPU (the Python process and its git children) and peak RSS of
   each, and checks the rerun made no commit and wrote no file.
5. Prints the figures, the articles-per-CPU-second ratio to the floor and PASS/MISS per target.

See ``benchmarks/README.md`` for how to read the output.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from xml.etree import ElementTree
from xml.sax.saxutils import escape

from newsmirror.transform.active import has_active_content
from newsmirror.transform.sanitize import neutralize
from newsmirror.transform.text import join_lines

BENCH_DIR = Path(__file__).resolve().parent
FLOOR_SCRIPT = BENCH_DIR / "floor.py"

# Targets (for 200 sources × 50 items; the same limits are applied at any size).
TARGET_RATIO = 0.5
TARGET_FIRST_WALL_S = 30.0
TARGET_PEAK_RSS_MB = 300.0
TARGET_RERUN_WALL_S = 3.0
TARGET_SANITIZE_SHARE = 0.05  # of the first run's Python CPU

RUSAGE_ENV = "NEWSMIRROR_BENCH_RUSAGE"
# No automatic gc here: newsmirror's own detached gc is measured apart (see wait_for_detached).
FLOOR_GIT = (
    'cd "$FLOOR" && git init -q -b main && git add -A && '
    "git -c user.name=bench -c user.email=bench@localhost -c gc.auto=0 -c maintenance.auto=false "
    "commit -q --no-verify -m floor"
)

# The child that runs newsmirror: exactly ``newsmirror.cli:entry`` (the console script), plus
# an atexit hook that records the process's own rusage and that of its reaped children (git)
# so the CPU can be split between Python and git.  The parent's os.wait4 gives the total.
NEWSMIRROR_CHILD = """\
import atexit, json, os, resource, sys

def _hwm_kb(fallback):
    # Linux keeps ru_maxrss across exec (a child started by a big process reports that process's
    # peak); VmHWM is this process's own address space's high-water mark.
    try:
        with open("/proc/self/status") as status:
            return next(int(l.split()[1]) for l in status if l.startswith("VmHWM:"))
    except (OSError, StopIteration, ValueError):
        return fallback

def _report():
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    with open(os.environ["NEWSMIRROR_BENCH_RUSAGE"], "w") as out:
        json.dump({"self_user": me.ru_utime, "self_sys": me.ru_stime, "self_maxrss_kb": _hwm_kb(me.ru_maxrss),
                   "kids_user": kids.ru_utime, "kids_sys": kids.ru_stime,
                   "kids_maxrss_kb": kids.ru_maxrss}, out)

atexit.register(_report)
from newsmirror.cli import entry
sys.argv[0] = "newsmirror"
entry()
"""

# -- feed generation --------------------------------------------------------------------------

# Common characters of news Chinese; words are 1–4 of them, sentences 6–22 words.
HANZI = (
    "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面"
    "而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性"
    "好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第"
    "向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管"
    "特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处"
    "府研质信息报道记者表示经济市场金融投资贸易合作发展改革政策会议国际安全地区城市企业公司技术科学教育文化"
    "社会环境能源交通医疗卫生人口就业工资价格增长下降上升数据调查研究报告官员部门政府法院警方选举议员总统总理"
)
# An embedded tweet as sites paste it (Twitter's embed code), in one body in EMBED_ONE_IN.
EMBED_ONE_IN = 16
TWEET = (
    '<blockquote class="twitter-tweet" data-lang="zh-cn"><p lang="zh" dir="ltr">{text}</p>'
    '&mdash; 记者 (@reporter) <a href="https://twitter.com/reporter/status/{number}">2024年6月1日</a>'
    '</blockquote>\n<script async src="https://platform.twitter.com/widgets.js" charset="utf-8"></script>'
)
PUNCTUATION = "，，，、；："
SOURCE_NAMES = ("新闻", "时报", "日报", "之声", "电台", "周刊", "通讯", "观察", "评论", "晚报")


@dataclass(frozen=True)
class FeedSpec:
    name: str
    slug: str
    file: str
    items: int
    feed_bytes: int
    body_bytes: int


class Corpus:
    """Random Chinese text from a fixed vocabulary; deterministic for a given ``random.Random``."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        words = ["".join(rng.choices(HANZI, k=rng.choice((1, 2, 2, 2, 3, 4)))) for _ in range(3000)]
        self.sentences = [self._sentence(words) for _ in range(5000)]

    def _sentence(self, words: list[str]) -> str:
        parts: list[str] = []
        for _ in range(self.rng.randint(6, 22)):
            parts.append(self.rng.choice(words))
            if self.rng.random() < 0.15:
                parts.append(self.rng.choice(PUNCTUATION))
        return "".join(parts).strip(PUNCTUATION) + self.rng.choice("。。。。！？")

    def title(self) -> str:
        return "".join(self.rng.choices(self.sentences, k=2))[: self.rng.randint(10, 30)].rstrip("。！？")

    def body(self, slug: str, number: int, target_bytes: int) -> str:
        """``<p>`` paragraphs, one per line, with 1–4 ``<img>`` tags between them.

        One body in ``EMBED_ONE_IN`` also carries an embedded tweet with its widget
        ``<script>``, as CDT and RFA bodies often do: the sanitizer has to cut that out.
        """
        paragraphs: list[str] = []
        size = 0
        while size < target_bytes:
            text = "".join(self.rng.choices(self.sentences, k=self.rng.randint(2, 8)))
            paragraph = f"<p>{text}</p>"
            paragraphs.append(paragraph)
            size += len(paragraph.encode("utf-8")) + 1
        for k in range(self.rng.randint(1, 4)):
            image = f'<p><img src="https://img.example.com/{slug}/{number}/{k}.jpg" alt="{self.title()}"></p>'
            paragraphs.insert(self.rng.randint(0, len(paragraphs)), image)
        if self.rng.randrange(EMBED_ONE_IN) == 0:
            tweet = TWEET.format(text=self.title(), slug=slug, number=number)
            paragraphs.insert(self.rng.randint(0, len(paragraphs)), tweet)
        return "\n".join(paragraphs)


def generate_feeds(
    folder: Path, sources: int, items: int, seed: int, *, cdata: bool = False
) -> list[FeedSpec]:
    """Write ``sources`` RSS 2.0 files of ``items`` items each into ``folder``.

    Bodies are entity-escaped HTML, or CDATA sections with ``cdata``.
    """
    rng = random.Random(seed)
    corpus = Corpus(rng)
    folder.mkdir(parents=True)
    zone = timezone(timedelta(hours=8))
    newest = datetime(2024, 6, 1, 12, 0, 0, tzinfo=zone)
    specs = []
    for s in range(sources):
        slug = f"bench-{s:04d}"
        name = f"{SOURCE_NAMES[s % len(SOURCE_NAMES)]}{s:04d}"
        moment = newest - timedelta(minutes=rng.randint(0, 600))
        parts = [
            '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0">\n<channel>\n',
            f"<title>{escape(name)}</title>\n<link>https://news.example.com/{slug}/</link>\n",
            f"<description>{escape(name)} 基准测试源</description>\n<language>zh-cn</language>\n",
        ]
        body_bytes = 0
        for n in range(items):
            number = items - n  # newest first, as feeds list them
            link = f"https://news.example.com/{slug}/{moment:%Y/%m/%d}/{number:06d}.html"
            body = corpus.body(slug, number, rng.randint(2048, 20480))
            body_bytes += len(body.encode("utf-8"))
            description = f"<![CDATA[{body}]]>" if cdata else escape(body)
            parts.append(
                f"<item>\n<title>{escape(corpus.title())}</title>\n<link>{link}</link>\n"
                f'<guid isPermaLink="false">urn:newsmirror-bench:{slug}:{number}</guid>\n'
                f"<pubDate>{format_datetime(moment)}</pubDate>\n"
                f"<description>{description}</description>\n</item>\n"
            )
            moment -= timedelta(minutes=rng.randint(5, 90), seconds=rng.randint(0, 59))
        parts.append("</channel>\n</rss>\n")
        data = "".join(parts).encode("utf-8")
        (folder / f"{slug}.xml").write_bytes(data)
        specs.append(FeedSpec(name, slug, f"{slug}.xml", items, len(data), body_bytes))
    return specs


def _toml_string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a valid TOML basic string


def write_sources(path: Path, specs: Sequence[FeedSpec], base_url: str) -> None:
    tables = [
        f"[[source]]\nname = {_toml_string(s.name)}\nslug = {_toml_string(s.slug)}\n"
        f"url = {_toml_string(f'{base_url}/feeds/{s.file}')}\n"
        for s in specs
    ]
    path.write_text("\n".join(tables), encoding="utf-8")


# -- the feed server (its own process) --------------------------------------------------------


class _FeedServer(ThreadingHTTPServer):
    # socketserver's default backlog of 5 overflows with newsmirror's 16 parallel connects:
    # dropped SYNs are retried after 1 s, which would show up as newsmirror wall time.
    request_queue_size = 1024
    daemon_threads = True


class _FeedHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as real feed hosts do
    disable_nagle_algorithm = True  # headers and body are separate writes
    feeds: Path = Path()

    def do_GET(self) -> None:
        name = self.path.removeprefix("/feeds/")
        path = self.feeds / name
        if "/" in name or not name.endswith(".xml") or not path.is_file():
            self.send_error(404)
            return
        data = path.read_bytes()
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        pass


def _serve(feeds: str, ports: Any) -> None:
    handler = type("FeedHandler", (_FeedHandler,), {"feeds": Path(feeds)})
    with _FeedServer(("127.0.0.1", 0), handler) as httpd:
        ports.put(httpd.server_address[1])
        httpd.serve_forever()


@contextmanager
def feed_server(feeds: Path) -> Iterator[str]:
    """Serve ``feeds`` at ``http://127.0.0.1:<port>/feeds/<file>`` from a separate process."""
    context = multiprocessing.get_context("spawn")
    ports = context.Queue()
    process = context.Process(target=_serve, args=(str(feeds), ports), daemon=True)
    process.start()
    try:
        port = ports.get(timeout=30)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.join(10)


# -- measured child processes -----------------------------------------------------------------


@dataclass
class Measured:
    """One child process: wall time, CPU and peak RSS (Linux ru_maxrss is in KiB)."""

    label: str
    exit_code: int
    wall_s: float
    user_s: float
    sys_s: float
    maxrss_mb: float
    # the split, when the child reported it (newsmirror): Python itself vs its children (git).
    # children_maxrss_mb is max(git's own peak, the Python RSS git was forked from): Linux
    # charges the pre-exec image to the child; so only the overall max is exact.
    python_cpu_s: float | None = None
    children_cpu_s: float | None = None
    python_maxrss_mb: float | None = None
    children_maxrss_mb: float | None = None
    articles: int = 0

    @property
    def cpu_s(self) -> float:
        return self.user_s + self.sys_s

    @property
    def articles_per_cpu_s(self) -> float:
        return self.articles / self.cpu_s if self.cpu_s else 0.0


def run_measured(
    label: str, command: Sequence[str], logs: Path, env: dict[str, str] | None = None
) -> tuple[Measured, str]:
    """Run ``command``; its rusage from os.wait4 covers it and every child it waited for."""
    logs.mkdir(parents=True, exist_ok=True)
    stem = label.replace(" ", "-")
    out_path, err_path = logs / f"{stem}.stdout", logs / f"{stem}.stderr"
    with out_path.open("wb") as out, err_path.open("wb") as err:
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=err, env=env)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    measured = Measured(
        label=label,
        exit_code=process.returncode,
        wall_s=wall,
        user_s=usage.ru_utime,
        sys_s=usage.ru_stime,
        maxrss_mb=usage.ru_maxrss / 1024,
    )
    if process.returncode != 0:
        tail = err_path.read_text(encoding="utf-8", errors="replace")[-2000:]
        print(f"warning: {label} exited with {process.returncode}; stderr ends:\n{tail}", file=sys.stderr)
    return measured, out_path.read_text(encoding="utf-8", errors="replace")


def run_newsmirror(
    label: str,
    archive: Path,
    sources: Path,
    logs: Path,
    args: Sequence[str] | None = None,
    *,
    env: Mapping[str, str] | None = None,
) -> tuple[Measured, dict[str, Any]]:
    """``newsmirror run --json`` (or ``args``) in a child (environment ``env``, default this
    process's), with its CPU and RSS split."""
    usage_path = logs / f"{label.replace(' ', '-')}.rusage.json"
    env = {**(env if env is not None else os.environ), RUSAGE_ENV: str(usage_path)}
    given = (
        args if args is not None else ["run", "--archive", str(archive), "--sources", str(sources), "--json"]
    )
    command = [sys.executable, "-c", NEWSMIRROR_CHILD, *given]
    measured, stdout = run_measured(label, command, logs, env)
    try:
        split = json.loads(usage_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        split = None
    if split is not None:
        # git runs to completion inside the run, so the children's figure is whole at exit;
        # Python's own is the rest of wait4's total (that includes interpreter teardown).
        measured.children_cpu_s = split["kids_user"] + split["kids_sys"]
        measured.python_cpu_s = measured.cpu_s - measured.children_cpu_s
        measured.python_maxrss_mb = split["self_maxrss_kb"] / 1024
        measured.children_maxrss_mb = split["kids_maxrss_kb"] / 1024
    try:
        result: dict[str, Any] = json.loads(stdout)
    except ValueError:
        result = {}
    return measured, result


# -- archive inspection -----------------------------------------------------------------------


def snapshot(root: Path) -> dict[str, tuple[int, int]]:
    """Every file of the working tree outside ``.git``: path → (size, mtime_ns)."""
    files: dict[str, tuple[int, int]] = {}
    for folder, dirs, names in os.walk(root):
        if folder == str(root):
            dirs[:] = [d for d in dirs if d != ".git"]
        for name in names:
            path = os.path.join(folder, name)
            info = os.stat(path)
            files[os.path.relpath(path, root)] = (info.st_size, info.st_mtime_ns)
    return files


def count_articles(root: Path) -> int:
    folder = root / "articles"
    if not folder.is_dir():
        return 0
    return sum(1 for path in folder.rglob("*.md") if path.is_file())


@dataclass
class Deferred:
    """Processes still running in the archive after newsmirror exited (``git gc --auto`` detaches)."""

    processes: list[str]
    cpu_s: float
    wall_s: float


def _proc_cpu_s(pid: int) -> float | None:
    """utime + stime of one process (not its children), from /proc."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _running_in(root: Path) -> dict[int, str]:
    """pid → command line of every process (but this one) whose working dir is inside ``root``."""
    found: dict[int, str] = {}
    prefix = str(root) + os.sep
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            cwd = os.readlink(f"/proc/{entry}/cwd")
            with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                command = cmdline.read().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue
        if cwd == str(root) or cwd.startswith(prefix):
            found[int(entry)] = command
    return found


def wait_for_detached(archive: Path, timeout: float = 600.0) -> Deferred:
    """Wait until nothing runs in ``archive`` any more; sample the CPU of what did.

    ``git commit`` starts ``git gc --auto`` past gc.auto (6700) loose objects, which detaches
    from newsmirror: its CPU is not in newsmirror's rusage, and left alone it would run
    during the next measurement.  Each process's own CPU is sampled from /proc every 20 ms
    (the last 20 ms of each may be missed); Linux only, else nothing is found.
    """
    if not os.path.isdir("/proc"):
        return Deferred([], 0.0, 0.0)
    root = archive.resolve()
    cpu: dict[int, float] = {}
    commands: dict[int, str] = {}
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        running = _running_in(root)
        if not running:
            break
        for pid, command in running.items():
            sample = _proc_cpu_s(pid)
            if sample is not None:
                cpu[pid] = max(cpu.get(pid, 0.0), sample)
                commands.setdefault(pid, command)
        time.sleep(0.02)
    wall = time.perf_counter() - start if cpu else 0.0
    return Deferred([commands[p] for p in sorted(commands)], sum(cpu.values()), wall)


def commit_count(archive: Path) -> int:
    done = subprocess.run(
        ["git", "-C", str(archive), "rev-list", "--count", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    )
    return int(done.stdout.strip()) if done.returncode == 0 else 0


def worktree_clean(archive: Path) -> bool:
    done = subprocess.run(
        ["git", "-C", str(archive), "status", "--porcelain"], capture_output=True, text=True, check=False
    )
    return done.returncode == 0 and not done.stdout.strip()


# -- the sanitize step, in this process ---------------------------------------------------------


@dataclass
class Sanitize:
    """CPU of ``neutralize`` (the sanitize step) over every body of the run, timed here."""

    cpu_s: float
    bodies: int
    active: int


def time_sanitize(feeds: Path, repeats: int = 3) -> Sanitize:
    """Run the sanitize step on each body as ``newsmirror run`` does (after the line join).

    Timed in this process with ``time.process_time``, after the measured runs (so this
    process's memory cannot show in their peak RSS); the best of ``repeats`` passes, as
    ``timeit`` does, since a busy machine only ever adds time.
    """
    texts: list[str] = []
    for path in sorted(feeds.glob("*.xml")):
        items = ElementTree.parse(path).getroot().iter("item")
        texts += [join_lines(item.findtext("description") or "") for item in items]
    passes = []
    for _ in range(repeats):
        started = time.process_time()
        for text in texts:
            neutralize(text)
        passes.append(time.process_time() - started)
    return Sanitize(min(passes), len(texts), sum(map(has_active_content, texts)))


# -- the benchmark ----------------------------------------------------------------------------


@dataclass
class Check:
    name: str
    ok: bool
    detail: str


def benchmark(work: Path, sources: int, items: int, seed: int, *, cdata: bool = False) -> dict[str, Any]:
    feeds, archive, floor_out, logs = work / "feeds", work / "archive", work / "floor", work / "logs"
    sources_file = work / "sources.toml"
    expected = sources * items

    started = time.perf_counter()
    specs = generate_feeds(feeds, sources, items, seed, cdata=cdata)
    generated_s = time.perf_counter() - started
    feed_bytes = sum(s.feed_bytes for s in specs)
    body_bytes = sum(s.body_bytes for s in specs)
    print(
        f"generated {sources} feeds × {items} items = {expected} items, "
        f"{feed_bytes / 1e6:.1f} MB of RSS (bodies avg {body_bytes / expected / 1024:.1f} KiB) "
        f"in {generated_s:.1f} s → {feeds}",
        flush=True,
    )

    # The floor goes first: newsmirror's detached git gc deletes ~N × M loose objects, and on
    # some filesystems (ext4 without a journal) creating files right after that costs more.
    print("floor (fastfeedparser → one file per entry) …", flush=True)
    floor, floor_stdout = run_measured(
        "floor", [sys.executable, str(FLOOR_SCRIPT), str(feeds), str(floor_out)], logs
    )
    floor.articles = count_files(floor_out)
    # Information, not a target: what committing the floor's files costs git on this machine.
    floor_git, _ = run_measured(
        "floor git", ["sh", "-c", FLOOR_GIT], logs, env={**os.environ, "FLOOR": str(floor_out)}
    )
    floor_git.articles = floor.articles
    # … and at the compression newsmirror's commits use (publish.commit): the ceiling any program
    # that commits its articles to git this way has against the floor.
    shutil.rmtree(floor_out / ".git")
    level1 = FLOOR_GIT.replace("git add -A", "git -c core.looseCompression=1 add -A")
    env = {**os.environ, "FLOOR": str(floor_out)}
    floor_git_fast, _ = run_measured("floor git level 1", ["sh", "-c", level1], logs, env=env)
    floor_git_fast.articles = floor.articles

    with feed_server(feeds) as base_url:
        write_sources(sources_file, specs, base_url)
        print(f"serving at {base_url}/feeds/ (separate process); running newsmirror …", flush=True)
        first, first_json = run_newsmirror("first run", archive, sources_file, logs)
        print(
            f"first run: {first.wall_s:.1f} s wall; waiting for git left running in the archive …", flush=True
        )
        deferred = wait_for_detached(archive)
        first.articles = count_articles(archive)
        commits_after_first = commit_count(archive)
        clean_after_first = worktree_clean(archive)
        before = snapshot(archive)
        print("no-change rerun …", flush=True)
        rerun, rerun_json = run_newsmirror("rerun", archive, sources_file, logs)
        deferred_rerun = wait_for_detached(archive)
        after = snapshot(archive)
        commits_after_rerun = commit_count(archive)

    print("sanitize step over the run's bodies, in-process …", flush=True)
    sanitize = time_sanitize(feeds)
    sanitize_share = sanitize.cpu_s / first.python_cpu_s if first.python_cpu_s else 0.0

    new_files = sorted(after.keys() - before.keys())
    removed_files = sorted(before.keys() - after.keys())
    rewritten = sorted(p for p in before.keys() & after.keys() if before[p] != after[p])
    rerun.articles = len(new_files)

    ratio = first.articles_per_cpu_s / floor.articles_per_cpu_s if floor.articles_per_cpu_s else 0.0
    peak_rss = max(first.maxrss_mb, first.python_maxrss_mb or 0.0, first.children_maxrss_mb or 0.0)
    checks = [
        Check(
            "first run archived every item",
            first.exit_code == 0
            and first.articles == expected
            and first_json.get("new") == expected
            and commits_after_first == 1
            and clean_after_first,
            f"exit {first.exit_code}, {first.articles}/{expected} files, "
            f"new={first_json.get('new')}, {commits_after_first} commit(s), "
            f"worktree {'clean' if clean_after_first else 'DIRTY'}",
        ),
        Check(
            "rerun: no commit, no file written",
            rerun.exit_code == 0
            and commits_after_rerun == commits_after_first
            and rerun_json.get("commit") is None
            and not new_files
            and not removed_files
            and not rewritten,
            f"exit {rerun.exit_code}, commits {commits_after_first}→{commits_after_rerun}, "
            f"new={rerun_json.get('new')}, {len(new_files)} new / {len(rewritten)} rewritten / "
            f"{len(removed_files)} removed files",
        ),
        Check(
            "floor wrote every item",
            floor.exit_code == 0 and floor.articles == expected,
            f"exit {floor.exit_code}, {floor.articles}/{expected} files",
        ),
    ]
    targets = [
        Check(
            f"first-run articles/CPU-s >= {TARGET_RATIO} × floor's",
            ratio >= TARGET_RATIO,
            f"ratio {ratio:.3f}",
        ),
        Check(
            f"first run <= {TARGET_FIRST_WALL_S:g} s wall",
            first.wall_s <= TARGET_FIRST_WALL_S,
            f"{first.wall_s:.2f} s",
        ),
        Check(
            f"first run peak RSS <= {TARGET_PEAK_RSS_MB:g} MB",
            peak_rss <= TARGET_PEAK_RSS_MB,
            f"{peak_rss:.0f} MB",
        ),
        Check(
            f"no-change rerun <= {TARGET_RERUN_WALL_S:g} s wall",
            rerun.wall_s <= TARGET_RERUN_WALL_S,
            f"{rerun.wall_s:.2f} s",
        ),
        Check(
            f"sanitize step <= {TARGET_SANITIZE_SHARE:.0%} of the first run's Python CPU",
            sanitize_share <= TARGET_SANITIZE_SHARE,
            f"{sanitize_share:.1%}",
        ),
    ]
    return {
        "sources": sources,
        "items": items,
        "seed": seed,
        "expected_articles": expected,
        "filesystem": filesystem_of(work),
        "feed_bytes": feed_bytes,
        "body_bytes": body_bytes,
        "generate_s": generated_s,
        "first_run": _measured_json(first),
        "rerun": _measured_json(rerun),
        "floor": _measured_json(floor),
        "floor_git": _measured_json(floor_git),
        "floor_git_level1": _measured_json(floor_git_fast),
        "first_run_detached": asdict(deferred),
        "rerun_detached": asdict(deferred_rerun),
        "ratio_with_detached": (
            first.articles / (first.cpu_s + deferred.cpu_s) / floor.articles_per_cpu_s
            if floor.articles_per_cpu_s and first.cpu_s + deferred.cpu_s
            else 0.0
        ),
        "ratio_vs_floor_plus_git": (
            first.articles_per_cpu_s * (floor.cpu_s + floor_git.cpu_s) / floor.articles
            if floor.articles
            else 0.0
        ),
        "cdata": cdata,
        "sanitize": {**asdict(sanitize), "share_of_first_run_python": sanitize_share},
        "ratio": ratio,
        "first_run_peak_rss_mb": peak_rss,
        "rerun_files": {"new": new_files[:20], "rewritten": rewritten[:20], "removed": removed_files[:20]},
        "checks": [asdict(c) for c in checks],
        "targets": [asdict(t) for t in targets],
        "floor_stdout": floor_stdout.strip(),
        "work_dir": str(work),
    }


def filesystem_of(path: Path) -> str:
    """The type and mount point of the filesystem holding ``path`` (Linux), e.g. ``ext4 on /``."""
    best = ("", "?")
    try:
        with open("/proc/mounts", encoding="utf-8") as mounts:
            for line in mounts:
                fields = line.split()
                point, kind = fields[1], fields[2]
                inside = str(path).startswith(point.rstrip("/") + "/") or str(path) == point
                if inside and len(point) >= len(best[0]):
                    best = (point, kind)
    except OSError:
        pass
    return f"{best[1]} on {best[0] or '?'}"


def count_files(root: Path) -> int:
    return sum(len(names) for _, _, names in os.walk(root)) if root.is_dir() else 0


def _measured_json(m: Measured) -> dict[str, Any]:
    return {**asdict(m), "cpu_s": m.cpu_s, "articles_per_cpu_s": m.articles_per_cpu_s}


# -- report -----------------------------------------------------------------------------------


def _opt(value: float | None, form: str) -> str:
    return "—" if value is None else format(value, form)


def report(figures: dict[str, Any]) -> str:
    first, rerun = figures["first_run"], figures["rerun"]
    floor, floor_git = figures["floor"], figures["floor_git"]
    rows = [("", "wall s", "CPU s", "user s", "sys s", "peak RSS MB", "articles", "art/CPU-s")]
    for label, m in (
        ("newsmirror first run", first),
        ("newsmirror rerun", rerun),
        ("floor", floor),
        ("(info) git add+commit of floor", floor_git),
    ):
        rows.append(
            (
                label,
                f"{m['wall_s']:.2f}",
                f"{m['cpu_s']:.2f}",
                f"{m['user_s']:.2f}",
                f"{m['sys_s']:.2f}",
                f"{m['maxrss_mb']:.0f}",
                str(m["articles"]) if m["articles"] else "0",
                f"{m['articles_per_cpu_s']:.0f}" if m["articles"] else "—",
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = [
        f"newsmirror run benchmark: {figures['sources']} sources × {figures['items']} items "
        f"(seed {figures['seed']}{', CDATA bodies' if figures['cdata'] else ''}), "
        f"{figures['feed_bytes'] / 1e6:.1f} MB of RSS; work dir on {figures['filesystem']}, "
        f"{os.cpu_count()} CPUs",
        "",
    ]
    lines += [
        "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True))
        )
        for r in rows
    ]
    lines += ["", "newsmirror CPU split (both count): python process | child processes (git); peak RSS"]
    for label, m in (("first run", first), ("rerun", rerun)):
        py, kids = m["python_cpu_s"], m["children_cpu_s"]
        share = f" ({kids / m['cpu_s']:.0%} in git)" if kids is not None and m["cpu_s"] else ""
        lines.append(
            f"  {label:<10} {_opt(py, '.2f')} s | {_opt(kids, '.2f')} s{share}; "
            f"python {_opt(m['python_maxrss_mb'], '.0f')} MB, git ≤ {_opt(m['children_maxrss_mb'], '.0f')} MB"
        )
    floor_plus_git = floor["cpu_s"] + floor_git["cpu_s"]
    fast = figures["floor_git_level1"]
    ceiling = floor["cpu_s"] / (floor["cpu_s"] + fast["cpu_s"]) if floor["cpu_s"] + fast["cpu_s"] else 0.0
    lines += [
        "",
        f"ratio: newsmirror first-run articles/CPU-s ÷ floor's = {first['articles_per_cpu_s']:.0f} ÷ "
        f"{floor['articles_per_cpu_s']:.0f} = {figures['ratio']:.3f}",
        f"(info) against floor + git add/commit ({floor_plus_git:.2f} CPU s): "
        f"{figures['ratio_vs_floor_plus_git']:.3f}",
        f"(info) git add+commit of the floor's files at newsmirror's compression (level 1): "
        f"{fast['cpu_s']:.2f} CPU s; a program doing nothing else but committing them so would reach "
        f"{ceiling:.3f} of the floor",
    ]
    for label, key in (("first run", "first_run_detached"), ("rerun", "rerun_detached")):
        detached = figures[key]
        if detached["processes"]:
            names = sorted({" ".join(c.split()[:3]) for c in detached["processes"]})
            lines.append(
                f"(info) after the {label}, {len(detached['processes'])} process(es) kept running in the "
                f"archive ({'; '.join(names)}): ≈{detached['cpu_s']:.2f} CPU s over "
                f"{detached['wall_s']:.1f} s, not in the figures above"
            )
    if figures["first_run_detached"]["processes"]:
        lines.append(f"(info) ratio counting that detached CPU too: {figures['ratio_with_detached']:.3f}")
    sanitize = figures["sanitize"]
    lines.append(
        f"sanitize: {sanitize['cpu_s']:.3f} s = {sanitize['share_of_first_run_python']:.1%} of the first "
        f"run's Python CPU ({sanitize['bodies']} bodies, {sanitize['active']} with active content; "
        "neutralize timed in-process)"
    )
    if first["sys_s"] > first["user_s"]:
        lines.append(
            "note: system time exceeds user time in the first run: file creation in this filesystem "
            "is slow (see benchmarks/README.md); --tmpdir /dev/shm measures without it"
        )
    lines += ["", "checks:"]
    lines += [f"  {'ok  ' if c['ok'] else 'FAIL'}  {c['name']}: {c['detail']}" for c in figures["checks"]]
    lines += ["", "targets (set for 200 × 50):"]
    lines += [f"  {'PASS' if t['ok'] else 'MISS'}  {t['name']}: {t['detail']}" for t in figures["targets"]]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Benchmark `newsmirror run` against a parse-and-write floor."
    )
    parser.add_argument("--sources", type=int, default=200, help="number of feeds (default 200)")
    parser.add_argument("--items", type=int, default=50, help="items per feed (default 50)")
    parser.add_argument("--seed", type=int, default=1, help="random seed of the generated feeds (default 1)")
    parser.add_argument(
        "--cdata", action="store_true", help="put bodies in CDATA sections instead of entity-escaped HTML"
    )
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    parser.add_argument(
        "--keep",
        type=Path,
        metavar="DIR",
        help="generate into DIR (must be empty or absent) and keep it afterwards",
    )
    parser.add_argument(
        "--tmpdir",
        type=Path,
        metavar="DIR",
        default=None,
        help="make the (deleted) work dir inside DIR, e.g. /dev/shm for tmpfs (default: the system temp dir)",
    )
    args = parser.parse_args(argv)
    if args.sources < 1 or args.items < 1:
        parser.error("--sources and --items must be at least 1")
    if args.keep is not None:
        if args.keep.exists() and any(args.keep.iterdir()):
            parser.error(f"--keep {args.keep}: directory is not empty")
        args.keep.mkdir(parents=True, exist_ok=True)
        work = args.keep.resolve()
    else:
        work = Path(tempfile.mkdtemp(prefix="newsmirror-bench-", dir=args.tmpdir))
    try:
        figures = benchmark(work, args.sources, args.items, args.seed, cdata=args.cdata)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    print()
    print(report(figures))
    if args.keep is not None:
        print(f"\nkept: {work} (feeds/, sources.toml, archive/, floor/, logs/)")
    if args.json:
        print(json.dumps(figures, ensure_ascii=False, indent=2))
    return 0 if all(c["ok"] for c in figures["checks"]) else 1


if __name__ == "__main__":
    sys.exit(main())
