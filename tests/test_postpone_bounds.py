"""Postponements have bounds: no header, and no clock that ran ahead, stops a feed for years."""

from __future__ import annotations

from datetime import timedelta

import pytest

from .conftest import NOW, Runner
from .servers import Reply
from .test_health import FEED, at, fetched, report, state

DAY_AHEAD = "2026-01-03T03:04:05Z"  # NOW + 24 h, the default max_postpone_hours


@pytest.mark.parametrize(
    "headers",
    [
        (("Expires", "Fri, 31 Dec 9999 23:59:59 GMT"),),
        (("Expires", "Fri, 31 Dec 9999 23:59:59 GMT"), ("Date", "Fri, 02 Jan 2026 03:04:05 GMT")),
        (("Cache-Control", "max-age=31536000"),),
        (("Cache-Control", "max-age=" + "9" * 40),),  # OverflowError on every run, before
        (("Cache-Control", "public, max-age=" + "9" * 5000),),  # more digits than int() takes
    ],
    ids=["expires-9999", "expires-9999-with-date", "max-age-a-year", "max-age-10^40", "max-age-5000-digits"],
)
def test_a_postponement_never_reaches_past_the_cap(
    runner: Runner, capsys: pytest.CaptureFixture[str], headers: tuple[tuple[str, str], ...]
) -> None:
    runner.server.routes["/news.xml"] = Reply(FEED, headers=headers)
    runner.sources({"name": "新闻", "slug": "news", "url": runner.server.url("/news.xml")})
    first = report(runner, capsys)
    assert first["news"]["ok"] is True
    assert state(runner, "news")["not_before"] == DAY_AHEAD
    at(runner, 23)
    assert report(runner, capsys)["news"]["outcome"] == "postponed"
    at(runner, 24.5)
    assert report(runner, capsys)["news"]["outcome"] == "updated"
    assert fetched(runner, "/news.xml") == 2


def test_retry_after_of_a_century_is_capped(runner: Runner, capsys: pytest.CaptureFixture[str]) -> None:
    century = str(100 * 365 * 86_400)
    runner.server.routes["/busy.xml"] = Reply(b"", 503, headers=(("Retry-After", century),))
    runner.sources({"name": "忙", "slug": "busy", "url": runner.server.url("/busy.xml")})
    assert report(runner, capsys)["busy"]["error_code"] == "http_503"
    assert state(runner, "busy")["not_before"] == DAY_AHEAD


def test_the_cap_is_configurable(runner: Runner, tmp_path: object) -> None:
    runner.server.routes["/news.xml"] = Reply(FEED, headers=(("Cache-Control", "max-age=31536000"),))
    path = runner.sources({"name": "新闻", "slug": "news", "url": runner.server.url("/news.xml")})
    path.write_text("[fetch]\nmax_postpone_hours = 6\n" + path.read_text("utf-8"), encoding="utf-8")
    runner.run()
    assert state(runner, "news")["not_before"] == "2026-01-02T09:04:05Z"


def test_a_clock_that_ran_ahead_once_does_not_stop_the_sources(
    runner: Runner, capsys: pytest.CaptureFixture[str]
) -> None:
    runner.server.routes["/long.xml"] = Reply(FEED, headers=(("Cache-Control", "max-age=10800"),))
    runner.server.routes["/busy.xml"] = Reply(b"", 429, headers=(("Retry-After", "7200"),))
    runner.sources(
        {"name": "长", "slug": "long", "url": runner.server.url("/long.xml")},
        {"name": "忙", "slug": "busy", "url": runner.server.url("/busy.xml")},
    )
    runner.clock = lambda: NOW + timedelta(days=3650)  # one run with the system time ten years ahead
    report(runner, capsys)
    assert str(state(runner, "long")["not_before"]).startswith("2035-12-31")
    assert str(state(runner, "busy")["not_before"]).startswith("2035-12-31")
    at(runner, 1)  # the clock is right again: both are fetched at once, not in ten years
    runner.server.routes["/busy.xml"] = Reply(FEED)
    second = report(runner, capsys)
    assert (second["long"]["outcome"], second["busy"]["outcome"]) == ("updated", "updated")
    assert (fetched(runner, "/long.xml"), fetched(runner, "/busy.xml")) == (2, 2)
    assert state(runner, "long")["not_before"] == "2026-01-02T07:04:05Z"  # max-age honoured again
