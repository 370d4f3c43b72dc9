"""Fetch stage: polite HTTP(S) GETs.

* bounded concurrency overall and per host, a total time limit and a size cap per request;
* conditional GET (``If-None-Match`` / ``If-Modified-Since``): a 304 is reported as such;
* redirects followed by hand, so that a chain of only permanent ones (301/308) can be told
  from a temporary one (302/303/307) — the caller decides when a move sticks;
* ``Retry-After`` (429/503), ``Cache-Control: max-age`` and ``Expires`` are read and returned,
  never slept on: the caller postpones that source, not the run;
* transient failures (connection, timeout, 500/502/503/504) are retried with jittered
  exponential backoff;
* bodies are read raw and decompressed here (``gzip``, ``deflate``, and ``br`` when the
  ``brotli`` package (>= 1.2) is installed), at most ``DECODE_STEP`` bytes per decompressor
  call, and the size cap counts the *decoded* bytes: a compression bomb costs at most
  ``max_bytes`` plus one step of memory before it fails as ``too_large``.  A coding we did not
  offer fails as ``unsupported_encoding``, a corrupt or truncated stream as ``bad_compression``
  — never parsed as garbage.  Peak memory per response is about ``2 × max_bytes`` (the chunks
  and their join).

The transport is injectable (``httpx.AsyncBaseTransport``): tests serve feeds from a real
server on 127.0.0.1 and route upstream page URLs to it, never the network.  Every failure is
a ``FetchError`` with a stable code (``http_404``, ``timeout``, ``tls_error``,
``connect_error``, ``too_large``, ``too_many_redirects``, ``redirect_loop``,
``network_error``, ``bad_url``, ``unsupported_encoding``, ``bad_compression``).
"""

from __future__ import annotations

import asyncio
import random
import ssl
import zlib
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Protocol, TypeVar

import httpx

try:  # optional: decode ``br`` only with a decompressor whose output can be bounded (brotli >= 1.2)
    import brotli  # type: ignore[import-not-found, import-untyped, unused-ignore]

    _BOUNDED_BROTLI = hasattr(brotli.Decompressor(), "can_accept_more_data")
    _CORRUPT: tuple[type[Exception], ...] = (zlib.error, ValueError, brotli.error)
except ImportError:  # pragma: no cover - depends on the environment
    _BOUNDED_BROTLI = False
    _CORRUPT = (zlib.error, ValueError)

from .config import FetchSettings
from .exceptions import FetchError

MAX_REDIRECTS = 5
PERMANENT = (301, 308)
REDIRECTS = (301, 302, 303, 307, 308)
TRANSIENT_CODES = frozenset(
    {"connect_error", "timeout", "network_error", "http_500", "http_502", "http_503", "http_504"}
)
DECODE_STEP = 64 * 1024
"""The most bytes one decompressor call may produce (a 64 KiB gzip chunk can hold 64 MiB)."""
ACCEPT_ENCODING = "gzip, deflate, br" if _BOUNDED_BROTLI else "gzip, deflate"
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Validators:
    """What a server said about a feed's version, sent back for a conditional GET."""

    etag: str | None = None
    last_modified: str | None = None

    def headers(self) -> dict[str, str]:
        sent = {}
        if self.etag:
            sent["If-None-Match"] = self.etag
        if self.last_modified:
            sent["If-Modified-Since"] = self.last_modified
        return sent


