"""State that only moves validators and the time of the last success makes no commit of its own
every hour: the heartbeat (the last successful run, which status.xml shows) is committed every
``HEARTBEAT_EVERY`` (3 hours), the validators with it. A fresh clone still continues the archive:
the same ids, the same duplicate detection, validators at most a day old."""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from datetime import timedelta

import pytest

from newsmirror.schedule import HEARTBEAT_EVERY

from .conftest import NOW, Runner
from .feeds import It, rss
from .servers import Reply

JUL20 = "Mon, 20 Jul 2020 07:41:21 GMT"
ITEMS = [It(f"旧闻{n}", f"https://e.com/{n}", JUL20) for n in range(3)]


class HourlyEtag:
    """A feed whose content never changes but whose ETag does, every hour (as some CDNs do)."""

    def __init__(self, runner: Runner, body: bytes) -> None:
        self.runner, self.body = runner, body
        self.sent: list[str | None] = []

    def etag(self) -> str:
        return f'"{int(self.runner.clock().timestamp()) // 3600}"'

    def __call__(self, headers: Mapping[str, str]) -> Reply:
        self.sent.append(headers.get("if-none-match"))
        if headers.get("if-none-match") == self.etag():
            return Reply(b"", status=304, headers=(("ETag", self.etag()),))
        return Reply(self.body, headers=(("ETag", self.etag()),))


def at_hour(runner: Runner, hour: int) -> None:
    moment = NOW + timedelta(hours=hour)
    runner.clock = lambda: moment


@pytest.mark.parametrize(
    "hours", [pytest.param(48, id="two-days"), pytest.param(168, id="a-week", marks=pytest.mark.slow)]
)
def test_hourly_etags_make_a_commit_per_heartbeat_and_a_clone_continues(runner: Runner, hours: int) -> None:
    feed = HourlyEtag(runner, rss(*ITEMS))
    runner.server.routes["/news.xml"] = feed
    runner.sources({"name": "新闻", "slug": "news", "url": runner.server.url("/news.xml")})
    at_hour(runner, 0)
    assert runner.run() == 0
    first = runner.commits()
    for hour in range(1, hours + 1):
        at_hour(runner, hour)
        assert runner.run() == 0
    assert runner.commits() - first == hours // (HEARTBEAT_EVERY // timedelta(hours=1))
    assert runner.git("status", "--porcelain") == ""

    clone = runner.root / "clone"
    subprocess.run(["git", "clone", "-q", str(runner.archive), str(clone)], check=True)
    feed.body = rss(It("新闻", "https://e.com/new", JUL20), *ITEMS)
    at_hour(runner, hours + 2)
    assert runner.run(archive=clone) == 0
    sent = feed.sent[-1]
    assert sent is not None
    sent_hour = int(sent.strip('"')) - int(NOW.timestamp()) // 3600
    assert hours + 2 - sent_hour <= 24  # the clone sends validators a day old at most
    ids = runner.ids("news", archive=clone)
    assert ids == [1048571, 1048572, 1048573, 1048574]  # the same numbering; the three known once
    assert "[新闻](https://e.com/new)" in runner.article("news", 1048571, archive=clone)
