"""lambdalite's loop against a stand-in Runtime API written on http.server.

The stand-in checks what the Runtime API documentation fixes: method, path and
headers of each call, the error JSON shape, the init error endpoint. It shares
no code with the loop or with `runtime.local`.
"""

from __future__ import annotations

import http.server
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from runtime.local import LocalRuntimeAPI, loop_command
from tests.conftest import missing

HANDLERS = """
import asyncio
import datetime
import logging
import os

logger = logging.getLogger("app")
logger.setLevel(logging.INFO)
logger.warning("logged at import")


def env(event, context):
    return {"trace": os.environ.get("_X_AMZN_TRACE_ID"), "rid": context.aws_request_id,
            "remaining": context.get_remaining_time_in_millis()}


def logs(event, context):
    print("printed line")
    logger.info("info %s", "line")
    logging.getLogger("plain").debug("debug line")
    return "ok"


async def loop_id(event, context):
    await asyncio.sleep(0)
    return id(asyncio.get_running_loop())


async def async_fails(event, context):
    await asyncio.sleep(0)
    raise KeyError("nope")


def dates(event, context):
    return {"when": datetime.datetime(2024, 1, 2, 3, 4, 5, 600000),
            "day": datetime.date(2024, 1, 2)}


def big(event, context):
    return "x" * 6291557


def fine(event, context):
    return {"fine": True}
"""


@pytest.fixture(scope="module")
def task_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("task")
    (root / "fns.py").write_text(textwrap.dedent(HANDLERS))
    return root


