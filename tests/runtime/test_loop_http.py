"""The loop's HTTP/1.1 client against scripted raw-socket peers.

Each peer answers with bytes written by hand from RFC 9112's framing rules
(Content-Length, chunked, close-delimited, `Connection: close`), so the client
is checked against the wire format, not against our own server.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from runtime._http import Connection, RuntimeAPIError


class Peer:
    """Accepts connections; for each request read, sends the next scripted answer.

    An answer of None closes the connection instead of answering.
    """

    def __init__(self, answers: list[bytes | None]) -> None:
        self.answers = list(answers)
        self.requests: list[bytes] = []
        self.connections = 0
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.sock.settimeout(10)
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.sock.getsockname()[1]}"

    def _serve(self) -> None:
        while self.answers:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            with conn:
                buffer = b""
                while self.answers:
                    while b"\r\n\r\n" not in buffer:
                        data = conn.recv(65536)
                        if not data:
                            break
                        buffer += data
                    if b"\r\n\r\n" not in buffer:
                        break
                    head, _, buffer = buffer.partition(b"\r\n\r\n")
                    length = 0
                    for line in head.split(b"\r\n")[1:]:
                        name, _, value = line.partition(b":")
                        if name.strip().lower() == b"content-length":
                            length = int(value)
                    while len(buffer) < length:
                        buffer += conn.recv(65536)
                    self.requests.append(head + b"\r\n\r\n" + buffer[:length])
                    buffer = buffer[length:]
                    answer = self.answers.pop(0)
                    if answer is None:
                        break
                    conn.sendall(answer)
                    if b"Connection: close" in answer:
                        break

    def close(self) -> None:
        self.sock.close()
        self.thread.join(5)


@pytest.fixture(autouse=True)
def bounded_sockets() -> Iterator[None]:
    """The client has no read timeout by design; a broken test must not hang."""
    socket.setdefaulttimeout(10)
    yield
    socket.setdefaulttimeout(None)


@pytest.fixture
def peer() -> Iterator[object]:
    peers: list[Peer] = []

    def make(answers: list[bytes | None]) -> Peer:
        made = Peer(answers)
        peers.append(made)
        return made

    yield make
    for made in peers:
        made.close()


def test_http_content_length_and_keep_alive(peer) -> None:  # type: ignore[no-untyped-def]
    server = peer(
        [
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: 1\r\n\r\nhello",
            b"HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\n{}",
        ]
    )
    connection = Connection(server.address)
    assert connection.request("GET", "/a") == (
        200,
        {"content-length": "5", "x-a": "1"},
        b"hello",
    )
    status, _, body = connection.request("POST", "/b", b"xyz", {"X-B": "2"})
    assert (status, body) == (202, b"{}")
    assert server.connections == 1
    assert server.requests[0].startswith(b"GET /a HTTP/1.1\r\nHost: ")
    assert server.requests[1].endswith(b"\r\n\r\nxyz")
    assert b"X-B: 2\r\n" in server.requests[1]
    assert b"Content-Length: 3\r\n" in server.requests[1]


def test_http_chunked_body(peer) -> None:  # type: ignore[no-untyped-def]
    server = peer(
        [
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"4;ext=1\r\nWiki\r\n5\r\npedia\r\n0\r\nTrailer: x\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
        ]
    )
    connection = Connection(server.address)
    assert connection.request("GET", "/")[2] == b"Wikipedia"
    assert connection.request("GET", "/")[2] == b"ok"


@pytest.mark.parametrize(
    "answers",
    [
        pytest.param(
            [
                b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\na",
                b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nb",
            ],
            id="connection-close",
        ),
        pytest.param(
            [
                b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na",
                None,  # a stale kept-alive socket: closed instead of answered
                b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nb",
            ],
            id="stale-socket",
        ),
    ],
)
def test_http_reconnects_once_when_peer_closes(peer, answers) -> None:  # type: ignore[no-untyped-def]
    server = peer(answers)
    connection = Connection(server.address)
    assert connection.request("GET", "/")[2] == b"a"
    assert connection.request("GET", "/")[2] == b"b"
    assert server.connections == 2


def test_http_pipelined_pair_answers_in_order(peer) -> None:  # type: ignore[no-untyped-def]
    server = peer(
        [
            b"HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\n{}",
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nevent",
        ]
    )
    connection = Connection(server.address)
    first = connection.message("POST", "/response", b"result")
    second = connection.message("GET", "/next")
    answer, following = connection.send_pair(first, second)
    assert (answer[0], answer[2]) == (202, b"{}")
    assert (following[0], following[2]) == (200, b"event")
    assert server.connections == 1


def test_http_pipelined_second_resent_after_close(peer) -> None:  # type: ignore[no-untyped-def]
    server = peer(
        [
            b"HTTP/1.1 202 Accepted\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
            None,
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nevent",
        ]
    )
    server.answers.remove(None)
    connection = Connection(server.address)
    answer, following = connection.send_pair(
        connection.message("POST", "/response", b"r"),
        connection.message("GET", "/next"),
    )
    assert answer[0] == 202
    assert following[2] == b"event"
    assert server.requests[-1].startswith(b"GET /next ")


def test_http_refused_is_runtime_api_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{sock.getsockname()[1]}"
        with pytest.raises(RuntimeAPIError, match="cannot talk to the Runtime API"):
            Connection(address).request("GET", "/")


def test_http_truncated_body_is_runtime_api_error(peer) -> None:  # type: ignore[no-untyped-def]
    server = peer([b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", None])
    server.answers = [server.answers[0]]
    connection = Connection(server.address)
    with pytest.raises(RuntimeAPIError, match="truncated"):
        connection.request("GET", "/")


@pytest.mark.parametrize("address", ["nohost", "host:port", ""])
def test_http_bad_address_named(address: str) -> None:
    with pytest.raises(RuntimeAPIError, match="not host:port"):
        Connection(address)
