"""``newsmirror demo``: the sample feeds, served on 127.0.0.1, archived once, end to end.

Expected titles, links, dates and bodies are written out here from the sample files, and
timestamps are computed from the date strings with ``datetime``, not with newsmirror's code.
"""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import datetime
from importlib.resources import files
from pathlib import Path

import httpx
import pytest

from newsmirror.cli import main

ARTICLE = re.compile(r"\A<!--(\d+)-->\n\[([^\n]*)\]\(([^\n]*)\)\n------\n\n([^\n]*)\n\Z")
SERVED_AT = re.compile(r"served at (http://127\.0\.0\.1:\d+) ")

# slug → (name, number of items in its sample feed)
SOURCES = {
    "rss2": ("澄湾日报", 4),
    "rss2-content": ("澄湾晚报", 3),
    "atom": ("云岭通讯", 3),
    "rdf": ("北岸周刊", 3),
    "jsonfeed": ("长桥新闻", 4),
    "fulltext": ("江畔评论", 3),
}


@dataclass(frozen=True)
class Item:
    """One item as its sample feed states it; ``{base}`` stands for the server's address."""

    slug: str
    title: str
    date: str
    link: str
    body: str


ITEMS = [
    Item(
        "rss2",
        "市图书馆周末开放时间延长至晚上九点",
        "Mon, 03 Jun 2024 10:05:00 +0800",
        "{base}/daily/library-hours.html",
        "<p>澄湾市图书馆自六月起将周六、周日的闭馆时间推迟两小时，自习区座位同步增加八十个。</p>",
    ),
    Item(
        "rss2",
        "澄湾新区开通首条夜间公交线路",
        "Tue, 04 Jun 2024 21:30:00 +0800",
        "{base}/daily/night-bus.html",
        "<p>澄湾市公交公司宣布，连接新区与老城码头的 N1 夜间线路本周起试运行，末班车凌晨一点发车。</p>"
        '<p><img src="{base}/images/harbor.svg" alt="码头夜景示意图"></p>'
        "<p>公司表示，试运行期间将根据客流调整发车间隔。</p>",
    ),
    Item(
        "rss2-content",
        "长桥夜市获评本年度特色街区",
        "Wed, 05 Jun 2024 19:20:00 +0800",
        "{base}/evening/night-market.html",  # the guid, not the tracking <link>
        "<p>由市商务部门组织的评选结果今天公布，长桥夜市入选本年度特色街区名单。</p>"
        '<figure><img src="{base}/images/bridge.svg" alt="长桥示意图">'
        "<figcaption>长桥一带的夜市（示意图）</figcaption></figure>"
        "<p>夜市摊位数量比去年增加三成，新增的二十个摊位全部留给本地年轻创业者。</p>",
    ),
    Item(
        "atom",
        "县医院开设周末儿科门诊",
        "2024-06-04T08:30:00+08:00",
        "{base}/cloud/pediatrics.html",
        "<p>县人民医院从本周六起开设周末儿科门诊，上午八点至下午五点接诊。</p>",
    ),
    Item(
        "rdf",
        "北岸渡轮更换新能源船只",
        "2024-06-05T06:50:00+08:00",
        "{base}/north/ferry.html",
        "<p>往返北岸与老城码头的两艘渡轮已换成电动船，单程时间缩短五分钟。</p>"
        '<p><img src="{base}/images/harbor.svg" alt="渡轮示意图"></p>',
    ),
    Item(
        "jsonfeed",
        "长桥景观灯改用节能光源",
        "2024-06-05T20:15:00+08:00",
        "{base}/bridge/lights.html",
        "<p>长桥两侧的景观灯已全部换成节能光源，预计每年节电约四成。</p>"
        '<p><img src="{base}/images/bridge.svg" alt="长桥示意图"></p>',
    ),
]