class StandIn(http.server.ThreadingHTTPServer):
    """Hands out queued invocations and records every call."""

    def __init__(self, invocations: list[tuple[dict[str, str], bytes]]) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.invocations = list(invocations)
        self.calls: list[tuple[str, str, dict[str, str], bytes]] = []
        self.done = threading.Event()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.server_address[1]}"


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: StandIn

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _record(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        headers = {k.lower(): v for k, v in self.headers.items()}
        self.server.calls.append((self.command, self.path, headers, body))
        return body

    def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self._record()
        if not self.server.invocations:
            self.server.done.set()
            time.sleep(30)  # as Lambda does: no answer until there is work
            return
        headers, body = self.server.invocations.pop(0)
        self._send(200, headers, body)

    def do_POST(self) -> None:
        self._record()
        self._send(202, {"Content-Type": "application/json"}, b'{"status":"OK"}')


def invocation(
    request_id: str, event: Any, **extra: str
) -> tuple[dict[str, str], bytes]:
    headers = {
        "Content-Type": "application/json",
        "Lambda-Runtime-Aws-Request-Id": request_id,
        "Lambda-Runtime-Deadline-Ms": str(int(time.time() * 1000) + 60000),
        "Lambda-Runtime-Invoked-Function-Arn": "arn:aws:lambda:us-east-1:1:function:f",
        "Lambda-Runtime-Trace-Id": f"Root=1-00000000-{request_id};Sampled=0",
    }
    headers.update(extra)
    return headers, json.dumps(event).encode()


@pytest.fixture
def standin() -> Iterator[Any]:
    servers: list[StandIn] = []

    def make(invocations: list[tuple[dict[str, str], bytes]]) -> StandIn:
        server = StandIn(invocations)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.shutdown()
        server.server_close()


def start_loop(
    task_root: Path, handler: str, address: str, **env: str
) -> subprocess.Popen[bytes]:
    environ = {
        **os.environ,
        "AWS_LAMBDA_RUNTIME_API": address,
        "_HANDLER": handler,
        "LAMBDA_TASK_ROOT": str(task_root),
        **env,
    }
    return subprocess.Popen(
        loop_command(),
        cwd=task_root,
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def serve_all(server: StandIn, process: subprocess.Popen[bytes]) -> tuple[str, str]:
    assert server.done.wait(20), "the loop never came back for more work"
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=10)
    assert process.returncode == 0, err
    return out.decode(), err.decode()


def test_loop_calls_runtime_api_paths_and_headers(
    task_root: Path, standin: Any
) -> None:
    server = standin([invocation("req-1", {"a": 1}), invocation("req-2", {"a": 2})])
    process = start_loop(task_root, "fns.env", server.address)
    serve_all(server, process)

    methods_paths = [(m, p) for m, p, _, _ in server.calls]
    assert methods_paths == [
        ("GET", "/2018-06-01/runtime/invocation/next"),
        ("POST", "/2018-06-01/runtime/invocation/req-1/response"),
        ("GET", "/2018-06-01/runtime/invocation/next"),
        ("POST", "/2018-06-01/runtime/invocation/req-2/response"),
        ("GET", "/2018-06-01/runtime/invocation/next"),
    ]
    first = json.loads(server.calls[1][3])
    assert first["trace"] == "Root=1-00000000-req-1;Sampled=0"
    assert first["rid"] == "req-1"
    assert 50000 < first["remaining"] <= 60000
    assert server.calls[1][2]["content-type"] == "application/json"


def test_loop_posts_error_shape_and_header(task_root: Path, standin: Any) -> None:
    server = standin([invocation("req-e", {"x": 1})])
    process = start_loop(
        task_root, "fns.dates_missing_attr_is_not_here", server.address
    )
    process.communicate(timeout=20)
    assert process.returncode == 1  # init failure: exits non-zero

    method, path, headers, body = server.calls[0]
    assert (method, path) == ("POST", "/2018-06-01/runtime/init/error")
    assert headers["lambda-runtime-function-error-type"] == "Runtime.HandlerNotFound"
    error = json.loads(body)
    assert set(error) == {"errorMessage", "errorType", "requestId", "stackTrace"}
    assert error["errorType"] == "Runtime.HandlerNotFound"


def test_loop_async_handlers_share_one_event_loop(task_root: Path) -> None:
    with LocalRuntimeAPI(
        loop_command(), handler="fns.loop_id", task_root=str(task_root), output=-3
    ) as api:
        ids = [api.invoke(b"{}", wait=20).json() for _ in range(3)]
    assert isinstance(ids[0], int)
    assert ids[0] == ids[1] == ids[2]


def test_loop_async_handler_error_has_only_handler_frames(task_root: Path) -> None:
    with LocalRuntimeAPI(
        loop_command(), handler="fns.async_fails", task_root=str(task_root), output=-3
    ) as api:
        outcome = api.invoke(b"{}", wait=20)
    error = outcome.json()
    assert (error["errorType"], error["errorMessage"]) == ("KeyError", "'nope'")
    assert len(error["stackTrace"]) == 1
    assert "in async_fails" in error["stackTrace"][0]
    assert outcome.error_type == "KeyError"  # Lambda-Runtime-Function-Error-Type


def test_loop_encodes_datetimes_as_iso_8601(task_root: Path) -> None:
    with LocalRuntimeAPI(
        loop_command(), handler="fns.dates", task_root=str(task_root), output=-3
    ) as api:
        result = api.invoke(b"{}", wait=20).json()
    assert result == {"when": "2024-01-02T03:04:05.600000", "day": "2024-01-02"}


def test_loop_oversized_response_reported_and_loop_goes_on(task_root: Path) -> None:
    with LocalRuntimeAPI(
        loop_command(), handler="fns.big", task_root=str(task_root), output=-3
    ) as api:
        first = api.invoke(b"{}", wait=20)
        pid = api.workers[0].process.pid  # type: ignore[union-attr]
        second = api.invoke(b"{}", wait=20)
        assert api.workers[0].process.pid == pid  # type: ignore[union-attr]
    for outcome in (first, second):
        assert outcome.json() == {
            "errorType": "Function.ResponseSizeTooLarge",
            "errorMessage": "Response payload size exceeded maximum allowed "
            "payload size (6291556 bytes).",
        }


def test_loop_text_logs_carry_request_id(task_root: Path, standin: Any) -> None:
    server = standin([invocation("req-log", {})])
    process = start_loop(task_root, "fns.logs", server.address)
    out, _ = serve_all(server, process)
    lines = out.splitlines()
    assert "printed line" in lines
    info = [line for line in lines if line.startswith("[INFO]")]
    assert len(info) == 1
    _level, stamp, request_id, message = info[0].split("\t")
    assert (request_id, message) == ("req-log", "info line")
    assert stamp.endswith("Z")
    at_import = [line for line in lines if line.endswith("logged at import")]
    assert len(at_import) == 1
    assert at_import[0].startswith("[WARNING]\t")
    assert at_import[0].split("\t")[2] == ""  # no invocation yet
    assert "debug line" not in out


def test_loop_json_logs_and_level_filter(task_root: Path, standin: Any) -> None:
    server = standin([invocation("req-json", {})])
    process = start_loop(
        task_root,
        "fns.logs",
        server.address,
        AWS_LAMBDA_LOG_FORMAT="JSON",
        AWS_LAMBDA_LOG_LEVEL="DEBUG",
    )
    out, _ = serve_all(server, process)
    records = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    by_message = {record["message"]: record for record in records}
    assert by_message["info line"]["level"] == "INFO"
    assert by_message["info line"]["requestId"] == "req-json"
    assert by_message["info line"]["logger"] == "app"
    assert by_message["debug line"]["level"] == "DEBUG"
    assert {"timestamp", "level", "message", "logger", "requestId"} <= set(
        by_message["info line"]
    )


def test_loop_log_level_applies_to_text_logs(task_root: Path, standin: Any) -> None:
    server = standin([invocation("req-level", {})])
    process = start_loop(
        task_root, "fns.logs", server.address, AWS_LAMBDA_LOG_LEVEL="TRACE"
    )
    out, _ = serve_all(server, process)
    debug = [line for line in out.splitlines() if line.startswith("[DEBUG]")]
    assert [line.split("\t")[3] for line in debug] == ["debug line"]


def test_loop_sigterm_while_waiting_exits_cleanly(
    task_root: Path, standin: Any
) -> None:
    server = standin([])
    process = start_loop(task_root, "fns.fine", server.address)
    assert server.done.wait(20)
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=10)
    assert process.returncode == 0, err
    assert time.monotonic() - started < 5


