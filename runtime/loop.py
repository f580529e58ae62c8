"""The Lambda Runtime API loop (version 2018-06-01).

Theory of operation
-------------------
Lambda starts the runtime process with `AWS_LAMBDA_RUNTIME_API` (host:port of
a loopback endpoint), `_HANDLER` and `LAMBDA_TASK_ROOT`. The process loads the
handler once (the *init* phase) and then loops:

1. `GET /2018-06-01/runtime/invocation/next` returns the next *invocation*:
   the *event* as the body, and its metadata as `Lambda-Runtime-*` headers.
   The call has no read timeout: Lambda freezes the process while it waits.
2. The handler runs with the decoded event and a *context* built from the
   headers (see `runtime.context`).
3. The result goes to `POST .../invocation/{id}/response`; an exception goes
   to `POST .../invocation/{id}/error` as `errorMessage`, `errorType`,
   `stackTrace` and `requestId`, with `Lambda-Runtime-Function-Error-Type`.

An init failure goes to `POST /2018-06-01/runtime/init/error` and the process
exits with status 1. Error types and messages are those AWS's own Python
runtime (awslambdaric) posts, so that tooling keyed on them keeps working:
https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html

All calls share one kept-alive connection (`runtime._http`), and the answer
to an invocation goes out in the same write as the next `GET /next` (HTTP/1.1
pipelining: a server answers pipelined requests in order), so an invocation
costs one round trip instead of two. When the Runtime API cannot be reached
the loop stops with a message instead of retrying: on Lambda that only
happens when the environment is being torn down.

Results are JSON with these choices, deliberate and documented in the README:
`bytes` returned as the whole result are posted as they are, and `bytes`
inside a result become their UTF-8 text (both as AWS's runtime does);
`decimal.Decimal` becomes a JSON number with its exact digits (as AWS's
runtime does; NaN becomes `NaN`); `datetime`, `date` and `time` become ISO
8601 strings (AWS's runtime refuses them); anything else that JSON cannot
hold is a `Runtime.MarshalError`. Non-ASCII text is sent as UTF-8, not `\\u`
escapes.

`async def` handlers run to completion on one event loop kept for the life of
the process; `asyncio` is imported only when a handler returns an awaitable.
Not supported: response streaming, SnapStart hooks, the telemetry log fd of
AWS's managed runtimes.
"""

from __future__ import annotations

import os
import sys

from . import logs
from ._http import Connection
from .context import ClientContext, CognitoIdentity, LambdaContext
from .errors import Fault as Fault
from .errors import RuntimeAPIError as RuntimeAPIError

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs a start-up millisecond; annotations are lazy
    from collections.abc import Callable
    from typing import Any

    Handler = Callable[[Any, LambdaContext], Any]

API = "/2018-06-01/runtime"
MAX_RESPONSE_BYTES = 6291556
"""Lambda's limit on a synchronous response (its "6 MB"), in bytes."""

ERROR_TYPE_HEADER = "Lambda-Runtime-Function-Error-Type"
INVOCATION_ID_HEADER = "Lambda-Runtime-Invocation-Id"
"""Sent with newer invocations; echoed on the answer so that Lambda can refuse
an answer that belongs to an invocation which has since timed out."""


class _Terminated(BaseException):
    """SIGTERM arrived while the loop was waiting for work."""


def error_object(
    message: str, error_type: str, trace: list[str], request_id: str = ""
) -> dict[str, Any]:
    """The error JSON Lambda expects: message, type, request id, stack trace."""
    return {
        "errorMessage": message,
        "errorType": error_type,
        "requestId": request_id,
        "stackTrace": trace,
    }


