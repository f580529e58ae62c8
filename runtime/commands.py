"""The runtime's subcommands of `lambdalite`: invoke, serve, package.

`invoke` and `serve` run the handler the way Lambda does: in a child process
running the real loop (`python -m runtime`), fed by the local Runtime API
(`runtime.local`). `serve` puts a local API Gateway in front: each HTTP request
becomes an API Gateway event (`runtime.gateway`) and the handler's result
becomes the HTTP response.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from . import package
from .errors import BadRequest, LocalAPIStoppedError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .local import LocalRuntimeAPI, Request

DEFAULT_TIMEOUT = 3.0
"""Lambda's default function timeout, in seconds."""
MAX_TIMEOUT = 900.0
"""Lambda's longest function timeout, in seconds (15 minutes)."""
MAX_WORKERS = 64
"""More worker processes than a workstation would want."""


def _timeout(text: str) -> float:
    """`--timeout`: seconds, finite, over 0 and at most Lambda's 900."""
    import math

    try:
        seconds = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not math.isfinite(seconds) or not 0 < seconds <= MAX_TIMEOUT:
        raise argparse.ArgumentTypeError(
            f"must be over 0 and at most {MAX_TIMEOUT:g} seconds "
            f"(Lambda's limit), not {text!r}"
        )
    return seconds


def _port(text: str) -> int:
    """`--port`: 1 to 65535, or 0 for any free port."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(
            f"must be 1 to 65535 (0: any free port), not {text!r}"
        )
    return port


def _workers(text: str) -> int:
    """`--workers`: 1 to MAX_WORKERS processes."""
    try:
        workers = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if not 1 <= workers <= MAX_WORKERS:
        raise argparse.ArgumentTypeError(f"must be 1 to {MAX_WORKERS}, not {text!r}")
    return workers


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add the runtime's subcommands; each sets `run` to its handler."""
    invoke = sub.add_parser(
        "invoke",
        help="run one event through a handler in the real loop, print the result",
        description="Run one event through HANDLER (module.function or "
        "path/module.function, as Lambda's _HANDLER) in a child process running "
        "lambdalite's loop; print the result, or the error object and exit 1.",
    )
    invoke.add_argument("handler", metavar="HANDLER")
    invoke.add_argument(
        "--event", metavar="FILE", help="JSON event file, '-' for stdin (default {})"
    )
    _common_options(invoke)
    invoke.set_defaults(run=run_invoke)

    serve = sub.add_parser(
        "serve",
        help="serve a handler behind a local API Gateway",
        description="Serve HANDLER behind a local API Gateway (on 127.0.0.1 "
        "unless --host says otherwise): each "
        "HTTP request becomes an HTTP API (2.0) or REST API (1.0) event handled "
        "by lambdalite's loop in worker processes.",
    )
    serve.add_argument("handler", metavar="HANDLER")
    serve.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1; a non-loopback address "
        "makes the dev server reachable from the network)",
    )
    serve.add_argument(
        "--port", type=_port, default=3000, help="default 3000; 0: any free port"
    )
    serve.add_argument(
        "--format",
        choices=("v2", "v1"),
        default="v2",
        help="v2: HTTP API events (default); v1: REST API proxy events",
    )
    serve.add_argument(
        "--workers",
        type=_workers,
        default=2,
        help=f"worker processes, 1 to {MAX_WORKERS} (default 2)",
    )
    _common_options(serve)
    serve.set_defaults(run=run_serve)

    package.register(sub)


def _common_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--timeout",
        type=_timeout,
        default=DEFAULT_TIMEOUT,
        help=f"function timeout in seconds, at most {MAX_TIMEOUT:g} "
        f"(default {DEFAULT_TIMEOUT:g}, Lambda's)",
    )
    parser.add_argument(
        "--task-root",
        default=".",
        help="the function's code directory, LAMBDA_TASK_ROOT (default .)",
    )
    parser.add_argument(
        "--runtime",
        choices=("lambdalite", "awslambdaric"),
        default="lambdalite",
        help="the loop in the workers: lambdalite's (default) or AWS's awslambdaric",
    )


def worker_command(runtime: str, handler: str) -> list[str]:
    """The command line of one worker process."""
    if runtime == "awslambdaric":
        return [sys.executable, "-m", "awslambdaric", handler]
    from .local import loop_command

    return loop_command()


