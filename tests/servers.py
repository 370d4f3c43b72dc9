"""Test servers: a real HTTP server on 127.0.0.1 and a transport that routes URLs to it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import httpx

NOT_FOUND_PAGE = b"<!DOCTYPE html><html><body><h1>404 Not Found</h1></body></html>"


@dataclass(frozen=True)
class Reply:
    body: bytes
    status: int = 200
    content_type: str = "application/rss+xml; charset=utf-8"
    headers: tuple[tuple[str, str], ...] = ()
    delay: float = 0.0


Handler = Callable[[Mapping[str, str]], Reply]
"""A dynamic route: gets the request headers (lower-cased names), returns the reply."""
Routes = Mapping[str, Reply | Handler]


@dataclass
class Traffic:
    """What the server saw: one line per request, headers of each, most requests in flight."""

    requests: list[str] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    in_flight: int = 0
    most_in_flight: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def enter(self) -> None:
        with self.lock:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)

    def leave(self) -> None:
        with self.lock:
            self.in_flight -= 1


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    routes: ClassVar[Routes] = {}
    traffic: ClassVar[Traffic]

    def do_GET(self) -> None:
        self.traffic.enter()
        try:
            self._answer()
        finally:
            self.traffic.leave()

    def _answer(self) -> None:
        headers = {k.lower(): v for k, v in self.headers.items()}
        route = self.routes.get(self.path)
        reply = route(headers) if callable(route) else route
        if reply is None:
            reply = Reply(NOT_FOUND_PAGE, 404, "text/html; charset=utf-8")
        with self.traffic.lock:
            self.traffic.requests.append(f"{reply.status} {self.path}")
            self.traffic.headers.append(headers)
        time.sleep(reply.delay)
        self._send(reply)

    def _send(self, reply: Reply) -> None:
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        for name, value in reply.headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(reply.body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@dataclass
class Server:
    base: str
    traffic: Traffic
    routes: dict[str, Reply | Handler]

    @property
    def requests(self) -> list[str]:
        return self.traffic.requests

    def url(self, path: str) -> str:
        return self.base + path


@contextmanager
def serve(routes: dict[str, Reply | Handler]) -> Iterator[Server]:
    """Serve ``routes`` (path → reply) on 127.0.0.1 with an ephemeral port."""
    traffic = Traffic()
    handler = type("Handler", (_Handler,), {"routes": routes, "traffic": traffic})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    with serving(httpd):
        yield Server(f"http://127.0.0.1:{httpd.server_address[1]}", traffic, routes)


@contextmanager
def serving(httpd: ThreadingHTTPServer) -> Iterator[None]:
    """Run ``httpd`` in a thread while the block runs, then stop and close it."""
    httpd.daemon_threads = True
    # shutdown() waits for serve_forever's next poll: 0.5 s by default, in every test's teardown
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


class RoutingTransport(httpx.AsyncBaseTransport):
    """Sends each request for a mapped upstream URL to the loopback server instead.

    URLs not in the map go to ``fallback`` (a loopback URL answering 404): nothing ever
    reaches the network.
    """

    def __init__(self, routes: Mapping[str, str], fallback: str) -> None:
        self._routes = dict(routes)
        self._fallback = fallback
        self._inner = httpx.AsyncHTTPTransport()
        self.seen: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        upstream = str(request.url)
        self.seen.append(upstream)
        target = self._routes.get(upstream, self._fallback)
        if not target.startswith("http://127.0.0.1:"):
            raise AssertionError(f"test transport would leave loopback: {target}")
        request.url = httpx.URL(target)
        request.headers["Host"] = request.url.netloc.decode()
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()