def exception_object(error: BaseException, request_id: str = "") -> dict[str, Any]:
    """The error JSON for an exception, with the runtime's own frames left out."""
    import traceback

    frames = traceback.extract_tb(error.__traceback__)
    here = os.path.dirname(__file__) + os.sep
    start = 0
    while start < len(frames) and _is_ours(frames[start].filename, here):
        start += 1
    # plain tuples: no 3.11 column carets, the lines AWS's runtime posts
    plain = [(f.filename, f.lineno, f.name, f.line) for f in frames[start:]]
    trace = traceback.format_list(plain)  # type: ignore[arg-type]
    return error_object(str(error), type(error).__name__, trace, request_id)


def _is_ours(filename: str, here: str) -> bool:
    return filename.startswith(here) or (
        "asyncio" in filename and filename.endswith(("base_events.py", "events.py"))
    )


# handler ---------------------------------------------------------------------


def load_handler(spec: str) -> Handler:
    """Import `module.function` (or `path/module.function`); raise `Fault`."""
    try:
        module_name, function_name = spec.rsplit(".", 1)
    except ValueError as exc:
        raise Fault(
            "Runtime.MalformedHandlerName", f"Bad handler '{spec}': {exc}"
        ) from exc

    if module_name.split(".")[0] in sys.builtin_module_names:
        raise Fault(
            "Runtime.BuiltInModuleConflict",
            f"Cannot use built-in module {module_name} as a handler module",
        )
    import importlib

    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except ImportError as exc:
        raise Fault(
            "Runtime.ImportModuleError",
            f"Unable to import module '{module_name}': {exc}",
        ) from exc
    except SyntaxError as exc:
        where = f'  File "{exc.filename}" Line {exc.lineno}\n    {exc.text}'
        raise Fault(
            "Runtime.UserCodeSyntaxError",
            f"Syntax error in module '{module_name}': {exc}",
            [where],
        ) from exc

    try:
        handler: Handler = getattr(module, function_name)
    except AttributeError:
        raise Fault(
            "Runtime.HandlerNotFound",
            f"Handler '{function_name}' missing on module '{module_name}'",
        ) from None
    return handler


# event, context, result ------------------------------------------------------


def decode_event(body: bytes, content_type: str | None) -> Any:
    """The event: JSON unless the Runtime API says the body is something else."""
    if content_type is not None and content_type != "application/json":
        return body
    import json

    try:
        return json.loads(body)
    except ValueError as exc:
        raise Fault(
            "Runtime.UnmarshalError", f"Unable to unmarshal input: {exc}"
        ) from exc


def build_context(headers: dict[str, str], request_id: str) -> LambdaContext:
    """The context for one invocation, from the `GET /next` headers."""
    client_context = None
    identity = None
    raw = headers.get("lambda-runtime-client-context")
    if raw:
        client_context = ClientContext(_header_json(raw, "Client Context"))
    raw = headers.get("lambda-runtime-cognito-identity")
    if raw:
        identity = CognitoIdentity(_header_json(raw, "Cognito Identity"))
    return LambdaContext(
        aws_request_id=request_id,
        invoked_function_arn=headers.get("lambda-runtime-invoked-function-arn"),
        deadline_ms=int(headers.get("lambda-runtime-deadline-ms") or 0),
        client_context=client_context,
        identity=identity,
        tenant_id=headers.get("lambda-runtime-aws-tenant-id"),
    )


def _header_json(raw: str, name: str) -> dict[str, Any]:
    import json

    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise Fault(
            "Runtime.LambdaContextUnmarshalError",
            f"Unable to parse {name} JSON: {exc}",
        ) from exc
    return value if isinstance(value, dict) else {}


_DECIMAL_MARK = "\x00lambdalite-decimal:"
_decimals: list[str] = []
_encoder: Any = None


