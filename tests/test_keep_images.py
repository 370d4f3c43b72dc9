"""Kept pictures (``images = "archive"``): downloaded from a real server on 127.0.0.1, checked by
their bytes, stored content-addressed on a branch of their own, pointed at by the body.

The pictures in tests/pictures/ are CPython's own test images (PSF licence), not made here."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
from pathlib import Path

import pytest

from newsmirror.cli import main
from newsmirror.store.images import ImageStore, image_path, sniff, what_it_is
from newsmirror.transform.images import DEFAULT_PROXY, archivable, localized

from .conftest import Runner
from .feeds import It, rss
from .servers import Reply

PICTURES = Path(__file__).parent / "pictures"
JPEG = (PICTURES / "python.jpg").read_bytes()
PNG = (PICTURES / "idle_48.png").read_bytes()
GIF = (PICTURES / "python.gif").read_bytes()
WEBP = (PICTURES / "python.webp").read_bytes()
BASE = "https://pictures.example/"
SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


def test_pictures_are_told_by_their_bytes() -> None:
    assert [sniff(d) for d in (JPEG, PNG, GIF, WEBP)] == ["jpg", "png", "gif", "webp"]
    error_page = b"<!DOCTYPE html><html><body>404</body></html>"
    for data, what in (
        (error_page, "an HTML page"),
        (SVG, "SVG"),
        (b"", "empty"),
        (b"\x00\x01", "starts 00 01"),
    ):
        assert sniff(data) is None
        assert what in what_it_is(data)


def test_a_picture_path_is_its_hash_in_two_levels_of_folders() -> None:
    digest = hashlib.sha256(JPEG).hexdigest()
    assert image_path(JPEG, "jpg") == f"{digest[:2]}/{digest[2:4]}/{digest}.jpg"


def test_the_body_points_at_kept_copies_and_proxies_the_rest() -> None:
    body = (
        '<p>甲</p><picture><source srcset="/w.webp 1x">'
        '<img src="/a.jpg" srcset="/a.jpg 1x, /a2.jpg 2x"></picture>'
        '<img data-src="/lazy.png"><img srcset="/s1.jpg 320w, /s2.jpg 1024w"><img src="/gone.jpg">'
        '<video poster="/p.gif"></video><img src="data:image/gif;base64,R0lGOD">'
    )
    page = "https://news.example/story/1"
    urls = archivable(body, page)
    assert urls == [
        "https://news.example/a.jpg",
        "https://news.example/lazy.png",
        "https://news.example/s2.jpg",
        "https://news.example/gone.jpg",
        "https://news.example/p.gif",
    ]
    local = {u: BASE + u.rsplit("/", 1)[1] for u in urls if "gone" not in u}
    out = localized(body, page, local, DEFAULT_PROXY)
    assert '<picture><img src="https://pictures.example/a.jpg"></picture>' in out  # one picture: no <source>
    assert '<img src="https://pictures.example/lazy.png">' in out
    assert '<img src="https://pictures.example/s2.jpg">' in out
    assert '<img src="https://images.weserv.nl/?url=news.example/gone.jpg">' in out
    assert '<video poster="https://pictures.example/p.gif">' in out
    assert 'src="data:image/gif;base64,R0lGOD"' in out
    assert localized(out, page, {}, DEFAULT_PROXY, kept_at=BASE) == out  # twice changes nothing
    assert archivable(out, page, kept_at=BASE) == ["https://images.weserv.nl/?url=news.example/gone.jpg"]


def _archive_sources(runner: Runner, feed: str, **fetch: object) -> None:
    path = runner.sources({"name": "图", "slug": "pics", "url": feed, "images": "archive"})
    table = "".join(f"{k} = {json.dumps(v)}\n" for k, v in fetch.items())
    path.write_text(path.read_text("utf-8") + "\n[fetch]\n" + table, encoding="utf-8")


def _serve_pictures(runner: Runner) -> dict[str, str]:
    routes = {
        "/a.jpg": Reply(JPEG, content_type="image/jpeg"),
        "/b.png": Reply(PNG, content_type="image/png"),
        "/same-as-b.png": Reply(PNG, content_type="image/png"),
        "/error.jpg": Reply(b"<!DOCTYPE html><html><body>Sorry</body></html>", content_type="image/jpeg"),
        "/big.gif": Reply(GIF + b"\0" * 5000, content_type="image/gif"),
        "/x.svg": Reply(SVG, content_type="image/svg+xml"),
    }
    runner.server.routes.update(routes)
    return {name: runner.server.url(name) for name in (*routes, "/missing.jpg")}


def _branch_files(root: Path, branch: str = "images") -> dict[str, bytes]:
    names = subprocess.run(
        ["git", "-C", str(root), "ls-tree", "-r", "--name-only", branch],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    show = ["git", "-C", str(root), "show"]
    return {
        n: subprocess.run([*show, f"{branch}:{n}"], capture_output=True, check=True).stdout for n in names
    }


def test_a_run_keeps_each_picture_once_and_reports_those_it_cannot(
    runner: Runner, capsys: pytest.CaptureFixture[str]
) -> None:
    url = _serve_pictures(runner)
    one = f'<p>一</p><img src="{url["/a.jpg"]}"><img src="{url["/b.png"]}"><img src="{url["/error.jpg"]}">'
    two = (
        f'<p>二</p><img src="{url["/same-as-b.png"]}"><img src="{url["/missing.jpg"]}">'
        f'<img src="{url["/big.gif"]}"><img src="{url["/x.svg"]}">'
    )
    feed = runner.feed(
        "pics", rss(It("一", "https://e.com/1", body=one), It("二", "https://e.com/2", body=two))
    )
    _archive_sources(runner, feed, image_archive_url=BASE, image_max_bytes=4000, retries=0)
    assert runner.run() == 0
    printed = capsys.readouterr().out
    files = _branch_files(runner.archive)
    # two pictures kept (the PNG, served at two URLs, once), at their hashes, byte for byte
    assert files == {image_path(JPEG, "jpg"): JPEG, image_path(PNG, "png"): PNG}
    bodies = {p.read_text("utf-8") for p in (runner.archive / "articles/pics").rglob("*.md")}
    first = next(b for b in bodies if "<p>一</p>" in b)
    second = next(b for b in bodies if "<p>二</p>" in b)
    assert f'<img src="{BASE}{image_path(JPEG, "jpg")}">' in first
    assert f'<img src="{BASE}{image_path(PNG, "png")}">' in first
    assert f'<img src="{BASE}{image_path(PNG, "png")}">' in second
    # the others keep the proxy, and their article says why
    assert f'<img src="{DEFAULT_PROXY.format(host_path=url["/error.jpg"].split("//")[1])}">' in first
    assert "an HTML page, not a picture (image/jpeg)" in printed
    assert "[http_404]" in printed
    assert re.search(r"exceeds 4000 .*\[too_large\]", printed)
    assert "SVG (not archived" in printed
    assert "pictures: 2 new kept on images (2 in all" in printed
    # the articles' branch holds no picture
    tracked = runner.git("ls-files").split()
    assert not [t for t in tracked if t.endswith((".jpg", ".png"))]
    # status reports the branch's size
    assert main(
        ["status", "--archive", str(runner.archive), "--sources", str(runner.root / "sources.toml")]
    ) in (0, 1)
    status = capsys.readouterr().out
    assert f"pictures: 2 on branch images, {(len(JPEG) + len(PNG)) / 2**20:,.1f} MB" in status
    # a second run downloads nothing again, and the branch is unchanged
    tip = runner.git("rev-parse", "images")
    assert runner.run() == 0
    assert runner.git("rev-parse", "images") == tip


def test_pictures_go_to_another_repository_and_are_pushed_beside_a_concurrent_writer(
    runner: Runner, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = _serve_pictures(runner)
    pictures_remote = tmp_path / "pictures-remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(pictures_remote)], check=True)
    local = runner.archive.parent / "pictures.git"
    subprocess.run(
        ["git", "clone", "-q", "--bare", str(pictures_remote), str(local)], check=True, capture_output=True
    )
    first = It("一", "https://e.com/1", body=f'<img src="{url["/a.jpg"]}">')
    feed = runner.feed("pics", rss(first))
    _archive_sources(runner, feed, image_archive_url=BASE, image_archive_repository="../pictures.git")
    assert runner.run("--push") in (0, 4)
    assert "push origin (images): ok" in capsys.readouterr().out
    # another writer adds a picture to the remote's branch meanwhile
    other = ImageStore(pictures_remote)
    other.add(GIF, "gif")
    other.commit("another writer")
    runner.feed("pics", rss(It("二", "https://e.com/2", body=f'<img src="{url["/b.png"]}">'), first))
    assert runner.run("--push") in (0, 4)
    assert "push origin (images): ok" in capsys.readouterr().out
    on_remote = _branch_files(pictures_remote)
    assert on_remote == {
        image_path(GIF, "gif"): GIF,
        image_path(JPEG, "jpg"): JPEG,
        image_path(PNG, "png"): PNG,
    }
    git_log = ["git", "-C", str(pictures_remote), "log", "-1", "--format=%P%n%B", "images"]
    message = subprocess.run(git_log, capture_output=True, text=True, check=True).stdout
    assert len(message.splitlines()[0].split()) == 2  # joined by a merge, nothing forced
    assert re.search(r"^Images: 3$", message, re.MULTILINE)
    assert re.search(rf"^Image-bytes: {len(GIF) + len(JPEG) + len(PNG)}$", message, re.MULTILINE)
    assert not runner.git("branch", "--list", "images")  # nothing in the articles' repository


def test_a_missing_pictures_repository_keeps_the_proxy_and_says_so(
    runner: Runner, capsys: pytest.CaptureFixture[str]
) -> None:
    url = _serve_pictures(runner)
    feed = runner.feed("pics", rss(It("一", "https://e.com/1", body=f'<img src="{url["/a.jpg"]}">')))
    _archive_sources(runner, feed, image_archive_url=BASE, image_archive_repository="../nowhere")
    assert runner.run() == 0
    assert "is not a git repository" in capsys.readouterr().out
    body = next((runner.archive / "articles/pics").rglob("*.md")).read_text("utf-8")
    assert "images.weserv.nl/?url=127.0.0.1" in body
