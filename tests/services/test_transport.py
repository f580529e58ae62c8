"""The sync core transport against a scripted server on 127.0.0.1.

Every sync client (S3 and DynamoDB) sends through `services._http`'s
httpx.Client and `services._transport.FastTransport`; these tests drive both
services through it on a real socket, one HTTP/1.1 framing or failure case
each.
"""

from __future__ import annotations

import gzip
import json
import logging
import socket
import threading
import time
import zlib
from collections.abc import Callable, Iterator

import pytest

import services
from services.dynamodb.protocol import CRC32MismatchError
from services.errors import (
    ConnectionClosedError,
    EndpointConnectionError,
    ReadTimeoutError,
)

KEYS = {"aws_access_key_id": "AKIDEXAMPLE", "aws_secret_access_key": "SECRET"}
LIST = (
    b"<ListBucketResult><Name>b</Name><IsTruncated>false</IsTruncated>"
    b"</ListBucketResult>"
)

Script = Callable[[socket.socket, int], bool]


class ScriptedServer:
    """Accepts connections; `script(conn, request_number)` answers each request.

    The script returns False to close the connection afterwards. Bounded: it
    stops after `limit` requests or when the test ends.
    """

    def __init__(self, script: Script, limit: int = 20) -> None:
        self.script = script
        self.limit = limit
        self.accepted = 0
        self.requests = 0
        self.seen: list[bytes] = []
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(5)
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _serve(self) -> None:
        while self.requests < self.limit:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        conn.settimeout(5)
        buffer = b""
        with conn:
            while self.requests < self.limit:
                try:
                    while b"\r\n\r\n" not in buffer:
                        data = conn.recv(65536)
                        if not data:
                            return
                        buffer += data
                    head, _, buffer = buffer.partition(b"\r\n\r\n")
                    length = 0
                    for line in head.split(b"\r\n")[1:]:
                        name, _, value = line.partition(b":")
                        if name.strip().lower() == b"content-length":
                            length = int(value)
                    while len(buffer) < length:
                        buffer += conn.recv(65536)
                    self.seen.append(head + b"\r\n\r\n" + buffer[:length])
                    buffer = buffer[length:]
                    self.requests += 1
                    if not self.script(conn, self.requests):
                        return
                except OSError:
                    return

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def serve() -> Iterator[Callable[[Script], ScriptedServer]]:
    made: list[ScriptedServer] = []

    def start(script: Script) -> ScriptedServer:
        server = ScriptedServer(script)
        made.append(server)
        return server

    yield start
    for server in made:
        server.close()


def _ok(body: bytes = LIST, extra: bytes = b"") -> bytes:
    return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n%b\r\n%b" % (
        len(body),
        extra,
        body,
    )


def _client(url: str, service: str = "s3", **config: object) -> object:
    return services.client(
        service,
        region_name="us-east-1",
        endpoint_url=url,
        config=services.Config(retry_base=0.0, **config),  # type: ignore[arg-type]
        **KEYS,
    )


def test_keep_alive_connection_is_reused(
    serve: Callable[[Script], ScriptedServer],
) -> None:
    server = serve(lambda conn, n: conn.sendall(_ok()) or True)
    s3 = _client(server.url)
    for _ in range(5):
        assert s3.list_objects_v2(Bucket="b")["Name"] == "b"  # type: ignore[attr-defined]
    assert server.requests == 5
    assert server.accepted == 1


def test_server_closing_an_idle_connection_is_survived(
    serve: Callable[[Script], ScriptedServer],
) -> None:
    # answers, then drops the connection without saying so
    server = serve(lambda conn, n: conn.sendall(_ok()) and False)
    s3 = _client(server.url, max_attempts=1)
    for _ in range(3):
        assert s3.list_objects_v2(Bucket="b")["Name"] == "b"  # type: ignore[attr-defined]
    assert server.accepted == 3


def test_reset_mid_body_is_retried_on_a_new_connection(
    serve: Callable[[Script], ScriptedServer],
) -> None:
    def script(conn: socket.socket, n: int) -> bool:
        if n == 1:
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n<ListBuck")
            conn.setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
            )
            return False
        conn.sendall(_ok())
        return True

    server = serve(script)
    s3 = _client(server.url)
    assert s3.list_objects_v2(Bucket="b")["Name"] == "b"  # type: ignore[attr-defined]
    assert server.requests == 2


