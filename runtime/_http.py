"""A small HTTP/1.1 client on one kept-alive socket, for the Runtime API.

The Runtime API is a loopback endpoint with a fixed, small protocol: a handful
of paths, bodies framed by `Content-Length`, no TLS, no redirects, no proxies.
`http.client` handles all of HTTP and pays for it on every call (an email
parser for the headers, a buffered reader per response); this module sends
one request line, a few headers and the body in a single write, and reads the
answer with plain `recv` calls. It understands `Content-Length` and chunked
framing, and bodies that end when the peer closes.

There is no read timeout: `GET /next` waits for as long as Lambda keeps the
process frozen. A connection the peer closed between two exchanges is opened
again once; any other socket failure raises `RuntimeAPIError`.
"""

from __future__ import annotations

import _socket

from .errors import RuntimeAPIError as RuntimeAPIError

_CRLF = b"\r\n"

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import TypeAlias

    Response: TypeAlias = "tuple[int, dict[str, str], bytes]"
_HEAD_END = b"\r\n\r\n"


class Connection:
    """One kept-alive HTTP/1.1 connection to `host:port`."""

    def __init__(self, address: str) -> None:
        host, sep, port = address.rpartition(":")
        if not sep or not port.isdigit():
            raise RuntimeAPIError(
                f"the Runtime API address {address!r} is not host:port"
            )
        self.address = address
        self._peer = (host.strip("[]"), int(port))
        self._host_header = f"Host: {address}\r\n".encode("latin-1")
        self._sock: _socket.socket | None = None
        self._buffer = b""
        # one receive buffer for the connection's life: no allocation per recv
        self._chunk = bytearray(65536)
        self._view = memoryview(self._chunk)

    def close(self) -> None:
        """Close the socket; the next request opens a new one."""
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        self._buffer = b""

    def message(
        self,
        method: str,
        path: str,
        body: bytes = b"",
        headers: dict[str, str] | None = None,
    ) -> bytes:
        """The bytes of one request, ready for `send`."""
        head = f"{method} {path} HTTP/1.1\r\n".encode("latin-1") + self._host_header
        if headers:
            for name, value in headers.items():
                head += f"{name}: {value}\r\n".encode("latin-1")
        if body or method != "GET":
            head += b"Content-Length: %d\r\n" % len(body)
        return head + _CRLF + body

    def request(
        self,
        method: str,
        path: str,
        body: bytes = b"",
        headers: dict[str, str] | None = None,
    ) -> Response:
        """Send one request; answer (status, lower-cased headers, body)."""
        return self.send(self.message(method, path, body, headers))

    def send(self, message: bytes) -> Response:
        """Send one request's bytes and read its response."""
        # a kept-alive socket the peer closed is opened once more
        reused = self._sock is not None
        try:
            return self._exchange(message)
        except _PeerClosed:
            if not reused:
                raise self._closed() from None
        try:
            return self._exchange(message)
        except _PeerClosed:
            raise self._closed() from None

    def send_pair(self, first: bytes, second: bytes) -> tuple[Response, Response]:
        """Pipeline two requests in one write; read both responses in order.

        `second` must be safe to repeat (it is sent again alone when the peer
        closes the connection after answering `first`).
        """
        reused = self._sock is not None
        try:
            answer = self._exchange(first + second)
        except _PeerClosed:
            if not reused:
                raise self._closed() from None
            try:
                answer = self._exchange(first + second)
            except _PeerClosed:
                raise self._closed() from None
        if self._sock is None:
            return answer, self.send(second)
        try:
            return answer, self._receive()
        except _PeerClosed:
            return answer, self.send(second)

    def _closed(self) -> RuntimeAPIError:
        return RuntimeAPIError(
            f"the Runtime API at {self.address} closed the connection"
        )

    def _exchange(self, message: bytes) -> Response:
        try:
            if self._sock is None:
                self._sock = _connect(self._peer)
            self._sock.sendall(message)
        except OSError as exc:
            self.close()
            raise RuntimeAPIError(
                f"cannot talk to the Runtime API at {self.address}: {exc}"
            ) from exc
        return self._receive()

    def _receive(self) -> Response:
        try:
            return self._response()
        except (_PeerClosed, RuntimeAPIError):
            self.close()
            raise
        except OSError as exc:
            self.close()
            raise RuntimeAPIError(
                f"cannot talk to the Runtime API at {self.address}: {exc}"
            ) from exc

    def _fill(self) -> bool:
        assert self._sock is not None
        size = self._sock.recv_into(self._chunk)
        if not size:
            return False
        self._buffer += self._view[:size]
        return True

    def _response(self) -> Response:
        # status line and headers
        started = bool(self._buffer)
        while _HEAD_END not in self._buffer:
            if not self._fill():
                if not started:
                    raise _PeerClosed
                raise RuntimeAPIError("the Runtime API sent a truncated response")
            started = True
        head, _, self._buffer = self._buffer.partition(_HEAD_END)
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
            raise RuntimeAPIError(
                f"the Runtime API sent a bad status line {lines[0]!r}"
            )
        status = int(parts[1])
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if sep:
                headers[name.strip().lower()] = value.strip()

        # body
        if "content-length" in headers:
            body = self._exactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            body = self._chunked()
        elif status in (204, 304) or 100 <= status < 200:
            body = b""
        else:
            while self._fill():
                pass
            body, self._buffer = self._buffer, b""
            self.close()
        if headers.get("connection", "").lower() == "close":
            self.close()
        return status, headers, body

    def _exactly(self, size: int) -> bytes:
        while len(self._buffer) < size:
            if not self._fill():
                raise RuntimeAPIError("the Runtime API sent a truncated body")
        body, self._buffer = self._buffer[:size], self._buffer[size:]
        return body

    def _line(self) -> bytes:
        while _CRLF not in self._buffer:
            if not self._fill():
                raise RuntimeAPIError("the Runtime API sent a truncated chunk")
        line, _, self._buffer = self._buffer.partition(_CRLF)
        return line

    def _chunked(self) -> bytes:
        chunks: list[bytes] = []
        while True:
            size_text = self._line().split(b";", 1)[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                raise RuntimeAPIError("the Runtime API sent a bad chunk size") from None
            if size == 0:
                while self._line():
                    pass
                return b"".join(chunks)
            chunks.append(self._exactly(size))
            self._line()


class _PeerClosed(Exception):
    """The peer closed the socket before answering."""


def _connect(peer: tuple[str, int]) -> _socket.socket:
    # _socket, not socket: the wrapper module and its enums cost a start-up
    # millisecond the loop does not need
    family = _socket.AF_INET6 if ":" in peer[0] else _socket.AF_INET
    sock = _socket.socket(family, _socket.SOCK_STREAM)
    try:
        sock.setsockopt(_socket.IPPROTO_TCP, _socket.TCP_NODELAY, 1)
        sock.connect(peer)
    except OSError:
        sock.close()
        raise
    return sock
