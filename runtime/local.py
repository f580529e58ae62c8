"""A local Lambda Runtime API (2018-06-01) for running handlers on a workstation.

Theory of operation
-------------------
Lambda gives each execution environment its own Runtime API; so does this
module. Each *worker* is one runtime process (lambdalite's loop, or any other
client such as awslambdaric) with its own endpoint on 127.0.0.1. All workers
take invocations from one queue, so N workers serve N invocations at a time.

- `GET /runtime/invocation/next` waits for the next queued invocation and
  hands it out with Lambda's headers: request id, deadline, invoked function
  ARN, trace id, a fresh `Lambda-Runtime-Invocation-Id` (which runtimes echo
  back on their answer), and the client context, Cognito identity and tenant
  id when the caller gave them.
- `POST .../invocation/{id}/response` and `.../error` answer it (202). A
  response over 6291556 bytes is refused with 413 and the invocation fails with
  `Function.ResponseSizeTooLarge`, as on Lambda.
- `POST /runtime/init/error` records an init failure; the next invocation is
  answered with it, as Lambda answers an invoke whose init failed.
- A handler still running at its deadline is answered with `Sandbox.Timedout`
  ("Task timed out after N.NN seconds") and its process is killed and replaced.
  A process that exits while it holds an invocation has that invocation
  answered with `Runtime.ExitError`: an invocation is never dropped.

A worker that dies without holding an invocation is started again only when
an invocation is waiting; one that died before it ever asked for work (an
init failure) answers one waiting invocation with its init error each time.
So a broken handler cannot make the workers spin.

The server speaks HTTP/1.1 with keep-alive, and listens on 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import contextlib
import functools
import http
import json
import logging
import os
import re
import signal
import sys
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .errors import BadRequest as BadRequest
from .errors import LocalAPIStoppedError

log = logging.getLogger(__name__)

HOST = "127.0.0.1"

# The Runtime API's side of the protocol, written apart from `runtime.loop`'s
# on purpose: each side checks the other in the tests.
API = "/2018-06-01/runtime"
MAX_RESPONSE_BYTES = 6291556
MAX_REQUEST_HEAD = 65536
ERROR_TYPE_HEADER = "lambda-runtime-function-error-type"
INVOCATION_ID_HEADER = "lambda-runtime-invocation-id"


@dataclass
class Outcome:
    """What came of one invocation: a result, or an error object."""

    request_id: str
    payload: bytes
    """The response body, or the error object as JSON."""
    content_type: str = "application/json"
    function_error: str | None = None
    """`Unhandled` when the invocation failed (Lambda's `X-Amz-Function-Error`)."""
    error_type: str | None = None
    """The failure's type: the `Lambda-Runtime-Function-Error-Type` the runtime
    posted (if any), or the platform's own (`Sandbox.Timedout`, ...)."""
    echoed_invocation_id: bool | None = None
    """Whether the runtime's answer carried back `Lambda-Runtime-Invocation-Id`."""

    @property
    def ok(self) -> bool:
        """Whether the handler returned a result."""
        return self.function_error is None

    def json(self) -> Any:
        """The payload decoded as JSON."""
        return json.loads(self.payload)


@dataclass
class Invocation:
    """One queued or running invocation."""

    request_id: str
    event: bytes
    headers: dict[str, str]
    future: asyncio.Future[Outcome]
    worker: Worker | None = None
    timer: asyncio.TimerHandle | None = None
    invocation_id: str = ""


@dataclass
class Worker:
    """One runtime process and the endpoint it talks to."""

    index: int
    port: int = 0
    server: asyncio.Server | None = None
    process: asyncio.subprocess.Process | None = None
    spawned_at: float = 0.0
    first_next_at: float | None = None
    startup_seconds: list[float] = field(default_factory=list)
    current: Invocation | None = None
    init_error: bytes | None = None
    init_error_type: str | None = None
    reached_next: bool = False
    dormant: bool = False
    killed_for_timeout: bool = False
    connections: set[_RuntimeProtocol] = field(default_factory=set)
    peak_rss_kb: int = 0


def error_payload(error_type: str, message: str) -> bytes:
    """An error object as Lambda answers an invoke that the platform failed."""
    body = {"errorType": error_type, "errorMessage": message}
    return json.dumps(body).encode()


class LocalRuntimeAPI:
    """A Runtime API on 127.0.0.1 serving `workers` runtime processes.

    `command` starts one runtime process (`loop_command()` for lambdalite's
    loop); it gets `AWS_LAMBDA_RUNTIME_API`, `_HANDLER`, `LAMBDA_TASK_ROOT` and
    the function's environment. The API runs its own event loop
    (`event_loop`) in a thread; `invoke` can be called from any thread.
    """

    def __init__(
        self,
        command: Sequence[str],
        *,
        handler: str,
        task_root: str,
        workers: int = 1,
        timeout: float = 3.0,
        function_name: str = "local-function",
        memory_mb: int = 128,
        env: dict[str, str] | None = None,
        output: Any = None,
    ) -> None:
        if workers < 1:
            raise ValueError(f"workers must be at least 1, not {workers}")
        if not 0 < timeout < float("inf"):  # NaN fails this too
            raise ValueError(f"timeout must be a positive finite number, not {timeout}")
        self.command = list(command)
        self.handler = handler
        self.task_root = os.path.abspath(task_root)
        self.timeout = timeout
        self.function_name = function_name
        self.memory_mb = memory_mb
        self.extra_env = dict(env or {})
        self.output = output
        self.workers = [Worker(index) for index in range(workers)]
        self.event_loop = asyncio.new_event_loop()
        self._thread: threading.Thread | None = None
        self._pending: collections.deque[Invocation] = collections.deque()
        self._idle: collections.deque[_RuntimeProtocol] = collections.deque()
        self._closing = False
        self._watchers: set[asyncio.Future[None]] = set()
        self._region = os.environ.get("AWS_REGION", "us-east-1")

    # life cycle --------------------------------------------------------------

    def start(self) -> LocalRuntimeAPI:
        """Start the endpoints and the worker processes."""
        self._thread = threading.Thread(
            target=self.event_loop.run_forever, name="local-runtime-api", daemon=True
        )
        self._thread.start()
        self.call(self._start())
        return self

    def close(self) -> None:
        """Stop the workers (SIGTERM, then SIGKILL after 2 s) and the endpoints."""
        if self._thread is None:
            return
        try:
            self.call(self._stop(), timeout=10)
        finally:
            self.event_loop.call_soon_threadsafe(self.event_loop.stop)
            self._thread.join(timeout=5)
            self._thread = None
            self.event_loop.close()

    def __enter__(self) -> LocalRuntimeAPI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def call(self, coroutine: Any, timeout: float | None = None) -> Any:
        """Run a coroutine on the API's loop from another thread."""
        future = asyncio.run_coroutine_threadsafe(coroutine, self.event_loop)
        return future.result(timeout)

    async def _start(self) -> None:
        for worker in self.workers:
            worker.server = await self.event_loop.create_server(
                functools.partial(_RuntimeProtocol, self, worker), HOST, 0
            )
            worker.port = worker.server.sockets[0].getsockname()[1]
            await self._spawn(worker)

    async def _stop(self) -> None:
        self._closing = True
        for worker in self.workers:
            if worker.process is not None and worker.process.returncode is None:
                _signal(worker.process, signal.SIGTERM)
        for worker in self.workers:
            process = worker.process
            if process is not None and process.returncode is None:
                try:
                    await asyncio.wait_for(process.wait(), 2)
                except asyncio.TimeoutError:
                    _signal(process, signal.SIGKILL)
                    await process.wait()
            if process is not None:
                # what the handler started, still in the worker's group
                _signal(process, signal.SIGKILL)
            if worker.server is not None:
                worker.server.close()
            _drop_connections(worker)

        # what a worker held and what waited: answered, never dropped
        held = [w.current for w in self.workers if w.current is not None]
        for worker in self.workers:
            worker.current = None
        for invocation in [*held, *self._pending]:
            _cancel(invocation)
            self._fail(invocation, "Runtime.Shutdown", "The local API stopped.")
        self._pending.clear()

    # workers -----------------------------------------------------------------

    def worker_env(self, worker: Worker) -> dict[str, str]:
        """The environment Lambda would give the runtime process."""
        stream = time.strftime("%Y/%m/%d") + f"/[$LATEST]{uuid.uuid4().hex}"
        env = dict(os.environ)
        env.update(
            {
                "AWS_LAMBDA_RUNTIME_API": f"{HOST}:{worker.port}",
                "_HANDLER": self.handler,
                "LAMBDA_TASK_ROOT": self.task_root,
                "AWS_LAMBDA_FUNCTION_NAME": self.function_name,
                "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(self.memory_mb),
                "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{self.function_name}",
                "AWS_LAMBDA_LOG_STREAM_NAME": stream,
            }
        )
        env.update(self.extra_env)
        return env

    async def _spawn(self, worker: Worker) -> None:
        worker.dormant = False
        worker.reached_next = False
        worker.killed_for_timeout = False
        worker.init_error = None
        worker.init_error_type = None
        worker.first_next_at = None
        worker.spawned_at = time.perf_counter()
        worker.process = await asyncio.create_subprocess_exec(
            *self.command,
            cwd=self.task_root,
            env=self.worker_env(worker),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=self.output,
            stderr=self.output,
            # its own session and process group, so that processes the
            # handler starts are stopped with it (Lambda ends them all)
            start_new_session=True,
        )
        log.debug("worker %d started as pid %d", worker.index, worker.process.pid)
        watcher = asyncio.ensure_future(self._watch(worker, worker.process))
        self._watchers.add(watcher)
        watcher.add_done_callback(self._watchers.discard)

    async def _watch(self, worker: Worker, process: asyncio.subprocess.Process) -> None:
        status = await process.wait()
        _signal(process, signal.SIGKILL)  # anything it left behind
        _drop_connections(worker)
        if self._closing or worker.process is not process:
            return
        log.debug(
            "worker %d (pid %d) exited with %s", worker.index, process.pid, status
        )

        # the invocation it held
        held = worker.current
        worker.current = None
        if held is not None:
            _cancel(held)
            self._fail(
                held,
                "Runtime.ExitError",
                f"RequestId: {held.request_id} Error: Runtime exited "
                f"with error: {_exit_reason(status)}",
            )

        # replaced at once after a timeout or a crash that cost an invocation;
        # otherwise only when there is work, so that a process that keeps
        # dying without taking work cannot make the workers spin
        if worker.killed_for_timeout or held is not None:
            await self._spawn(worker)
            return
        if worker.reached_next:
            if self._pending:
                await self._spawn(worker)
            else:
                worker.dormant = True
            return
        if self._pending:
            self._init_failed(worker, self._pending.popleft(), status)
        if not self._pending:
            worker.dormant = True
        else:
            await self._spawn(worker)

    def _init_failed(self, worker: Worker, waiting: Invocation, status: int) -> None:
        """Answer `waiting` for a worker that exited before asking for work."""
        if worker.init_error is None:
            self._fail(
                waiting,
                "Runtime.ExitError",
                f"RequestId: {waiting.request_id} Error: Runtime exited "
                f"without providing a reason: {_exit_reason(status)}",
            )
            return
        outcome = Outcome(
            waiting.request_id,
            worker.init_error,
            function_error="Unhandled",
            error_type=worker.init_error_type,
        )
        self._answer(waiting, outcome)

    def _expire(self, invocation: Invocation) -> None:
        worker = invocation.worker
        if worker is None or worker.current is not invocation:
            return
        worker.current = None
        worker.killed_for_timeout = True
        self._fail(
            invocation,
            "Sandbox.Timedout",
            f"RequestId: {invocation.request_id} Error: Task timed out "
            f"after {self.timeout:.2f} seconds",
        )
        if worker.process is not None and worker.process.returncode is None:
            _signal(worker.process, signal.SIGKILL)

    def _answer(self, invocation: Invocation, outcome: Outcome) -> None:
        if not invocation.future.done():
            invocation.future.set_result(outcome)

    def _fail(self, invocation: Invocation, error_type: str, message: str) -> None:
        """Answer `invocation` with an error of the platform's, not the runtime's."""
        outcome = Outcome(
            invocation.request_id,
            error_payload(error_type, message),
            function_error="Unhandled",
            error_type=error_type,
        )
        self._answer(invocation, outcome)

    # invocations -------------------------------------------------------------

    async def invoke_async(
        self,
        event: bytes,
        *,
        client_context: str | None = None,
        identity: str | None = None,
        tenant_id: str | None = None,
    ) -> Outcome:
        """Queue one invocation and wait for its outcome (on the API's loop)."""
        event = _event_bytes(event)
        headers = {}
        if client_context is not None:
            headers["Lambda-Runtime-Client-Context"] = client_context
        if identity is not None:
            headers["Lambda-Runtime-Cognito-Identity"] = identity
        if tenant_id is not None:
            headers["Lambda-Runtime-Aws-Tenant-Id"] = tenant_id
        invocation = self._queue(event, headers)
        worker = self._wake()
        if worker is not None:
            await self._spawn(worker)
        return await invocation.future

    def enqueue(self, event: bytes) -> asyncio.Future[Outcome]:
        """Queue one invocation from the API's own loop; no task per call."""
        event = _event_bytes(event)
        invocation = self._queue(event, {})
        worker = self._wake()
        if worker is not None:
            spawn = asyncio.ensure_future(self._spawn(worker))
            self._watchers.add(spawn)
            spawn.add_done_callback(self._watchers.discard)
        return invocation.future

    def invoke(
        self,
        event: bytes,
        *,
        client_context: str | None = None,
        identity: str | None = None,
        tenant_id: str | None = None,
        wait: float | None = None,
    ) -> Outcome:
        """Queue one invocation and wait for its outcome (from any thread)."""
        event = _event_bytes(event)
        coroutine = self.invoke_async(
            event,
            client_context=client_context,
            identity=identity,
            tenant_id=tenant_id,
        )
        outcome: Outcome = self.call(coroutine, wait)
        return outcome

    def submit(self, event: bytes) -> concurrent.futures.Future[Outcome]:
        """Queue one invocation; its outcome arrives on the returned future."""
        event = _event_bytes(event)
        return asyncio.run_coroutine_threadsafe(
            self.invoke_async(event), self.event_loop
        )

    def peak_rss_kb(self) -> list[int]:
        """Each live worker's peak resident memory (VmHWM), in KiB."""
        peaks = []
        for worker in self.workers:
            if worker.process is not None and worker.process.returncode is None:
                worker.peak_rss_kb = max(
                    worker.peak_rss_kb, _peak_rss_kb(worker.process.pid)
                )
            peaks.append(worker.peak_rss_kb)
        return peaks

    # the protocol ------------------------------------------------------------

    def _queue(self, event: bytes, headers: dict[str, str]) -> Invocation:
        """A new invocation, handed to a runtime waiting on `/next` or queued."""
        if self._closing:
            raise LocalAPIStoppedError("the local Runtime API is stopped")
        invocation = Invocation(
            str(uuid.uuid4()), event, headers, self.event_loop.create_future()
        )
        while self._idle:
            connection = self._idle.popleft()
            if connection.open:
                self._hand_out(connection, invocation)
                return invocation
        self._pending.append(invocation)
        return invocation

    def _wake(self) -> Worker | None:
        """A dormant worker, no longer marked dormant, to be spawned for work."""
        for worker in self.workers:
            if worker.dormant:
                worker.dormant = False
                return worker
        return None

    def _route(
        self,
        connection: _RuntimeProtocol,
        method: str,
        target: str,
        headers: list[tuple[str, str]],
        body: bytes,
    ) -> tuple[int, list[tuple[str, str]], bytes] | None:
        """The answer to one request, or None when `GET /next` must wait."""
        worker = connection.worker
        path = target.split("?", 1)[0]
        if method == "GET" and path == f"{API}/invocation/next":
            self._next(connection)
            return None
        if method == "POST" and path == f"{API}/init/error":
            worker.init_error = body
            worker.init_error_type = _header(headers, ERROR_TYPE_HEADER)
            return _accepted()
        prefix = f"{API}/invocation/"
        if method == "POST" and path.startswith(prefix):
            request_id, _, kind = path[len(prefix) :].partition("/")
            if kind in ("response", "error"):
                return self._post(worker, request_id, kind, headers, body)
        return _json_answer(404, {"errorMessage": "Not found", "errorType": "NotFound"})

    def _next(self, connection: _RuntimeProtocol) -> None:
        worker = connection.worker
        if worker.first_next_at is None:
            worker.first_next_at = time.perf_counter()
            worker.startup_seconds.append(worker.first_next_at - worker.spawned_at)
        worker.reached_next = True
        if worker.current is not None:
            # asking for more work answers nothing: the held one failed
            held = worker.current
            worker.current = None
            _cancel(held)
            self._fail(
                held,
                "Runtime.InvalidResponse",
                "The runtime asked for the next invocation without answering this one.",
            )
        if self._pending:
            self._hand_out(connection, self._pending.popleft())
        else:
            connection.parked = True
            self._idle.append(connection)

    def _hand_out(self, connection: _RuntimeProtocol, invocation: Invocation) -> None:
        worker = connection.worker
        invocation.worker = worker
        invocation.invocation_id = str(uuid.uuid4())
        worker.current = invocation
        deadline = time.time() + self.timeout
        invocation.timer = self.event_loop.call_at(
            self.event_loop.time() + self.timeout, self._expire, invocation
        )
        headers = [
            ("Content-Type", "application/json"),
            ("Lambda-Runtime-Aws-Request-Id", invocation.request_id),
            ("Lambda-Runtime-Deadline-Ms", str(int(deadline * 1000))),
            ("Lambda-Runtime-Invoked-Function-Arn", self.function_arn()),
            ("Lambda-Runtime-Trace-Id", _trace_id()),
            ("Lambda-Runtime-Invocation-Id", invocation.invocation_id),
        ]
        headers.extend(invocation.headers.items())
        connection.parked = False
        connection.send(200, headers, invocation.event)
        connection.process()

    def function_arn(self) -> str:
        """The ARN handed to the handler; the account id is a placeholder."""
        return (
            f"arn:aws:lambda:{self._region}:000000000000:function:{self.function_name}"
        )

    def _post(
        self,
        worker: Worker,
        request_id: str,
        kind: str,
        headers: list[tuple[str, str]],
        body: bytes,
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        invocation = worker.current
        if invocation is None or invocation.request_id != request_id:
            return _json_answer(
                400,
                {"errorMessage": "Invalid request ID", "errorType": "InvalidRequestID"},
            )
        worker.current = None
        _cancel(invocation)
        echoed = _header(headers, INVOCATION_ID_HEADER) == invocation.invocation_id

        if kind == "error":
            outcome = Outcome(
                request_id,
                body,
                function_error="Unhandled",
                error_type=_header(headers, ERROR_TYPE_HEADER),
                echoed_invocation_id=echoed,
            )
            self._answer(invocation, outcome)
            return _accepted()
        if len(body) > MAX_RESPONSE_BYTES:
            return self._too_large(invocation)
        content_type = _header(headers, "content-type") or "application/json"
        outcome = Outcome(request_id, body, content_type, echoed_invocation_id=echoed)
        self._answer(invocation, outcome)
        return _accepted()

    def _too_large(
        self, invocation: Invocation | None
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        """Lambda's 413, the invocation (if any) failed as too large."""
        if invocation is not None:
            message = (
                "Response payload size exceeded maximum allowed payload size "
                f"({MAX_RESPONSE_BYTES} bytes)."
            )
            self._fail(invocation, "Function.ResponseSizeTooLarge", message)
        return _json_answer(
            413,
            {
                "errorMessage": "Exceeded maximum allowed payload size "
                f"({MAX_RESPONSE_BYTES} bytes).",
                "errorType": "RequestEntityTooLarge",
            },
        )

    def _route_too_large(
        self, connection: _RuntimeProtocol, method: str, target: str
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        """The answer to a request whose body was too large and was dropped."""
        worker = connection.worker
        held = worker.current
        path = target.split("?", 1)[0]
        prefix = f"{API}/invocation/"
        if method == "POST" and path.startswith(prefix) and held is not None:
            request_id, _, kind = path[len(prefix) :].partition("/")
            if kind in ("response", "error") and request_id == held.request_id:
                worker.current = None
                _cancel(held)
                return self._too_large(held)
        return self._too_large(None)


class _RuntimeProtocol(asyncio.Protocol):
    """One runtime's connection: requests parsed as they arrive, no task each.

    Written on the protocol level rather than asyncio streams because the
    local API sits on the benchmark's critical path: every invocation is two
    requests, and a stream task per connection costs more than the parsing.
    """

    def __init__(self, api: LocalRuntimeAPI, worker: Worker) -> None:
        self.api = api
        self.worker = worker
        self.transport: asyncio.Transport | None = None
        self.buffer = b""
        self.parked = False
        self.open = False
        self.drain: _Drain | None = None
        """Set while the body of a too-large request is read and dropped."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.open = True
        self.worker.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.open = False
        self.parked = False
        self.worker.connections.discard(self)

    def data_received(self, data: bytes) -> None:
        if self.drain is not None:
            self._drained(data)
            return
        self.buffer += data
        self.process()

    def process(self) -> None:
        """Answer every complete request in the buffer, unless parked on /next."""
        while self.open and not self.parked and self.drain is None:
            try:
                request = _parse_request(self.buffer)
            except _TooLarge as too_large:
                # read and drop the body, then answer 413: a runtime that is
                # still sending would see its connection reset otherwise
                self.drain = too_large.drain
                rest, self.buffer = self.buffer[too_large.body_start :], b""
                self._drained(rest)
                return
            except BadRequest as exc:
                self.send(*_json_answer(400, {"message": str(exc)}))
                self.close()
                return
            if request is None:
                return
            (method, target, headers, body), used = request
            self.buffer = self.buffer[used:]
            answer = self.api._route(self, method, target, headers, body)
            if answer is not None:
                self.send(*answer)

    def _drained(self, data: bytes) -> None:
        """Feed the body being dropped; answer once it has all arrived."""
        drain = self.drain
        assert drain is not None
        try:
            rest = drain.feed(data)
        except BadRequest as exc:
            self.drain = None
            if drain.total > MAX_DRAINED_BYTES:
                self.send(*self.api._route_too_large(self, drain.method, drain.target))
            else:
                self.send(*_json_answer(400, {"message": str(exc)}))
            self.close()
            return
        if rest is None:
            return
        self.drain = None
        self.buffer = rest
        self.send(*self.api._route_too_large(self, drain.method, drain.target))
        self.process()

    def send(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        """Write one response."""
        if self.transport is not None and self.open:
            self.transport.write(_response_bytes(status, headers, body))

    def close(self) -> None:
        """Close the connection."""
        self.open = False
        if self.transport is not None:
            self.transport.close()


def _event_bytes(event: object) -> bytes:
    """`event` as bytes; a `TypeError` in the caller's thread for anything else."""
    if isinstance(event, bytes | bytearray | memoryview):
        return bytes(event)
    raise TypeError(
        f"an event is JSON-encoded bytes, not {type(event).__name__}; "
        "pass json.dumps(event).encode()"
    )


def _drop_connections(worker: Worker) -> None:
    for connection in list(worker.connections):
        connection.close()
    worker.connections.clear()


MAX_DRAINED_BYTES = 1024 * 1024 * 1024
"""How much of a too-large body is read and dropped before the connection is
closed instead: far more than a runtime would send, and no memory held."""


class _Drain:
    """Reads a body without keeping it: `Content-Length` bytes, or chunks."""

    def __init__(self, method: str, target: str, length: int | None) -> None:
        self.method = method
        self.target = target
        self.left = length if length is not None else 0
        self.chunked = length is None
        self.state = "size"  # chunked: size line, data (with its CRLF), trailer
        self.line = b""
        self.total = 0

    def feed(self, data: bytes) -> bytes | None:
        """Drop what belongs to the body; the bytes after it once it ended."""
        self.total += len(data)
        if self.total > MAX_DRAINED_BYTES:
            raise BadRequest("the request body is far too large")
        if not self.chunked:
            if len(data) < self.left:
                self.left -= len(data)
                return None
            rest = data[self.left :]
            self.left = 0
            return rest
        return self._feed_chunked(data)

    def _feed_chunked(self, data: bytes) -> bytes | None:
        at = 0
        while at < len(data):
            if self.state == "data":
                step = min(self.left, len(data) - at)
                self.left -= step
                at += step
                if self.left == 0:
                    self.state = "size"
                continue
            end = data.find(b"\n", at)
            if end < 0:
                self.line += data[at:]
                if len(self.line) > MAX_REQUEST_HEAD:
                    raise BadRequest("a chunk size line is too long")
                return None
            line = (self.line + data[at:end]).rstrip(b"\r")
            self.line = b""
            at = end + 1
            if self.state == "trailer":
                if not line:
                    return data[at:]
                continue
            size = _chunk_size(line)
            if size == 0:
                self.state = "trailer"
            else:
                self.state, self.left = "data", size + 2
        return None


class _TooLarge(Exception):
    """A request whose body is over the limit; its body starts at `body_start`."""

    def __init__(self, drain: _Drain, body_start: int) -> None:
        super().__init__("request body too large")
        self.drain = drain
        self.body_start = body_start


def _chunk_size(line: bytes) -> int:
    """The size on a chunk's first line (hex digits, extensions ignored)."""
    digits = line.split(b";", 1)[0].strip()
    if not digits or len(digits) > 16 or digits.strip(b"0123456789abcdefABCDEF"):
        raise BadRequest("bad chunk size")
    return int(digits, 16)


def _parse_request(
    buffer: bytes,
) -> tuple[tuple[str, str, list[tuple[str, str]], bytes], int] | None:
    """One complete request at the start of `buffer` and its length, or None.

    `_TooLarge` when its body is over the runtime's response limit.
    """
    head_end = buffer.find(b"\r\n\r\n")
    if head_end < 0:
        if len(buffer) > MAX_REQUEST_HEAD:
            raise BadRequest("the request head is too long")
        return None
    method, target, _, headers = _request_head(buffer[:head_end])
    framing = _framing(headers)
    chunked = framing is None
    length = framing or 0
    start = head_end + 4
    if chunked:
        decoded = _dechunk(buffer, start)
        if decoded is None:
            if len(buffer) - start > MAX_RESPONSE_BYTES + MAX_REQUEST_HEAD:
                raise _TooLarge(_Drain(method, target, None), start)
            return None
        body, end = decoded
    elif length > MAX_RESPONSE_BYTES:
        raise _TooLarge(_Drain(method, target, length), start)
    else:
        end = start + length
        if len(buffer) < end:
            return None
        body = buffer[start:end]
    return (method, target, headers, body), end


def _request_head(head: bytes) -> tuple[str, str, str, list[tuple[str, str]]]:
    """Method, target, version and header lines of a request head (no blank line).

    Lines may end in CRLF or a bare LF (RFC 9112 2.2 lets a server accept it).
    """
    return _head_fields([line.removesuffix(b"\r") for line in head.split(b"\n")])


_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_VERSION = re.compile(rb"HTTP/1\.[01]")


def _head_fields(lines: list[bytes]) -> tuple[str, str, str, list[tuple[str, str]]]:
    """Method, target, version and headers from a head's lines (ends removed).

    The target is decoded as UTF-8, as API Gateway reads a path; header
    values as UTF-8 too, or as Latin-1 when they are not UTF-8. Messages
    never quote the request: a target may carry a token.
    """
    if any(b"\r" in line or b"\x00" in line for line in lines):
        raise BadRequest("the request head holds a bare CR or a NUL")
    parts = lines[0].split(b" ")
    if (
        len(parts) != 3
        or not _TOKEN.fullmatch(parts[0])
        or not _VERSION.fullmatch(parts[2])
    ):
        raise BadRequest("the request line is not METHOD TARGET HTTP/1.x")
    try:
        target = parts[1].decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("the request target is not UTF-8") from None
    if not target or any(c <= " " or c == "\x7f" for c in target):
        raise BadRequest("the request target is empty or holds spaces")
    headers: list[tuple[str, str]] = []
    for line in lines[1:]:
        name, sep, value = line.partition(b":")
        if not sep or not _TOKEN.fullmatch(name):
            # no colon, a folded line, or white space before the colon
            # (RFC 9112 5.1 and 5.2)
            raise BadRequest("a header line is not NAME: VALUE")
        raw = value.strip(b" \t")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("latin-1")
        headers.append((name.decode("ascii"), text))
    version = parts[2].decode("ascii")
    if not target.startswith("/"):
        target, headers = _absolute_form(target, headers)
    # RFC 9112 3.2: one Host, and HTTP/1.1 must send it
    hosts = sum(1 for name, _ in headers if name.lower() == "host")
    if hosts > 1 or (hosts == 0 and version != "HTTP/1.0"):
        raise BadRequest("the request must carry exactly one Host header")
    return parts[0].decode("ascii"), target, version, headers


def _absolute_form(
    target: str, headers: list[tuple[str, str]]
) -> tuple[str, list[tuple[str, str]]]:
    """The origin-form target and headers of an absolute-form request.

    RFC 9112 3.2.2: a server accepts `GET http://host/path`, takes the path
    and replaces any Host header with the target's authority. Other forms
    (`*`, `host:port`, other schemes) are refused, and the message never
    quotes the target, which may carry a token.
    """
    scheme, sep, rest = target.partition("://")
    if not sep or scheme.lower() not in ("http", "https"):
        raise BadRequest("the request target is neither a path nor an http URL")
    cut = min([at for at in (rest.find("/"), rest.find("?")) if at >= 0] or [-1])
    authority, path = (rest, "/") if cut < 0 else (rest[:cut], rest[cut:])
    if not authority or "@" in authority:
        raise BadRequest("the request target's URL has no host, or user information")
    if not path.startswith("/"):
        path = "/" + path
    kept = [(name, value) for name, value in headers if name.lower() != "host"]
    return path, [*kept, ("Host", authority)]


def _framing(headers: list[tuple[str, str]]) -> int | None:
    """The body's `Content-Length`, or None when it is chunked (RFC 9112 6).

    A request with both, with two different lengths, or with a transfer coding
    other than `chunked` is refused: a proxy in front could frame it another
    way (request smuggling).
    """
    lengths: set[str] = set()
    codings: list[str] = []
    for name, value in headers:
        lowered = name.lower()
        if lowered == "content-length":
            lengths.update(part.strip() for part in value.split(","))
        elif lowered == "transfer-encoding":
            codings.extend(c.strip().lower() for c in value.split(",") if c.strip())
    if codings and lengths:
        raise BadRequest("the request has both Content-Length and Transfer-Encoding")
    if codings:
        if codings != ["chunked"]:
            raise BadRequest("only the chunked transfer coding is supported", 501)
        return None
    if not lengths:
        return 0
    if len(lengths) > 1:
        raise BadRequest("the request has different Content-Length values")
    length = lengths.pop()
    if not length.isascii() or not length.isdigit():
        raise BadRequest("the Content-Length is not a number")
    if len(length) > 18:
        raise BadRequest("the request body is too large", 413)
    return int(length)


def _dechunk(buffer: bytes, at: int) -> tuple[bytes, int] | None:
    chunks: list[bytes] = []
    while True:
        line_end = buffer.find(b"\r\n", at)
        if line_end < 0:
            return None
        size = _chunk_size(buffer[at:line_end])
        at = line_end + 2
        if size == 0:
            trailer_end = buffer.find(b"\r\n\r\n", line_end)
            if buffer[at : at + 2] == b"\r\n":
                return b"".join(chunks), at + 2
            if trailer_end < 0:
                return None
            return b"".join(chunks), trailer_end + 4
        if len(buffer) < at + size + 2:
            return None
        chunks.append(buffer[at : at + size])
        at += size + 2


# HTTP/1.1 on asyncio streams ---------------------------------------------------


MAX_HEAD_LINES = 200


@dataclass
class Request:
    """One HTTP request read by a local server."""

    method: str
    target: str
    headers: list[tuple[str, str]]
    body: bytes
    version: str = "HTTP/1.1"

    def keeps_alive(self) -> bool:
        """Whether the connection stays open after the answer (RFC 9112 9.3)."""
        tokens = {
            token.strip().lower()
            for name, value in self.headers
            if name.lower() == "connection"
            for token in value.split(",")
        }
        if "close" in tokens:
            return False
        return self.version != "HTTP/1.0" or "keep-alive" in tokens


async def read_request(
    reader: asyncio.StreamReader,
    *,
    max_body: int = 64 * 1024 * 1024,
    writer: asyncio.StreamWriter | None = None,
) -> Request | None:
    """Read one request; None at a clean end of stream.

    `BadRequest` (with the status to answer: 400, 413 for a body over
    `max_body`, 501 for a transfer coding other than chunked) when it is not
    one we serve. With `writer`, a request that says `Expect: 100-continue`
    (curl does for bodies over 1 KiB) gets its interim `100 Continue` once
    its head has been accepted, before the body is read.
    """
    lines = await _read_head(reader)
    if lines is None:
        return None
    method, target, version, headers = _head_fields(lines)
    length = _framing(headers)
    if length is not None and length > max_body:
        raise BadRequest("the request body is too large", 413)

    # body
    expect = (_header(headers, "expect") or "").lower()
    if writer is not None and expect == "100-continue":
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
    if length is None:
        body = await _read_chunked(reader, max_body)
    else:
        body = await reader.readexactly(length)
    return Request(method, target, headers, body, version)


async def _read_head(reader: asyncio.StreamReader) -> list[bytes] | None:
    """The head's lines without their ends, or None at a clean end of stream."""
    lines: list[bytes] = []
    size = 0
    while len(lines) <= MAX_HEAD_LINES:
        line = await _read_line(reader, started=bool(lines))
        if line is None:
            return None
        size += len(line)
        if size > MAX_REQUEST_HEAD:
            raise BadRequest("the request head is too long")
        line = line.removesuffix(b"\n").removesuffix(b"\r")
        if not line:
            if lines:
                return lines
            continue  # an empty line before the request line is ignored
        lines.append(line)
    raise BadRequest("the request head has too many lines")


async def _read_line(reader: asyncio.StreamReader, *, started: bool) -> bytes | None:
    try:
        return await reader.readuntil(b"\n")
    except asyncio.IncompleteReadError as exc:
        if not started and not exc.partial.strip():
            return None
        raise BadRequest("the request ended inside its head") from exc
    except asyncio.LimitOverrunError as exc:
        raise BadRequest("a request line is too long") from exc


async def _read_chunked(reader: asyncio.StreamReader, max_body: int) -> bytes:
    chunks: list[bytes] = []
    total = 0
    while True:
        line = await _read_line(reader, started=True) or b""
        size = _chunk_size(line.rstrip(b"\r\n"))
        if size == 0:
            for _ in range(MAX_HEAD_LINES):  # the trailer, dropped
                if (await _read_line(reader, started=True) or b"").strip() == b"":
                    return b"".join(chunks)
            raise BadRequest("the chunked body's trailer is too long")
        total += size
        if total > max_body:
            raise BadRequest("the request body is too large", 413)
        chunks.append(await reader.readexactly(size))
        if (await _read_line(reader, started=True) or b"").strip() != b"":
            raise BadRequest("a chunk is longer than its size says")


_LINE_BREAK = re.compile(r"[\r\n\x00]")
_REASONS = {status.value: status.phrase for status in http.HTTPStatus}


def write_response(
    writer: asyncio.StreamWriter,
    status: int,
    headers: list[tuple[str, str]],
    body: bytes,
) -> None:
    """Write one HTTP/1.1 response, framed by Content-Length where it has content."""
    writer.write(_response_bytes(status, headers, body))


def _response_bytes(status: int, headers: list[tuple[str, str]], body: bytes) -> bytes:
    head = [f"HTTP/1.1 {status} {_REASONS.get(status, '')}"]
    for name, value in headers:
        # the last guard against response splitting: callers check first
        if _LINE_BREAK.search(name) or _LINE_BREAK.search(value):
            raise ValueError(f"header {name!r} holds CR, LF or NUL")
        head.append(f"{name}: {value}")
    if status in (204, 304) or status < 200:
        # no content, so no framing (RFC 9110 6.4.1): a body would be read
        # as the start of the next response
        body = b""
    else:
        head.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(head) + "\r\n\r\n").encode("utf-8") + body


def _header(headers: list[tuple[str, str]], name: str) -> str | None:
    for key, value in headers:
        if key.lower() == name:
            return value
    return None


def _accepted() -> tuple[int, list[tuple[str, str]], bytes]:
    return _json_answer(202, {"status": "OK"})


def _json_answer(
    status: int, body: dict[str, Any]
) -> tuple[int, list[tuple[str, str]], bytes]:
    return status, [("Content-Type", "application/json")], json.dumps(body).encode()


def _cancel(invocation: Invocation) -> None:
    if invocation.timer is not None:
        invocation.timer.cancel()
        invocation.timer = None


def _trace_id() -> str:
    root = f"1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]}"
    return f"Root={root};Parent={uuid.uuid4().hex[:16]};Sampled=0"


def _exit_reason(status: int) -> str:
    if status < 0:
        try:
            name = signal.Signals(-status).name.removeprefix("SIG").lower()
        except ValueError:
            name = str(-status)
        return f"signal: {name}"
    return f"exit status {status}"


def _signal(process: asyncio.subprocess.Process, signum: int) -> None:
    """Signal a worker's process group: the worker and what it started.

    Each worker leads its own group (its pid is the group's id), so the
    signal reaches nothing that lambdalite did not start.
    """
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signum)


def _peak_rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def loop_command() -> list[str]:
    """The command that starts lambdalite's own loop in a worker."""
    return [sys.executable, "-m", "runtime"]