# fulltext: title, date, article page (its div.article-body is the expected body)
FULLTEXT = [
    ("评论：老茶馆的新客人", "Wed, 05 Jun 2024 08:00:00 +0800", "tea-house.html"),
    ("评论：让渡轮时刻表更好读", "Mon, 03 Jun 2024 20:00:00 +0800", "timetable.html"),
    ("评论：旧电影院的第二次生命", "Sat, 01 Jun 2024 15:30:00 +0800", "cinema.html"),
]


def ms_of(date: str) -> int:
    """Unix milliseconds of an RFC 822 or ISO 8601 date string with a zone."""
    try:
        moment = datetime.fromisoformat(date)
    except ValueError:
        moment = datetime.strptime(date, "%a, %d %b %Y %H:%M:%S %z")
    return int(moment.timestamp()) * 1000


@dataclass(frozen=True)
class Demo:
    archive: Path
    code: int
    out: str
    err: str

    @property
    def base(self) -> str:
        match = SERVED_AT.search(self.out)
        assert match is not None, self.out
        return match.group(1)

    def articles(self, slug: str) -> dict[int, str]:
        folder = self.archive / "articles" / slug
        return {int(p.stem): p.read_text(encoding="utf-8") for p in folder.rglob("*.md")}

    def article_titled(self, slug: str, title: str) -> str:
        found = [
            text for text in self.articles(slug).values() if text.split("\n")[1].startswith(f"[{title}](")
        ]
        assert len(found) == 1, (slug, title)
        return found[0]


class LoopbackOnly(httpx.AsyncBaseTransport):
    """Records every URL the run requests and refuses any that is not on 127.0.0.1."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.seen: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(str(request.url))
        assert request.url.host == "127.0.0.1", request.url
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def run_demo(
    archive: Path, capsys: pytest.CaptureFixture[str], transport: httpx.AsyncBaseTransport | None = None
) -> Demo:
    code = main(["demo", "--keep", str(archive)], transport=transport)
    captured = capsys.readouterr()
    return Demo(archive, code, captured.out, captured.err)


@pytest.fixture
def demo(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Demo:
    return run_demo(tmp_path / "a", capsys)


def git_log(archive: Path) -> list[str]:
    done = subprocess.run(
        ["git", "-C", str(archive), "log", "--oneline"], capture_output=True, text=True, check=True
    )
    return done.stdout.splitlines()


def page_body(page: str, base: str) -> str:
    """The inner HTML of the page's div.article-body, joined into one line (read with str.find)."""
    html = files("newsmirror.demo").joinpath("feeds", page).read_text(encoding="utf-8")
    start = html.index('<div class="article-body">') + len('<div class="article-body">')
    inner = html[start : html.index("</div>", start)]
    return "".join(line.strip() for line in inner.split("\n")).replace("@BASE@", base)


def test_demo_succeeds_and_says_where_to_look(demo: Demo) -> None:
    assert demo.code == 0, demo.err
    assert demo.err == ""
    assert str(demo.archive) in demo.out
    assert f"git -C {demo.archive} log --oneline" in demo.out
    assert str(demo.archive / "README.md") in demo.out
    assert str(demo.archive / "lists") in demo.out
    assert "20 new articles" in demo.out
    example = re.search(r"an article:\s+(\S+)", demo.out)
    assert example is not None
    assert Path(example.group(1)).is_file()
    log = git_log(demo.archive)
    assert len(log) == 1
    assert log[0].endswith("newsmirror: 20 new articles")


