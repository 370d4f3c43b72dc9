"""The offline demo: sample feeds of every supported format, served on 127.0.0.1 and archived once.

The sample files live in ``demo/feeds`` (package data).  Feeds, article pages and images hold the
placeholder ``@BASE@`` where the server's address goes; ``sources.toml`` is the demo's sources
file with the same placeholder.  Nothing here prints: ``newsmirror.cli.demo`` reports.
"""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Final

import httpx

from ..config import load_config
from ..core import open_archive
from ..exceptions import ConfigError
from ..types import RunResult

PLACEHOLDER: Final = "@BASE@"
SOURCES_FILE: Final = "sources.toml"
# URL folder and Content-Type of each kind of sample file, by suffix
_FOLDERS: Final = {".xml": "feeds", ".json": "feeds", ".html": "news", ".svg": "images"}
_TYPES: Final = {
    ".xml": "application/xml; charset=utf-8",
    ".json": "application/feed+json; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".svg": "image/svg+xml; charset=utf-8",
}


def sample_dir() -> Traversable:
    """The folder of sample files shipped with the package."""
    return files(__name__).joinpath("feeds")


@dataclass(frozen=True, slots=True)
class Sample:
    """One file the demo server answers with."""

    body: bytes
    content_type: str


def url_path(name: str) -> str | None:
    """The path a sample file is served at (``/feeds/atom.xml``), None for files not served."""
    suffix = Path(name).suffix
    folder = _FOLDERS.get(suffix)
    return None if folder is None else f"/{folder}/{name}"


def sample_files(base: str) -> dict[str, Sample]:
    """Every served sample file by URL path, with ``base`` (``http://127.0.0.1:<port>``) filled in."""
    samples: dict[str, Sample] = {}
    for item in sample_dir().iterdir():
        path = url_path(item.name)
        if path is not None:
            text = item.read_text(encoding="utf-8").replace(PLACEHOLDER, base)
            samples[path] = Sample(text.encode("utf-8"), _TYPES[Path(item.name).suffix])
    return samples


def sources_toml(base: str) -> str:
    """The demo's sources file, pointing at the server at ``base``."""
    text = sample_dir().joinpath(SOURCES_FILE).read_text(encoding="utf-8")
    return text.replace(PLACEHOLDER, base)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    samples: dict[str, Sample]


_NOT_FOUND: Final = Sample(b"<!DOCTYPE html><title>404</title><h1>404 Not Found</h1>", _TYPES[".html"])


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        assert isinstance(self.server, _Server)
        sample = self.server.samples.get(self.path.split("?", 1)[0])
        self.send_response(200 if sample is not None else 404)
        self._send(sample or _NOT_FOUND)

    def _send(self, sample: Sample) -> None:
        self.send_header("Content-Type", sample.content_type)
        self.send_header("Content-Length", str(len(sample.body)))
        self.end_headers()
        self.wfile.write(sample.body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the demo's report says what happened."""


@contextmanager
def serve_samples() -> Iterator[str]:
    """Serve the sample files on 127.0.0.1 (ephemeral port) in a thread; yields the base URL."""
    server = _Server(("127.0.0.1", 0), _Handler)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    server.samples = sample_files(base)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="newsmirror-demo", daemon=True
    )
    thread.start()
    try:
        yield base
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def archive_dir(keep: Path | None) -> Path:
    """Where the demo archive goes: ``keep`` (empty or absent) or a new temporary folder."""
    if keep is None:
        return Path(tempfile.mkdtemp(prefix="newsmirror-demo-"))
    if keep.exists() and not keep.is_dir():
        raise ConfigError(f"--keep {keep}: not a directory; give an empty or absent directory")
    if keep.exists() and any(keep.iterdir()):
        raise ConfigError(
            f"--keep {keep}: directory is not empty; the demo writes only into an empty or absent "
            "directory (remove it or choose another)"
        )
    return keep


@dataclass(frozen=True, slots=True)
class DemoRun:
    """What one demo did: where, against which server, with what result."""

    archive: Path
    base: str
    result: RunResult

    def example_article(self) -> Path | None:
        """The file of the first new article of the first source that has one."""
        for source in self.result.sources:
            if source.new:
                found = sorted((self.archive / "articles" / source.slug).rglob(f"{source.new[0]}.md"))
                return found[0] if found else None
        return None


def run_demo(
    archive: Path,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    clock: Callable[[], datetime] | None = None,
) -> DemoRun:
    """Serve the samples, write the sources file, archive every sample source into ``archive``."""
    with serve_samples() as base, tempfile.TemporaryDirectory(prefix="newsmirror-demo-sources-") as tmp:
        sources = Path(tmp) / SOURCES_FILE
        sources.write_text(sources_toml(base), encoding="utf-8")
        result = _archive(archive, sources, transport, clock)
    return DemoRun(archive=archive, base=base, result=result)


def _archive(
    archive: Path,
    sources: Path,
    transport: httpx.AsyncBaseTransport | None,
    clock: Callable[[], datetime] | None,
) -> RunResult:
    config = load_config(sources)
    # saved in the archive as every run's sources are, so that `status` and `sources list` work
    # on it (their feeds are the demo's server, gone once the demo ends)
    text = sources.read_text(encoding="utf-8")
    # an explicit transport also keeps httpx from sending 127.0.0.1 through a proxy of the environment
    loopback = transport if transport is not None else httpx.AsyncHTTPTransport()
    repo = open_archive(archive)
    if clock is None:
        return repo.run(config, transport=loopback, sources_text=text)
    return repo.run(config, transport=loopback, clock=clock, sources_text=text)
