"""Hostile servers: each fails its own source with a stable code, in bounded time and memory.

Every end-to-end case runs ``newsmirror run`` with one good source (served by the ordinary
test server) next to one hostile source (served by ``tests.hostile``, a raw-socket server on
127.0.0.1), and checks: the hostile source's code and reason, the good source's article file,
exit status 1, and the wall time of the whole run.
"""

from __future__ import annotations

import asyncio
import json
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from newsmirror.config import FetchSettings
from newsmirror.exceptions import FetchError, ParseError
from newsmirror.fetch import Fetched, Fetcher
from newsmirror.parse import parse_feed

from .conftest import Runner
from .feeds import It, rss
from .hostile import (
    Behaviour,
    Hostile,
    brotli_bomb,
    drip,
    endless,
    gzip_bomb,
    hostile_server,
    reply,
    reset_mid_body,
    tls_context,
)

TIMEOUT = 2.0
MAX_BYTES = 10_000_000
FETCH = {"timeout": TIMEOUT, "retries": 1, "retry_delay": 0.0, "max_bytes": MAX_BYTES}
QUICK = 6.0
"""Wall-time budget of a run whose hostile source fails without waiting (git included)."""
TIMED = 2 * TIMEOUT + 2.0
"""Budget when the hostile source times out: two attempts (``retries = 1``) plus slack."""
MEMORY = 2 * MAX_BYTES + 2_000_000
"""Peak traced memory of one fetch: the body's chunks and their join, plus a few decoder steps."""
HUNDRED_MB = 100_000_000
TITLE = "香港新聞：立法會今日開會"
GOOD_TITLE = "好消息"


def feed_text(title: str = TITLE) -> str:
    return rss(It(title, "https://example.com/a"), title="測試頻道").decode("utf-8")


def encoded(encoding: str, *, declare: str | None) -> bytes:
    """The feed's text in ``encoding``, with ``declare`` as its XML declaration's encoding."""
    text = feed_text().replace('<?xml version="1.0" encoding="UTF-8"?>\n', "")
    if declare is not None:
        text = f'<?xml version="1.0" encoding="{declare}"?>\n{text}'
    return text.encode(encoding)


@dataclass(frozen=True)
class Case:
    name: str
    routes: Callable[[], dict[str, Behaviour]]
    """Path → behaviour; the source's URL is the first path."""
    code: str
    reason: str
    budget: float = QUICK
    tls: bool = False


def gzipped(body: bytes, coding: str = "gzip") -> Behaviour:
    return reply(body, headers=(("Content-Encoding", coding),))


CASES = (
    Case(
        "malformed_xml",
        lambda: {"/f": reply(b"<rss><channel><item><title>x</title>")},
        "bad_xml",
        "invalid XML",
    ),
    Case(
        "html_page",
        lambda: {"/f": reply(b"<!DOCTYPE html><html><body><p>hi</body></html>", content_type="text/html")},
        "not_a_feed",
        "HTML page",
    ),
    Case("empty_body", lambda: {"/f": reply(b"")}, "empty_feed", "empty document"),
    Case(
        "declaration_lies",  # says UTF-8, the bytes are GB18030, and the server names no charset
        lambda: {"/f": reply(encoded("gb18030", declare="UTF-8"), content_type="application/rss+xml")},
        "bad_encoding",
        "not valid UTF-8",
    ),
    Case(
        "no_charset_anywhere",
        lambda: {"/f": reply(encoded("big5", declare=None), content_type="text/xml")},
        "bad_encoding",
        "not valid UTF-8",
    ),
    Case("declared_100mb", lambda: {"/f": endless(HUNDRED_MB, declare=True)}, "too_large", "100000000 bytes"),
    Case("streamed_100mb", lambda: {"/f": endless(HUNDRED_MB)}, "too_large", f"exceeds {MAX_BYTES} bytes"),
    Case("gzip_bomb", lambda: {"/f": gzipped(gzip_bomb())}, "too_large", "once decompressed"),
    Case("brotli_bomb", lambda: {"/f": gzipped(brotli_bomb(), "br")}, "too_large", "once decompressed"),
    Case("corrupt_gzip", lambda: {"/f": gzipped(b"<rss>not gzip</rss>")}, "bad_compression", "decompress"),
    Case(
        "zstd_not_asked_for", lambda: {"/f": gzipped(b"(\xb5/\xfd", "zstd")}, "unsupported_encoding", "zstd"
    ),
    Case("drip_1_byte_per_s", lambda: {"/f": drip(rss(It("x", "https://e.com/")))}, "timeout", "2 s", TIMED),
    Case(
        "redirect_loop",
        lambda: {
            "/f": reply(b"", 302, headers=(("Location", "/g"),)),
            "/g": reply(b"", 301, headers=(("Location", "/f"),)),
        },
        "redirect_loop",
        "redirect loop",
    ),
    Case(
        "429_retry_after",
        lambda: {
            "/f": reply(b"slow down", 429, content_type="text/plain", headers=(("Retry-After", "3600"),))
        },
        "http_429",
        "HTTP 429 Too Many Requests",
    ),
    Case("500", lambda: {"/f": reply(b"oops", 500, content_type="text/html")}, "http_500", "HTTP 500"),
    Case("502", lambda: {"/f": reply(b"bad gateway", 502, content_type="text/html")}, "http_502", "HTTP 502"),
    Case("503", lambda: {"/f": reply(b"", 503, content_type="text/html")}, "http_503", "HTTP 503"),
    Case(
        "reset_mid_body",
        lambda: {"/f": reset_mid_body(rss(It("x", "https://e.com/")) * 50)},
        "network_error",
        "Error",
    ),
    Case(
        "self_signed_tls",
        lambda: {"/f": reply(rss(It("x", "https://e.com/")))},
        "tls_error",
        "CERTIFICATE",
        tls=True,
    ),
)


