"""A git forge on 127.0.0.1 for push tests: git's own smart-HTTP server (``git http-backend``, run
as CGI per request) behind HTTP Basic authentication with one user and token, as GitHub and
Codeberg take a push token."""

from __future__ import annotations

import base64
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar
from urllib.parse import urlsplit

from .servers import serving


@dataclass
class Forge:
    base: str
    root: Path
    """The folder of its bare repositories."""
    user: str
    token: str
    refused: list[str] = field(default_factory=list)
    """Request lines answered 401 (no or wrong credentials)."""

    def url(self, name: str) -> str:
        return f"{self.base}/{name}"

    def repository(self, name: str) -> Path:
        """A new empty bare repository ``name`` that takes pushes."""
        path = self.root / name
        subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(path)], check=True)
        subprocess.run(["git", "-C", str(path), "config", "http.receivepack", "true"], check=True)
        return path


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    forge: ClassVar[Forge]

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        self._answer()

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass

    def _answer(self) -> None:
        body = self._body()
        expected = base64.b64encode(f"{self.forge.user}:{self.forge.token}".encode()).decode()
        if self.headers.get("Authorization") != f"Basic {expected}":
            self.forge.refused.append(self.requestline)
            self._send(401, [("WWW-Authenticate", 'Basic realm="forge"')], b"authentication required\n")
            return
        parts = urlsplit(self.path)
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "GIT_PROJECT_ROOT": str(self.forge.root),
            "GIT_HTTP_EXPORT_ALL": "1",
            "REQUEST_METHOD": self.command,
            "PATH_INFO": parts.path,
            "QUERY_STRING": parts.query,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "REMOTE_USER": self.forge.user,
            "REMOTE_ADDR": "127.0.0.1",
            "GIT_PROTOCOL": self.headers.get("Git-Protocol", ""),
            "HTTP_CONTENT_ENCODING": self.headers.get("Content-Encoding", ""),
        }
        done = subprocess.run(["git", "http-backend"], input=body, env=env, capture_output=True, check=False)
        head, _, payload = done.stdout.partition(b"\r\n\r\n")
        status, headers = 200, []
        for line in head.decode("latin-1").split("\r\n"):
            name, _, value = line.partition(":")
            if name.lower() == "status":
                status = int(value.split()[0])
            elif name:
                headers.append((name, value.strip()))
        self._send(status, headers, payload)

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while size := int(self.rfile.readline().split(b";")[0], 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            self.rfile.readline()
            return b"".join(chunks)
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _send(self, status: int, headers: list[tuple[str, str]], payload: bytes) -> None:
        self.send_response(status)
        for name, value in headers:
            if name.lower() != "content-length":
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


@contextmanager
def forge(root: Path, *, user: str, token: str) -> Iterator[Forge]:
    """Serve the bare repositories under ``root`` over smart HTTP, for ``user`` with ``token``."""
    root.mkdir(parents=True, exist_ok=True)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    running = Forge(f"http://127.0.0.1:{httpd.server_address[1]}", root, user, token)
    httpd.RequestHandlerClass = type("Handler", (_Handler,), {"forge": running})
    with serving(httpd):
        yield running
