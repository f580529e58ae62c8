"""The local Runtime API: queueing, timeouts, dying workers, init errors, limits.

Expected shapes are Lambda's documented ones: `Sandbox.Timedout` with "Task
timed out after N.NN seconds", `Runtime.ExitError`, 413 for a response over
6291556 bytes, 400 `InvalidRequestID` for an unknown request id.
"""

from __future__ import annotations

import http.client
import json
import sys
import textwrap
import time
from concurrent.futures import wait
from pathlib import Path

import pytest

from runtime.local import LocalRuntimeAPI, loop_command, write_response

HANDLERS = """
import os
import time


def sleepy(event, context):
    time.sleep(event.get("sleep", 0))
    return {"pid": os.getpid()}


def _exit_soon():
    time.sleep(0.2)
    os._exit(9)


if os.environ.get("EXIT_WHILE_IDLE"):
    import threading

    threading.Thread(target=_exit_soon, daemon=True).start()


def big(event, context):
    if "size" in event:
        return "x" * event["size"]
    return {"pid": os.getpid()}


def dies(event, context):
    if event.get("die"):
        os._exit(7)
    return {"pid": os.getpid()}
"""


@pytest.fixture(scope="module")
def task_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("task")
    (root / "fns.py").write_text(textwrap.dedent(HANDLERS))
    (root / "broken.py").write_text("raise ImportError('nope')\n")
    return root


def api_for(task_root: Path, handler: str, **options: object) -> LocalRuntimeAPI:
    return LocalRuntimeAPI(
        loop_command(),
        handler=handler,
        task_root=str(task_root),
        output=-3,
        **options,  # type: ignore[arg-type]
    )


def test_local_timeout_reported_as_lambda_and_worker_replaced(task_root: Path) -> None:
    with api_for(task_root, "fns.sleepy", timeout=0.5) as api:
        before = api.invoke(b"{}", wait=20).json()["pid"]
        started = time.monotonic()
        late = api.invoke(b'{"sleep": 5}', wait=20)
        took = time.monotonic() - started
        after = api.invoke(b"{}", wait=20).json()["pid"]
    assert not late.ok
    assert late.error_type == "Sandbox.Timedout"
    assert late.json() == {
        "errorType": "Sandbox.Timedout",
        "errorMessage": f"RequestId: {late.request_id} Error: Task timed out "
        "after 0.50 seconds",
    }
    assert 0.4 < took < 3
    assert after != before  # a new process serves the next invocation


def test_local_worker_death_answers_held_invocation(task_root: Path) -> None:
    with api_for(task_root, "fns.dies") as api:
        died = api.invoke(b'{"die": true}', wait=20)
        again = api.invoke(b"{}", wait=20)
    assert died.json() == {
        "errorType": "Runtime.ExitError",
        "errorMessage": f"RequestId: {died.request_id} Error: Runtime exited "
        "with error: exit status 7",
    }
    assert again.ok


def test_local_init_error_answers_invocation_without_spinning(task_root: Path) -> None:
    with api_for(task_root, "broken.handler") as api:
        time.sleep(1.0)  # the first process fails its init with no work queued
        assert api.workers[0].dormant
        spawned = len(api.workers[0].startup_seconds)
        outcomes = [api.invoke(b"{}", wait=20) for _ in range(2)]
        time.sleep(0.5)
        assert api.workers[0].dormant
        # one process per invocation, none in between
        assert len(api.workers[0].startup_seconds) == spawned
    for outcome in outcomes:
        assert outcome.json() == {
            "errorMessage": "Unable to import module 'broken': nope",
            "errorType": "Runtime.ImportModuleError",
            "requestId": "",
            "stackTrace": [],
        }


def test_local_worker_dying_while_idle_does_not_respawn_in_a_loop(
    task_root: Path,
) -> None:
    with api_for(task_root, "fns.sleepy", env={"EXIT_WHILE_IDLE": "1"}) as api:
        time.sleep(1.5)  # the process reaches /next, then dies idle after 0.2 s
        assert len(api.workers[0].startup_seconds) == 1
        assert api.workers[0].dormant
        outcome = api.invoke(b"{}", wait=20)  # work starts a fresh process
    assert outcome.ok
    assert len(api.workers[0].startup_seconds) == 2


