"""A body never disagrees with the Content-Length sent (no request smuggling).

A raw keep-alive HTTP/1.1 server on 127.0.0.1 frames requests strictly by
Content-Length, as a real server does, and records every byte that arrives on
each connection. If a client announced 3 bytes and wrote more, the extra bytes
would show up there as a second request.
"""

from __future__ import annotations

import io
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

import services
from services import ParamValidationError
from services._transport import FastTransport

KEYS = {"aws_access_key_id": "AKIDEXAMPLE", "aws_secret_access_key": "SECRET"}
SMUGGLED = (
    b"DELETE /bkt/victim HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n"
)


class RecordingServer:
    """Answers 200 to every request it frames; keeps every byte per connection."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(5)
        self.port = self.sock.getsockname()[1]
        self.raw: list[bytearray] = []
        self.requests: list[bytes] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _serve(self) -> None:
        for _ in range(10):
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            received = bytearray()
            self.raw.append(received)
            threading.Thread(
                target=self._handle, args=(conn, received), daemon=True
            ).start()

    def _recv(self, conn: socket.socket, received: bytearray) -> bytes:
        data = conn.recv(65536)
        received += data
        return data

    def _handle(self, conn: socket.socket, received: bytearray) -> None:
        conn.settimeout(3)
        buffer = b""
        with conn:
            try:
                for _ in range(20):
                    while b"\r\n\r\n" not in buffer:
                        data = self._recv(conn, received)
                        if not data:
                            return
                        buffer += data
                    head, _, buffer = buffer.partition(b"\r\n\r\n")
                    length = 0
                    for line in head.split(b"\r\n")[1:]:
                        name, _, value = line.partition(b":")
                        if name.strip().lower() == b"content-length":
                            length = max(0, int(value))
                    while len(buffer) < length:
                        data = self._recv(conn, received)
                        if not data:
                            return
                        buffer += data
                    self.requests.append(head.split(b"\r\n")[0])
                    buffer = buffer[length:]
                    body = b"<r/>"
                    conn.sendall(
                        b'HTTP/1.1 200 OK\r\nETag: "x"\r\n'
                        b"Content-Length: %d\r\n\r\n%b" % (len(body), body)
                    )
            except OSError:
                return

    def settle(self) -> None:
        time.sleep(0.2)

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def server() -> Iterator[RecordingServer]:
    made = RecordingServer()
    yield made
    made.close()


def _client(url: str) -> Any:
    return services.client(
        "s3",
        region_name="us-east-1",
        endpoint_url=url,
        config=services.Config(retry_base=0.0),
        **KEYS,
    )


class _Reader:
    """A file-like body that cannot seek: its length is only known by reading."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def read(self, size: int = -1) -> bytes:
        return self._data.read(size)


MISMATCHES: dict[str, Callable[[Any], Any]] = {
    "put_object bytes": lambda c: c.put_object(
        Bucket="bkt", Key="p", Body=b"abc" + SMUGGLED, ContentLength=3
    ),
    "put_object str": lambda c: c.put_object(
        Bucket="bkt", Key="p", Body="abc" + SMUGGLED.decode(), ContentLength=3
    ),
    "put_object BytesIO": lambda c: c.put_object(
        Bucket="bkt", Key="p", Body=io.BytesIO(b"abc" + SMUGGLED), ContentLength=3
    ),
    "put_object too long": lambda c: c.put_object(
        Bucket="bkt", Key="p", Body=b"abc", ContentLength=10
    ),
    "put_object negative": lambda c: c.put_object(
        Bucket="bkt", Key="p", Body=b"abc", ContentLength=-1
    ),
    "upload_part bytes": lambda c: c.upload_part(
        Bucket="bkt",
        Key="p",
        UploadId="u",
        PartNumber=1,
        Body=b"abc" + SMUGGLED,
        ContentLength=3,
    ),
}


@pytest.mark.parametrize("call", list(MISMATCHES.values()), ids=list(MISMATCHES))
def test_s3_content_length_that_disagrees_with_the_body_is_refused_unsent(
    server: RecordingServer, call: Callable[[Any], Any]
) -> None:
    client = _client(server.url)
    with pytest.raises(ParamValidationError, match="ContentLength"):
        call(client)
    assert client.head_object(Bucket="bkt", Key="other")["ETag"] == '"x"'
    server.settle()
    assert server.requests == [b"HEAD /bkt/other HTTP/1.1"]
    assert b"DELETE" not in b"".join(server.raw)


def test_s3_content_length_of_a_seekable_file_counts_what_is_left(
    server: RecordingServer,
) -> None:
    client = _client(server.url)
    body = io.BytesIO(b"xxabc")
    body.seek(2)
    client.put_object(Bucket="bkt", Key="p", Body=body, ContentLength=3)
    server.settle()
    assert server.requests == [b"PUT /bkt/p HTTP/1.1"]


