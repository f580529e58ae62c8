"""A lean sync httpx transport on the standard library's `http.client`.

httpx's default transport goes through httpcore and h11: about 25 ms to import
and a few hundred microseconds a request, which is most of a small S3 call.
This transport plugs into `httpx.Client` (its transport layer is pluggable)
and speaks HTTP/1.1 with `http.client`, which httpx has imported already:

* one pool per transport: idle keep-alive connections per (scheme, host,
  port), at most `max_keepalive` kept for each; a request takes an idle one or
  opens a new one;
* TLS through the verified context of `services._http.tls_context()` (the
  host name is checked), built only when the first https connection opens;
* connect timeout while connecting, read timeout (and write) after, from
  httpx's per-request timeout extension;
* a keep-alive connection that the server closed while it sat idle is
  detected and the request sent again once on a fresh connection, but only
  when nothing of the response was read and the body is in memory;
* socket and protocol failures become httpx's own exceptions, so callers see
  `httpx.ConnectTimeout`, `httpx.ReadError` and friends as with httpcore.

Proxies are not handled here: `httpx.Client` mounts its own proxy transports
for the proxies the environment names, as it always does.
"""

from __future__ import annotations

import http.client
import socket
import threading
from collections.abc import Iterator
from typing import Any

import httpx

_DEFAULT_PORTS = {"http": 80, "https": 443}
_RESET = (
    http.client.RemoteDisconnected,
    ConnectionResetError,
    BrokenPipeError,
    ConnectionAbortedError,
)


class _Headers:
    """Response headers read straight off the wire, without the email parser."""

    __slots__ = ("_first", "_pairs")

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self._pairs = pairs
        first: dict[str, str] = {}
        for name, value in pairs:
            first.setdefault(name.lower(), value)
        self._first = first

    def get(self, name: str, default: str | None = None) -> str | None:
        return self._first.get(name.lower(), default)

    def get_all(self, name: str, default: Any = None) -> list[str] | Any:
        lower = name.lower()
        found = [value for key, value in self._pairs if key.lower() == lower]
        return found or default

    def items(self) -> list[tuple[str, str]]:
        return self._pairs


class _Response(http.client.HTTPResponse):
    """http.client's response with a plain header reader (the email parser is
    the slowest part of http.client for a small exchange)."""

    def begin(self) -> None:
        if self.headers is not None:
            return
        while True:
            version, status, reason = self._read_status()
            if status != http.client.CONTINUE:
                break
            _read_header_lines(self.fp)
        self.code = self.status = status
        self.reason = reason.strip()
        if version in ("HTTP/1.0", "HTTP/0.9"):
            self.version = 10
        elif version.startswith("HTTP/1."):
            self.version = 11
        else:
            raise http.client.UnknownProtocol(version)
        headers = _Headers(_header_pairs(_read_header_lines(self.fp)))
        self.headers = self.msg = headers

        encoding = headers.get("transfer-encoding")
        self.chunked = bool(encoding and encoding.lower() == "chunked")
        self.chunk_left = None
        self.will_close = self._check_close()
        self.length = None
        length = headers.get("content-length")
        if length and not self.chunked:
            try:
                self.length = int(length)
            except ValueError:
                self.length = None
            if self.length is not None and self.length < 0:
                self.length = None
        no_body = (
            status in (http.client.NO_CONTENT, http.client.NOT_MODIFIED)
            or 100 <= status < 200
            or self._method == "HEAD"
        )
        if no_body:
            self.length = 0
        if not self.will_close and not self.chunked and self.length is None:
            self.will_close = True


_MAX_LINE = 65536
_MAX_HEADERS = 200


def _read_header_lines(fp: Any) -> list[bytes]:
    lines: list[bytes] = []
    while True:
        line = fp.readline(_MAX_LINE + 1)
        if len(line) > _MAX_LINE:
            raise http.client.LineTooLong("header line")
        if line in (b"\r\n", b"\n", b""):
            return lines
        lines.append(line)
        if len(lines) > _MAX_HEADERS:
            raise http.client.HTTPException(f"got more than {_MAX_HEADERS} headers")


