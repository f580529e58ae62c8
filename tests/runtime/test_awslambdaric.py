"""The same handlers and events through AWS's awslambdaric and lambdalite's loop.

Both loops run unmodified as child processes of the local Runtime API; what
awslambdaric posts is the truth that lambdalite's loop must match: results,
error objects (type, message, stack trace, request id) and init errors.
"""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from runtime.local import LocalRuntimeAPI, Outcome, loop_command
from tests.conftest import missing

HANDLERS = """
import decimal
import os


def echo(event, context):
    return {"event": event, "unicode": "żółw ☃"}


def describe(event, context):
    cc = context.client_context
    return {
        "request_id_ok": len(context.aws_request_id) == 36,
        "arn": context.invoked_function_arn,
        "function_name": context.function_name,
        "function_version": context.function_version,
        "memory": context.memory_limit_in_mb,
        "log_group": context.log_group_name,
        "log_stream_ok": "[$LATEST]" in context.log_stream_name,
        "remaining_ok": 0 < context.get_remaining_time_in_millis() <= 10000,
        "custom": cc.custom if cc else None,
        "env": cc.env if cc else None,
        "installation_id": cc.client.installation_id if cc else None,
        "identity_id": context.identity.cognito_identity_id,
        "identity_pool": context.identity.cognito_identity_pool_id,
        "tenant_id": getattr(context, "tenant_id", None),
        "trace_set": os.environ.get("_X_AMZN_TRACE_ID", "").startswith("Root="),
    }


def _inner(value):
    raise ValueError(f"bad value {value!r}")


def fails(event, context):
    return _inner(event.get("value"))


class CustomError(Exception):
    pass


def custom(event, context):
    raise CustomError("custom failure")


def decimals(event, context):
    return {"price": decimal.Decimal("12.3400"), "big": decimal.Decimal("1E+30"),
            "int": decimal.Decimal(7)}


def unencodable(event, context):
    return {"a set": {1, 2}}


def raw_bytes(event, context):
    return b"\\x00\\x01 raw"


def nested_bytes(event, context):
    bad = event.get("bad", "").encode("latin-1")
    return {"text": "caf\\xc3\\xa9".encode("latin-1"), "bad": bad}


def nothing(event, context):
    return None


def large(event, context):
    if event.get("size"):
        return "x" * event["size"]
    return {"pid": os.getpid()}
"""

LOGGED = """
import logging
log = logging.getLogger("app")
log.warning("at import")


def handler(event, context):
    log.warning("hello %s", 1)
    log.warning({"structured": [1, 2]})
    log.warning("with extra", extra={"order": 7, "when": object})
    log.log(35, "a custom level")
    log.info("filtered out unless the level says so")
    try:
        1 / 0
    except ZeroDivisionError:
        log.exception("failed")
    raise ValueError("handler failed")
"""

INIT_MODULES = {
    "syntax_bad.py": "def handler(event, context)\n    return 1\n",
    "raises_at_import.py": "raise RuntimeError('broken at import')\n",
    "imports_missing.py": "import no_such_module_lambdalite\n",
    "no_handler.py": "def other(event, context):\n    return 1\n",
}


@pytest.fixture(scope="module")
def task_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("task")
    (root / "fns.py").write_text(textwrap.dedent(HANDLERS))
    for name, source in INIT_MODULES.items():
        (root / name).write_text(source)
    (root / "logged.py").write_text(LOGGED)
    (root / "nested").mkdir()
    (root / "nested" / "inner.py").write_text(
        "def handler(event, context):\n    return {'nested': event}\n"
    )
    return root


def _awslambdaric(handler: str) -> list[str]:
    try:
        import awslambdaric  # noqa: F401
    except ImportError:
        missing("awslambdaric is not installed (pip install awslambdaric)")
    return [sys.executable, "-m", "awslambdaric", handler]


def run_both(
    task_root: Path, handler: str, events: list[Any], **invoke: Any
) -> tuple[list[Outcome], list[Outcome]]:
    """The outcomes of `events` under awslambdaric, then under lambdalite."""
    results = []
    for command in (_awslambdaric(handler), loop_command()):
        api = LocalRuntimeAPI(
            command,
            handler=handler,
            task_root=str(task_root),
            timeout=10,
            function_name="parity",
            output=-3,  # DEVNULL: keep the test output quiet
        )
        with api:
            results.append(
                [api.invoke(json.dumps(e).encode(), wait=30, **invoke) for e in events]
            )
    return results[0], results[1]


