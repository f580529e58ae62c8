"""Function logs: what reaches CloudWatch, in Lambda's text or JSON format.

Lambda keeps whatever the process writes to stdout and stderr, one log event
per line. The loop makes both streams line-buffered so a `print` is not held
back while the process is frozen between invocations.

The `logging` module is configured the moment the handler's code first
imports it (an import hook on `sys.meta_path` runs once), so that records
logged at import time are formatted too, and a handler that never logs does
not pay for importing it. The root logger gets one handler writing to stdout,
and every record carries the current request id (`record.aws_request_id`):

- `AWS_LAMBDA_LOG_FORMAT=Text` (the default) writes
  `[LEVEL]<tab>timestamp<tab>request id<tab>message`, the layout of AWS's
  Python runtime.
- `AWS_LAMBDA_LOG_FORMAT=JSON` writes one JSON object per line with
  `timestamp` (with milliseconds), `level`, `message`, `logger` and
  `requestId` (and `errorType`, `errorMessage`, `stackTrace`, `location` when
  a record carries an exception), the keys AWS's Python runtime writes.

`AWS_LAMBDA_LOG_LEVEL` (TRACE, DEBUG, INFO, WARN, ERROR, FATAL; TRACE counts
as DEBUG) sets the root logger's level in either format, as AWS's Python
runtime does (Lambda itself sets it only with JSON logs); without it the root
logger keeps Python's default, WARNING.
"""

from __future__ import annotations

import os
import sys
import time

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs a start-up millisecond; annotations are lazy
    from typing import Any

request_id = ""
"""The id of the invocation being served, or "" between invocations."""

tenant_id: str | None = None
"""The tenant id of the invocation being served, when Lambda sent one."""

configured = False
"""Whether the `logging` module has been configured."""

_LEVELS = {
    "TRACE": 10,
    "DEBUG": 10,
    "INFO": 20,
    "WARN": 30,
    "WARNING": 30,
    "ERROR": 40,
    "FATAL": 50,
    "CRITICAL": 50,
}


def json_format() -> bool:
    """Whether `AWS_LAMBDA_LOG_FORMAT` asks for JSON logs."""
    return os.environ.get("AWS_LAMBDA_LOG_FORMAT", "").upper() == "JSON"


def unbuffer_streams() -> None:
    """Make stdout and stderr flush at every line."""
    # TODO(#3): use the framed telemetry descriptor (_LAMBDA_TELEMETRY_LOG_FD)
    # when AWS's managed runtime passes one, so that a multi-line record stays
    # one CloudWatch event instead of one per line.
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(line_buffering=True)


def timestamp(seconds: float) -> str:
    """`2024-01-31T12:00:00.123Z` for a Unix time."""
    whole = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
    return f"{whole}.{int(seconds * 1000) % 1000:03d}Z"


def configure_logging() -> None:
    """Install the Lambda handler on the root logger; once, and only if imported."""
    global configured
    if configured or "logging" not in sys.modules:
        return
    configured = True
    import logging

    handler = logging.StreamHandler(sys.stdout)
    handler.addFilter(_stamp_request_id)
    root = logging.getLogger()
    if json_format():
        handler.setFormatter(_JSONFormatter())  # type: ignore[arg-type]
    else:
        handler.setFormatter(_text_formatter())
    level = os.environ.get("AWS_LAMBDA_LOG_LEVEL", "").upper()
    if level in _LEVELS:
        root.setLevel(_LEVELS[level])
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)


def configure_logging_on_import() -> None:
    """Configure `logging` now if imported, else right after its first import."""
    if "logging" in sys.modules:
        configure_logging()
    else:
        sys.meta_path.insert(0, _LoggingImportHook())


class _LoggingImportHook:
    """A finder that wraps the loading of `logging` once, then steps aside."""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if name != "logging":
            return None
        if self in sys.meta_path:
            sys.meta_path.remove(self)
        from importlib.machinery import PathFinder

        spec = PathFinder.find_spec(name, path)
        loader = getattr(spec, "loader", None)
        if loader is None or not hasattr(loader, "exec_module"):
            return None
        load = loader.exec_module

        def exec_module(module: Any) -> None:
            load(module)
            configure_logging()

        loader.exec_module = exec_module
        return spec


def _stamp_request_id(record: Any) -> bool:
    record.aws_request_id = request_id
    if tenant_id is not None:
        record.tenant_id = tenant_id
    return True


def _text_formatter() -> Any:
    import logging

    formatter = logging.Formatter(
        "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s",
        "%Y-%m-%dT%H:%M:%S",
    )
    formatter.converter = time.gmtime
    return formatter


_RECORD_FIELDS = frozenset(
    {
        "name", "msg", "args", "levelname", "levelno", "pathname", "filename",
        "module", "exc_info", "exc_text", "stack_info", "lineno", "funcName",
        "created", "msecs", "relativeCreated", "thread", "threadName",
        "processName", "process", "taskName", "aws_request_id", "tenant_id",
    }
)  # fmt: skip
"""LogRecord's own attributes; any other attribute came from `extra=`."""


class _JSONFormatter:
    """One JSON object per record; an object, not a logging subclass, to stay lazy.

    As AWS's Python runtime: a dict logged without arguments stays a JSON
    object, `extra=` fields join the record, levels round down to the standard
    names, and keys without a value are left out.
    """

    def format(self, record: Any) -> str:
        import logging

        level = min(50, max(0, record.levelno)) // 10 * 10
        message = record.msg
        if not (isinstance(message, dict) and not record.args):
            message = record.getMessage()
        line: dict[str, Any] = {
            "timestamp": timestamp(record.created),
            "level": logging.getLevelName(level),
            "message": message,
            "logger": record.name,
            "requestId": getattr(record, "aws_request_id", request_id),
        }
        if tenant_id is not None:
            line["tenantId"] = tenant_id
        if record.exc_info and record.exc_info[1] is not None:
            import traceback

            kind, error, trace = record.exc_info
            line["errorType"] = kind.__name__
            line["errorMessage"] = str(error)
            line["stackTrace"] = traceback.format_list(traceback.extract_tb(trace))
            line["location"] = f"{record.pathname}:{record.funcName}:{record.lineno}"
        for key, value in record.__dict__.items():
            if key not in _RECORD_FIELDS and key not in line and value is not None:
                line[key] = value
        import json

        return json.dumps(line, default=str, ensure_ascii=False)


def log_error(error: dict[str, Any]) -> None:
    """Write a handler or init failure to the function's log, as one event."""
    if json_format():
        import json

        line = {
            "timestamp": timestamp(time.time()),
            "level": "ERROR",
            "errorMessage": error.get("errorMessage", ""),
            "errorType": error.get("errorType", ""),
            "stackTrace": error.get("stackTrace", []),
            "requestId": error.get("requestId", request_id),
        }
        text = json.dumps(line, ensure_ascii=False)
    else:
        # "\r" keeps a multi-line trace in one CloudWatch event, and no-break
        # spaces keep its indentation, as AWS's Python runtime writes it
        text = f"[ERROR] {error.get('errorType')}: {error.get('errorMessage')}"
        lines = [
            _keep_indent(line)
            for frame in error.get("stackTrace") or []
            for line in str(frame).rstrip("\n").split("\n")
        ]
        if lines:
            text += "\rTraceback (most recent call last):\r" + "\r".join(lines)
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def _keep_indent(line: str) -> str:
    stripped = line.lstrip(" ")
    return "\u00a0" * (len(line) - len(stripped)) + stripped