def _header_pairs(lines: list[bytes]) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for raw in lines:
        line = raw.decode("iso-8859-1")
        if line[:1] in (" ", "\t") and pairs:
            # an obsolete folded continuation of the previous header
            name, value = pairs[-1]
            pairs[-1] = (name, f"{value} {line.strip()}")
            continue
        name, colon, value = line.partition(":")
        if colon:
            pairs.append((name.strip(), value.strip()))
    return pairs


class _OneWrite:
    """Send a request's head and in-memory body in one write, not two."""

    _buffer: list[bytes]

    def _send_output(
        self, message_body: Any = None, encode_chunked: bool = False
    ) -> None:
        if isinstance(message_body, bytes) and not encode_chunked:
            self._buffer.extend((b"", b""))
            head = b"\r\n".join(self._buffer)
            del self._buffer[:]
            self.send(head + message_body)  # type: ignore[attr-defined]
            return
        super()._send_output(message_body, encode_chunked)  # type: ignore[misc]


class _Connection(_OneWrite, http.client.HTTPConnection):
    response_class = _Response

    def connect(self) -> None:
        # An ASCII host resolves as bytes: a str host makes the resolver load
        # the idna codec and unicodedata, a third of a MiB for nothing.
        host = self.host
        where = (host.encode("ascii") if host.isascii() else host, self.port)
        self.sock = socket.create_connection(
            where,  # type: ignore[arg-type]
            self.timeout,
            getattr(self, "source_address", None),
        )
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _TLSConnection(_OneWrite, http.client.HTTPSConnection):
    response_class = _Response


class _ResponseStream(httpx.SyncByteStream):
    """The body of one response; gives the connection back when done."""

    def __init__(
        self,
        transport: FastTransport,
        key: tuple[str, str, int],
        conn: http.client.HTTPConnection,
        response: http.client.HTTPResponse,
    ) -> None:
        self._transport = transport
        self._key = key
        self._conn = conn
        self._response = response
        self._closed = False

    def __iter__(self) -> Iterator[bytes]:
        response = self._response
        try:
            while True:
                chunk = response.read1(65536)
                if not chunk:
                    break
                yield chunk
        except TimeoutError as exc:
            self._discard()
            raise httpx.ReadTimeout(str(exc) or "read timed out") from exc
        except (OSError, http.client.HTTPException) as exc:
            self._discard()
            raise httpx.ReadError(str(exc) or type(exc).__name__) from exc

    def _discard(self) -> None:
        self._closed = True
        self._conn.close()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        response = self._response
        done = response.isclosed() or (response.length == 0 and not response.chunked)
        if done and not response.will_close:
            # http.client closes only the response's file; the socket stays
            response.close()
            self._transport._release(self._key, self._conn)
        else:
            response.close()
            self._conn.close()