def _error(outcome: Outcome) -> dict[str, Any]:
    assert not outcome.ok
    error: dict[str, Any] = outcome.json()
    return error


def test_awslambdaric_result_same(task_root: Path) -> None:
    theirs, ours = run_both(task_root, "fns.echo", [{"a": [1, 2.5, None]}, "text"])
    for aws, lite in zip(theirs, ours, strict=True):
        assert aws.ok and lite.ok
        assert lite.json() == aws.json()


def test_awslambdaric_path_form_handler_same(task_root: Path) -> None:
    theirs, ours = run_both(task_root, "nested/inner.handler", [{"a": 1}])
    assert theirs[0].ok
    assert ours[0].json() == theirs[0].json() == {"nested": {"a": 1}}


def test_awslambdaric_invocation_id_echoed_by_both(task_root: Path) -> None:
    for handler in ("fns.echo", "fns.fails"):
        theirs, ours = run_both(task_root, handler, [{}])
        assert theirs[0].echoed_invocation_id is True
        assert ours[0].echoed_invocation_id is True


def test_awslambdaric_context_same(task_root: Path) -> None:
    client_context = json.dumps(
        {
            "client": {"installation_id": "inst-1", "app_title": "app"},
            "custom": {"k": "v"},
            "env": {"platform": "test"},
        }
    )
    identity = json.dumps(
        {"cognitoIdentityId": "id-1", "cognitoIdentityPoolId": "pool-1"}
    )
    theirs, ours = run_both(
        task_root,
        "fns.describe",
        [{}],
        client_context=client_context,
        identity=identity,
        tenant_id="tenant-7",
    )
    assert ours[0].json() == theirs[0].json()
    assert ours[0].json()["custom"] == {"k": "v"}
    assert ours[0].json()["tenant_id"] == "tenant-7"


def test_awslambdaric_context_without_optional_headers_same(task_root: Path) -> None:
    theirs, ours = run_both(task_root, "fns.describe", [{}])
    assert ours[0].json() == theirs[0].json()
    assert ours[0].json()["identity_id"] is None


@pytest.mark.parametrize("function", ["fails", "custom"])
def test_awslambdaric_handler_error_same(task_root: Path, function: str) -> None:
    theirs, ours = run_both(task_root, f"fns.{function}", [{"value": 3}, {}])
    for aws, lite in zip(theirs, ours, strict=True):
        aws_error, lite_error = _error(aws), _error(lite)
        assert lite_error == {**aws_error, "requestId": lite.request_id}
        assert aws_error["requestId"] == aws.request_id
        assert lite_error["stackTrace"]  # frames of the handler, not the loop's


def test_awslambdaric_decimal_result_same(task_root: Path) -> None:
    theirs, ours = run_both(task_root, "fns.decimals", [{}])
    assert ours[0].payload.replace(b" ", b"") == theirs[0].payload.replace(b" ", b"")
    assert ours[0].payload.count(b"12.3400") == 1


def test_awslambdaric_marshal_error_same(task_root: Path) -> None:
    theirs, ours = run_both(task_root, "fns.unencodable", [{}])
    aws_error, lite_error = _error(theirs[0]), _error(ours[0])
    assert aws_error["errorType"] == "Runtime.MarshalError"
    assert lite_error == {**aws_error, "requestId": ours[0].request_id}


def test_awslambdaric_nested_bytes_same(task_root: Path) -> None:
    theirs, ours = run_both(task_root, "fns.nested_bytes", [{}, {"bad": "\u00ff"}])
    assert ours[0].json() == theirs[0].json() == {"text": "café", "bad": ""}
    aws_error, lite_error = _error(theirs[1]), _error(ours[1])
    assert aws_error["errorType"] == "Runtime.MarshalError"
    assert lite_error == {**aws_error, "requestId": ours[1].request_id}


def test_awslambdaric_bytes_and_none_results_same(task_root: Path) -> None:
    for handler in ("fns.raw_bytes", "fns.nothing"):
        theirs, ours = run_both(task_root, handler, [{}])
        assert ours[0].payload == theirs[0].payload
        assert ours[0].content_type == theirs[0].content_type


