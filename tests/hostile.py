"""A fault-injecting HTTP server on 127.0.0.1: raw sockets, so that it can misbehave.

``http.server`` cannot drip a body, reset a connection halfway, stream 100 MB without holding
it, or send a body whose ``Content-Encoding`` is a bomb; this server runs one ``Behaviour``
(a function of the connected socket) per path, and can speak TLS with a self-signed
certificate made when the test runs.
"""

from __future__ import annotations

import datetime
import ipaddress
import socket
import socketserver
import ssl
import struct
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from http import HTTPStatus
from pathlib import Path

Behaviour = Callable[[socket.socket], None]
"""What the server does once it has read a request for the path: write, wait, close, reset."""

RSS = "application/rss+xml"
ZERO_MIB = bytes(1 << 20)


def head(status: int = 200, headers: tuple[tuple[str, str], ...] = ()) -> bytes:
    lines = [
        f"HTTP/1.1 {status} {HTTPStatus(status).phrase}",
        "Connection: close",
        *(f"{k}: {v}" for k, v in headers),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def reply(
    body: bytes, status: int = 200, *, content_type: str = RSS, headers: tuple[tuple[str, str], ...] = ()
) -> Behaviour:
    """A well-formed HTTP answer (which may carry a hostile body or headers)."""
    fields = (("Content-Type", content_type), ("Content-Length", str(len(body))), *headers)

    def behave(conn: socket.socket) -> None:
        conn.sendall(head(status, fields) + body)

    return behave


def drip(body: bytes, *, every: float = 1.0) -> Behaviour:
    """Headers at once, then the body one byte per ``every`` seconds."""

    def behave(conn: socket.socket) -> None:
        conn.sendall(head(200, (("Content-Type", RSS), ("Content-Length", str(len(body))))))
        for byte in body:
            time.sleep(every)
            conn.sendall(bytes([byte]))

    return behave


def reset_mid_body(body: bytes) -> Behaviour:
    """Declares the whole body, sends half of it, then resets the connection (TCP RST)."""

    def behave(conn: socket.socket) -> None:
        conn.sendall(head(200, (("Content-Type", RSS), ("Content-Length", str(len(body))))))
        conn.sendall(body[: len(body) // 2])
        time.sleep(0.05)
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    return behave


def endless(total: int, *, declare: bool = False) -> Behaviour:
    """A ``total``-byte RSS-looking body generated on the fly, close-delimited unless ``declare``."""
    fields = [("Content-Type", RSS)] + ([("Content-Length", str(total))] if declare else [])

    def behave(conn: socket.socket) -> None:
        conn.sendall(head(200, tuple(fields)) + b"<rss><channel><title>")
        sent = 0
        while sent < total:
            conn.sendall(ZERO_MIB.replace(b"\0", b"x"))
            sent += len(ZERO_MIB)

    return behave


@cache
def gzip_bomb(mib: int = 256) -> bytes:
    """``mib`` MiB of zeros, gzip-compressed (about 1 KiB per MiB)."""
    deflate = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    return b"".join([*(deflate.compress(ZERO_MIB) for _ in range(mib)), deflate.flush()])


@cache
def brotli_bomb(mib: int = 1024) -> bytes:
    """``mib`` MiB of zeros, brotli-compressed (1 GiB is under 2 KiB)."""
    import brotli  # type: ignore[import-untyped, unused-ignore]  # noqa: PLC0415 - only these tests need it

    compressor = brotli.Compressor(quality=5)
    parts = [compressor.process(ZERO_MIB) for _ in range(mib)]
    return b"".join([*parts, compressor.finish()])


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 signed by its own key, made now (no key is ever committed)."""
    from cryptography import x509  # noqa: PLC0415 - only the TLS case needs it
    from cryptography.hazmat.primitives import hashes, serialization  # noqa: PLC0415
    from cryptography.hazmat.primitives.asymmetric import ec  # noqa: PLC0415
    from cryptography.x509.oid import NameOID  # noqa: PLC0415

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


@dataclass
class Hostile:
    """A running fault-injecting server: ``routes`` maps a path to its behaviour."""

    base: str
    routes: dict[str, Behaviour]
    seen: list[str] = field(default_factory=list)

    def url(self, path: str) -> str:
        return self.base + path


class _Handler(socketserver.BaseRequestHandler):
    hostile: Hostile
    tls: ssl.SSLContext | None

    def handle(self) -> None:
        conn: socket.socket = self.request
        conn.settimeout(30)
        try:
            if self.tls is not None:
                conn = self.tls.wrap_socket(conn, server_side=True)
            path = _read_path(conn)
            self.hostile.seen.append(path)
            behave = self.hostile.routes.get(path, reply(b"not here", 404, content_type="text/plain"))
            behave(conn)
        except OSError:
            pass  # the client gave up (that is what most of these cases are for)
        finally:
            conn.close()


def _read_path(conn: socket.socket) -> str:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            raise ConnectionError("client closed before a whole request")
        data += chunk
    return data.split(b" ", 2)[1].decode("ascii")


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


@contextmanager
def hostile_server(tls: ssl.SSLContext | None = None) -> Iterator[Hostile]:
    """Serve on 127.0.0.1 with an ephemeral port; add behaviours to ``routes`` as you go."""
    scheme = "https" if tls else "http"
    hostile = Hostile(base="", routes={})
    handler = type("Handler", (_Handler,), {"hostile": hostile, "tls": tls})
    server = _Server(("127.0.0.1", 0), handler)
    hostile.base = f"{scheme}://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield hostile
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def tls_context(folder: Path) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*self_signed(folder))
    return context