def test_s3_unseekable_body_longer_than_content_length_stops_at_it(
    server: RecordingServer,
) -> None:
    # validation cannot know this body's length: the transport must stop
    client = _client(server.url)
    with pytest.raises(ParamValidationError, match="ContentLength"):
        client.put_object(
            Bucket="bkt", Key="p", Body=_Reader(b"abc" + SMUGGLED), ContentLength=3
        )
    assert client.head_object(Bucket="bkt", Key="other")["ETag"] == '"x"'
    server.settle()

    # the one chunk would have crossed the length: not a byte of it was sent,
    # and the connection was closed with the request incomplete
    assert server.requests == [b"HEAD /bkt/other HTTP/1.1"]
    assert b"DELETE" not in b"".join(server.raw)
    assert len(server.raw) == 2
    assert (
        bytes(server.raw[0]).endswith(b"Content-Length: 3\r\n\r\n")
        or bytes(server.raw[0]).split(b"\r\n\r\n", 1)[1] == b""
    )


def test_s3_unseekable_body_shorter_than_content_length_closes_the_connection(
    server: RecordingServer,
) -> None:
    client = _client(server.url)
    with pytest.raises(ParamValidationError, match="ContentLength"):
        client.put_object(Bucket="bkt", Key="p", Body=_Reader(b"ab"), ContentLength=3)
    assert client.head_object(Bucket="bkt", Key="other")["ETag"] == '"x"'
    server.settle()

    # the server saw 2 of 3 body bytes, then the close: no request was framed
    assert server.requests == [b"HEAD /bkt/other HTTP/1.1"]
    assert len(server.raw) == 2
    assert bytes(server.raw[0]).endswith(b"\r\n\r\nab")


def _stream(data: bytes) -> Iterator[bytes]:
    yield data


@pytest.mark.parametrize(
    ("content", "length"),
    [
        (b"abc" + SMUGGLED, "3"),
        (b"abc", "10"),
        (b"abc", "-1"),
        (b"abc", "3, 3"),
    ],
    ids=["memory long", "memory short", "negative", "two values"],
)
def test_transport_sends_nothing_for_a_memory_body_of_another_length(
    server: RecordingServer, content: bytes, length: str
) -> None:
    with httpx.Client(transport=FastTransport()) as http:
        request = httpx.Request("PUT", server.url + "/bkt/p", content=content)
        request.headers["Content-Length"] = length
        with pytest.raises(httpx.LocalProtocolError):
            http.send(request)
        assert http.get(server.url + "/bkt/other").status_code == 200
    server.settle()
    assert server.requests == [b"GET /bkt/other HTTP/1.1"]
    assert b"PUT" not in b"".join(server.raw)


@pytest.mark.parametrize(
    ("content", "length"),
    [(b"abc" + SMUGGLED, 3), (b"ab", 3)],
    ids=["stream long", "stream short"],
)
def test_transport_streams_never_past_content_length_and_drops_the_connection(
    server: RecordingServer, content: bytes, length: int
) -> None:
    with httpx.Client(transport=FastTransport()) as http:
        ok = http.get(server.url + "/warm")  # a kept-alive connection to reuse
        assert ok.status_code == 200
        request = httpx.Request(
            "PUT",
            server.url + "/bkt/p",
            content=_stream(content),
            headers={"Content-Length": str(length)},
        )
        with pytest.raises(httpx.LocalProtocolError):
            http.send(request)
        assert http.get(server.url + "/after").status_code == 200
    server.settle()

    assert server.requests == [b"GET /warm HTTP/1.1", b"GET /after HTTP/1.1"]
    assert len(server.raw) == 2  # the used connection was not reused
    sent_body = bytes(server.raw[0]).split(b"PUT /bkt/p", 1)[1].split(b"\r\n\r\n", 1)
    # at most the declared bytes went out, never one past them
    assert content[:length].startswith(sent_body[1])


class _AsyncReader:
    """An async file-like body that cannot seek."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    async def read(self, size: int = -1) -> bytes:
        return self._data.read(size)


@pytest.mark.anyio
@pytest.mark.parametrize(
    "body",
    [b"abc" + SMUGGLED, _AsyncReader(b"abc" + SMUGGLED), _AsyncReader(b"ab")],
    ids=["bytes", "stream long", "stream short"],
)
async def test_async_s3_body_of_another_length_than_content_length_is_refused(
    server: RecordingServer, body: Any
) -> None:
    client = services.async_client(
        "s3",
        region_name="us-east-1",
        endpoint_url=server.url,
        config=services.Config(retry_base=0.0),
        **KEYS,
    )
    async with client:
        with pytest.raises(ParamValidationError, match="ContentLength"):
            await client.put_object(Bucket="bkt", Key="p", Body=body, ContentLength=3)
        head = await client.head_object(Bucket="bkt", Key="other")
        assert head["ETag"] == '"x"'
    server.settle()

    assert server.requests == [b"HEAD /bkt/other HTTP/1.1"]
    assert b"DELETE" not in b"".join(server.raw)
