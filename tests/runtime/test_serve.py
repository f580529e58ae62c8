"""`lambdalite serve` and `lambdalite invoke` as a user runs them.

The square API's expected answers are those its brief and README state:
POST {"number": 3} answers {"result": 9}; bad input answers 400 with JSON.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAMBDALITE = [
    sys.executable,
    "-c",
    "import sys; from runtime.cli import main; sys.exit(main())",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_listening(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError("lambdalite serve never listened")


def serve(*args: str, cwd: Path = ROOT) -> Iterator[int]:
    port = free_port()
    process = subprocess.Popen(
        [*LAMBDALITE, "serve", *args, "--port", str(port)],
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_listening(port, process)
        yield port
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    assert process.returncode == 0


@pytest.fixture(scope="module")
def square_v2() -> Iterator[int]:
    yield from serve("examples/square.handler")


@pytest.fixture(scope="module")
def square_v1() -> Iterator[int]:
    yield from serve("examples/square.handler", "--format", "v1")


def post(port: int, body: bytes, path: str = "/") -> tuple[int, str, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    connection.request(
        "POST", path, body=body, headers={"Content-Type": "application/json"}
    )
    answer = connection.getresponse()
    data = answer.read()
    connection.close()
    return answer.status, answer.getheader("Content-Type") or "", data


@pytest.mark.parametrize("fixture", ["square_v2", "square_v1"])
def test_serve_square_answers(fixture: str, request: pytest.FixtureRequest) -> None:
    port = request.getfixturevalue(fixture)
    status, content_type, body = post(port, b'{"number": 3}')
    assert (status, json.loads(body)) == (200, {"result": 9})
    assert content_type.startswith("application/json")


@pytest.mark.parametrize("body", [b'{"number": "x"}', b"{}", b"not json"])
def test_serve_square_bad_input_400(square_v2: int, body: bytes) -> None:
    status, _, answer = post(square_v2, body)
    assert status == 400
    assert isinstance(json.loads(answer), dict)


def test_serve_answers_expect_100_continue_at_once(square_v2: int) -> None:
    body = json.dumps({"number": 12, "padding": "x" * 4096}).encode()
    with socket.create_connection(("127.0.0.1", square_v2), timeout=5) as sock:
        sock.sendall(
            b"POST / HTTP/1.1\r\nHost: localhost\r\nExpect: 100-continue\r\n"
            b"Content-Length: %d\r\n\r\n" % len(body)
        )
        interim = sock.recv(1024)  # within the socket timeout, not after curl's 1 s
        assert interim == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(body)
        answer = b""
        while not answer.endswith(b"}"):
            answer += sock.recv(65536)
    assert answer.startswith(b"HTTP/1.1 200 ")
    assert answer.endswith(b'{"result":144}')


def test_serve_keeps_connection_alive(square_v2: int) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", square_v2, timeout=20)
    for number in range(5):
        connection.request("POST", "/", body=json.dumps({"number": number}))
        answer = connection.getresponse()
        assert json.loads(answer.read()) == {"result": number * number}
    connection.close()


@pytest.fixture(scope="module")
def slow_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("slow")
    (root / "slow.py").write_text(
        textwrap.dedent(
            """
            import os, time
            def handler(event, context):
                time.sleep(float(event.get("queryStringParameters", {}).get("s", 0)))
                return {"statusCode": 200, "body": str(os.getpid())}
            def fails(event, context):
                raise ValueError("handler failed")
            """
        )
    )
    return root


def test_serve_concurrent_requests_use_several_workers(slow_root: Path) -> None:
    for port in serve("slow.handler", "--workers", "2", "--task-root", str(slow_root)):
        post(port, b"{}", "/?s=0")  # both workers up
        results: list[Any] = []
        started = time.monotonic()

        def slow_request(port: int = port, results: list[Any] = results) -> None:
            results.append(post(port, b"{}", "/?s=1"))

        threads = [threading.Thread(target=slow_request) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(20)
        took = time.monotonic() - started
        assert [status for status, _, _ in results] == [200, 200]
        assert len({body for _, _, body in results}) == 2  # two processes
        assert took < 1.9


def test_serve_timeout_and_failure_answers(slow_root: Path) -> None:
    for port in serve(
        "slow.handler", "--timeout", "0.5", "--task-root", str(slow_root)
    ):
        status, _, body = post(port, b"{}", "/?s=3")
        assert (status, json.loads(body)) == (503, {"message": "Service Unavailable"})
        assert post(port, b"{}", "/?s=0")[0] == 200  # the worker was replaced
    for port in serve("slow.fails", "--task-root", str(slow_root)):
        status, _, body = post(port, b"{}")
        assert (status, json.loads(body)) == (500, {"message": "Internal Server Error"})


def test_serve_malformed_result_is_logged(hazard_root: Path) -> None:
    port = free_port()
    process = subprocess.Popen(
        [*LAMBDALITE, "serve", "hazards.inject", "--port", str(port),
         "--task-root", str(hazard_root)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        wait_listening(port, process)
        assert raw_post(port).startswith(b"HTTP/1.1 500 ")
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=15)
    assert b"lambdalite serve: the function's result is malformed" in err


def test_serve_log_line_leaves_query_out(slow_root: Path) -> None:
    port = free_port()
    process = subprocess.Popen(
        [*LAMBDALITE, "serve", "slow.handler", "--port", str(port),
         "--task-root", str(slow_root)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        wait_listening(port, process)
        assert post(port, b"{}", "/p?s=0&X-Amz-Signature=abc123secret")[0] == 200
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=15)
    assert b"POST /p 200" in err
    assert b"abc123secret" not in err


def listening_on(port: int) -> set[str]:
    """The local addresses of sockets listening on `port`, as the kernel lists
    them in /proc/net/tcp and tcp6 (hex; 127.0.0.1 is 0100007F)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            local, state = row.split()[1], row.split()[3]
            address, _, port_hex = local.partition(":")
            if state == "0A" and int(port_hex, 16) == port:  # 0A: LISTEN
                found.add(address)
    return found


