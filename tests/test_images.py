"""Images through the proxy (transform/images.py): every reference, made absolute, rewritten once;
the feedx-era bodies of the real archive, proxied already, left byte for byte as they are."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from newsmirror.config import parse_config
from newsmirror.exceptions import ConfigError
from newsmirror.transform.images import DEFAULT_PROXY, proxied_images, proxy_url

from .conftest import Runner
from .feeds import It, rss
from .golden import CORPUS

BASE = "https://www.bbc.com/zhongwen/simp/world-1"
WESERV = "https://images.weserv.nl/?url="


@pytest.mark.parametrize(
    ("url", "proxied"),
    [
        ("https://ichef.bbci.co.uk/news/640/a.jpg", f"{WESERV}ichef.bbci.co.uk/news/640/a.jpg"),
        ("http://gdb.voanews.com/a.jpg?w=900&h=1", f"{WESERV}gdb.voanews.com/a.jpg%3Fw=900%26h=1"),
        (f"{WESERV}ichef.bbci.co.uk/a.jpg", f"{WESERV}ichef.bbci.co.uk/a.jpg"),  # once only
        ("https://images.weserv.nl?url=x.com/a.jpg", "https://images.weserv.nl?url=x.com/a.jpg"),
        ("data:image/gif;base64,R0lGOD", "data:image/gif;base64,R0lGOD"),
        ("ftp://x.com/a.jpg", "ftp://x.com/a.jpg"),
    ],
)
def test_proxy_url(url: str, proxied: str) -> None:
    assert proxy_url(url, DEFAULT_PROXY) == proxied


def test_a_template_with_the_whole_url() -> None:
    template = "https://proxy.example/i?u={url}"
    assert (
        proxy_url("https://a.com/b.jpg?x=1", template)
        == "https://proxy.example/i?u=https%3A%2F%2Fa.com%2Fb.jpg%3Fx%3D1"
    )


def test_every_kind_of_image_reference_is_rewritten_once() -> None:
    body = (
        '<p>文字</p><img src="/i/a.jpg" alt="甲">'
        '<picture><source srcset="https://ichef.bbci.co.uk/b.webp 640w, //img.example/c.jpg 2x">'
        '<img data-src="lazy.png" src="data:image/gif;base64,AA"></picture>'
        '<video poster="p.jpg"></video>'
    )
    out = proxied_images(body, BASE)
    assert f'src="{WESERV}www.bbc.com/i/a.jpg"' in out
    assert f'srcset="{WESERV}ichef.bbci.co.uk/b.webp 640w, {WESERV}img.example/c.jpg 2x"' in out
    assert f'src="{WESERV}www.bbc.com/zhongwen/simp/lazy.png"' in out
    assert "data-src" not in out
    assert f'poster="{WESERV}www.bbc.com/zhongwen/simp/p.jpg"' in out
    assert proxied_images(out, BASE) == out  # twice changes nothing
    assert proxied_images("<p>没有图片</p>", BASE) == "<p>没有图片</p>"


def corpus_bodies() -> list[tuple[str, str, str]]:
    if not CORPUS.is_dir():
        pytest.skip(f"CORPUS MISSING: {CORPUS} — feedx-era bodies NOT checked")
    found = []
    for path in sorted(CORPUS.rglob("*.md")):
        lines = path.read_text("utf-8", errors="replace").split("\n")
        if len(lines) >= 5 and "images.weserv.nl" in lines[4]:
            link = lines[1].rsplit("](", 1)[-1].rstrip(")")
            found.append((str(path.relative_to(CORPUS)), link, lines[4]))
    return found


def test_feedx_era_bodies_proxied_already_stay_byte_identical() -> None:
    bodies = corpus_bodies()
    assert len(bodies) >= 10
    changed = [(name, body, proxied_images(body, link)) for name, link, body in bodies]
    changed = [(name, body, out) for name, body, out in changed if out != body]
    # feedx proxied src but left BBC's srcSet pointing at ichef.bbci.co.uk: only those change
    for name, body, out in changed:
        unproxied = re.findall(r'srcSet="([^"]*)"', body)
        assert unproxied, name
        assert all("images.weserv.nl" not in u.split(" ")[0] for u in unproxied), name
        assert re.findall(r'src="(https://images\.weserv\.nl[^"]*)"', body) == re.findall(
            r'src="(https://images\.weserv\.nl[^"]*)"', out
        ), name  # what feedx proxied is as it was
        assert proxied_images(out, "https://x/") == out
    assert len(bodies) - len(changed) >= 10  # the rest, byte for byte


def test_a_bad_proxy_template_is_refused() -> None:
    table = {
        "source": [{"name": "甲", "slug": "a", "url": "https://a/"}],
        "fetch": {"image_proxy": "https://p/"},
    }
    with pytest.raises(ConfigError, match="image_proxy must be an http"):
        parse_config(table)


def test_a_run_proxies_the_images_of_a_source_unless_it_keeps_them(runner: Runner) -> None:
    body = '<p>正文</p><img src="https://img.example/a.jpg">'
    first = runner.feed("p", rss(It("图一", "https://e.com/1", body=body)))
    second = runner.feed("k", rss(It("图二", "https://e.com/2", body=body)))
    runner.sources(
        {"name": "代", "slug": "proxied", "url": first},
        {"name": "原", "slug": "kept", "url": second, "images": "keep"},
    )
    assert runner.run() == 0
    proxied = next(Path(runner.archive / "articles/proxied").rglob("*.md")).read_text("utf-8")
    kept = next(Path(runner.archive / "articles/kept").rglob("*.md")).read_text("utf-8")
    assert f'<img src="{WESERV}img.example/a.jpg">' in proxied
    assert '<img src="https://img.example/a.jpg">' in kept


def test_what_a_review_found() -> None:
    """Cases a review of the first version broke on."""
    stray = '<p><img src="a.jpg"></p></div><p>正文第二段</p><img src="b.jpg">'
    out = proxied_images(stray, BASE)
    assert "正文第二段" in out  # a stray </div> loses nothing
    assert out.count(WESERV) == 2
    media = (
        '<video src="v.mp4" poster="p.jpg"><source src="v.webm"></video><audio><source src="a.mp3"></audio>'
    )
    out = proxied_images(media, BASE)
    assert 'src="v.mp4"' in out
    assert 'src="v.webm"' in out
    assert 'src="a.mp3"' in out
    assert f'poster="{WESERV}www.bbc.com/zhongwen/simp/p.jpg"' in out
    tight = proxied_images('<img srcset="https://c.example/w_100,h_100/a.jpg 1x,b.jpg\t2x">', BASE)
    assert f"{WESERV}c.example/w_100,h_100/a.jpg 1x, {WESERV}www.bbc.com/zhongwen/simp/b.jpg 2x" in tight
    assert (
        proxy_url("https://u:pw@x.com/a+b.jpg?s=x+y", DEFAULT_PROXY) == f"{WESERV}x.com/a%2Bb.jpg%3Fs=x%2By"
    )
    frame = proxied_images('<iframe data-src="https://evil.example/"></iframe><img src="a.jpg">', BASE)
    assert "<iframe data-src=" in frame  # only images are promoted
