"""A lean sync httpx transport: HTTP/1.1 on kept-alive sockets.

httpx's default transport goes through httpcore and h11: about 25 ms to import
and a few hundred microseconds a request, which is most of a small AWS call.
This transport plugs into `httpx.Client` (its transport layer is pluggable)
and speaks HTTP/1.1 itself, over the standard library's sockets:

* one pool per transport: idle keep-alive connections per (scheme, host,
  port), at most `max_keepalive` kept for each; a request takes an idle one or
  opens a new one. Each connection keeps one buffered reader for its life;
* a request's head and in-memory body go out in one ``sendall`` (no Nagle
  stall between them); a streamed body is sent as it comes, chunked when
  httpx said ``Transfer-Encoding: chunked``;
* answers are framed by Content-Length, chunked encoding, or the server
  closing the connection; ``Connection: close`` and HTTP/1.0 are honoured.
  The body is handed over as received: content decoding is the caller's;
* TLS through the verified context of `services._http.tls_context()` (the
  host name is checked), built only when the first https connection opens;
* connect timeout while connecting (TLS handshake included), read timeout
  (and write) after, from httpx's per-request timeout extension;
* exactly as many body bytes go out as the Content-Length sent says (a
  body that disagrees would leave bytes the server reads as a next request):
  an in-memory body is checked before anything is sent, a streamed one as it
  goes, and a mismatch is `httpx.LocalProtocolError` with the connection
  closed, never reused;
* a keep-alive connection that the server closed while it sat idle is
  detected and the request sent again once on a fresh connection, but only
  when nothing of the response was read and the body is in memory;
* socket and protocol failures become httpx's own exceptions, so callers see
  `httpx.ConnectTimeout`, `httpx.ReadError` and friends as with httpcore.

Not supported, on purpose: HTTP/2, ``Expect: 100-continue`` (an interim 1xx
answer is skipped), pipelining. Proxies are not handled here:
`services._http` mounts httpx's own proxy transports for the proxies the
environment names.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from typing import Any

import httpx

_DEFAULT_PORTS = {"http": 80, "https": 443}
_RESET = (ConnectionResetError, BrokenPipeError, ConnectionAbortedError)
_MAX_LINE = 65536
_MAX_HEADERS = 200
_CHUNK = 65536

Key = tuple[str, str, int]


class _Stale(Exception):
    """A reused connection closed before a single byte of the answer came."""


class _Connection:
    """One socket and the buffered reader kept with it."""

    __slots__ = ("reader", "sock")

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.reader = sock.makefile("rb")

    def close(self) -> None:
        try:
            self.reader.close()
        finally:
            self.sock.close()


class _Head:
    """The status line and headers of an answer, and how its body is framed."""

    __slots__ = ("chunked", "headers", "keep", "length", "reason", "status")

    def __init__(self, reader: Any, method: bytes) -> None:
        while True:
            line = reader.readline(_MAX_LINE + 1)
            if not line:
                raise _Stale()
            version, _, rest = line.rstrip(b"\r\n").partition(b" ")
            code, _, reason = rest.partition(b" ")  # the reason may be absent
            if not version.startswith(b"HTTP/1.") or not code.isdigit():
                raise httpx.RemoteProtocolError(
                    f"not an HTTP/1.x status line: {line[:40]!r}"
                )
            status = int(code)
            headers = _read_headers(reader)
            if not 100 <= status < 200 or status == 101:
                break  # an interim answer (100 Continue) is skipped
        self.status = status
        self.reason = reason.strip()
        self.headers = headers

        keep = version == b"HTTP/1.1"
        length: int | None = None
        chunked = False
        for name, value in headers:
            lower = name.lower()
            if lower == b"content-length":
                if not value.strip().isdigit():
                    raise httpx.RemoteProtocolError("a malformed Content-Length")
                length = int(value)
            elif lower == b"transfer-encoding":
                chunked = b"chunked" in value.lower()
            elif lower == b"connection":
                token = value.lower()
                keep = b"close" not in token and (keep or b"keep-alive" in token)
        if method == b"HEAD" or status in (204, 304):
            length, chunked = 0, False
        elif chunked:
            length = None
        elif length is None:
            keep = False  # the body runs until the server closes
        self.length = length
        self.chunked = chunked
        self.keep = keep


def _read_headers(reader: Any) -> list[tuple[bytes, bytes]]:
    headers: list[tuple[bytes, bytes]] = []
    while True:
        line = reader.readline(_MAX_LINE + 1)
        if line in (b"\r\n", b"\n"):
            return headers
        if not line:
            raise httpx.RemoteProtocolError("the answer's headers ended early")
        if len(line) > _MAX_LINE or len(headers) >= _MAX_HEADERS:
            raise httpx.RemoteProtocolError("the answer's headers are too large")
        if line[:1] in (b" ", b"\t") and headers:
            # an obsolete folded continuation of the previous header
            name, value = headers[-1]
            headers[-1] = (name, value + b" " + line.strip())
            continue
        name, colon, value = line.partition(b":")
        if colon:
            headers.append((name.strip(), value.strip()))


class _ResponseStream(httpx.SyncByteStream):
    """The body of one answer; gives the connection back when it was all read."""

    def __init__(
        self, transport: FastTransport, key: Key, conn: _Connection, head: _Head
    ) -> None:
        self._transport = transport
        self._key = key
        self._conn = conn
        self._head = head
        self._done = head.length == 0
        self._closed = False

    def __iter__(self) -> Iterator[bytes]:
        if self._done:
            return
        head = self._head
        try:
            if head.chunked:
                yield from self._chunks()
            elif head.length is not None:
                yield from self._sized(head.length)
            else:
                yield from self._until_close()
        except OSError as exc:
            self._discard()
            raise _failure(exc) from exc
        except httpx.TransportError:
            self._discard()
            raise
        self._done = True

    def _sized(self, length: int) -> Iterator[bytes]:
        read = self._conn.reader.read1
        left = length
        while left:
            chunk = read(min(left, _CHUNK))
            if not chunk:
                raise httpx.ReadError(
                    f"the body ended after {length - left} of {length} bytes"
                )
            left -= len(chunk)
            yield chunk

    def _chunks(self) -> Iterator[bytes]:
        reader = self._conn.reader
        while True:
            line = reader.readline(_MAX_LINE + 1)
            size_text = line.split(b";", 1)[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                raise httpx.RemoteProtocolError(
                    "a malformed or missing chunk size"
                ) from None
            if size == 0:
                _read_headers(reader)  # trailers, dropped
                return
            yield from self._sized(size)
            if reader.readline(_MAX_LINE + 1) not in (b"\r\n", b"\n"):
                raise httpx.RemoteProtocolError("a chunk did not end where it said")

    def _until_close(self) -> Iterator[bytes]:
        read = self._conn.reader.read1
        while True:
            chunk = read(_CHUNK)
            if not chunk:
                return
            yield chunk

    def _discard(self) -> None:
        self._closed = True
        self._conn.close()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._done and self._head.keep:
            self._transport._release(self._key, self._conn)
        else:
            self._conn.close()


class FastTransport(httpx.BaseTransport):
    """An HTTP/1.1 transport with a keep-alive pool, on plain sockets."""

    def __init__(self, *, max_keepalive: int = 10) -> None:
        self._idle: dict[Key, list[_Connection]] = {}
        self._lock = threading.Lock()
        self._max_keepalive = max_keepalive
        self._closed = False

    # -- the pool -----------------------------------------------------------------

    def _acquire(self, key: Key) -> _Connection | None:
        with self._lock:
            idle = self._idle.get(key)
            if idle:
                return idle.pop()
        return None

    def _release(self, key: Key, conn: _Connection) -> None:
        with self._lock:
            idle = self._idle.setdefault(key, [])
            if not self._closed and len(idle) < self._max_keepalive:
                idle.append(conn)
                return
        conn.close()

    def _open(self, key: Key, timeouts: dict[str, Any]) -> _Connection:
        scheme, host, port = key
        # An ASCII host resolves as bytes: a str host makes the resolver load
        # the idna codec and unicodedata, a third of a MiB for nothing.
        where = (host.encode("ascii") if host.isascii() else host, port)
        sock: socket.socket | None = None
        try:
            sock = socket.create_connection(
                where,  # type: ignore[arg-type]
                timeouts.get("connect"),
            )
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if scheme == "https":
                from ._http import tls_context

                sock = tls_context().wrap_socket(sock, server_hostname=host)
        except TimeoutError as exc:
            if sock is not None:
                sock.close()
            raise httpx.ConnectTimeout(
                f"connecting to {host}:{port} timed out"
            ) from exc
        except OSError as exc:
            if sock is not None:
                sock.close()
            raise httpx.ConnectError(f"cannot connect to {host}:{port}: {exc}") from exc
        sock.settimeout(timeouts.get("read"))
        return _Connection(sock)

    # -- one exchange ----------------------------------------------------------------

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        scheme = url.scheme
        if scheme not in _DEFAULT_PORTS:
            raise httpx.UnsupportedProtocol(f"unsupported scheme {scheme!r}")
        key = (scheme, url.host, url.port or _DEFAULT_PORTS[scheme])
        timeouts: dict[str, Any] = request.extensions.get("timeout", {})
        message, declared = _request_head(request)
        body = _memory_body(request)
        if body is not None and declared is not None and len(body) != declared:
            raise httpx.LocalProtocolError(
                f"the request body has {len(body)} bytes but its Content-Length "
                f"says {declared}: not sent"
            )
        if body:
            message += body

        conn = self._acquire(key)
        if conn is not None:
            try:
                head = self._exchange(conn, request, message, body, declared)
            except _Stale as stale:
                if body is None:
                    raise httpx.RemoteProtocolError(
                        "the server closed the connection"
                    ) from stale
                conn = None  # closed while idle: once more, on a fresh one
        if conn is None:
            conn = self._open(key, timeouts)
            try:
                head = self._exchange(conn, request, message, body, declared)
            except _Stale as stale:
                raise httpx.RemoteProtocolError(
                    "the server closed the connection without answering"
                ) from stale

        return httpx.Response(
            head.status,
            headers=head.headers,
            stream=_ResponseStream(self, key, conn, head),
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": head.reason},
        )

    def _exchange(
        self,
        conn: _Connection,
        request: httpx.Request,
        message: bytes,
        body: bytes | None,
        declared: int | None,
    ) -> _Head:
        """Send the request and read the answer's head; the connection is closed
        on any failure."""
        try:
            conn.sock.sendall(message)
            if body is None:
                self._send_stream(conn.sock, request, declared)
            return _Head(conn.reader, request.method.encode("ascii"))
        except _RESET as exc:
            conn.close()
            raise _Stale() from exc
        except OSError as exc:
            conn.close()
            raise _failure(exc) from exc
        except BaseException:
            conn.close()
            raise

    @staticmethod
    def _send_stream(
        sock: socket.socket, request: httpx.Request, declared: int | None
    ) -> None:
        """Send a streamed body: chunked, or exactly `declared` bytes."""
        sent = 0
        for chunk in request.stream:  # type: ignore[union-attr]
            if not chunk:
                continue
            if declared is None:
                sock.sendall(b"%x\r\n%b\r\n" % (len(chunk), chunk))
                continue
            sent += len(chunk)
            if sent > declared:
                # nothing past the declared length goes out; the caller
                # closes the connection
                raise httpx.LocalProtocolError(
                    f"the request body gave more bytes than its Content-Length "
                    f"of {declared}"
                )
            sock.sendall(chunk)
        if declared is None:
            sock.sendall(b"0\r\n\r\n")
        elif sent != declared:
            raise httpx.LocalProtocolError(
                f"the request body gave {sent} bytes, fewer than its "
                f"Content-Length of {declared}"
            )

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle = [conn for conns in self._idle.values() for conn in conns]
            self._idle.clear()
        for conn in idle:
            conn.close()


def _failure(exc: OSError) -> httpx.TransportError:
    """httpx's exception for a socket failure: a timeout, or a broken read."""
    if isinstance(exc, TimeoutError):
        return httpx.ReadTimeout(str(exc) or "timed out")
    return httpx.ReadError(str(exc) or type(exc).__name__)