def test_chunked_responses_are_read(serve: Callable[[Script], ScriptedServer]) -> None:
    def script(conn: socket.socket, n: int) -> bool:
        half = len(LIST) // 2
        conn.sendall(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"%x\r\n%b\r\n%x\r\n%b\r\n0\r\n\r\n"
            % (half, LIST[:half], len(LIST) - half, LIST[half:])
        )
        return True

    server = serve(script)
    s3 = _client(server.url)
    assert s3.list_objects_v2(Bucket="b")["Name"] == "b"  # type: ignore[attr-defined]
    assert s3.list_objects_v2(Bucket="b")["Name"] == "b"  # type: ignore[attr-defined]
    assert server.accepted == 1


def test_read_timeout_is_retried_then_typed(
    serve: Callable[[Script], ScriptedServer],
) -> None:
    def script(conn: socket.socket, n: int) -> bool:
        time.sleep(0.5)
        return False

    server = serve(script)
    s3 = _client(server.url, read_timeout=0.1, max_attempts=2)
    started = time.monotonic()
    with pytest.raises(ReadTimeoutError):
        s3.list_objects_v2(Bucket="b")  # type: ignore[attr-defined]
    assert time.monotonic() - started < 3
    assert server.requests == 2


def test_get_object_streams_from_the_socket(
    serve: Callable[[Script], ScriptedServer],
) -> None:
    payload = bytes(range(256)) * 1000
    server = serve(lambda conn, n: conn.sendall(_ok(payload)) or True)
    s3 = _client(server.url)
    body = s3.get_object(Bucket="b", Key="k")["Body"]  # type: ignore[attr-defined]
    assert b"".join(body.iter_chunks(4096)) == payload
    assert s3.get_object(Bucket="b", Key="k")["Body"].read() == payload  # type: ignore[attr-defined]
    assert server.accepted == 1


def test_get_object_body_cut_short_is_a_typed_error(
    serve: Callable[[Script], ScriptedServer],
) -> None:
    def script(conn: socket.socket, n: int) -> bool:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten b")
        return False

    server = serve(script)
    s3 = _client(server.url)
    body = s3.get_object(Bucket="b", Key="k")["Body"]  # type: ignore[attr-defined]
    with pytest.raises(
        (services.errors.EndpointConnectionError, services.errors.IncompleteReadError)
    ):
        body.read()
    assert server.requests == 1


def test_tls_context_is_not_built_for_http(
    serve: Callable[[Script], ScriptedServer],
) -> None:
    from services import _http

    server = serve(lambda conn, n: conn.sendall(_ok()) or True)
    before = _http._TLS
    _client(server.url).list_objects_v2(Bucket="b")  # type: ignore[attr-defined]
    assert _http._TLS is before
    if before is None:
        context = _http.tls_context()
        assert context.verify_mode.name == "CERT_REQUIRED"
        assert context.check_hostname


