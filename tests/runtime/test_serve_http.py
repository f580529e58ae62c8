"""`lambdalite serve`'s HTTP front end, in process, with a stand-in function.

The function behind the gateway is a stand-in that answers with what the
event it got says, so each test reads the event API Gateway would build.
Expected framing rules are RFC 9112's (sections 2.2, 6.1, 6.3, 7.1, 9.3);
the 10 MB limit is API Gateway's documented payload quota.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from runtime.commands import Gateway
from runtime.local import Outcome

LIMIT = 10 * 1024 * 1024


class EchoFunction:
    """Stands in for the local Runtime API: the answer describes the event."""

    async def invoke_async(self, event: bytes) -> Outcome:
        data = json.loads(event)
        summary = {
            "rawPath": data["rawPath"],
            "path": data["requestContext"]["http"]["path"],
            "query": data.get("queryStringParameters"),
            "headers": data["headers"],
            "bodyLength": len(data.get("body") or ""),
        }
        result = {"statusCode": 200, "body": json.dumps(summary)}
        return Outcome("id", json.dumps(result).encode())


@pytest.fixture
def gateway() -> Iterator[Callable[..., int]]:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    started: list[Gateway] = []

    def start(**options: Any) -> int:
        front = Gateway(EchoFunction(), version="2.0", **options)  # type: ignore[arg-type]
        address = asyncio.run_coroutine_threadsafe(
            front.start("127.0.0.1", 0), loop
        ).result(10)
        started.append(front)
        return address[1]

    yield start

    async def shutdown() -> None:
        for front in started:
            await front.stop()
        tasks = asyncio.all_tasks() - {asyncio.current_task()}
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    asyncio.run_coroutine_threadsafe(shutdown(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)
    loop.close()


def raw(port: int, data: bytes, *, timeout: float = 5) -> bytes:
    """Send `data`, read until the server closes the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