def test_the_demo_archive_answers_status_and_sources_list(
    demo: Demo, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sources", "list", "--json", "--archive", str(demo.archive)]) == 0
    listed = json.loads(capsys.readouterr().out)["sources"]
    assert len(listed) == len(SOURCES)
    assert main(["status", "--archive", str(demo.archive), "--json"]) == 1  # its articles are of 2024: stale
    assert len(json.loads(capsys.readouterr().out)["sources"]) == len(SOURCES)


def test_every_item_is_archived_with_ids_counting_down_in_date_order(demo: Demo) -> None:
    for slug, (_, count) in SOURCES.items():
        articles = demo.articles(slug)
        assert sorted(articles) == list(range(1048575 - count, 1048575)), slug
        assert all(ARTICLE.match(text) for text in articles.values()), slug
        stamps = [
            int(articles[i].split("-->")[0].removeprefix("<!--")) for i in sorted(articles, reverse=True)
        ]
        assert stamps == sorted(stamps), slug
        assert len(set(stamps)) == len(stamps), slug


def test_article_file_of_each_format(demo: Demo) -> None:
    base = demo.base
    expected = {
        (item.slug, item.title): f"<!--{ms_of(item.date)}-->\n[{item.title}]({item.link.format(base=base)})\n"
        f"------\n\n{item.body.format(base=base)}\n"
        for item in ITEMS
    }
    actual = {key: demo.article_titled(*key) for key in expected}
    assert actual == expected


def test_fulltext_body_is_inner_html_of_the_page_element(demo: Demo) -> None:
    base = demo.base
    expected = {}
    for title, date, page in FULLTEXT:
        body = page_body(page, base)
        assert body.startswith("<p>")
        assert "article-body" not in body
        assert "相关阅读" not in body  # the <aside> after the element stays out
        expected[title] = f"<!--{ms_of(date)}-->\n[{title}]({base}/news/{page})\n------\n\n{body}\n"
    assert {title: demo.article_titled("fulltext", title) for title in expected} == expected


def test_list_pages_and_readme(demo: Demo) -> None:
    readme = (demo.archive / "README.md").read_text(encoding="utf-8")
    for slug, (name, count) in SOURCES.items():
        text = (demo.archive / "lists" / f"{name}.md").read_text(encoding="utf-8")
        assert text.startswith(f"{name}\n------\n\n")
        linked = rf"^\d+-\d+ \[[^\n]+\]\(/articles/{re.escape(slug)}/(?:\d+/\d+/\d+/)?(\d+)\.md\)$"  # by day
        entries = re.findall(linked, text, re.M)
        assert len(entries) == count, slug
        assert sorted(int(e) for e in entries) == sorted(demo.articles(slug)), slug
        row = rf"^\| \[{name}\]\(lists/[^)]+\) \| {count} \| 2024-06-0\d \d\d:\d\d UTC \| ok "
        assert re.search(row, readme, re.M), name


def test_requests_stay_on_loopback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    transport = LoopbackOnly()
    assert run_demo(tmp_path / "a", capsys, transport).code == 0
    assert len(transport.seen) == len(SOURCES) + len(FULLTEXT)  # every feed, every fulltext page


def test_second_run_into_the_same_directory_is_refused(
    demo: Demo, capsys: pytest.CaptureFixture[str]
) -> None:
    again = run_demo(demo.archive, capsys)
    assert again.code == 2
    assert again.out == ""
    assert "--keep" in again.err
    assert "not empty" in again.err
    assert str(demo.archive) in again.err
    assert len(git_log(demo.archive)) == 1


def test_keep_accepts_an_existing_empty_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "empty").mkdir()
    assert run_demo(tmp_path / "empty", capsys).code == 0
    assert len(git_log(tmp_path / "empty")) == 1


def test_without_keep_the_temporary_archive_is_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    assert main(["demo"]) == 0
    archives = [p for p in tmp_path.iterdir() if p.name.startswith("newsmirror-demo-")]
    assert len(archives) == 1  # the sources file's temporary directory is gone, the archive stays
    assert str(archives[0]) in capsys.readouterr().out
    assert (archives[0] / "README.md").is_file()
    assert len(git_log(archives[0])) == 1


def test_keep_refuses_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "file").write_text("x", encoding="utf-8")
    refused = run_demo(tmp_path / "file", capsys)
    assert refused.code == 2
    assert "not a directory" in refused.err