def test_loop_unreachable_runtime_api_is_fatal_with_message(task_root: Path) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, not listening: refused
        process = start_loop(task_root, "fns.fine", f"127.0.0.1:{port}")
        started = time.monotonic()
        _, err = process.communicate(timeout=20)
    assert process.returncode == 1
    assert time.monotonic() - started < 10
    assert f"Runtime API at 127.0.0.1:{port}" in err.decode()


def test_loop_without_runtime_api_variable_says_so(task_root: Path) -> None:
    environ = {k: v for k, v in os.environ.items() if k != "AWS_LAMBDA_RUNTIME_API"}
    done = subprocess.run(
        loop_command(), env=environ, cwd=task_root, capture_output=True, timeout=20
    )
    assert done.returncode == 1
    assert b"AWS_LAMBDA_RUNTIME_API is not set" in done.stderr


def test_loop_import_is_lean() -> None:
    code = (
        "import sys, runtime, runtime.loop; "
        "print(sorted(m for m in ('httpx', 'asyncio', 'typing', 'json', 'logging',"
        " 'socket', 'signal') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-S", "-c", code],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_loop_encode_result_choices() -> None:
    import decimal

    from runtime.loop import Fault, encode_result

    assert encode_result(b"\x00raw") == (b"\x00raw", "application/unknown")
    assert encode_result(
        {"d": decimal.Decimal("1.10"), "n": [decimal.Decimal("NaN")]}
    ) == (
        b'{"d": 1.10, "n": [NaN]}',
        "application/json",
    )
    try:  # AWS's own marshaller is the truth for decimals
        from awslambdaric.lambda_runtime_marshaller import to_json
    except ImportError:
        missing("awslambdaric is not installed")
    for text in ("-0.5E-7", "1E+30", "123456789.123456789123456789", "-0", "Infinity"):
        value = {"v": decimal.Decimal(text)}
        assert encode_result(value)[0].decode() == to_json(value)
    assert encode_result({"u": "żółw"})[0] == '{"u": "żółw"}'.encode()
    # a lone surrogate cannot be UTF-8: the whole body falls back to \u escapes
    assert (
        encode_result({"s": "\ud800", "u": "é"})[0]
        == b'{"s": "\\ud800", "u": "\\u00e9"}'
    )
    # a string that merely looks like the internal marker is left alone
    assert (
        encode_result(["\x00lambdalite-decimal:0"])[0]
        == b'["\\u0000lambdalite-decimal:0"]'
    )
    with pytest.raises(Fault) as caught:
        encode_result({"s": {1}})
    assert caught.value.error_type == "Runtime.MarshalError"
    assert caught.value.message == (
        "Unable to marshal response: Object of type set is not JSON serializable"
    )
