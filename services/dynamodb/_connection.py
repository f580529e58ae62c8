"""A lean HTTP/1.1 exchange for the sync DynamoDB client, without httpx.

DynamoDB calls are small JSON requests and answers, sent one after the other
over a kept-alive connection. For them httpx's stack (httpcore's pool, h11's
state machine) costs more CPU than the rest of a call put together, and
importing httpx costs more time and memory than the rest of a cold start. So
the sync client sends through this instead: it writes the request line,
headers and body with one ``sendall`` (no Nagle stall between headers and
body) and reads the status line, headers and a Content-Length or chunked body
straight off a buffered socket.

What it does not do, on purpose: proxies (a client whose environment names a
proxy, or that is given an httpx transport, keeps httpx), HTTP/2,
``Expect: 100-continue``, streamed request bodies. Answers come back as bytes
exactly as received; content decoding is the caller's (which checks
``x-amz-crc32`` first). https verifies certificates and host names with
one context per process (`_tls`).

A kept-alive connection the server closed while it sat idle shows up as an
answer whose first byte never comes; the request then goes once more on a
new connection, which is safe because nothing of an answer was read (the
executor's retry policy covers every other failure).
"""

from __future__ import annotations

import os
import socket
import ssl
import threading
from typing import Any

from ..errors import (
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

MAX_LINE = 65536
MAX_HEADERS = 200


class _Connection:
    __slots__ = ("reader", "sock")

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.reader = sock.makefile("rb")

    def close(self) -> None:
        try:
            self.reader.close()
        finally:
            self.sock.close()


class KeepAliveTransport:
    """HTTP/1.1 with a small pool of kept-alive connections per origin."""

    def __init__(self, *, max_idle: int = 10) -> None:
        self._max_idle = max_idle
        self._idle: dict[tuple[str, str, int], list[_Connection]] = {}
        self._lock = threading.Lock()

    def exchange(
        self,
        origin: tuple[str, str, int],
        message: bytes,
        timeouts: dict[str, Any],
        url: str,
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        """Send one whole request message; status, headers and raw body back.

        Failures are the services' endpoint errors, naming `url` (which must
        carry no secret: DynamoDB's never does)."""
        connection = self._checkout(origin)
        if connection is not None:
            try:
                return self._exchange(connection, origin, message, timeouts, url)
            except _Stale:
                pass  # the server closed it while idle: once more, afresh
        connection = self._connect(origin, timeouts, url)
        try:
            return self._exchange(connection, origin, message, timeouts, url)
        except _Stale as stale:
            raise EndpointConnectionError(
                f"the server closed the connection without answering: {url}",
                endpoint_url=url,
            ) from stale

    def _exchange(
        self,
        connection: _Connection,
        origin: tuple[str, str, int],
        message: bytes,
        timeouts: dict[str, Any],
        url: str,
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        try:
            connection.sock.settimeout(timeouts.get("read"))
            try:
                connection.sock.sendall(message)
            except OSError as exc:
                raise _Stale() from exc
            status, headers, body, keep = _read_response(connection.reader)
        except _Stale:
            connection.close()
            raise
        except TimeoutError as exc:
            connection.close()
            raise ReadTimeoutError(
                f"read timeout on endpoint URL: {url}", endpoint_url=url
            ) from exc
        except (OSError, ValueError) as exc:
            connection.close()
            raise EndpointConnectionError(
                f"the connection to {url} broke ({type(exc).__name__}: {exc})",
                endpoint_url=url,
            ) from exc
        if keep:
            self._checkin(origin, connection)
        else:
            connection.close()
        return status, headers, body

    def _checkout(self, origin: tuple[str, str, int]) -> _Connection | None:
        with self._lock:
            idle = self._idle.get(origin)
            return idle.pop() if idle else None

    def _checkin(self, origin: tuple[str, str, int], connection: _Connection) -> None:
        with self._lock:
            idle = self._idle.setdefault(origin, [])
            if len(idle) < self._max_idle:
                idle.append(connection)
                return
        connection.close()

    def _connect(
        self,
        origin: tuple[str, str, int],
        timeouts: dict[str, Any],
        url: str,
    ) -> _Connection:
        scheme, host, port = origin
        try:
            sock = socket.create_connection(
                (host, port), timeout=timeouts.get("connect")
            )
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if scheme == "https":
                sock = _tls().wrap_socket(sock, server_hostname=host)
        except TimeoutError as exc:
            raise ConnectTimeoutError(
                f"connect timeout on endpoint URL: {url}", endpoint_url=url
            ) from exc
        except OSError as exc:
            raise EndpointConnectionError(
                f"could not connect to the endpoint URL: {url} ({exc})",
                endpoint_url=url,
            ) from exc
        return _Connection(sock)

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, {}
        for connections in idle.values():
            for connection in connections:
                connection.close()


_TLS: list[ssl.SSLContext] = []
_TLS_LOCK = threading.Lock()


def _tls() -> ssl.SSLContext:
    """One verifying TLS context per process, trusting what httpx would.

    SSL_CERT_FILE or SSL_CERT_DIR when set, else certifi's bundle (httpx's own
    dependency), else the system's store. Built here rather than borrowed from
    httpx, so an https client does not import httpx either.
    """
    with _TLS_LOCK:
        if not _TLS:
            cafile = os.environ.get("SSL_CERT_FILE") or None
            capath = None if cafile else os.environ.get("SSL_CERT_DIR") or None
            if cafile is None and capath is None:
                try:
                    import certifi

                    cafile = certifi.where()
                except ImportError:  # pragma: no cover - httpx brings certifi
                    pass
            _TLS.append(ssl.create_default_context(cafile=cafile, capath=capath))
        return _TLS[0]


class _Stale(Exception):
    """A reused connection closed before a single byte of the answer came."""


def message(
    method: str, target: str, headers: list[tuple[str, str]], body: bytes
) -> bytes:
    """The whole request: request line, headers (Content-Length added), body."""
    lines = [f"{method} {target} HTTP/1.1"]
    lines.extend(f"{name}: {value}" for name, value in headers)
    if not any(name.lower() == "content-length" for name, _ in headers):
        lines.append(f"Content-Length: {len(body)}")
    head = "\r\n".join(lines) + "\r\n\r\n"
    return head.encode("latin-1") + body


def _read_response(reader: Any) -> tuple[int, list[tuple[str, str]], bytes, bool]:
    """Status, headers, body and whether the connection may be reused."""
    try:
        line = reader.readline(MAX_LINE)
    except ConnectionError as exc:
        raise _Stale() from exc
    if not line:
        raise _Stale()
    parts = line.split(None, 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/1."):
        raise ValueError(f"not an HTTP/1.x status line: {line[:40]!r}")
    status = int(parts[1])
    headers: list[tuple[str, str]] = []
    length: int | None = None
    chunked = False
    keep = parts[0] == b"HTTP/1.1"
    while True:
        line = reader.readline(MAX_LINE)
        if line in (b"\r\n", b"\n"):
            break
        if not line or len(headers) > MAX_HEADERS:
            raise ValueError("the answer's headers ended early or never end")
        name, _, value = line.partition(b":")
        name, value = name.strip(), value.strip()
        headers.append((name.decode("latin-1"), value.decode("latin-1")))
        lower = name.lower()
        if lower == b"content-length":
            length = int(value)
        elif lower == b"transfer-encoding":
            chunked = b"chunked" in value.lower()
        elif lower == b"connection":
            token = value.lower()
            keep = b"close" not in token and (keep or b"keep-alive" in token)
    if chunked:
        body = _read_chunked(reader)
    elif length is not None:
        body = reader.read(length)
        if len(body) != length:
            raise ValueError(f"the body ended after {len(body)} of {length} bytes")
    elif status in (204, 304) or 100 <= status < 200:
        body = b""
    else:
        body = reader.read()
        keep = False
    return status, headers, body, keep


def _read_chunked(reader: Any) -> bytes:
    chunks: list[bytes] = []
    while True:
        size_line = reader.readline(MAX_LINE)
        if not size_line:
            raise ValueError("the chunked body ended early")
        size = int(size_line.split(b";", 1)[0].strip(), 16)
        if size == 0:
            while reader.readline(MAX_LINE) not in (b"\r\n", b"\n", b""):
                pass  # trailers
            return b"".join(chunks)
        chunk = reader.read(size)
        if len(chunk) != size or reader.readline(MAX_LINE) not in (b"\r\n", b"\n"):
            raise ValueError("a chunk of the body ended early")
        chunks.append(chunk)