def test_local_workers_serve_concurrently(task_root: Path) -> None:
    with api_for(task_root, "fns.sleepy", workers=2, timeout=10) as api:
        api.invoke(b"{}", wait=20)
        started = time.monotonic()
        futures = [api.submit(b'{"sleep": 1}') for _ in range(2)]
        done, _ = wait(futures, timeout=20)
        took = time.monotonic() - started
    pids = {future.result().json()["pid"] for future in done}
    assert len(pids) == 2
    assert took < 1.9


def test_local_queued_invocations_all_answered(task_root: Path) -> None:
    with api_for(task_root, "fns.sleepy", workers=2) as api:
        futures = [api.submit(json.dumps({"n": i}).encode()) for i in range(40)]
        done, not_done = wait(futures, timeout=60)
    assert not not_done
    assert all(future.result().ok for future in done)
    assert len({future.result().request_id for future in done}) == 40


def test_local_unknown_request_id_refused(task_root: Path) -> None:
    with api_for(task_root, "fns.sleepy") as api:
        port = api.workers[0].port
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request(
            "POST", "/2018-06-01/runtime/invocation/not-an-id/response", body=b"{}"
        )
        answer = connection.getresponse()
        body = json.loads(answer.read())
        connection.close()
    assert answer.status == 400
    assert body["errorType"] == "InvalidRequestID"


def test_local_listens_on_loopback_only(task_root: Path) -> None:
    with api_for(task_root, "fns.sleepy", workers=2) as api:
        for worker in api.workers:
            assert worker.server is not None
            hosts = {sock.getsockname()[0] for sock in worker.server.sockets}
            assert hosts == {"127.0.0.1"}


def test_local_rejects_bad_options(task_root: Path) -> None:
    with pytest.raises(ValueError, match="workers"):
        api_for(task_root, "fns.sleepy", workers=0)
    with pytest.raises(ValueError, match="timeout"):
        api_for(task_root, "fns.sleepy", timeout=0)


def test_local_runs_awslambdaric_unmodified(task_root: Path) -> None:
    try:
        import awslambdaric  # noqa: F401
    except ImportError:
        from tests.conftest import missing

        missing("awslambdaric is not installed")
    command = [sys.executable, "-m", "awslambdaric", "fns.sleepy"]
    with LocalRuntimeAPI(
        command, handler="fns.sleepy", task_root=str(task_root), output=-3
    ) as api:
        outcomes = [api.invoke(b"{}", wait=20) for _ in range(3)]
    assert all(outcome.ok for outcome in outcomes)


# asks for the next invocation twice without answering the first, then
# holds the second until the local API stops it
SKIPS_ANSWER = """
import http.client, os, time
connection = http.client.HTTPConnection(os.environ["AWS_LAMBDA_RUNTIME_API"])
for _ in range(2):
    connection.request("GET", "/2018-06-01/runtime/invocation/next")
    connection.getresponse().read()
time.sleep(60)
"""


def test_local_platform_failures_carry_their_error_type(tmp_path: Path) -> None:
    (tmp_path / "skips.py").write_text(SKIPS_ANSWER)
    api = LocalRuntimeAPI(
        [sys.executable, "skips.py"], handler="x.y", task_root=str(tmp_path)
    )
    with api:
        skipped = api.invoke(b"{}", wait=20)
        held = api.submit(b"{}")
        deadline = time.monotonic() + 10
        while api.workers[0].current is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert api.workers[0].current is not None
    # stopping the API answers what a worker still held: nothing is dropped
    stopped = held.result(timeout=5)

    # the Outcome's error type is the errorType of the error object it holds
    for outcome, error_type in [
        (skipped, "Runtime.InvalidResponse"),
        (stopped, "Runtime.Shutdown"),
    ]:
        assert not outcome.ok
        assert outcome.json()["errorType"] == error_type
        assert outcome.error_type == error_type