@pytest.fixture
def hostile() -> Iterator[Hostile]:
    with hostile_server() as running:
        yield running


@contextmanager
def hostile_for(case: Case, tmp_path: Path) -> Iterator[Hostile]:
    with hostile_server(tls_context(tmp_path) if case.tls else None) as running:
        yield running


@dataclass
class Outcome:
    status: int
    sources: dict[str, dict[str, Any]]
    elapsed: float


def run_next_to_a_good_source(runner: Runner, url: str, capsys: pytest.CaptureFixture[str]) -> Outcome:
    good = runner.feed("good", rss(It(GOOD_TITLE, "https://example.com/good")))
    sources = [{"name": "好", "slug": "good", "url": good}, {"name": "敌", "slug": "bad", "url": url}]
    lines = ["[fetch]", *(f"{k} = {v}" for k, v in FETCH.items())]
    for source in sources:
        lines += ["[[source]]", *(f'{k} = "{v}"' for k, v in source.items())]
    (runner.root / "sources.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    started = time.monotonic()
    status = runner.run("--json")
    elapsed = time.monotonic() - started
    report = json.loads(capsys.readouterr().out)
    return Outcome(status, {s["slug"]: s for s in report["sources"]}, elapsed)


def assert_good_source_archived(runner: Runner, outcome: Outcome) -> None:
    assert outcome.sources["good"]["ok"]
    article = runner.article("good", 1048574)
    assert article.splitlines()[1] == f"[{GOOD_TITLE}](https://example.com/good)"


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_a_hostile_source_fails_alone_with_a_stable_code(
    case: Case, runner: Runner, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    routes = case.routes()
    with hostile_for(case, tmp_path) as server:
        server.routes.update(routes)
        outcome = run_next_to_a_good_source(runner, server.url(next(iter(routes))), capsys)
    bad = outcome.sources["bad"]
    assert (bad["ok"], bad["error_code"]) == (False, case.code), bad["error"]
    assert bad["error"].startswith("bad: ")
    assert case.reason in bad["error"]
    assert_good_source_archived(runner, outcome)
    assert runner.ids("bad") == []
    assert outcome.status == 1
    assert outcome.elapsed < case.budget


def test_transient_failures_are_retried_once_and_a_429_is_not(
    runner: Runner, hostile: Hostile, capsys: pytest.CaptureFixture[str]
) -> None:
    hostile.routes["/busy"] = reply(b"", 429, headers=(("Retry-After", "3600"),))
    hostile.routes["/f"] = reply(b"", 503)
    run_next_to_a_good_source(runner, hostile.url("/f"), capsys)
    assert hostile.seen == ["/f", "/f"]  # one attempt and one retry (retries = 1)
    hostile.seen.clear()
    runner.archive = runner.root / "again"
    run_next_to_a_good_source(runner, hostile.url("/busy"), capsys)
    assert hostile.seen == ["/busy"]


CHARSETS = (
    ("gb18030_declared", encoded("gb18030", declare="GB18030"), "application/rss+xml"),
    ("gb2312_label_over_gbk_text", encoded("gb18030", declare="gb2312"), "text/xml"),
    ("big5_declared", encoded("big5", declare="Big5"), "application/rss+xml"),
    ("utf16_with_bom", encoded("utf-16", declare="UTF-16"), "application/xml"),
    ("utf16_bom_no_declaration", encoded("utf-16", declare=None), "application/xml"),
    ("legacy_label_over_utf8", encoded("utf-8", declare="GB18030"), "text/xml; charset=big5"),
)
HTTP_CHARSETS = (
    ("charset_only_in_http_header", encoded("gb18030", declare=None), "text/xml; charset=GB18030"),
    ("declaration_lies_http_header_right", encoded("gb18030", declare="UTF-8"), "text/xml; charset=gb18030"),
)


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        *(pytest.param(b, t, id=n) for n, b, t in CHARSETS),
        *(pytest.param(b, t, id=n) for n, b, t in HTTP_CHARSETS),
    ],
)
def test_chinese_feeds_in_any_declared_charset_are_archived_right(
    body: bytes, content_type: str, runner: Runner, hostile: Hostile, capsys: pytest.CaptureFixture[str]
) -> None:
    hostile.routes["/f"] = reply(body, content_type=content_type)
    outcome = run_next_to_a_good_source(runner, hostile.url("/f"), capsys)
    assert outcome.sources["bad"]["error_code"] is None
    assert runner.article("bad", 1048574).splitlines()[1] == f"[{TITLE}](https://example.com/a)"
    assert outcome.status == 0


