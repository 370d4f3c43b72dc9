"""Identity that neither loses nor duplicates: each case as a feed really does it, over real runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from newsmirror.identity import link_key, same_body, same_title

from .conftest import Runner
from .feeds import It, rss
from .servers import Reply

JUL20 = "Mon, 20 Jul 2020 07:41:21 GMT"
JUL21 = "Tue, 21 Jul 2020 07:41:21 GMT"
STORIES = [
    ("美联储宣布维持利率不变", "<p>美联储周三宣布维持基准利率不变，并表示将继续观察通胀数据。</p>"),
    ("台风逼近华南沿海", "<p>气象部门发布红色预警，广东多地停课停工，航班大面积取消。</p>"),
    ("欧盟通过新的气候法案", "<p>欧洲议会以多数票通过法案，要求二〇四〇年前大幅减排。</p>"),
    ("日本央行意外加息", "<p>日本银行结束负利率政策，日元汇率随即走强，股市下跌。</p>"),
    ("巴西举行总统大选", "<p>数千万选民前往投票站，两名主要候选人的支持率十分接近。</p>"),
    ("印度发射登月探测器", "<p>探测器从南部发射场升空，预计一个月后在月球南极附近着陆。</p>"),
    ("澳大利亚山火蔓延", "<p>消防部门动员数千人灭火，多个城镇的居民被要求紧急撤离。</p>"),
    ("联合国召开安理会紧急会议", "<p>会议讨论中东局势，多国代表呼吁立即停火并开放人道走廊。</p>"),
    ("英国首相宣布提前大选", "<p>首相在唐宁街十号外发表讲话，宣布七月举行全国选举。</p>"),
    ("韩国发生强烈地震", "<p>地震造成部分建筑受损，目前尚无人员死亡的报告。</p>"),
]


def report(runner: Runner, capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    capsys.readouterr()
    runner.run("--json")
    result: dict[str, object] = json.loads(capsys.readouterr().out)["sources"][0]
    return result


def files(runner: Runner, slug: str) -> dict[str, str]:
    """Every article file of ``slug``: its ``[title](link)`` line → its body line."""
    folder = runner.archive / "articles" / slug
    lines = (p.read_text("utf-8").split("\n") for p in sorted(folder.glob("*.md")))
    return {text[1]: text[4] for text in lines}


def serve(runner: Runner, items: list[It], **options: object) -> None:
    url = runner.feed("news", rss(*items))
    runner.sources({"name": "新闻", "slug": "news", "url": url, **options})


def test_guids_that_are_feed_positions_do_not_hide_new_articles(
    runner: Runner, capsys: pytest.CaptureFixture[str]
) -> None:
    def feed(stories: list[tuple[str, str]], offset: int) -> list[It]:
        return [
            It(title, f"https://e.com/{offset + n}", JUL20, body, guid=f"item-{n}")
            for n, (title, body) in enumerate(stories)
        ]

    serve(runner, feed(STORIES[:5], 0))
    assert len(report(runner, capsys)["new"]) == 5  # type: ignore[arg-type]
    serve(runner, feed(STORIES[5:], 5))  # the next five articles reuse item-0 … item-4
    second = report(runner, capsys)
    assert len(second["new"]) == 5  # type: ignore[arg-type]
    assert second["unchanged"] == 0
    notes = second["notes"]
    assert isinstance(notes, list)
    assert len(notes) == 5
    assert all(n.startswith("collision: item ") and "different article" in n for n in notes)
    expected = {f"[{t}](https://e.com/{n})": b for n, (t, b) in enumerate(STORIES)}
    assert files(runner, "news") == expected
    third = report(runner, capsys)  # the same feed again: known now, nothing new, no notes
    assert (third["new"], third["unchanged"], third["notes"]) == ([], 5, [])


@pytest.mark.parametrize(
    "shared",
    [{"guid": "https://live.example/"}, {"guid": "constant"}, {"link": "https://live.example/"}],
    ids=["constant-url-guid", "constant-guid", "link-is-the-home-page"],
)
def test_one_guid_or_link_for_every_item_loses_none(
    runner: Runner, capsys: pytest.CaptureFixture[str], shared: dict[str, str]
) -> None:
    items = [
        It(title, shared.get("link", f"https://e.com/{n}"), JUL20, body, guid=shared.get("guid"))
        for n, (title, body) in enumerate(STORIES[:6])
    ]
    serve(runner, items)
    first = report(runner, capsys)
    assert len(first["new"]) == 6  # type: ignore[arg-type]
    assert first["skipped"] == []
    assert {line.split("](")[0][1:] for line in files(runner, "news")} == {t for t, _ in STORIES[:6]}
    assert len(first["notes"]) == 5  # type: ignore[arg-type]
    again = report(runner, capsys)
    assert (again["new"], again["unchanged"]) == ([], 6)


def test_an_edited_title_or_body_is_still_the_same_article(
    runner: Runner, capsys: pytest.CaptureFixture[str]
) -> None:
    title, body = STORIES[0]
    serve(runner, [It(title, "https://e.com/1", JUL20, body, guid="item-0")])
    report(runner, capsys)
    edited = [
        It(title + "（更新）", "https://e.com/1", JUL20, body, guid="item-0"),  # corrected title
    ]
    serve(runner, edited)
    assert report(runner, capsys)["unchanged"] == 1
    more = body + "<p>补充报道。</p>"
    rewritten = [It("美联储：利率暂时不动", "https://e.com/1", JUL20, more, guid="item-0")]
    serve(runner, rewritten)  # a new headline, the same story underneath
    result = report(runner, capsys)
    assert (result["new"], result["unchanged"], result["notes"]) == ([], 1, [])


def test_refresh_never_overwrites_another_article_sharing_the_link(
    runner: Runner, capsys: pytest.CaptureFixture[str]
) -> None:
    options = {"ids": "post-id", "refresh": True}
    (t1, b1), (t2, b2) = STORIES[:2]
    serve(runner, [It(t1, "https://cdt.example/a", JUL20, b1, guid="https://cdt.example/?p=1001")], **options)
    report(runner, capsys)
    first_file = runner.article("news", 0xFFFFF ^ 1001)
    serve(runner, [It(t2, "https://cdt.example/a", JUL21, b2, guid="https://cdt.example/?p=1002")], **options)
    second = report(runner, capsys)
    assert (second["new"], second["updated"]) == ([0xFFFFF ^ 1002], [])
    assert runner.article("news", 0xFFFFF ^ 1001) == first_file
    assert runner.article("news", 0xFFFFF ^ 1002).endswith(f"\n{b2}\n")


@pytest.mark.parametrize(
    ("moved", "guid_is_link"),
    [
        (lambda n: f"https://site.example/news/{n}", True),
        (lambda n: f"http://site.example/news/{n}/", False),
        (lambda n: f"https://site.example/news/{n}?utm_source=rss&utm_medium=feed", False),
        (lambda n: f"https://SITE.example/news/{n}/?fbclid=abc123", True),
    ],
    ids=["https-guid=link", "trailing-slash", "utm", "host-case-fbclid-guid=link"],
)
def test_a_site_moving_to_https_or_adding_tracking_is_not_re_archived(
    runner: Runner, capsys: pytest.CaptureFixture[str], moved: object, guid_is_link: bool
) -> None:
    def feed(link_of: object) -> list[It]:
        links = [link_of(n) for n in range(10)]  # type: ignore[operator]
        return [
            It(f"第{n}篇报道", link, JUL20, f"<p>正文{n}</p>", guid=link if guid_is_link else None)
            for n, link in enumerate(links)
        ]

    serve(runner, feed(lambda n: f"http://site.example/news/{n}"))
    report(runner, capsys)
    before = files(runner, "news")
    serve(runner, feed(moved))
    result = report(runner, capsys)
    assert (result["new"], result["unchanged"]) == ([], 10)
    assert files(runner, "news") == before  # the files keep the links as first served


def test_post_ids_of_a_billion_and_more_are_archived_and_known(
    runner: Runner, capsys: pytest.CaptureFixture[str]
) -> None:
    big = 2_000_000_000
    items = [
        It(t, f"https://cdt.example/{n}", JUL20, b, guid=f"https://cdt.example/?p={big + n}")
        for n, (t, b) in enumerate(STORIES[:2])
    ]
    serve(runner, [*items, It(*STORIES[2], guid="https://cdt.example/?p=" + "9" * 40)], ids="post-id")
    first = report(runner, capsys)
    assert sorted(first["new"]) == sorted([0, 0xFFFFF ^ big, 0xFFFFF ^ (big + 1)])  # type: ignore[type-var]
    assert (runner.archive / f"articles/news/{0xFFFFF ^ big}.md").is_file()
    for _ in range(2):  # every later run knows them (it failed forever with "refusing to overwrite")
        again = report(runner, capsys)
        assert (again["ok"], again["new"], again["unchanged"]) == (True, [], 3)


def test_a_link_over_64_kib_fails_only_its_item_in_a_fulltext_source(
    runner: Runner, capsys: pytest.CaptureFixture[str]
) -> None:
    page = runner.server.url("/story/1.html")
    runner.server.routes["/story/1.html"] = Reply(
        b"<html><body><div class='post-content'><p>\xe5\x85\xa8\xe6\x96\x87</p></div></body></html>",
        content_type="text/html; charset=utf-8",
    )
    huge = "https://e.com/" + "a" * 70_000
    serve(
        runner,
        [It("正常的文章", page, JUL20, guid="g1"), It("超长链接", huge, JUL20, guid="g2")],
        fulltext="div.post-content",
    )
    result = report(runner, capsys)
    assert result["ok"] is True
    assert len(result["new"]) == 2  # type: ignore[arg-type]  # its page cannot be asked for: the feed's body
    notes = [n for n in result["notes"] if "超长链接" in n]  # type: ignore[union-attr]
    assert len(notes) == 1
    assert notes[0].startswith("item 2 (超长链接): kept the feed's body: article page: ")
    assert "[bad_url]" in notes[0]
    assert len(notes[0]) < 1000  # the message names the URL without all 70,000 characters
    assert sorted(files(runner, "news").values()) == sorted(["<p>全文</p>", "<p>正文</p>"])


def test_link_keys() -> None:
    assert link_key("http://a.example/x/") == link_key("https://a.example/x") == "//a.example/x"
    assert link_key("https://a.example/x?utm_source=a&id=3&fbclid=z") == "//a.example/x?id=3"
    assert link_key("https://a.example/x?id=3#part") != link_key("https://a.example/x?id=4#part")
    assert link_key("https://a.example/X") != link_key("https://a.example/x")  # paths keep their case
    assert link_key("mailto:a@b") == "mailto:a@b"


def test_same_title_and_same_body() -> None:
    assert same_title("美联储宣布维持利率不变", "美联储宣布维特利率不变")  # a typo fixed
    assert same_title("甲", "甲（更新）")
    assert not same_title("每日一语 2022.6.12", "每日一语 2022.6.13")
    assert not same_title(STORIES[0][0], STORIES[1][0])
    assert not same_title("item 1", "item 2")
    assert same_body("<p>" + "全文" * 3 + STORIES[0][1] + "</p>", STORIES[0][1])
    assert not same_body(STORIES[0][1], STORIES[1][1])
    assert not same_body("", STORIES[1][1])


def test_corpus_articles_are_not_the_same_story_as_each_other() -> None:
    """Real archived articles (different stories) do not count as the same one."""
    folder = Path(__file__).resolve().parents[2] / "shared" / "corpus"
    if not folder.is_dir():
        pytest.skip(f"CORPUS MISSING: {folder} not found — content identity NOT tested on real articles")
    paths = [p for p in sorted(folder.rglob("*.md")) if p.parent.name not in ("_lists", "corpus")]
    texts = [p.read_text("utf-8").split("\n") for p in paths]
    stories = [(t[1].split("](")[0][1:], t[4]) for t in texts if len(t) > 4]
    assert len(stories) >= 20
    pairs = [(a, b) for i, a in enumerate(stories) for b in stories[i + 1 :] if a[0] != b[0]]
    related = [(a[0], b[0]) for a, b in pairs if same_title(a[0], b[0]) or same_body(a[1], b[1])]
    assert related == []


def test_a_recurring_title_under_a_reused_guid_is_a_new_article_and_never_overwrites(
    runner: Runner, capsys: pytest.CaptureFixture[str]
) -> None:
    (_, first_body), (_, second_body) = STORIES[:2]
    serve(runner, [It("每日简报", "https://e.com/d1", JUL20, first_body, guid="item-0")], refresh=True)
    report(runner, capsys)
    archived = runner.article("news", 1048574)
    serve(runner, [It("每日简报", "https://e.com/d2", JUL21, second_body, guid="item-0")], refresh=True)
    result = report(runner, capsys)
    assert (result["new"], result["updated"]) == ([1048573], [])
    assert runner.article("news", 1048574) == archived
    assert runner.article("news", 1048573).endswith(f"\n{second_body}\n")


def test_one_title_under_one_link_without_guids_keeps_every_body(
    runner: Runner, capsys: pytest.CaptureFixture[str]
) -> None:
    items = [It("直播：最新进展", "https://live.example/", JUL20, body) for _, body in STORIES[:3]]
    serve(runner, items)
    assert len(report(runner, capsys)["new"]) == 3  # type: ignore[arg-type]
    serve(runner, [*items, It("直播：最新进展", "https://live.example/", JUL21, STORIES[3][1])])
    again = report(runner, capsys)
    assert (len(again["new"]), again["unchanged"]) == (1, 3)  # type: ignore[arg-type]


def test_a_boilerplate_body_tells_nothing_and_titles_decide(
    runner: Runner, capsys: pytest.CaptureFixture[str]
) -> None:
    def feed(titles: list[str]) -> list[It]:
        more = "<p>点击阅读全文</p>"
        return [It(t, f"https://e.com/{t}", JUL20, more, guid=f"item-{n}") for n, t in enumerate(titles)]

    serve(runner, feed([STORIES[0][0], STORIES[1][0]]))
    report(runner, capsys)
    serve(runner, feed([STORIES[2][0], STORIES[3][0]]))  # reused guids, the same one-line body
    assert len(report(runner, capsys)["new"]) == 2  # type: ignore[arg-type]


def test_a_rewritten_title_in_a_fulltext_post_id_source_refreshes_its_own_file(
    runner: Runner, capsys: pytest.CaptureFixture[str]
) -> None:
    page = runner.server.url("/story/1.html")
    body = STORIES[0][1]
    runner.server.routes["/story/1.html"] = Reply(
        f"<html><body><div class='post-content'>{body}</div></body></html>".encode(),
        content_type="text/html; charset=utf-8",
    )
    options = {"ids": "post-id", "refresh": True, "fulltext": "div.post-content"}
    guid = "https://cdt.example/?p=650486"
    serve(runner, [It("原来的标题", page, JUL20, "<p>摘要……</p>", guid=guid)], **options)
    report(runner, capsys)
    serve(runner, [It("完全改写过的另一个标题", page, JUL20, "<p>摘要……</p>", guid=guid)], **options)
    result = report(runner, capsys)
    assert (result["new"], result["updated"]) == ([], [398089])  # the same post: its own file
    assert runner.ids("news") == [398089]