def status_of(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


def body_of(answer: bytes) -> Any:
    return json.loads(answer.split(b"\r\n\r\n", 1)[1])


@pytest.mark.parametrize(
    "head",
    [
        b"Content-Length: 3\r\nTransfer-Encoding: chunked\r\n",
        b"Transfer-Encoding: chunked\r\nContent-Length: 3\r\n",
        b"Content-Length: 3\r\nContent-Length: 4\r\n",
        b"Content-Length: 3, 4\r\n",
        b"Content-Length: -3\r\n",
        b"Content-Length: \xd9\xa3\r\n",  # an Arabic-Indic three
        b"Host : x\r\n",
        b" folded\r\n",
    ],
    ids=[
        "cl-te", "te-cl", "two-lengths", "length-list", "negative-length",
        "unicode-digit", "space-before-colon", "obs-fold",
    ],
)  # fmt: skip
def test_serve_refuses_ambiguous_framing(
    gateway: Callable[..., int], head: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    port = gateway()
    answer = raw(port, b"POST / HTTP/1.1\r\nHost: x\r\n" + head + b"\r\n0\r\n\r\n")
    assert status_of(answer) == 400
    assert b"Connection: close" in answer
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


def test_serve_same_content_length_twice_is_one_length(
    gateway: Callable[..., int],
) -> None:
    answer = raw(
        gateway(),
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 3\r\n"
        b"Connection: close\r\n\r\nabc",
    )
    assert status_of(answer) == 200
    assert body_of(answer)["bodyLength"] == 4  # "abc" base64-encoded


@pytest.mark.parametrize("size", [b"-5", b"zz", b"", b"0x5", b"1" * 40])
def test_serve_bad_chunk_size_is_400_without_a_traceback(
    gateway: Callable[..., int],
    size: bytes,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    answer = raw(
        gateway(),
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        + size
        + b"\r\nhello\r\n0\r\n\r\n",
    )
    assert status_of(answer) == 400
    assert "Traceback" not in capsys.readouterr().err
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


def test_serve_unknown_transfer_coding_is_501(gateway: Callable[..., int]) -> None:
    answer = raw(
        gateway(),
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n",
    )
    assert status_of(answer) == 501


def test_serve_chunked_body_is_read(gateway: Callable[..., int]) -> None:
    answer = raw(
        gateway(),
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
        b"Content-Type: text/plain\r\nConnection: close\r\n\r\n"
        b"3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nTrailer: x\r\n\r\n",
    )
    assert status_of(answer) == 200
    assert body_of(answer)["bodyLength"] == 5


def test_serve_http_1_0_without_keep_alive_is_answered_and_closed(
    gateway: Callable[..., int],
) -> None:
    answer = raw(gateway(), b"GET / HTTP/1.0\r\nHost: x\r\n\r\n")  # reads to EOF
    assert status_of(answer) == 200
    assert b"\r\nConnection: close\r\n" in answer


def test_serve_http_1_0_keep_alive_stays_open(gateway: Callable[..., int]) -> None:
    with socket.create_connection(("127.0.0.1", gateway()), timeout=5) as sock:
        for _ in range(2):
            sock.sendall(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            answer = sock.recv(65536)
            assert status_of(answer) == 200
            assert b"Connection: close" not in answer
            # an HTTP/1.0 client closes unless told otherwise (RFC 9112 9.3)
            assert b"\r\nConnection: keep-alive\r\n" in answer


def test_serve_slow_request_is_cut_off(gateway: Callable[..., int]) -> None:
    port = gateway(read_timeout=0.5)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        started = time.monotonic()
        sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\n")  # and nothing more
        assert sock.recv(65536) == b""  # closed by the server
        assert time.monotonic() - started < 3


def test_serve_read_timeout_defaults_to_30_seconds() -> None:
    assert Gateway(None, version="2.0").read_timeout == 30  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"GET /a HTTP/1.1\nHost: x\nConnection: close\n\n",
        b"GET /a HTTP/1.1\r\nHost: x\nConnection: close\r\n\n",
    ],
    ids=["bare-lf", "mixed"],
)
def test_serve_bare_lf_line_ends_are_accepted(
    gateway: Callable[..., int], request_bytes: bytes
) -> None:
    answer = raw(gateway(), request_bytes)
    assert status_of(answer) == 200
    assert body_of(answer)["rawPath"] == "/a"


def test_serve_bare_cr_is_400(gateway: Callable[..., int]) -> None:
    answer = raw(gateway(), b"GET /a HTTP/1.1\r\nX-A: 1\rX-B: 2\r\n\r\n")
    assert status_of(answer) == 400


def test_serve_utf8_target_and_headers_reach_the_event(
    gateway: Callable[..., int],
) -> None:
    answer = raw(
        gateway(),
        "GET /é?q=ü HTTP/1.1\r\nHost: x\r\nX-Name: Zoë\r\n"
        "Connection: close\r\n\r\n".encode(),
    )
    assert status_of(answer) == 200
    event = body_of(answer)
    assert (event["rawPath"], event["path"]) == ("/é", "/é")
    assert event["query"] == {"q": "ü"}
    assert event["headers"]["x-name"] == "Zoë"


def test_serve_latin1_header_value_is_kept_as_latin1(
    gateway: Callable[..., int],
) -> None:
    answer = raw(
        gateway(),
        b"GET / HTTP/1.1\r\nHost: x\r\nX-Name: Zo\xeb\r\nConnection: close\r\n\r\n",
    )
    assert body_of(answer)["headers"]["x-name"] == "Zoë"


def test_serve_non_utf8_target_is_400(gateway: Callable[..., int]) -> None:
    answer = raw(gateway(), b"GET /\xff HTTP/1.1\r\nHost: x\r\n\r\n")
    assert status_of(answer) == 400


def test_serve_unparsable_requests_are_logged(
    gateway: Callable[..., int], capsys: pytest.CaptureFixture[str]
) -> None:
    port = gateway()
    raw(port, b"NOT A REQUEST LINE AT ALL\r\n\r\n")
    raw(port, b"GET /?X-Amz-Signature=secret1 HTTP/9\r\n\r\n")
    err = capsys.readouterr().err
    assert err.count(" 400 ") == 2
    assert "secret1" not in err


def test_serve_body_over_10_mb_is_413_before_100_continue(
    gateway: Callable[..., int],
) -> None:
    answer = raw(
        gateway(),
        b"POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
        b"Content-Length: %d\r\n\r\n" % (LIMIT + 1),
    )
    assert answer.startswith(b"HTTP/1.1 413 ")  # no 100 Continue first
    assert "10485760 bytes" in body_of(answer)["message"]


def test_serve_body_over_10_mb_sent_anyway_gets_its_413(
    gateway: Callable[..., int],
) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", gateway(), timeout=20)
    connection.request("POST", "/", body=b"x" * (LIMIT + 1))
    answer = connection.getresponse()
    assert answer.status == 413
    assert "Request Entity Too Large" in json.loads(answer.read())["message"]


def test_serve_chunked_body_over_10_mb_is_413(gateway: Callable[..., int]) -> None:
    chunk = b"x" * (1024 * 1024)
    head = b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    body = b"%x\r\n%s\r\n" % (len(chunk), chunk) * 11 + b"0\r\n\r\n"
    assert status_of(raw(gateway(), head + body, timeout=20)) == 413


def test_serve_body_of_exactly_10_mb_is_served(gateway: Callable[..., int]) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", gateway(), timeout=20)
    connection.request("POST", "/", body=b"x" * LIMIT)
    answer = connection.getresponse()
    assert answer.status == 200
    assert json.loads(answer.read())["bodyLength"] > LIMIT  # base64


# -- Host and the request target (RFC 9112 3.2) -----------------------------------


@pytest.mark.parametrize(
    "head",
    [
        b"GET / HTTP/1.1\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
        b"GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n",
    ],
    ids=["1.1-no-host", "1.1-two-hosts", "1.0-two-hosts"],
)
def test_serve_missing_or_repeated_host_is_400(
    gateway: Callable[..., int], head: bytes
) -> None:
    answer = raw(gateway(), head)
    assert status_of(answer) == 400
    assert "Host" in body_of(answer)["message"]


def test_serve_http_1_0_without_host_is_served(gateway: Callable[..., int]) -> None:
    answer = raw(gateway(), b"GET /a HTTP/1.0\r\n\r\n")
    assert status_of(answer) == 200


def test_serve_absolute_form_target_uses_its_path_and_host(
    gateway: Callable[..., int], capsys: pytest.CaptureFixture[str]
) -> None:
    # RFC 9112 3.2.2: a server accepts absolute-form; its authority is the Host
    head = b"GET http://api.example:8080/x/y?q=1 HTTP/1.1\r\nHost: other\r\n"
    answer = raw(gateway(), head + b"Connection: close\r\n\r\n")

    assert status_of(answer) == 200
    seen = body_of(answer)
    assert (seen["rawPath"], seen["query"]) == ("/x/y", {"q": "1"})
    assert seen["headers"]["host"] == "api.example:8080"
    err = capsys.readouterr().err
    assert "GET /x/y 200" in err and "api.example" not in err


@pytest.mark.parametrize(
    "target",
    [
        b"evil.example/x?X-Amz-Signature=secret1",
        b"ftp://evil.example/x?X-Amz-Signature=secret1",
        b"http:///x?X-Amz-Signature=secret1",
        b"http://user:secret1@evil.example/x",
    ],
    ids=["no-slash", "other-scheme", "no-authority", "userinfo"],
)
def test_serve_other_targets_are_400_without_echo(
    gateway: Callable[..., int], capsys: pytest.CaptureFixture[str], target: bytes
) -> None:
    answer = raw(gateway(), b"GET " + target + b" HTTP/1.1\r\nHost: x\r\n\r\n")

    assert status_of(answer) == 400
    err = capsys.readouterr().err
    for text in (answer.decode("latin-1"), err):
        assert "secret1" not in text and "evil" not in text
