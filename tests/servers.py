"""Test servers: a real HTTP server on 127.0.0.1 and a transport that routes URLs to it."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
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


Routes = Mapping[str, Reply | Callable[[], Reply]]


class _Handler(BaseHTTPRequestHandler):
    routes: ClassVar[Routes] = {}
    requests: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        route = self.routes.get(self.path)
        reply = route() if callable(route) else route
        if reply is None:
            reply = Reply(NOT_FOUND_PAGE, 404, "text/html; charset=utf-8")
        self.requests.append(f"{reply.status} {self.path}")
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
    requests: list[str]
    routes: dict[str, Reply | Callable[[], Reply]]

    def url(self, path: str) -> str:
        return self.base + path


@contextmanager
def serve(routes: dict[str, Reply | Callable[[], Reply]]) -> Iterator[Server]:
    """Serve ``routes`` (path → reply) on 127.0.0.1 with an ephemeral port."""
    requests: list[str] = []
    handler = type("Handler", (_Handler,), {"routes": routes, "requests": requests})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield Server(f"http://127.0.0.1:{httpd.server_address[1]}", requests, routes)
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