class FastTransport(httpx.BaseTransport):
    """An HTTP/1.1 transport with a keep-alive pool, on `http.client`."""

    def __init__(self, *, max_keepalive: int = 10) -> None:
        self._idle: dict[tuple[str, str, int], list[http.client.HTTPConnection]] = {}
        self._lock = threading.Lock()
        self._max_keepalive = max_keepalive
        self._closed = False

    # -- the pool -----------------------------------------------------------------

    def _acquire(self, key: tuple[str, str, int]) -> http.client.HTTPConnection | None:
        with self._lock:
            idle = self._idle.get(key)
            if idle:
                return idle.pop()
        return None

    def _release(
        self, key: tuple[str, str, int], conn: http.client.HTTPConnection
    ) -> None:
        with self._lock:
            idle = self._idle.setdefault(key, [])
            if not self._closed and len(idle) < self._max_keepalive:
                idle.append(conn)
                return
        conn.close()

    def _open(
        self, key: tuple[str, str, int], timeouts: dict[str, Any]
    ) -> http.client.HTTPConnection:
        scheme, host, port = key
        connect = timeouts.get("connect")
        conn: http.client.HTTPConnection
        if scheme == "https":
            from ._http import tls_context

            conn = _TLSConnection(host, port, timeout=connect, context=tls_context())
        else:
            conn = _Connection(host, port, timeout=connect)
        try:
            conn.connect()
        except TimeoutError as exc:
            conn.close()
            raise httpx.ConnectTimeout(
                f"connecting to {host}:{port} timed out"
            ) from exc
        except OSError as exc:
            conn.close()
            raise httpx.ConnectError(f"cannot connect to {host}:{port}: {exc}") from exc
        sock = conn.sock
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.settimeout(timeouts.get("read"))
        return conn

    # -- one exchange ----------------------------------------------------------------

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        scheme = url.scheme
        if scheme not in _DEFAULT_PORTS:
            raise httpx.UnsupportedProtocol(f"unsupported scheme {scheme!r}")
        key = (scheme, url.host, url.port or _DEFAULT_PORTS[scheme])
        timeouts: dict[str, Any] = request.extensions.get("timeout", {})
        body = _memory_body(request)

        conn = self._acquire(key)
        reused = conn is not None
        if conn is None:
            conn = self._open(key, timeouts)
        try:
            response = self._exchange(conn, request, body)
        except _RESET as exc:
            conn.close()
            if not (reused and body is not None):
                raise httpx.RemoteProtocolError(str(exc) or "connection reset") from exc
            # the server closed an idle keep-alive connection: once more, fresh
            conn = self._open(key, timeouts)
            try:
                response = self._exchange(conn, request, body)
            except _RESET as again:
                conn.close()
                raise httpx.RemoteProtocolError(
                    str(again) or "connection reset"
                ) from again
            except BaseException:
                conn.close()
                raise
        except BaseException:
            conn.close()
            raise

        headers = response.getheaders()
        return httpx.Response(
            response.status,
            headers=headers,
            stream=_ResponseStream(self, key, conn, response),
            extensions={
                "http_version": b"HTTP/1.1",
                "reason_phrase": (response.reason or "").encode("ascii", "replace"),
            },
        )

    def _exchange(
        self,
        conn: http.client.HTTPConnection,
        request: httpx.Request,
        body: bytes | None,
    ) -> http.client.HTTPResponse:
        try:
            conn.putrequest(
                request.method,
                request.url.raw_path.decode("ascii"),
                skip_host=True,
                skip_accept_encoding=True,
            )
            # httpx has validated and encoded the headers already
            conn._buffer.extend(  # type: ignore[attr-defined]
                b"%b: %b" % pair for pair in request.headers.raw
            )
            chunked = body is None and "transfer-encoding" in request.headers
            if body is not None:
                conn.endheaders(body if body else None)
            else:
                conn.endheaders()
                for chunk in request.stream:  # type: ignore[union-attr]
                    if not chunk:
                        continue
                    if chunked:
                        conn.send(b"%x\r\n%b\r\n" % (len(chunk), chunk))
                    else:
                        conn.send(chunk)
                if chunked:
                    conn.send(b"0\r\n\r\n")
            return conn.getresponse()
        except _RESET:
            raise
        except TimeoutError as exc:
            raise httpx.ReadTimeout(str(exc) or "timed out") from exc
        except http.client.HTTPException as exc:
            raise httpx.RemoteProtocolError(str(exc) or type(exc).__name__) from exc
        except OSError as exc:
            raise httpx.WriteError(str(exc) or type(exc).__name__) from exc

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle = [conn for conns in self._idle.values() for conn in conns]
            self._idle.clear()
        for conn in idle:
            conn.close()


def _memory_body(request: httpx.Request) -> bytes | None:
    """The body when httpx holds it in memory (replayable), else None."""
    stream = request.stream
    if isinstance(stream, httpx.ByteStream):
        return b"".join(stream)
    return None
