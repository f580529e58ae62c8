"""The http.client transport against a scripted server on 127.0.0.1."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest

import services
from services.errors import ReadTimeoutError

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


def _client(url: str, **config: object) -> object:
    return services.client(
        "s3",
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
