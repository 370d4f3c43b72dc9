"""The fetcher against a real server on 127.0.0.1: politeness, redirects, limits, errors."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import TypeVar

import pytest

from newsmirror.config import FetchSettings
from newsmirror.exceptions import FetchError
from newsmirror.fetch import Fetched, Fetcher, Validators

from .servers import Reply, Server

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
FAST = FetchSettings(retry_delay=0.0, timeout=5.0)
T = TypeVar("T")


def run(settings: FetchSettings, use: Callable[[Fetcher], Awaitable[T]]) -> T:
    async def main() -> T:
        async with Fetcher(settings, clock=lambda: NOW) as fetcher:
            return await use(fetcher)

    return asyncio.run(main())


def get(
    server: Server, path: str, settings: FetchSettings = FAST, validators: Validators | None = None
) -> Fetched:
    return run(settings, lambda f: f.get(server.url(path), slug="s", validators=validators))


def failure(server: Server, path: str, settings: FetchSettings = FAST) -> FetchError:
    with pytest.raises(FetchError) as caught:
        get(server, path, settings)
    return caught.value


def test_conditional_get_sends_validators_and_reads_304(server: Server) -> None:
    def feed(headers: Mapping[str, str]) -> Reply:
        if headers.get("if-none-match") == '"v1"':
            return Reply(b"", 304, headers=(("ETag", '"v1"'),))
        return Reply(
            b"<rss/>", headers=(("ETag", '"v1"'), ("Last-Modified", "Fri, 02 Jan 2026 00:00:00 GMT"))
        )

    server.routes["/f"] = feed
    first = get(server, "/f")
    assert first.validators == Validators('"v1"', "Fri, 02 Jan 2026 00:00:00 GMT")
    again = get(server, "/f", validators=first.validators)
    assert again.not_modified
    assert again.content == b""
    assert server.traffic.headers[1]["if-modified-since"] == "Fri, 02 Jan 2026 00:00:00 GMT"
    assert server.traffic.headers[0]["user-agent"].startswith("newsmirror/")


def test_429_names_when_to_come_back_and_is_not_retried(server: Server) -> None:
    server.routes["/f"] = Reply(b"slow down", 429, headers=(("Retry-After", "120"),))
    error = failure(server, "/f")
    assert error.code == "http_429"
    assert error.retry_at == NOW + timedelta(seconds=120)
    assert server.requests == ["429 /f"]


def test_503_with_an_http_date_retry_after(server: Server) -> None:
    server.routes["/f"] = Reply(b"", 503, headers=(("Retry-After", "Fri, 02 Jan 2026 05:00:00 GMT"),))
    assert failure(server, "/f").retry_at == datetime(2026, 1, 2, 5, 0, tzinfo=UTC)


def test_transient_errors_are_retried_then_succeed(server: Server) -> None:
    answers = iter([Reply(b"", 500), Reply(b"", 502), Reply(b"<rss/>")])
    server.routes["/f"] = lambda headers: next(answers)
    assert get(server, "/f").content == b"<rss/>"
    assert server.requests == ["500 /f", "502 /f", "200 /f"]


def test_retries_are_bounded(server: Server) -> None:
    server.routes["/f"] = Reply(b"", 503)
    assert failure(server, "/f").code == "http_503"
    assert len(server.requests) == 3  # one attempt and FAST's two retries


def test_client_errors_are_not_retried(server: Server) -> None:
    assert failure(server, "/missing").code == "http_404"
    assert server.requests == ["404 /missing"]


def test_a_permanent_chain_is_reported_a_temporary_hop_is_not(server: Server) -> None:
    server.routes["/a"] = Reply(b"", 301, headers=(("Location", "/b"),))
    server.routes["/b"] = Reply(b"", 308, headers=(("Location", "/c"),))
    server.routes["/c"] = Reply(b"<rss/>")
    server.routes["/t"] = Reply(b"", 302, headers=(("Location", "/b"),))
    assert get(server, "/a").permanent_redirect == server.url("/c")
    assert get(server, "/t").permanent_redirect is None
    assert get(server, "/c").permanent_redirect is None


def test_redirect_loops_and_long_chains_fail(server: Server) -> None:
    server.routes["/x"] = Reply(b"", 301, headers=(("Location", "/y"),))
    server.routes["/y"] = Reply(b"", 302, headers=(("Location", "/x"),))
    for i in range(8):
        server.routes[f"/n{i}"] = Reply(b"", 307, headers=(("Location", f"/n{i + 1}"),))
    assert failure(server, "/x").code == "redirect_loop"
    assert failure(server, "/n0").code == "too_many_redirects"


def test_cache_control_and_expires_say_until_when_the_answer_holds(server: Server) -> None:
    server.routes["/m"] = Reply(b"<rss/>", headers=(("Cache-Control", "public, max-age=7200"),))
    # Expires counts from the server's own Date header (http.server sends the real time)
    expires = format_datetime(datetime.now(UTC) + timedelta(hours=3), usegmt=True)
    server.routes["/e"] = Reply(b"<rss/>", headers=(("Expires", expires),))
    server.routes["/n"] = Reply(b"<rss/>", headers=(("Cache-Control", "no-cache, max-age=7200"),))
    assert get(server, "/m").fresh_until == NOW + timedelta(hours=2)
    fresh = get(server, "/e").fresh_until
    assert fresh is not None
    assert abs(fresh - (NOW + timedelta(hours=3))) < timedelta(seconds=5)
    assert get(server, "/n").fresh_until is None


def test_per_host_limit(server: Server) -> None:
    for i in range(6):
        server.routes[f"/slow{i}"] = Reply(b"<rss/>", delay=0.3)
    settings = FetchSettings(per_host=2, concurrency=16, retry_delay=0.0)

    async def many(fetcher: Fetcher) -> list[Fetched]:
        return await asyncio.gather(*(fetcher.get(server.url(f"/slow{i}"), slug="s") for i in range(6)))

    assert len(run(settings, many)) == 6
    assert server.traffic.most_in_flight == 2


def test_size_cap_and_time_limit(server: Server) -> None:
    server.routes["/big"] = Reply(b"x" * 5000)
    server.routes["/slow"] = Reply(b"<rss/>", delay=3.0)
    assert failure(server, "/big", FetchSettings(max_bytes=1000, retry_delay=0.0)).code == "too_large"
    error = failure(server, "/slow", FetchSettings(timeout=0.5, retries=0))
    assert error.code == "timeout"
    assert "0.5 s" in str(error)


def test_connection_refused_is_a_connect_error() -> None:
    async def use(fetcher: Fetcher) -> Fetched:
        return await fetcher.get("http://127.0.0.1:9/feed", slug="s")

    with pytest.raises(FetchError) as caught:
        run(FetchSettings(retries=0), use)
    assert caught.value.code == "connect_error"
    assert str(caught.value).startswith("s: cannot connect")