def _request_head(request: httpx.Request) -> tuple[bytes, int | None]:
    """Request line and headers as httpx validated and encoded them, and the
    body length they announce (see `declared_length`), in one pass."""
    url = request.url
    # httpx's "target" extension: a path httpx would have normalised
    target = request.extensions.get("target") or url.raw_path
    lines = [b"%b %b HTTP/1.1" % (request.method.encode("ascii"), target)]
    host = chunked = False
    lengths: list[bytes] = []
    for name, value in request.headers.raw:
        lines.append(b"%b: %b" % (name, value))
        lower = name.lower()
        if lower == b"host":
            host = True
        elif lower == b"content-length":
            lengths.append(value)
        elif lower == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if not host:
        lines.append(b"Host: %b" % url.netloc)
    lines.append(b"\r\n")
    return b"\r\n".join(lines), None if chunked else _length(lengths)


def declared_length(request: httpx.Request) -> int | None:
    """The body length the request's head announces; None when chunked.

    No Content-Length and no chunked Transfer-Encoding announces an empty
    body. A Content-Length that is not one non-negative integer is refused.
    """
    return _request_head(request)[1]


def _length(values: list[bytes]) -> int:
    if not values:
        return 0
    if len(values) != 1 or not values[0].strip().isdigit():
        raise httpx.LocalProtocolError(
            f"a request Content-Length that is not a length: {values!r}"
        )
    return int(values[0])


def _memory_body(request: httpx.Request) -> bytes | None:
    """The body when httpx holds it in memory (replayable), else None."""
    stream = request.stream
    if isinstance(stream, httpx.ByteStream):
        return b"".join(stream)
    return None