# --- the fetcher alone: exact time limits and peak memory ---------------------------------------


def fetch(url: str, settings: FetchSettings) -> Fetched:
    async def main() -> Fetched:
        async with Fetcher(settings) as fetcher:
            return await fetcher.get(url, slug="s")

    return asyncio.run(main())


def failing_fetch(url: str, settings: FetchSettings) -> tuple[FetchError, float, int]:
    """The error, the seconds it took and the peak memory traced while fetching."""
    tracemalloc.start()
    started = time.monotonic()
    try:
        with pytest.raises(FetchError) as caught:
            fetch(url, settings)
        return caught.value, time.monotonic() - started, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


ONE_TRY = FetchSettings(timeout=TIMEOUT, retries=0, retry_delay=0.0, max_bytes=MAX_BYTES)


def test_a_drip_is_cut_off_by_the_whole_request_time_limit(hostile: Hostile) -> None:
    hostile.routes["/f"] = drip(rss(It("x", "https://e.com/")))
    error, elapsed, _ = failing_fetch(hostile.url("/f"), ONE_TRY)
    assert error.code == "timeout"
    assert "no complete answer within 2 s" in str(error)
    assert TIMEOUT <= elapsed < TIMEOUT + 0.5


@pytest.mark.parametrize(
    ("behaviour", "reason"),
    [
        pytest.param(lambda: endless(HUNDRED_MB), f"exceeds {MAX_BYTES} bytes", id="streamed_100mb"),
        pytest.param(lambda: gzipped(gzip_bomb()), "once decompressed", id="gzip_bomb"),
        pytest.param(lambda: gzipped(brotli_bomb(), "br"), "once decompressed", id="brotli_bomb"),
    ],
)
def test_huge_bodies_and_bombs_stop_at_the_cap_in_bounded_memory(
    behaviour: Callable[[], Behaviour], reason: str, hostile: Hostile
) -> None:
    hostile.routes["/f"] = behaviour()  # built before tracing: the bomb's bytes are the server's
    error, elapsed, peak = failing_fetch(hostile.url("/f"), ONE_TRY)
    assert (error.code, reason in str(error)) == ("too_large", True), str(error)
    assert peak < MEMORY
    assert elapsed < 3.0


def test_a_small_gzip_or_deflate_body_is_decoded(hostile: Hostile) -> None:
    import zlib  # noqa: PLC0415

    feed = rss(It(TITLE, "https://example.com/a"))
    gzip = zlib.compressobj(6, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    hostile.routes["/gz"] = gzipped(gzip.compress(feed) + gzip.flush())
    hostile.routes["/zlib"] = gzipped(zlib.compress(feed), "deflate")
    raw = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    hostile.routes["/raw"] = gzipped(raw.compress(feed) + raw.flush(), "deflate")
    for path in ("/gz", "/zlib", "/raw"):
        assert fetch(hostile.url(path), ONE_TRY).content == feed


def test_a_truncated_gzip_body_is_bad_compression(hostile: Hostile) -> None:
    body = gzip_bomb(1)
    hostile.routes["/f"] = gzipped(body[: len(body) // 2])
    error, _, _ = failing_fetch(hostile.url("/f"), ONE_TRY)
    assert error.code == "bad_compression"
    assert "ends early" in str(error)


# --- the parser alone: the HTTP charset, once update.py passes it ------------------------------


@pytest.mark.parametrize(("name", "body", "content_type"), HTTP_CHARSETS, ids=[c[0] for c in HTTP_CHARSETS])
def test_the_http_charset_is_honoured_by_the_parser(name: str, body: bytes, content_type: str) -> None:
    charset = Fetched(url="u", status=200, content=body, content_type=content_type).charset
    assert parse_feed(body, slug="s", charset=charset).entries[0].title == TITLE


def test_bytes_valid_in_no_named_charset_fail_as_bad_encoding() -> None:
    body = encoded("gb18030", declare="Big5")
    with pytest.raises(ParseError) as caught:
        parse_feed(body, slug="s", charset="utf-8")
    assert caught.value.code == "bad_encoding"
    assert "Big5 (declared), utf-8 (HTTP charset), UTF-8 (default)" in str(caught.value)
