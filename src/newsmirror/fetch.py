"""Fetch stage: HTTP(S) GETs with bounded concurrency, a total time limit and a size cap.

The transport is injectable (``httpx.AsyncBaseTransport``): tests serve feeds from a real
server on 127.0.0.1 and route upstream page URLs to it through a transport, never the network.
Every failure becomes a ``FetchError`` with a stable code (``http_404``, ``timeout``,
``tls_error``, ``connect_error``, ``too_large``, ``too_many_redirects``, ``network_error``).
"""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass
from types import TracebackType

import httpx

from .config import FetchSettings
from .exceptions import FetchError

MAX_REDIRECTS = 5


@dataclass(frozen=True, slots=True)
class Fetched:
    url: str
    status: int
    content: bytes
    content_type: str

    def text(self) -> str:
        """The body decoded with the charset the server named, else UTF-8 (lossless where valid)."""
        charset = _charset(self.content_type) or "utf-8"
        try:
            return self.content.decode(charset, errors="replace")
        except LookupError:
            return self.content.decode("utf-8", errors="replace")


def _charset(content_type: str) -> str | None:
    for part in content_type.split(";")[1:]:
        key, _, value = part.strip().partition("=")
        if key.lower() == "charset" and value:
            return value.strip("\"' ")
    return None


class Fetcher:
    """An async HTTP client shared by every source of a run."""

    def __init__(self, settings: FetchSettings, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.settings = settings
        self._slots = asyncio.Semaphore(settings.concurrency)
        self._client = httpx.AsyncClient(
            transport=transport,
            follow_redirects=True,
            max_redirects=MAX_REDIRECTS,
            timeout=httpx.Timeout(settings.timeout),
            headers={"User-Agent": settings.user_agent},
            limits=httpx.Limits(max_connections=settings.concurrency),
        )

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        await self._client.aclose()

    async def get(self, url: str, *, slug: str) -> Fetched:
        """GET ``url`` for source ``slug``; a non-2xx status is a ``FetchError``."""
        async with self._slots:
            try:
                async with asyncio.timeout(self.settings.timeout):
                    return await self._get(url, slug)
            except TimeoutError as e:
                raise FetchError(
                    slug, url, f"no complete answer within {self.settings.timeout:g} s", code="timeout"
                ) from e
            except httpx.HTTPError as e:
                raise _translate(e, slug, url) from e

    async def _get(self, url: str, slug: str) -> Fetched:
        async with self._client.stream("GET", url) as response:
            if not 200 <= response.status_code < 300:
                raise FetchError(
                    slug,
                    url,
                    f"HTTP {response.status_code} {response.reason_phrase}",
                    code=f"http_{response.status_code}",
                )
            content = await self._read_capped(response, slug, url)
            return Fetched(
                url=str(response.url),
                status=response.status_code,
                content=content,
                content_type=response.headers.get("content-type", ""),
            )

    async def _read_capped(self, response: httpx.Response, slug: str, url: str) -> bytes:
        limit = self.settings.max_bytes
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise FetchError(slug, url, f"response of {declared} bytes exceeds {limit}", code="too_large")
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > limit:
                raise FetchError(slug, url, f"response exceeds {limit} bytes", code="too_large")
            chunks.append(chunk)
        return b"".join(chunks)


def _translate(error: httpx.HTTPError, slug: str, url: str) -> FetchError:
    """One place that maps transport errors to stable codes."""
    if isinstance(error, httpx.TimeoutException):
        return FetchError(slug, url, f"timed out ({type(error).__name__})", code="timeout")
    if isinstance(error, httpx.TooManyRedirects):
        return FetchError(slug, url, "too many redirects", code="too_many_redirects")
    if isinstance(error, httpx.ConnectError) and _caused_by_tls(error):
        return FetchError(slug, url, f"TLS failure: {error}", code="tls_error")
    if isinstance(error, httpx.ConnectError):
        return FetchError(slug, url, f"cannot connect: {error}", code="connect_error")
    if isinstance(error, httpx.UnsupportedProtocol | httpx.InvalidURL):
        return FetchError(slug, url, f"bad URL: {error}", code="bad_url")
    return FetchError(slug, url, f"{type(error).__name__}: {error}", code="network_error")


def _caused_by_tls(error: BaseException) -> bool:
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, ssl.SSLError) or "CERTIFICATE_VERIFY_FAILED" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False