def _encode_default(value: Any) -> Any:
    decimal = sys.modules.get("decimal")
    if decimal is not None and isinstance(value, decimal.Decimal):
        if value.is_nan():
            return float("nan")
        _decimals.append(str(value))
        return f"{_DECIMAL_MARK}{len(_decimals) - 1}"
    if isinstance(value, bytes):
        return value.decode("utf-8")  # as AWS's runtime: UTF-8 text, or an error
    datetime = sys.modules.get("datetime")
    if datetime is not None and isinstance(
        value, (datetime.datetime, datetime.date, datetime.time)
    ):
        return value.isoformat()
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def encode_result(result: Any) -> tuple[bytes, str]:
    """The response body and its content type; raise `Fault` if it cannot be."""
    if isinstance(result, bytes):
        return result, "application/unknown"
    global _encoder
    if _encoder is None:
        import json

        _encoder = json.JSONEncoder(ensure_ascii=False, default=_encode_default)
    text = _encode_with(_encoder, result)
    try:
        return text.encode("utf-8"), "application/json"
    except UnicodeEncodeError:
        # a lone surrogate has no UTF-8 form: send \\u escapes instead
        import json

        ascii_encoder = json.JSONEncoder(default=_encode_default)
        return _encode_with(ascii_encoder, result).encode(), "application/json"


def _encode_with(encoder: Any, result: Any) -> str:
    try:
        text: str = encoder.encode(result)
    except (TypeError, ValueError, RecursionError) as exc:
        raise Fault(
            "Runtime.MarshalError", f"Unable to marshal response: {exc}"
        ) from exc
    finally:
        found = list(_decimals)
        _decimals.clear()
    for index, digits in enumerate(found):
        text = text.replace(f'"\\u0000lambdalite-decimal:{index}"', digits, 1)
    return text


# the loop --------------------------------------------------------------------


class Loop:
    """Serves invocations from one Runtime API to one handler, until stopped."""

    def __init__(self, connection: Connection, handler: Handler) -> None:
        self.connection = connection
        self.handler = handler
        self.busy = False
        self.stopping = False
        self._event_loop: Any = None

    def run(self) -> None:
        """Serve invocations until SIGTERM or a Runtime API failure."""
        connection = self.connection
        next_request = connection.message("GET", f"{API}/invocation/next")
        environ = os.environ
        status, headers, body = connection.send(next_request)
        while True:
            if status != 200:
                raise RuntimeAPIError(f"GET /next answered {status}: {body[:200]!r}")
            self.busy = True
            request_id = headers.get("lambda-runtime-aws-request-id", "")
            trace_id = headers.get("lambda-runtime-trace-id")
            if trace_id is not None:
                environ["_X_AMZN_TRACE_ID"] = trace_id
            elif "_X_AMZN_TRACE_ID" in environ:
                del environ["_X_AMZN_TRACE_ID"]
            logs.request_id = request_id
            logs.tenant_id = headers.get("lambda-runtime-aws-tenant-id")
            if not logs.configured:
                logs.configure_logging()

            post, size = self.invoke(request_id, headers, body)
            self.busy = False
            if self.stopping:
                self.check(connection.send(post), size)
                return

            # the answer and the next GET in one write: one round trip, not two
            answer, (status, headers, body) = connection.send_pair(post, next_request)
            self.check(answer, size)

    def invoke(
        self, request_id: str, headers: dict[str, str], body: bytes
    ) -> tuple[bytes, int]:
        """Run the handler on one invocation; the request that reports it."""
        try:
            context = build_context(headers, request_id)
            event = decode_event(body, headers.get("content-type"))
            result = self.handler(event, context)
            if hasattr(result, "__await__"):
                result = self.wait_for(result)
            payload, content_type = encode_result(result)
        except Fault as fault:
            error = error_object(
                fault.message, fault.error_type, fault.trace, request_id
            )
            return self.error_request(request_id, error, headers), 0
        except Exception as exc:
            error = exception_object(exc, request_id)
            return self.error_request(request_id, error, headers), 0

        post = self.connection.message(
            "POST",
            f"{API}/invocation/{request_id}/response",
            payload,
            _answer_headers(headers, "Content-Type", content_type),
        )
        return post, len(payload)

    def check(self, answer: tuple[int, dict[str, str], bytes], size: int) -> None:
        """Act on the Runtime API's answer to a posted response or error."""
        status, _, body = answer
        if status == 413:
            sys.stderr.write(
                f"lambdalite: the response of {size} bytes is over "
                f"Lambda's limit of {MAX_RESPONSE_BYTES} bytes\n"
            )
        elif status != 202:
            self.refused(status, body)

    def wait_for(self, awaitable: Any) -> Any:
        """Run a coroutine to completion on the process's one event loop."""
        if self._event_loop is None:
            import asyncio

            self._event_loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self._event_loop)
        return self._event_loop.run_until_complete(awaitable)

    def error_request(
        self, request_id: str, error: dict[str, Any], headers: dict[str, str]
    ) -> bytes:
        """Log a failed invocation; the request that posts its error object."""
        import json

        logs.log_error(error)
        return self.connection.message(
            "POST",
            f"{API}/invocation/{request_id}/error",
            json.dumps(error).encode(),
            _answer_headers(headers, ERROR_TYPE_HEADER, error["errorType"]),
        )

    def refused(self, status: int, answer: bytes) -> None:
        """A 4xx is logged and the loop goes on; a 5xx means the sandbox is gone."""
        message = f"the Runtime API answered {status}: {answer[:200]!r}"
        if status >= 500:
            raise RuntimeAPIError(message)
        sys.stderr.write(f"lambdalite: {message}\n")

    def terminate(self, signum: int, frame: object) -> None:
        """SIGTERM: stop now when idle, after the invocation when busy."""
        self.stopping = True
        if not self.busy:
            raise _Terminated