def test_environment_proxy_is_used(
    serve: Callable[[Script], ScriptedServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[bytes] = []

    def proxy(conn: socket.socket, n: int) -> bool:
        seen.append(b"request")
        conn.sendall(_ok())
        return True

    server = serve(proxy)
    monkeypatch.setenv("HTTP_PROXY", server.url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    # the endpoint is never contacted: the proxy answers for it
    s3 = _client("http://127.0.0.1:9")
    assert s3.list_objects_v2(Bucket="b")["Name"] == "b"  # type: ignore[attr-defined]
    assert seen == [b"request"]


def test_endpoint_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:9")
    s3 = services.client("s3", region_name="eu-west-1", **KEYS)
    assert s3.meta.endpoint_url == "http://127.0.0.1:9"  # type: ignore[attr-defined]
    assert s3.meta.region_name == "eu-west-1"  # type: ignore[attr-defined]


# -- DynamoDB on the same path -------------------------------------------------

ITEM = {"Item": {"pk": {"S": "a"}}}
KEY = {"pk": {"S": "a"}}


def _dynamodb_answer(
    payload: bytes, *extra: bytes, crc: int | None = None, chunked: bool = False
) -> bytes:
    head = [
        b"HTTP/1.1 200 OK",
        b"Content-Type: application/x-amz-json-1.0",
        b"x-amzn-RequestId: R1",
        b"x-amz-crc32: %d" % (zlib.crc32(payload) if crc is None else crc),
        *extra,
    ]
    if chunked:
        half = len(payload) // 2
        head.append(b"Transfer-Encoding: chunked")
        body = b"".join(
            b"%x\r\n%b\r\n" % (len(part), part)
            for part in (payload[:half], payload[half:])
        )
        body += b"0\r\n\r\n"
    else:
        head.append(b"Content-Length: %d" % len(payload))
        body = payload
    return b"\r\n".join(head) + b"\r\n\r\n" + body


ITEM_ANSWER = _dynamodb_answer(json.dumps(ITEM).encode())


def _dynamodb(url: str, **config: object) -> object:
    return _client(url, "dynamodb", **config)


def test_dynamodb_sync_client_is_on_the_core_transport(
    serve: Callable[[Script], ScriptedServer],
) -> None:
    from services._transport import FastTransport

    server = serve(lambda conn, n: conn.sendall(ITEM_ANSWER) or True)
    dynamodb = _dynamodb(server.url)
    for _ in range(3):
        assert dynamodb.get_item(TableName="t", Key=KEY)["Item"] == ITEM["Item"]  # type: ignore[attr-defined]

    assert isinstance(dynamodb._executor.http._transport, FastTransport)  # type: ignore[attr-defined]
    assert server.accepted == 1  # kept alive
    first = server.seen[0]
    assert first.startswith(b"POST / HTTP/1.1\r\n")
    lower = first.lower()
    assert b"\r\nx-amz-target: dynamodb_20120810.getitem\r\n" in lower
    assert b"\r\naccept-encoding: identity\r\n" in lower
    assert b"\r\nauthorization: aws4-hmac-sha256 credential=akidexample/" in lower
    assert first.endswith(b'{"TableName":"t","Key":{"pk":{"S":"a"}}}')


def test_dynamodb_chunked_answers_are_read(
    serve: Callable[[Script], ScriptedServer],
) -> None:
    chunked = _dynamodb_answer(json.dumps(ITEM).encode(), chunked=True)
    server = serve(lambda conn, n: conn.sendall(chunked) or True)
    dynamodb = _dynamodb(server.url)
    for _ in range(2):
        assert dynamodb.get_item(TableName="t", Key=KEY)["Item"] == ITEM["Item"]  # type: ignore[attr-defined]
    assert server.accepted == 1


def test_connection_close_is_honoured(
    serve: Callable[[Script], ScriptedServer],
) -> None:
    closing = _dynamodb_answer(json.dumps(ITEM).encode(), b"Connection: close")
    # the server keeps the socket open after saying close: the client must not
    # send its next request on it
    server = serve(lambda conn, n: conn.sendall(closing) or True)
    dynamodb = _dynamodb(server.url, max_attempts=1)
    for _ in range(2):
        assert dynamodb.get_item(TableName="t", Key=KEY)["Item"] == ITEM["Item"]  # type: ignore[attr-defined]
    assert server.accepted == 2


def test_a_truncated_body_times_out_and_is_retried(
    serve: Callable[[Script], ScriptedServer],
) -> None:
    def script(conn: socket.socket, n: int) -> bool:
        # the first answer stops 5 bytes short and the connection stays open
        conn.sendall(ITEM_ANSWER[:-5] if n == 1 else ITEM_ANSWER)
        return True

    server = serve(script)
    dynamodb = _dynamodb(server.url, read_timeout=0.5)
    started = time.monotonic()
    assert dynamodb.get_item(TableName="t", Key=KEY)["Item"] == ITEM["Item"]  # type: ignore[attr-defined]
    assert time.monotonic() - started < 3
    assert server.requests == 2
    assert server.accepted == 2


def test_a_server_that_closes_without_answering_gives_a_typed_error(
    serve: Callable[[Script], ScriptedServer],
) -> None:
    server = serve(lambda conn, n: False)
    dynamodb = _dynamodb(server.url)
    # botocore's name for this case too: a ConnectionClosedError, not a failure
    # to connect
    with pytest.raises(ConnectionClosedError, match="broke before a complete answer"):
        dynamodb.get_item(TableName="t", Key=KEY)  # type: ignore[attr-defined]
    assert server.requests == 4  # every attempt DynamoDB's retry policy allows


def test_a_server_that_never_answers_times_out_boundedly(
    serve: Callable[[Script], ScriptedServer],
) -> None:
    def script(conn: socket.socket, n: int) -> bool:
        time.sleep(1)
        return False

    server = serve(script)
    dynamodb = _dynamodb(server.url, read_timeout=0.2, max_attempts=2)
    started = time.monotonic()
    with pytest.raises(ReadTimeoutError):
        dynamodb.get_item(TableName="t", Key=KEY)  # type: ignore[attr-defined]
    assert time.monotonic() - started < 3
    assert server.requests == 2


def test_dynamodb_crc32_covers_the_gzip_bytes_as_received(
    serve: Callable[[Script], ScriptedServer],
) -> None:
    # a server that compresses although the client asked for identity: the
    # CRC32 is over the compressed bytes, and the item comes back inflated
    packed = gzip.compress(json.dumps(ITEM).encode())
    answer = _dynamodb_answer(packed, b"Content-Encoding: gzip")
    server = serve(lambda conn, n: conn.sendall(answer) or True)
    dynamodb = _dynamodb(server.url)
    assert dynamodb.get_item(TableName="t", Key=KEY)["Item"] == ITEM["Item"]  # type: ignore[attr-defined]
    assert server.requests == 1


def test_dynamodb_crc32_mismatch_is_retried_then_typed(
    serve: Callable[[Script], ScriptedServer],
) -> None:
    payload = json.dumps(ITEM).encode()
    damaged = _dynamodb_answer(payload, crc=zlib.crc32(payload) ^ 1)

    def script(conn: socket.socket, n: int) -> bool:
        conn.sendall(damaged if n in (1, 3, 4, 5, 6) else ITEM_ANSWER)
        return True

    server = serve(script)
    dynamodb = _dynamodb(server.url)
    assert dynamodb.get_item(TableName="t", Key=KEY)["Item"] == ITEM["Item"]  # type: ignore[attr-defined]
    assert server.requests == 2
    with pytest.raises(CRC32MismatchError, match="x-amz-crc32"):
        dynamodb.get_item(TableName="t", Key=KEY)  # type: ignore[attr-defined]
    assert server.requests == 6  # 4 attempts (DynamoDB's default)
    assert server.accepted == 1  # a damaged body is read whole: the connection stays


def test_https_to_a_server_that_speaks_no_tls_is_refused() -> None:
    # plain HTTP on an https URL: the handshake fails, typed and retried, and
    # never falls back to plain text
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(5)
    accepted: list[int] = []

    def answer_plainly() -> None:
        for _ in range(4):
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            accepted.append(1)
            with conn:
                conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")

    thread = threading.Thread(target=answer_plainly, daemon=True)
    thread.start()
    port = listener.getsockname()[1]
    dynamodb = _dynamodb(f"https://127.0.0.1:{port}", connect_timeout=2, read_timeout=2)
    try:
        with pytest.raises(EndpointConnectionError, match="could not connect"):
            dynamodb.get_item(TableName="t", Key=KEY)  # type: ignore[attr-defined]
    finally:
        dynamodb.close()  # type: ignore[attr-defined]
        listener.close()
        thread.join(timeout=5)
    assert len(accepted) == 4  # DynamoDB's 4 attempts


def test_debug_logging_never_shows_the_secret_or_signature(
    serve: Callable[[Script], ScriptedServer], caplog: pytest.LogCaptureFixture
) -> None:
    server = serve(lambda conn, n: conn.sendall(ITEM_ANSWER) or True)
    dynamodb = services.client(
        "dynamodb",
        region_name="us-east-1",
        endpoint_url=server.url,
        aws_access_key_id="AKID",
        aws_secret_access_key="s3cr3t-value",
        aws_session_token="t0ken-value",
    )
    with caplog.at_level(logging.DEBUG):
        dynamodb.get_item(TableName="t", Key=KEY)  # type: ignore[attr-defined]
    dynamodb.close()  # type: ignore[attr-defined]

    sent = server.seen[0].decode()
    signature = sent.split("Signature=")[1].split("\r\n")[0]
    assert "GetItem" in caplog.text
    for secret in ("s3cr3t-value", "t0ken-value", signature):
        assert secret not in caplog.text


def test_a_status_line_without_reason_phrase_is_read(
    serve: Callable[[Script], ScriptedServer],
) -> None:
    # RFC 9112 lets the reason phrase be empty: "HTTP/1.1 200 " or "HTTP/1.1 200"
    bare = ITEM_ANSWER.replace(b"HTTP/1.1 200 OK\r\n", b"HTTP/1.1 200\r\n", 1)
    server = serve(lambda conn, n: conn.sendall(bare) or True)
    dynamodb = _dynamodb(server.url)
    for _ in range(2):
        assert dynamodb.get_item(TableName="t", Key=KEY)["Item"] == ITEM["Item"]  # type: ignore[attr-defined]
    assert server.accepted == 1


def test_header_bytes_are_read_as_botocore_reads_them(
    serve: Callable[[Script], ScriptedServer],
) -> None:
    import boto3

    # UTF-8 in a header value (httpx itself would decode it as UTF-8), and
    # a header sent twice
    extra = (
        b"x-amz-meta-city: Z\xc3\xbcrich\r\n"
        b'ETag: "abc"\r\n'
        b"x-amz-meta-twice: one\r\n"
        b"x-amz-meta-twice: two\r\n"
    )
    server = serve(lambda conn, n: conn.sendall(_ok(b"", extra)) or True)
    ours = _client(server.url).head_object(Bucket="b", Key="k")  # type: ignore[attr-defined]
    theirs = boto3.client(
        "s3", region_name="us-east-1", endpoint_url=server.url, **KEYS
    ).head_object(Bucket="b", Key="k")
    assert ours["Metadata"] == theirs["Metadata"]
    assert ours["Metadata"]["twice"] == "one, two"  # as botocore joins them