def test_awslambdaric_unmarshal_error_type_same(task_root: Path) -> None:
    results = []
    for command in (_awslambdaric("fns.echo"), loop_command()):
        api = LocalRuntimeAPI(
            command, handler="fns.echo", task_root=str(task_root), output=-3
        )
        with api:
            results.append(api.invoke(b"{not json", wait=30))
    aws_error, lite_error = _error(results[0]), _error(results[1])
    assert aws_error["errorType"] == lite_error["errorType"] == "Runtime.UnmarshalError"
    assert lite_error["errorMessage"].startswith("Unable to unmarshal input: ")


INIT_CASES = [
    ("imports_missing.handler", "Runtime.ImportModuleError"),
    ("missing_module.handler", "Runtime.ImportModuleError"),
    ("syntax_bad.handler", "Runtime.UserCodeSyntaxError"),
    ("no_handler.handler", "Runtime.HandlerNotFound"),
    ("raises_at_import.handler", "RuntimeError"),
    ("nodots", "Runtime.MalformedHandlerName"),
    ("sys.handler", "Runtime.BuiltInModuleConflict"),
]


@pytest.mark.parametrize(("handler", "error_type"), INIT_CASES)
def test_awslambdaric_init_error_same(
    task_root: Path, handler: str, error_type: str
) -> None:
    theirs, ours = run_both(task_root, handler, [{}])
    aws_error, lite_error = _error(theirs[0]), _error(ours[0])
    assert aws_error["errorType"] == error_type
    assert lite_error == aws_error
    assert ours[0].error_type == theirs[0].error_type == error_type


def logs_of_both(task_root: Path, env: dict[str, str]) -> tuple[list[str], list[str]]:
    """The lines each loop wrote while serving one invocation of logged.handler."""
    lines = []
    for command in (_awslambdaric("logged.handler"), loop_command()):
        out = task_root / "out.log"
        with out.open("wb") as sink:
            api = LocalRuntimeAPI(
                command,
                handler="logged.handler",
                task_root=str(task_root),
                output=sink.fileno(),
                env=env,
            )
            with api:
                assert not api.invoke(b"{}", wait=30).ok
        lines.append(out.read_bytes().decode().rstrip("\n").split("\n"))
    return lines[0], lines[1]


def test_awslambdaric_json_logs_same(task_root: Path) -> None:
    env = {"AWS_LAMBDA_LOG_FORMAT": "JSON", "AWS_LAMBDA_LOG_LEVEL": "WARN"}
    theirs, ours = logs_of_both(task_root, env)

    def records(lines: list[str]) -> list[dict[str, Any]]:
        found = []
        for line in lines:
            record = json.loads(line)
            assert record.pop("timestamp").endswith("Z")
            record["requestId"] = bool(record["requestId"])
            found.append(record)
        return found

    assert records(ours) == records(theirs)
    assert len(theirs) == 7  # import, 4 warnings, failed, the handler's error


def test_awslambdaric_text_logs_same(task_root: Path) -> None:
    theirs, ours = logs_of_both(task_root, {})

    def shape(lines: list[str]) -> list[list[str]]:
        shaped = []
        for line in lines:
            fields = line.split("\t")
            if len(fields) == 4:  # [LEVEL] time request-id message
                fields[1] = fields[1][:2] + "..." + fields[1][-1]
                fields[2] = str(bool(fields[2]))
            shaped.append(fields)
        return shaped

    # awslambdaric ends a record with a traceback without a newline, which
    # glues the next line to it; compare the records up to that point, and
    # the handler's error event, which is the last line of both
    assert shape(ours)[:5] == shape(theirs)[:5]
    assert theirs[-1].endswith(ours[-1])  # theirs has the glued prefix
    assert ours[-1].startswith("[ERROR] ValueError: handler failed\rTraceback")


def test_awslambdaric_oversized_response_same(task_root: Path) -> None:
    # Lambda answers 413 and the invocation fails as too large, whichever
    # loop ran it; then the next invocation is served
    events = [{}, {"size": 7_000_000}, {}]
    theirs, ours = run_both(task_root, "fns.large", events)
    for outcomes in (theirs, ours):
        assert outcomes[1].error_type == "Function.ResponseSizeTooLarge"
        assert outcomes[2].ok
    assert _error(theirs[1]) == _error(ours[1])
    # awslambdaric raises on any answer but 202 and its process exits (a new
    # one serves the next event); lambdalite's loop logs the 413 and goes on
    assert ours[0].json()["pid"] == ours[2].json()["pid"]