def _answer_headers(
    invocation_headers: dict[str, str], name: str, value: str
) -> dict[str, str]:
    """`name: value`, and the invocation id echoed when Lambda sent one."""
    answer = {name: value}
    invocation_id = invocation_headers.get("lambda-runtime-invocation-id")
    if invocation_id is not None:
        answer[INVOCATION_ID_HEADER] = invocation_id
    return answer


def post_init_error(connection: Connection, error: dict[str, Any]) -> None:
    """Post an init failure to `/runtime/init/error`."""
    import json

    connection.request(
        "POST",
        f"{API}/init/error",
        json.dumps(error).encode(),
        {ERROR_TYPE_HEADER: error["errorType"]},
    )


def main() -> int:
    """Run the loop as Lambda's custom runtime would; return the exit status."""
    address = os.environ.get("AWS_LAMBDA_RUNTIME_API")
    if not address:
        return _fatal("AWS_LAMBDA_RUNTIME_API is not set; is this running in Lambda?")
    logs.unbuffer_streams()
    try:
        connection = Connection(address)
    except RuntimeAPIError as exc:
        return _fatal(str(exc))

    # init
    task_root = os.environ.get("LAMBDA_TASK_ROOT") or os.getcwd()
    if task_root not in sys.path:
        sys.path.insert(0, task_root)
    logs.configure_logging_on_import()
    try:
        handler = load_handler(os.environ.get("_HANDLER", ""))
    except Fault as fault:
        error = error_object(fault.message, fault.error_type, fault.trace)
        return _init_failed(connection, error)
    except Exception as exc:
        return _init_failed(connection, exception_object(exc))

    # invocations
    loop = Loop(connection, handler)
    # _signal, not signal: the wrapper's enums cost start-up time
    import _signal  # type: ignore[import-not-found]

    _signal.signal(15, loop.terminate)  # SIGTERM
    try:
        loop.run()
    except _Terminated:
        return 0
    except RuntimeAPIError as exc:
        return _fatal(str(exc))
    return 0


def _init_failed(connection: Connection, error: dict[str, Any]) -> int:
    logs.log_error(error)
    try:
        post_init_error(connection, error)
    except RuntimeAPIError as exc:
        _fatal(str(exc))
    return 1


def _fatal(message: str) -> int:
    sys.stderr.write(f"lambdalite runtime: {message}\n")
    return 1