@dataclass(frozen=True, slots=True)
class Fetched:
    """A 2xx answer — or a 304 (``not_modified``, empty content) to a conditional GET."""

    url: str
    status: int
    content: bytes = b""
    content_type: str = ""
    validators: Validators = field(default_factory=Validators)
    fresh_until: datetime | None = None
    permanent_redirect: str | None = None
    """The final URL when the request was redirected by 301/308 only."""

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def charset(self) -> str | None:
        """The ``charset`` of the ``Content-Type`` header, if the server named one."""
        return _charset(self.content_type)

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

    def __init__(
        self,
        settings: FetchSettings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.settings = settings
        self._now = clock or (lambda: datetime.now(UTC))
        self._slots = asyncio.Semaphore(settings.concurrency)
        self._hosts: dict[str, asyncio.Semaphore] = {}
        self._client = httpx.AsyncClient(
            transport=transport,
            follow_redirects=False,
            timeout=httpx.Timeout(settings.timeout),
            headers={"User-Agent": settings.user_agent, "Accept-Encoding": ACCEPT_ENCODING},
            limits=httpx.Limits(max_connections=settings.concurrency),
        )

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        await self._client.aclose()

    async def get(
        self,
        url: str,
        *,
        slug: str,
        validators: Validators | None = None,
        max_bytes: int | None = None,
        timeout: float | None = None,
    ) -> Fetched:
        """GET ``url`` for source ``slug``, retrying transient failures; raises ``FetchError``.
        ``max_bytes`` and ``timeout`` tighten the settings' for this request (an image)."""
        limits = _Limits(
            min(max_bytes or self.settings.max_bytes, self.settings.max_bytes),
            min(timeout or self.settings.timeout, self.settings.timeout),
        )
        return await self._with_retries(lambda: self._attempt(url, slug, validators or Validators(), limits))

    async def _with_retries(self, attempt: Callable[[], Awaitable[T]]) -> T:
        for tries in range(self.settings.retries + 1):
            try:
                return await attempt()
            except FetchError as e:
                if not _transient(e) or tries == self.settings.retries:
                    raise
                await asyncio.sleep(self.settings.retry_delay * 2**tries * (0.5 + random.random()))
        raise AssertionError("unreachable")  # pragma: no cover

    async def _attempt(self, url: str, slug: str, validators: Validators, limits: _Limits) -> Fetched:
        async with self._slots, self._host_slot(url, slug):
            try:
                async with asyncio.timeout(limits.timeout):
                    return await self._follow(url, slug, validators, limits.max_bytes)
            except TimeoutError as e:
                message = f"no complete answer within {limits.timeout:g} s"
                raise FetchError(slug, url, message, code="timeout") from e
            except (httpx.HTTPError, httpx.InvalidURL) as e:  # InvalidURL is not an HTTPError
                raise _translate(e, slug, url) from e

    def _host_slot(self, url: str, slug: str) -> asyncio.Semaphore:
        host = _host(url, slug) if url.startswith(("http://", "https://")) else ""
        if host not in self._hosts:
            self._hosts[host] = asyncio.Semaphore(self.settings.per_host)
        return self._hosts[host]

    async def _follow(self, url: str, slug: str, validators: Validators, max_bytes: int) -> Fetched:
        """Follow redirects by hand, noting whether every hop was permanent."""
        seen = [url]
        permanent = True
        for _ in range(MAX_REDIRECTS + 1):
            async with self._client.stream("GET", seen[-1], headers=validators.headers()) as response:
                target = _redirect_target(response)
                if target is None:
                    moved = seen[-1] if len(seen) > 1 and permanent else None
                    return await self._answer(response, slug, moved, max_bytes)
            if target in seen:
                raise FetchError(slug, url, f"redirect loop through {target}", code="redirect_loop")
            permanent = permanent and response.status_code in PERMANENT
            seen.append(target)
        raise FetchError(slug, url, f"more than {MAX_REDIRECTS} redirects", code="too_many_redirects")

    async def _answer(
        self, response: httpx.Response, slug: str, moved: str | None, max_bytes: int
    ) -> Fetched:
        url = str(response.url)
        if response.status_code != 304 and not 200 <= response.status_code < 300:
            raise _status_error(response, slug, url, self._now())
        content = (
            b"" if response.status_code == 304 else await self._read_capped(response, slug, url, max_bytes)
        )
        return Fetched(
            url=url,
            status=response.status_code,
            content=content,
            content_type=response.headers.get("content-type", ""),
            validators=Validators(response.headers.get("etag"), response.headers.get("last-modified")),
            fresh_until=fresh_until(response.headers, self._now()),
            permanent_redirect=moved,
        )

    async def _read_capped(self, response: httpx.Response, slug: str, url: str, limit: int) -> bytes:
        """The decoded body, failing as soon as the encoded or the decoded size passes ``limit``."""
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise FetchError(slug, url, f"response of {declared} bytes exceeds {limit}", code="too_large")
        decoder = _decoder(response.headers.get("content-encoding", ""), slug, url)
        body = _Capped(limit, slug, url)
        async for chunk in response.aiter_raw():
            body.count_raw(len(chunk))
            for piece in _decoded(decoder.feed(chunk), slug, url):
                body.add(piece)
        for piece in _decoded(decoder.finish(), slug, url):
            body.add(piece)
        return body.content()


@dataclass(frozen=True, slots=True)
class _Limits:
    max_bytes: int
    timeout: float


@dataclass(slots=True)
class _Capped:
    """Decoded chunks of one body, with the raw and decoded sizes checked against the cap."""

    limit: int
    slug: str
    url: str
    raw: int = 0
    size: int = 0
    chunks: list[bytes] = field(default_factory=list)

    def count_raw(self, size: int) -> None:
        self.raw += size
        if self.raw > self.limit:
            raise FetchError(self.slug, self.url, f"response exceeds {self.limit} bytes", code="too_large")

    def add(self, piece: bytes) -> None:
        self.size += len(piece)
        if self.size > self.limit:
            message = f"response exceeds {self.limit} bytes once decompressed"
            raise FetchError(self.slug, self.url, message, code="too_large")
        self.chunks.append(piece)

    def content(self) -> bytes:
        return b"".join(self.chunks)


class _Decoder(Protocol):
    """A content-coding decoder that yields at most ``DECODE_STEP`` bytes at a time."""

    def feed(self, data: bytes) -> Iterator[bytes]: ...

    def finish(self) -> Iterator[bytes]: ...


class _Identity:
    def feed(self, data: bytes) -> Iterator[bytes]:
        yield data

    def finish(self) -> Iterator[bytes]:
        yield from ()


class _Zlib:
    """gzip or deflate (zlib-wrapped, or raw as some servers send it), bounded per call."""

    def __init__(self, coding: str) -> None:
        self._coding = coding
        self._inflate: zlib._Decompress | None = None

    def feed(self, data: bytes) -> Iterator[bytes]:
        if self._inflate is None:
            self._inflate = zlib.decompressobj(_wbits(self._coding, data))
        inflate = self._inflate
        while data and not inflate.eof:
            out = inflate.decompress(data, DECODE_STEP)
            yield out
            data = inflate.unconsumed_tail
            while len(out) == DECODE_STEP and not data:  # output still pending inside zlib
                out = inflate.decompress(b"", DECODE_STEP)
                yield out

    def finish(self) -> Iterator[bytes]:
        if self._inflate is None or not self._inflate.eof:
            raise zlib.error(f"{self._coding} stream ends early")
        yield from ()


class _Brotli:
    def __init__(self) -> None:
        self._state = brotli.Decompressor()

    def feed(self, data: bytes) -> Iterator[bytes]:
        yield self._state.process(data, output_buffer_limit=DECODE_STEP)
        while not self._state.can_accept_more_data():
            yield self._state.process(b"", output_buffer_limit=DECODE_STEP)

    def finish(self) -> Iterator[bytes]:
        if not self._state.is_finished():
            raise ValueError("br stream ends early")
        yield from ()


def _wbits(coding: str, head: bytes) -> int:
    if coding == "gzip":
        return 16 + zlib.MAX_WBITS
    zlib_wrapped = len(head) >= 2 and head[0] & 0x0F == 8 and (head[0] << 8 | head[1]) % 31 == 0
    return zlib.MAX_WBITS if zlib_wrapped else -zlib.MAX_WBITS


def _decoder(content_encoding: str, slug: str, url: str) -> _Decoder:
    codings = [c.strip().lower() for c in content_encoding.split(",") if c.strip()]
    codings = [c for c in codings if c != "identity"]
    if not codings:
        return _Identity()
    if len(codings) == 1 and codings[0] in ("gzip", "x-gzip", "deflate"):
        return _Zlib("deflate" if codings[0] == "deflate" else "gzip")
    if codings == ["br"] and _BOUNDED_BROTLI:
        return _Brotli()
    message = f"Content-Encoding {content_encoding!r} was not asked for (Accept-Encoding: {ACCEPT_ENCODING})"
    raise FetchError(slug, url, message, code="unsupported_encoding")


def _decoded(pieces: Iterator[bytes], slug: str, url: str) -> Iterator[bytes]:
    """Decoded pieces of one decoder step; a corrupt stream becomes ``bad_compression``."""
    try:
        yield from pieces
    except _CORRUPT as e:
        raise FetchError(slug, url, f"cannot decompress the body: {e}", code="bad_compression") from e


def _redirect_target(response: httpx.Response) -> str | None:
    location = response.headers.get("location")
    if response.status_code not in REDIRECTS or not location:
        return None
    return str(response.url.join(location))


def _status_error(response: httpx.Response, slug: str, url: str, now: datetime) -> FetchError:
    error = FetchError(
        slug,
        url,
        f"HTTP {response.status_code} {response.reason_phrase}".rstrip(),
        code=f"http_{response.status_code}",
    )
    if response.status_code in (429, 503):
        error.retry_at = retry_at(response.headers.get("retry-after"), now)
    return error


def _transient(error: FetchError) -> bool:
    # a server that named a time to come back is not retried now: the source is postponed
    return error.code in TRANSIENT_CODES and error.retry_at is None


YEAR_S = 365 * 86_400


def retry_at(value: str | None, now: datetime) -> datetime | None:
    """``Retry-After`` as a moment: delay-seconds or an HTTP date."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return _after(now, _delay_seconds(value))
    return _http_date(value)


def _delay_seconds(digits: str) -> int:
    """A header's delay in seconds; more than 12 digits (past ``int``'s 4,300-digit limit, too)
    is simply "longer than a year"."""
    return int(digits) if len(digits) <= 12 else YEAR_S


def _after(now: datetime, seconds: int) -> datetime:
    """``now`` plus a delay a server gave, however absurd (``max-age=10^30``): at most a year
    (the schedule caps postponements much lower; this only keeps the arithmetic in range)."""
    return now + timedelta(seconds=min(max(seconds, 0), YEAR_S))


def fresh_until(headers: httpx.Headers, now: datetime) -> datetime | None:
    """Until when the answer may be reused: ``Cache-Control: max-age``, else ``Expires``."""
    directives = [d.strip().lower() for d in headers.get("cache-control", "").split(",")]
    if "no-store" in directives or "no-cache" in directives:
        return None
    for directive in directives:
        name, _, value = directive.partition("=")
        value = value.strip()
        if name == "max-age" and value.isdigit():
            return _after(now, _delay_seconds(value))
    expires = _http_date(headers.get("expires"))
    served = _http_date(headers.get("date"))
    if expires is None:
        return None
    if served is None:
        return expires
    return _after(now, int((expires - served).total_seconds()))


def _http_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _host(url: str, slug: str) -> str:
    try:
        return httpx.URL(url).host
    except httpx.InvalidURL as e:  # a link over 64 KiB, a bad port …
        raise FetchError(slug, _shortened(url), f"bad URL: {e}", code="bad_url") from e


def _shortened(url: str) -> str:
    return url if len(url) <= 300 else f"{url[:300]}… ({len(url)} characters)"


def _translate(error: httpx.HTTPError | httpx.InvalidURL, slug: str, url: str) -> FetchError:
    """One place that maps transport errors to stable codes."""
    if isinstance(error, httpx.TimeoutException):
        return FetchError(slug, url, f"timed out ({type(error).__name__})", code="timeout")
    if isinstance(error, httpx.ConnectError) and _caused_by_tls(error):
        return FetchError(slug, url, f"TLS failure: {error}", code="tls_error")
    if isinstance(error, httpx.ConnectError):
        return FetchError(slug, url, f"cannot connect: {error}", code="connect_error")
    if isinstance(error, httpx.UnsupportedProtocol | httpx.InvalidURL):
        return FetchError(slug, _shortened(url), f"bad URL: {error}", code="bad_url")
    return FetchError(slug, url, f"{type(error).__name__}: {_detail(error)}", code="network_error")


def _detail(error: BaseException) -> str:
    """The first non-empty message down the chain (httpx's ReadError for a reset has none)."""
    seen: BaseException | None = error
    while seen is not None:
        if str(seen):
            return str(seen)
        seen = seen.__cause__ or seen.__context__
    return "connection broken"


def _caused_by_tls(error: BaseException) -> bool:
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, ssl.SSLError) or "CERTIFICATE_VERIFY_FAILED" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False