class _Writer:
    def __init__(self) -> None:
        self.data = b""

    def write(self, data: bytes) -> None:
        self.data += data


@pytest.mark.parametrize("status", [204, 304])
def test_local_response_without_content_has_no_framing(status: int) -> None:
    # RFC 9110 6.4.1 and 8.6: 204 and 304 carry no content and, for 204, no
    # Content-Length; a body sent anyway would corrupt a kept-alive stream
    writer = _Writer()
    write_response(writer, status, [("X-A", "1")], b"ignored")  # type: ignore[arg-type]
    head, sep, rest = writer.data.partition(b"\r\n\r\n")
    assert (sep, rest) == (b"\r\n\r\n", b"")
    assert b"content-length" not in head.lower()
    assert b"X-A: 1" in head


@pytest.mark.parametrize(
    ("status", "line"),
    [
        (200, b"HTTP/1.1 200 OK"),
        (201, b"HTTP/1.1 201 Created"),
        (503, b"HTTP/1.1 503 Service Unavailable"),
        (504, b"HTTP/1.1 504 Gateway Timeout"),
        (599, b"HTTP/1.1 599 "),
    ],
)
def test_local_response_status_line(status: int, line: bytes) -> None:
    writer = _Writer()
    write_response(writer, status, [], b"x")  # type: ignore[arg-type]
    assert writer.data.split(b"\r\n")[0] == line
    assert writer.data.endswith(b"Content-Length: 1\r\n\r\nx")


def test_local_invoke_refuses_non_bytes_event_up_front(task_root: Path) -> None:
    with api_for(task_root, "fns.sleepy") as api:
        for call in (api.invoke, api.submit):
            with pytest.raises(TypeError, match="bytes"):
                call({"sleep": 0})  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="bytes"):
            api.call(api.invoke_async("{}"), 10)  # type: ignore[arg-type]
        # the API is still fine
        assert api.invoke(b"{}", wait=20).ok


@pytest.mark.parametrize("size", [7_000_000, 30_000_000])
def test_local_oversized_response_is_413_and_the_loop_goes_on(
    task_root: Path, size: int
) -> None:
    import tracemalloc

    with api_for(task_root, "fns.big", timeout=30) as api:
        before = api.invoke(b"{}", wait=30).json()["pid"]
        tracemalloc.start()
        try:
            outcome = api.invoke(json.dumps({"size": size}).encode(), wait=60)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        after = api.invoke(b"{}", wait=30).json()["pid"]
    assert outcome.error_type == "Function.ResponseSizeTooLarge"
    assert outcome.json()["errorType"] == "Function.ResponseSizeTooLarge"
    assert before == after  # the same worker: it got its 413 and went on
    assert peak < 16 * 1024 * 1024  # read and dropped, never buffered whole


def test_local_drain_drops_a_chunked_body_fed_in_pieces() -> None:
    from runtime.local import _Drain

    chunk = b"x" * 70000
    body = b"%x\r\n%s\r\n" % (len(chunk), chunk) * 3 + b"0\r\nX-T: 1\r\n\r\n"
    wire = body + b"GET /next HTTP/1.1\r\n\r\n"
    drain = _Drain("POST", "/x", None)
    pieces = [wire[at : at + 997] for at in range(0, len(wire), 997)]
    rest = None
    while rest is None:
        rest = drain.feed(pieces.pop(0))
    assert rest + b"".join(pieces) == b"GET /next HTTP/1.1\r\n\r\n"


@pytest.mark.parametrize("timeout", [float("nan"), float("inf"), 0.0, -1.0])
def test_local_api_refuses_a_timeout_it_cannot_keep(timeout: float) -> None:
    with pytest.raises(ValueError, match="timeout"):
        LocalRuntimeAPI(loop_command(), handler="x.y", task_root=".", timeout=timeout)
