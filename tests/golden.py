"""Running a golden case of ../shared/golden against newsmirror."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from newsmirror.cli import main
from newsmirror.config import ARCHIVE_CONFIG, ORIGINAL_SOURCES, Config
from newsmirror.scaffold import render_config

from .servers import Reply, RoutingTransport, serve

SHARED = Path(__file__).resolve().parents[2] / "shared"
GOLDEN = SHARED / "golden"
CORPUS = SHARED / "corpus"
RUN_TIME = datetime(2025, 3, 1, 4, 0, tzinfo=UTC)
RUN_MS = int(RUN_TIME.timestamp() * 1000)


@dataclass
class CaseRun:
    case: dict[str, Any]
    case_dir: Path
    archive: Path
    exit_code: int
    requests: list[str]
    upstream: list[str]

    def tree(self, root: Path | None = None) -> dict[str, bytes]:
        return collect(self.archive if root is None else root)

    def expected(self) -> dict[str, bytes]:
        return collect(self.case_dir / "expected")


def collect(root: Path) -> dict[str, bytes]:
    """articles/ and lists/ under root, relative path → bytes (the golden contract).

    The month pages newsmirror adds beside the list pages (``lists/<站名>/…``) are not part of
    it: the original had none.
    """
    found = {}
    for top in ("articles", "lists"):
        for path in sorted((root / top).rglob("*")) if (root / top).exists() else []:
            relative = path.relative_to(root).as_posix()
            if path.is_file() and not (top == "lists" and relative.count("/") > 1):
                found[relative] = path.read_bytes()
    return found


def load_case(name: str) -> tuple[dict[str, Any], Path]:
    case_dir = GOLDEN / name
    return json.loads((case_dir / "case.json").read_text(encoding="utf-8")), case_dir


def _routes(case: dict[str, Any], case_dir: Path) -> tuple[dict[str, Reply], dict[str, str]]:
    served: dict[str, Reply] = {}
    upstream: dict[str, str] = {}
    for source in case["sources"]:
        feed = case_dir / source["feed_file"]
        path = f"/feeds/{source['abbr']}.xml"
        if feed.exists():
            served[path] = Reply(feed.read_bytes())
        upstream[source["original_feed_url"]] = path
        for page_url, page_file in source.get("pages", {}).items():
            page_path = "/" + page_file.removeprefix("input/")
            page = case_dir / page_file
            if page.exists():
                served[page_path] = Reply(page.read_bytes(), content_type="text/html; charset=UTF-8")
            upstream[page_url] = page_path
    return served, upstream


def prepare_archive(case: dict[str, Any], case_dir: Path, archive: Path) -> None:
    before = case_dir / "input" / "archive_before"
    if before.exists():
        shutil.copytree(before, archive)
    archive.mkdir(parents=True, exist_ok=True)
    # the sources the original ran, at the URLs the cases serve
    (archive / ARCHIVE_CONFIG).write_text(render_config(Config(ORIGINAL_SOURCES)), encoding="utf-8")
    # the format under test is the duty-machine one: flat article folders
    (archive / ".newsmirror").mkdir(exist_ok=True)
    (archive / ".newsmirror/archive.json").write_text('{"format": 2, "layout": "flat"}\n', encoding="utf-8")
    for folder in case["how_to_run"].get("precreate_dirs", []):
        (archive / folder).mkdir(exist_ok=True)


@contextmanager
def _tz(zone: str) -> Iterator[None]:
    old = os.environ.get("TZ")
    os.environ["TZ"] = zone
    try:
        yield
    finally:
        if old is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = old


def run_case(name: str, workdir: Path, *, zone: str = "UTC", archive: Path | None = None) -> CaseRun:
    """Serve the case's inputs on 127.0.0.1 and run ``newsmirror run`` once over them."""
    case, case_dir = load_case(name)
    if archive is None:
        archive = workdir / "archive"
        prepare_archive(case, case_dir, archive)
    served, upstream = _routes(case, case_dir)
    with serve(dict(served)) as server, _tz(zone):
        transport = RoutingTransport(
            {u: server.url(p) for u, p in upstream.items()}, server.url("/not-found")
        )
        code = main(["run", "--archive", str(archive), "--json"], transport=transport, clock=lambda: RUN_TIME)
    return CaseRun(case, case_dir, archive, code, sorted(server.requests), transport.seen)
