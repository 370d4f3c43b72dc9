"""Keeping the pictures of articles (``images = "archive"``): download, check, store, point.

Each picture of a new or rewritten body is downloaded politely (the fetcher's per-host limits,
``image_max_bytes``, ``image_timeout``), checked by its first bytes — an HTML error page or an
SVG served as ``image/jpeg`` is not a picture — and stored content-addressed on the images
branch (``store.images``); the body then points at the kept copy.  A picture that cannot be
kept (gone, too large, not a picture, over the run's budget) keeps the proxy URL, and its
article's note says why: the article is archived either way.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from .config import FetchSettings
from .exceptions import NewsmirrorError, SourceError
from .fetch import Fetcher
from .redact import redact_url
from .store.images import ImageStore, sniff, what_it_is

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Kept:
    """What became of one body's pictures: URL → the kept copy's URL, and why the others weren't."""

    local: dict[str, str]
    problems: tuple[str, ...]

    def note(self) -> str | None:
        if not self.problems:
            return None
        more = len(self.problems) - 3
        listed = "; ".join(self.problems[:3]) + (f"; and {more} more" if more > 0 else "")
        return f"pictures: {len(self.problems)} not kept: {listed}"


@dataclass(slots=True)
class ImageKeeper:
    """The run's keeper of pictures: one download per URL, at most ``settings.images_per_run``."""

    store: ImageStore
    base_url: str | None
    """Where readers find the kept copies; None: they are kept, and the bodies keep the proxy."""
    settings: FetchSettings
    downloads: int = 0
    _tasks: dict[str, asyncio.Task[str]] = field(default_factory=dict)

    async def keep(self, urls: list[str], fetcher: Fetcher, slug: str) -> Kept:
        """Keep each of ``urls``; never raises for one picture."""
        for url in urls:
            if url not in self._tasks:
                self._tasks[url] = asyncio.ensure_future(self._download(url, fetcher, slug))
        local: dict[str, str] = {}
        problems: list[str] = []
        for url in urls:
            try:
                path = await self._tasks[url]
            except _NotKept as e:
                problems.append(str(e))
                continue
            if self.base_url is not None:
                local[url] = self.base_url + path
        return Kept(local, tuple(problems))

    async def _download(self, url: str, fetcher: Fetcher, slug: str) -> str:
        shown = redact_url(url)
        if self.downloads >= self.settings.images_per_run:
            raise _NotKept(
                f"{shown}: over this run's {self.settings.images_per_run} pictures (images_per_run)"
            )
        self.downloads += 1
        try:
            got = await fetcher.get(
                url, slug=slug, max_bytes=self.settings.image_max_bytes, timeout=self.settings.image_timeout
            )
        except SourceError as e:
            raise _NotKept(f"{e.reason} [{e.code}]") from e  # the reason names the URL
        extension = sniff(got.content)
        if extension is None:
            served = got.content_type or "no Content-Type"
            raise _NotKept(f"{shown}: {what_it_is(got.content)}, not a picture ({served})")
        try:
            return self.store.add(got.content, extension)
        except NewsmirrorError as e:
            log.warning("picture not stored: %s", e, extra={"source": slug})
            raise _NotKept(f"{shown}: not stored: {e.message}") from e


class _NotKept(Exception):
    """Why one picture has no kept copy (a reason on its article, never a failure)."""
