from __future__ import annotations

import os
import shutil
import subprocess
import sysconfig
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import settings

from newsmirror.cli import main

from .servers import Reply, Server, serve

# CI explores the same examples every time (a red CI must mean a regression, not a new random
# draw); local runs keep drawing new ones and remember failures in .hypothesis/.
settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    settings.load_profile("ci")

# No automatic `git gc` or `git maintenance` in the tests' repositories: `git commit` past
# gc.auto's 6,700 loose objects (the 10,000-item test, a big import) starts a detached gc that
# outlives the command and races whatever the test does next (a scan of .git/objects, a copy,
# tmp_path's removal). Given the way `git -c` is, in every git command the tests start directly
# or through newsmirror, without touching any configuration file.
GIT_TEST_CONFIG = {"gc.auto": "0", "gc.autoDetach": "false", "maintenance.auto": "false"}


@pytest.fixture(autouse=True, scope="session")
def _no_background_git_gc() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        count = int(os.environ.get("GIT_CONFIG_COUNT") or 0)
        for number, (key, value) in enumerate(GIT_TEST_CONFIG.items(), start=count):
            patch.setenv(f"GIT_CONFIG_KEY_{number}", key)
            patch.setenv(f"GIT_CONFIG_VALUE_{number}", value)
        patch.setenv("GIT_CONFIG_COUNT", str(count + len(GIT_TEST_CONFIG)))
        yield


NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
NOW_MS = int(NOW.timestamp() * 1000)


@pytest.fixture
def server() -> Iterator[Server]:
    with serve({}) as running:
        yield running


@dataclass
class Runner:
    """Runs ``newsmirror run`` in-process against feeds served on 127.0.0.1."""

    server: Server
    root: Path
    archive: Path
    clock: Callable[[], datetime] = field(default=lambda: NOW)

    def feed(self, slug: str, body: bytes, **reply: object) -> str:
        self.server.routes[f"/{slug}.xml"] = Reply(body, **reply)  # type: ignore[arg-type]
        return self.server.url(f"/{slug}.xml")

    def sources(self, *sources: dict[str, object]) -> Path:
        lines = []
        for source in sources:
            lines.append("[[source]]")
            lines += [f"{k} = {_toml(v)}" for k, v in source.items()]
        path = self.root / "sources.toml"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    def run(self, *extra: str, archive: Path | None = None) -> int:
        args = [
            "run",
            "--archive",
            str(archive or self.archive),
            "--sources",
            str(self.root / "sources.toml"),
        ]
        return main([*args, *extra], clock=self.clock)

    def git(self, *args: str, archive: Path | None = None, check: bool = True) -> str:
        done = subprocess.run(
            ["git", "-C", str(archive or self.archive), *args], capture_output=True, text=True, check=check
        )
        return done.stdout

    def commits(self, archive: Path | None = None) -> int:
        return int(self.git("rev-list", "--count", "HEAD", archive=archive))

    def article(self, slug: str, article_id: int, archive: Path | None = None) -> str:
        return ((archive or self.archive) / "articles" / slug / f"{article_id}.md").read_text("utf-8")

    def ids(self, slug: str, archive: Path | None = None) -> list[int]:
        folder = (archive or self.archive) / "articles" / slug
        return sorted(int(p.stem) for p in folder.glob("*.md") if p.stem.isdigit()) if folder.exists() else []


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


FLAT = '{"format": 2, "layout": "flat"}\n'
"""The duty-machine layout (``articles/<slug>/<id>.md``), which most tests read; new archives
are monthly unless told (tests/test_layouts.py runs those)."""


def flat_archive(archive: Path) -> Path:
    (archive / ".newsmirror").mkdir(parents=True, exist_ok=True)
    (archive / ".newsmirror/archive.json").write_text(FLAT, encoding="utf-8")
    return archive


@pytest.fixture
def runner(server: Server, tmp_path: Path) -> Runner:
    return Runner(server=server, root=tmp_path, archive=flat_archive(tmp_path / "archive"))


def tool(name: str) -> str:
    """A command installed with this Python environment (the test extra), else on PATH."""
    found = shutil.which(name, path=sysconfig.get_path("scripts")) or shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is missing: it is in the test extra (pip install -e '.[test]')")
    return found