def _local_api(args: argparse.Namespace, **options: Any) -> LocalRuntimeAPI:
    from .local import LocalRuntimeAPI

    return LocalRuntimeAPI(
        worker_command(args.runtime, args.handler),
        handler=args.handler,
        task_root=args.task_root,
        timeout=args.timeout,
        function_name=_function_name(args.handler),
        **options,
    )


def _check(args: argparse.Namespace) -> str | None:
    if not os.path.isdir(args.task_root):
        return f"--task-root {args.task_root!r} is not a directory"
    return None


def is_loopback(host: str) -> bool:
    """Whether `host` names this machine's loopback interface only.

    `localhost` counts (RFC 6761 keeps it on the loopback); any other name,
    and the empty host (every interface), does not.
    """
    import ipaddress

    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _function_name(handler: str) -> str:
    return handler.rsplit(".", 1)[0].replace("/", "-").replace(".", "-") or "local"


def run_invoke(args: argparse.Namespace) -> int:
    """`lambdalite invoke`: one event, one child process, the outcome printed."""
    problem = _check(args)
    if problem:
        print(f"lambdalite invoke: {problem}", file=sys.stderr)
        return 2
    try:
        if args.event in (None, ""):
            event = b"{}"
        elif args.event == "-":
            event = sys.stdin.buffer.read()
        else:
            with open(args.event, "rb") as file:
                event = file.read()
        json.loads(event)
    except OSError as exc:
        print(f"lambdalite invoke: cannot read the event: {exc}", file=sys.stderr)
        return 2
    except ValueError as exc:
        print(f"lambdalite invoke: the event is not JSON: {exc}", file=sys.stderr)
        return 2

    with _local_api(args, output=sys.stderr.fileno()) as api:
        outcome = api.invoke(event, wait=args.timeout + 30)
    sys.stdout.buffer.write(outcome.payload + b"\n")
    sys.stdout.flush()
    return 0 if outcome.ok else 1


def run_serve(args: argparse.Namespace) -> int:
    """`lambdalite serve`: a local API Gateway until interrupted."""
    import signal
    import threading

    problem = _check(args)
    if problem:
        print(f"lambdalite serve: {problem}", file=sys.stderr)
        return 2
    if not is_loopback(args.host):
        print(
            f"lambdalite serve: warning: --host {args.host!r} is not a loopback "
            "address: the dev server is reachable from the network",
            file=sys.stderr,
        )

    # warnings from the gateway (a malformed result) reach the terminal
    import logging

    logging.basicConfig(format="lambdalite serve: %(message)s", level=logging.WARNING)

    api = _local_api(args, workers=args.workers)
    version = "1.0" if args.format == "v1" else "2.0"
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    with api:
        gateway = Gateway(api, version=version)
        try:
            address = api.call(gateway.start(args.host, args.port), timeout=10)
        except OSError as exc:
            print(f"lambdalite serve: cannot listen: {exc}", file=sys.stderr)
            return 1
        kind = "REST API (1.0)" if version == "1.0" else "HTTP API (2.0)"
        print(
            f"lambdalite serve: {args.handler} as an {kind} on "
            f"http://{address[0]}:{address[1]}/ with {args.workers} worker(s)",
            file=sys.stderr,
            flush=True,
        )
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
        api.call(gateway.stop(), timeout=10)
    return 0


MAX_BODY = 10 * 1024 * 1024
"""API Gateway's payload limit, 10 MB, for REST and HTTP APIs alike."""
READ_TIMEOUT = 30.0
"""Seconds a client has to send a whole request (head and body)."""
_LINGER_SECONDS = 2.0
_LINGER_BYTES = 64 * 1024 * 1024


