"""The lean keep-alive transport against a scripted socket server on 127.0.0.1.

The server reads one request at a time and answers with raw bytes written by
the test, so each HTTP/1.1 framing case (Content-Length, chunked, close,
a kept-alive connection closed while idle, a truncated body) is exercised on
a real socket.
"""

from __future__ import annotations

import json
import socket
import threading
import zlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import services
from services.dynamodb._connection import KeepAliveTransport
from services.dynamodb.client import DynamoDBClient
from services.errors import EndpointConnectionError

Script = Callable[[int, bytes], "bytes | None"]


class RawServer:
    """Answers request n with script(n, request); None closes the connection."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.requests: list[bytes] = []
        self.connections = 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.1)
        self.port = self.listener.getsockname()[1]
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            with conn:
                conn.settimeout(2)
                reader = conn.makefile("rb")
                while True:
                    request = read_request(reader)
                    if request is None:
                        break
                    self.requests.append(request)
                    reply = self.script(len(self.requests), request)
                    if reply is None:
                        break
                    conn.sendall(reply)
                reader.close()
                conn.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self.stop.set()
        self.listener.close()
        self.thread.join(timeout=5)


def read_request(reader: Any) -> bytes | None:
    head = b""
    while not head.endswith(b"\r\n\r\n"):
        line = reader.readline()
        if not line:
            return None
        head += line
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    return head + reader.read(length)


def reply(body: dict[str, Any], *extra: str, chunked: bool = False) -> bytes:
    raw = json.dumps(body).encode()
    lines = [
        "HTTP/1.1 200 OK",
        "Content-Type: application/x-amz-json-1.0",
        f"x-amz-crc32: {zlib.crc32(raw)}",
        "x-amzn-RequestId: R1",
        *extra,
    ]
    if chunked:
        lines.append("Transfer-Encoding: chunked")
        half = len(raw) // 2
        payload = b"".join(
            b"%x\r\n%s\r\n" % (len(part), part) for part in (raw[:half], raw[half:])
        )
        payload += b"0\r\n\r\n"
    else:
        lines.append(f"Content-Length: {len(raw)}")
        payload = raw
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + payload


@pytest.fixture
def serve() -> Iterator[Callable[[Script], RawServer]]:
    made: list[RawServer] = []

    def start(script: Script) -> RawServer:
        server = RawServer(script)
        made.append(server)
        return server

    yield start
    for server in made:
        server.close()


def client_for(server: RawServer) -> DynamoDBClient:
    made = services.client(
        "dynamodb",
        region_name="us-east-1",
        endpoint_url=f"http://127.0.0.1:{server.port}",
        aws_access_key_id="AKID",
        aws_secret_access_key="secret",
    )
    made._executor.sleep = lambda seconds: None
    assert isinstance(made, DynamoDBClient)
    return made


ITEM = {"Item": {"pk": {"S": "a"}}}


def test_the_default_sync_client_uses_the_lean_transport(serve: Any) -> None:
    server = serve(lambda n, request: reply(ITEM))
    client = client_for(server)

    for _ in range(3):
        assert client.get_item(TableName="t", Key={"pk": {"S": "a"}})["Item"]

    assert isinstance(client._executor.connections, KeepAliveTransport)
    assert server.connections == 1  # kept alive
    first = server.requests[0]
    assert first.startswith(b"POST / HTTP/1.1\r\n")
    assert b"\r\nX-Amz-Target: DynamoDB_20120810.GetItem\r\n" in first
    assert b"\r\nAuthorization: AWS4-HMAC-SHA256 Credential=AKID/" in first
    assert first.endswith(b'{"TableName":"t","Key":{"pk":{"S":"a"}}}')
    client.close()


def test_chunked_answers_are_read(serve: Any) -> None:
    server = serve(lambda n, request: reply(ITEM, chunked=True))
    client = client_for(server)

    assert (
        client.get_item(TableName="t", Key={"pk": {"S": "a"}})["Item"] == ITEM["Item"]
    )
    assert (
        client.get_item(TableName="t", Key={"pk": {"S": "a"}})["Item"] == ITEM["Item"]
    )
    assert server.connections == 1
    client.close()


def test_connection_close_is_honoured(serve: Any) -> None:
    server = serve(lambda n, request: reply(ITEM, "Connection: close"))
    client = client_for(server)

    client.get_item(TableName="t", Key={"pk": {"S": "a"}})
    client.get_item(TableName="t", Key={"pk": {"S": "a"}})

    assert server.connections == 2
    client.close()


def test_an_idle_connection_closed_by_the_server_is_replaced(serve: Any) -> None:
    # the first connection answers once and is then dropped by the server
    server = serve(lambda n, request: reply(ITEM) if n != 2 else None)
    client = client_for(server)

    client.get_item(TableName="t", Key={"pk": {"S": "a"}})
    result = client.get_item(TableName="t", Key={"pk": {"S": "a"}})

    assert result["Item"] == ITEM["Item"]
    assert server.connections == 2
    client.close()


def test_a_server_that_never_answers_gives_a_typed_error(serve: Any) -> None:
    server = serve(lambda n, request: None)
    client = client_for(server)

    with pytest.raises(EndpointConnectionError):
        client.get_item(TableName="t", Key={"pk": {"S": "a"}})

    assert len(server.requests) == 3  # every attempt the executor allows
    client.close()


def test_a_truncated_body_is_retried(serve: Any) -> None:
    def script(n: int, request: bytes) -> bytes | None:
        whole = reply(ITEM)
        return whole[:-5] if n == 1 else whole

    server = serve(script)
    client = client_for(server)

    # the first answer stops short; the server then waits for the next request
    # on that connection, so the client's read times out or breaks: use a
    # short read timeout so the test stays quick
    client._executor.timeouts["read"] = 1.0
    result = client.get_item(TableName="t", Key={"pk": {"S": "a"}})

    assert result["Item"] == ITEM["Item"]
    assert len(server.requests) == 2
    client.close()


def test_a_proxy_in_the_environment_keeps_httpx(monkeypatch: Any) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    client = services.client(
        "dynamodb",
        region_name="us-east-1",
        endpoint_url="http://127.0.0.1:9",
        aws_access_key_id="AKID",
        aws_secret_access_key="secret",
    )

    assert not hasattr(client._executor, "connections")
    assert client._executor.http is not None
    client.close()


def test_the_lean_client_does_not_import_httpx() -> None:
    import subprocess
    import sys

    code = (
        "import sys, services\n"
        "c = services.client('dynamodb', region_name='us-east-1',"
        " endpoint_url='http://127.0.0.1:9', aws_access_key_id='a',"
        " aws_secret_access_key='b')\n"
        "print('httpx' in sys.modules)"
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(__import__("pathlib").Path(__file__).resolve().parents[3]),
    }
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    assert out.stdout.strip() == "False"


def test_https_verifies_without_importing_httpx() -> None:
    import subprocess
    import sys

    code = (
        "import ssl, sys\n"
        "from services.dynamodb._connection import _tls\n"
        "ctx = _tls()\n"
        "assert ctx is _tls()\n"
        "assert ctx.verify_mode == ssl.CERT_REQUIRED and ctx.check_hostname\n"
        "assert ctx.get_ca_certs() or ctx.cert_store_stats()['x509_ca']\n"
        "print('httpx' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"


def test_https_to_a_server_that_speaks_no_tls_is_refused() -> None:
    # a server that answers plain HTTP on an https URL: the handshake fails,
    # typed and retried, and never falls back to plain text
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(5)
    accepted: list[int] = []

    def answer_plainly() -> None:
        for _ in range(3):
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            accepted.append(1)
            with conn:
                conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")

    thread = threading.Thread(target=answer_plainly, daemon=True)
    thread.start()
    client = services.client(
        "dynamodb",
        region_name="us-east-1",
        endpoint_url=f"https://127.0.0.1:{listener.getsockname()[1]}",
        aws_access_key_id="AKID",
        aws_secret_access_key="secret",
        config=services.Config(connect_timeout=2, read_timeout=2),
    )
    client._executor.sleep = lambda seconds: None
    try:
        with pytest.raises(EndpointConnectionError, match="could not connect"):
            client.get_item(TableName="t", Key={"pk": {"S": "a"}})
    finally:
        client.close()
        listener.close()
        thread.join(timeout=5)

    assert len(accepted) == 3


def test_debug_logging_never_shows_the_secret_or_signature(
    serve: Any, caplog: Any
) -> None:
    import logging

    server = serve(lambda n, request: reply(ITEM))
    client = services.client(
        "dynamodb",
        region_name="us-east-1",
        endpoint_url=f"http://127.0.0.1:{server.port}",
        aws_access_key_id="AKID",
        aws_secret_access_key="s3cr3t-value",
        aws_session_token="t0ken-value",
    )
    with caplog.at_level(logging.DEBUG):
        client.get_item(TableName="t", Key={"pk": {"S": "a"}})
    client.close()

    signature = server.requests[0].split(b"Signature=")[1].split(b"\r\n")[0].decode()
    logged = caplog.text
    assert "DynamoDB_20120810.GetItem" in logged or "POST" in logged
    for secret in ("s3cr3t-value", "t0ken-value", signature):
        assert secret not in logged