def test_serve_listens_on_loopback_by_default(square_v2: int) -> None:
    # read from the kernel's socket table: nothing is aimed at another address
    if not Path("/proc/net/tcp").exists():
        from tests.conftest import missing

        missing("no /proc/net/tcp to read listening sockets from")
    assert listening_on(square_v2) == {"0100007F"}


def test_invoke_prints_result_and_error(slow_root: Path, tmp_path: Path) -> None:
    event = tmp_path / "event.json"
    event.write_text('{"queryStringParameters": {"s": "0"}}')
    ok = subprocess.run(
        [*LAMBDALITE, "invoke", "slow.handler", "--event", str(event),
         "--task-root", str(slow_root)],
        capture_output=True, timeout=60,
    )  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["statusCode"] == 200

    failed = subprocess.run(
        [*LAMBDALITE, "invoke", "slow.fails", "--event", str(event),
         "--task-root", str(slow_root)],
        capture_output=True, timeout=60,
    )  # fmt: skip
    assert failed.returncode == 1
    error = json.loads(failed.stdout)
    assert (error["errorType"], error["errorMessage"]) == (
        "ValueError",
        "handler failed",
    )


def test_invoke_rejects_bad_event_file(tmp_path: Path) -> None:
    event = tmp_path / "event.json"
    event.write_text("{nope")
    done = subprocess.run(
        [*LAMBDALITE, "invoke", "x.handler", "--event", str(event)],
        capture_output=True, timeout=60, env={**os.environ},
    )  # fmt: skip
    assert done.returncode == 2
    assert b"the event is not JSON" in done.stderr


# ---------------------------------------------------------------- hazards

HAZARDS = """
import os, subprocess, sys

def inject(event, context):
    return {"statusCode": 200, "headers": {"X-A": "1\\r\\nX-Injected: yes"},
            "cookies": ["a=1\\r\\nX-Injected: yes"], "body": "ok"}

def inject_v1(event, context):
    return {"statusCode": 200, "headers": {"X-A": "1\\r\\nX-Injected: yes"},
            "body": "ok"}

def surrogate(event, context):
    return {"statusCode": 200, "body": "\\ud800"}

def forks(event, context):
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    return {"statusCode": 200, "body": str(child.pid)}
"""


@pytest.fixture(scope="module")
def hazard_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hazards")
    (root / "hazards.py").write_text(HAZARDS)
    return root


def raw_post(port: int) -> bytes:
    """One request; the answer's bytes exactly as they came off the wire."""
    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


@pytest.mark.parametrize(
    ("handler", "fmt", "status"),
    [
        ("hazards.inject", "v2", 500),
        ("hazards.inject_v1", "v1", 502),
        ("hazards.surrogate", "v2", 500),
        ("hazards.surrogate", "v1", 502),
    ],
)
def test_serve_malformed_result_never_reaches_the_wire(
    hazard_root: Path, handler: str, fmt: str, status: int
) -> None:
    for port in serve(handler, "--format", fmt, "--task-root", str(hazard_root)):
        answer = raw_post(port)
        assert answer.startswith(b"HTTP/1.1 %d " % status)
        assert b"X-Injected" not in answer
        head = answer.split(b"\r\n\r\n", 1)[0]
        assert all(b"\r" not in line and b"\n" not in line
                   for line in head.split(b"\r\n"))  # fmt: skip


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in state  # a zombie is dead, only not reaped


def test_serve_sigterm_ends_processes_the_handler_forked(hazard_root: Path) -> None:
    if not Path("/proc/self/status").exists():
        from tests.conftest import missing

        missing("no /proc to look processes up in")
    child = 0
    try:
        for port in serve("hazards.forks", "--task-root", str(hazard_root)):
            status, _, body = post(port, b"{}")
            assert status == 200
            child = int(body)
            assert _alive(child)
        # serve has exited (SIGTERM) here
        deadline = time.monotonic() + 5
        while _alive(child) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _alive(child)
    finally:
        if child and _alive(child):
            os.kill(child, signal.SIGKILL)  # the process this test made fork