class Gateway:
    """The HTTP front of `serve`: requests to events, results to responses.

    A request over API Gateway's 10 MB limit is answered 413; one that is not
    HTTP/1.1 as RFC 9112 frames it (both `Content-Length` and
    `Transfer-Encoding`, two lengths, a bad chunk) 400; one that takes more
    than `read_timeout` seconds to arrive has its connection closed.
    """

    def __init__(
        self,
        api: LocalRuntimeAPI,
        *,
        version: str,
        max_body: int = MAX_BODY,
        read_timeout: float = READ_TIMEOUT,
    ) -> None:
        self.api = api
        self.version = version
        self.max_body = max_body
        self.read_timeout = read_timeout
        self.server: Any = None
        self._tasks: set[Any] = set()

    async def start(self, host: str, port: int) -> tuple[str, int]:
        """Listen on host:port; answer the address actually bound."""
        import asyncio

        self.server = await asyncio.start_server(self._connection, host, port)
        bound: tuple[str, int] = self.server.sockets[0].getsockname()[:2]
        return bound

    async def stop(self) -> None:
        """Stop listening and drop open connections."""
        import asyncio

        if self.server is not None:
            self.server.close()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _connection(self, reader: Any, writer: Any) -> None:
        import asyncio

        from .local import read_request, write_response

        task = asyncio.current_task()
        self._tasks.add(task)
        peer = writer.get_extra_info("peername") or ("127.0.0.1", 0)
        try:
            while True:
                try:
                    request = await asyncio.wait_for(
                        read_request(reader, max_body=self.max_body, writer=writer),
                        self.read_timeout,
                    )
                except TimeoutError:
                    break  # too slow, or idle: the connection is closed
                except BadRequest as exc:
                    await self._refuse(reader, writer, exc)
                    break
                if request is None:
                    break
                status, headers, body = await self.exchange(request, peer[0])
                close = not request.keeps_alive()
                if close:
                    headers = [*headers, ("Connection", "close")]
                elif request.version == "HTTP/1.0":
                    # an HTTP/1.0 client closes unless told (RFC 9112 9.3)
                    headers = [*headers, ("Connection", "keep-alive")]
                write_response(writer, status, headers, body)
                await writer.drain()
                if close:
                    break
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        finally:
            self._tasks.discard(task)
            writer.close()

    async def _refuse(self, reader: Any, writer: Any, exc: BadRequest) -> None:
        """Answer a request we do not serve, log it, and drain before closing."""
        import asyncio
        import contextlib
        import http

        from .local import write_response

        message = str(exc)
        if exc.status == 413:
            message = (
                f"Request Entity Too Large: the body is over API Gateway's limit "
                f"of {self.max_body} bytes"
            )
        body = json.dumps({"message": message}).encode()
        write_response(writer, exc.status, _CLOSE_JSON, body)
        await writer.drain()
        reason = http.HTTPStatus(exc.status).phrase
        sys.stderr.write(f"- - {exc.status} {reason}: {exc}\n")

        # read what the client is still sending, so that closing does not
        # reset the connection before it has read the answer
        with contextlib.suppress(Exception):
            if writer.can_write_eof():
                writer.write_eof()
            loop = asyncio.get_running_loop()
            deadline = loop.time() + _LINGER_SECONDS
            drained = 0
            while drained < _LINGER_BYTES:
                left = deadline - loop.time()
                if left <= 0:
                    break
                chunk = await asyncio.wait_for(reader.read(65536), left)
                if not chunk:
                    break
                drained += len(chunk)

    async def exchange(
        self, request: Request, source_ip: str
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        """One HTTP request through the function; the HTTP answer."""
        import time

        from .gateway import failure_to_http, http_to_event, result_to_http

        method, target = request.method, request.target
        started = time.perf_counter()
        try:
            event = http_to_event(
                method,
                target,
                request.headers,
                request.body,
                version=self.version,
                source_ip=source_ip,
                protocol=request.version,
            )
        except BadRequest as exc:
            answer = 400, _JSON, json.dumps({"message": str(exc)}).encode()
        else:
            try:
                outcome = await self.api.invoke_async(json.dumps(event).encode())
            except LocalAPIStoppedError:
                return failure_to_http(version=self.version)
            if outcome.ok:
                answer = result_to_http(outcome.payload, version=self.version)
            else:
                sys.stderr.write(
                    f"lambdalite serve: the function failed: "
                    f"{outcome.payload[:500].decode('utf-8', 'replace')}\n"
                )
                timed_out = outcome.error_type == "Sandbox.Timedout"
                answer = failure_to_http(version=self.version, timed_out=timed_out)
        took = (time.perf_counter() - started) * 1000
        # the path only: a query string may carry tokens or signatures
        path = target.split("?", 1)[0]
        sys.stderr.write(f"{method} {path} {answer[0]} {took:.1f} ms\n")
        return answer


_JSON = [("Content-Type", "application/json")]
_CLOSE_JSON = [*_JSON, ("Connection", "close")]
