"""DynamoDB's wire protocol: JSON 1.0 over POST, CRC32-checked answers.

Every operation is ``POST /`` with ``X-Amz-Target: DynamoDB_20120810.<Op>``
and an ``application/x-amz-json-1.0`` body; the answer is JSON too. So one
`build` and one `parse` serve every operation, and `Operation` objects differ
only in name and parameters.

Binary attribute values travel as base64: bytes anywhere in the parameters
are encoded on the way out, and the ``B`` / ``BS`` members of attribute values
are decoded on the way back, so results hold ``bytes`` as boto3's do.

DynamoDB puts a CRC32 of the body, as sent, in ``x-amz-crc32``. It is checked
over the bytes exactly as they came off the socket, before any content
decoding (a gzip answer is checked compressed, then inflated); a mismatch is
a damaged transfer and is retried like a broken connection
(`CRC32MismatchError`).

Errors name themselves in ``__type`` (``com.amazonaws.dynamodb.v20120810#
ConditionalCheckFailedException``): the part after ``#`` is the code, and
the typed error's response carries the extra members boto3 puts there
(``Item`` for a failed condition that asked for it, ``CancellationReasons``
for a cancelled transaction).
"""

from __future__ import annotations

import base64
import datetime as _dt
import json
import zlib
from collections.abc import Iterable
from typing import Any

from .._executor import (
    Context,
    Headers,
    Operation,
    Request,
    Response,
    ServiceModel,
    decoded,
)
from ..errors import (
    ChecksumMismatchError,
    ClientError,
    EndpointConnectionError,
    ParamValidationError,
    ResponseParseError,
    client_error,
)
from .validate import check, unencodable

TARGET_PREFIX = "DynamoDB_20120810."
CONTENT_TYPE = "application/x-amz-json-1.0"
RETRY_BASE = 0.025  # the SDKs back off from 25 ms for DynamoDB, not 100 ms


class CRC32MismatchError(ChecksumMismatchError, EndpointConnectionError):
    """An answer whose ``x-amz-crc32`` does not match its bytes: retried."""


# request side


def _encode_binary(value: Any) -> str:
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode("ascii")
    raise ParamValidationError(
        f"{type(value).__name__} is not a JSON type; low-level client values "
        "are attribute values such as {'N': '1'} (use Table for Python values)"
    )


_encoder = json.JSONEncoder(
    separators=(",", ":"), ensure_ascii=False, default=_encode_binary
)


# the legacy parameters, which hold attribute values `check` does not walk
_LEGACY = frozenset(
    {"AttributeUpdates", "Expected", "KeyConditions", "QueryFilter", "ScanFilter"}
)


def text_blobs(value: Any) -> Any:
    """A copy of `value` with every str binary value as its UTF-8 bytes.

    boto3's low-level client takes a str ``B`` (or ``BS`` member) as text and
    sends its UTF-8 encoding, base64-encoded; so does this client. The caller's
    parameters are left as they are.
    """
    if isinstance(value, dict):
        if len(value) == 1:
            ((kind, inner),) = value.items()
            if kind == "B" and isinstance(inner, str):
                return {"B": inner.encode("utf-8")}
            if kind == "BS" and isinstance(inner, list | tuple):
                return {"BS": [_utf8(member) for member in inner]}
        return {name: text_blobs(inner) for name, inner in value.items()}
    if isinstance(value, list | tuple):
        return [text_blobs(member) for member in value]
    return value


def _utf8(member: Any) -> Any:
    return member.encode("utf-8") if isinstance(member, str) else member


def body_bytes(params: dict[str, Any]) -> bytes:
    """The JSON body for an operation's parameters, bytes as base64."""
    try:
        return _encoder.encode(params).encode("utf-8")
    except UnicodeEncodeError as error:  # a lone surrogate: name where it is
        raise ParamValidationError(
            f"{unencodable(params) or 'a parameter'} is not valid Unicode "
            "(a lone surrogate), so it cannot be sent as UTF-8"
        ) from error
    except ValueError as error:  # circular references
        raise ParamValidationError(str(error)) from error


def build(operation_name: str, params: dict[str, Any], ctx: Context) -> Request:
    """The one request shape of DynamoDB: POST / with the target header."""
    return Request(
        "POST",
        ctx.settings.root_url,
        {
            "Content-Type": CONTENT_TYPE,
            "X-Amz-Target": TARGET_PREFIX + operation_name,
        },
        body_bytes(params),
    )


# response side


def _decode_binary(obj: dict[str, Any]) -> dict[str, Any]:
    """json object_hook: inflate ``{"B": "<b64>"}`` and ``{"BS": [...]}``."""
    if len(obj) == 1:
        value = obj.get("B")
        if type(value) is str:
            return {"B": base64.b64decode(value)}
        values = obj.get("BS")
        if type(values) is list and all(type(v) is str for v in values):
            return {"BS": [base64.b64decode(v) for v in values]}
    return obj


def loads(body: bytes) -> Any:
    """A JSON answer, with binary attribute values as bytes."""
    if b'"B' in body:
        return json.loads(body, object_hook=_decode_binary)
    return json.loads(body)


def check_crc32(headers: Any, raw: bytes) -> None:
    """Raise `CRC32MismatchError` when ``x-amz-crc32`` disagrees with `raw`."""
    expected = headers.get("x-amz-crc32")
    if expected is None:
        return
    actual = zlib.crc32(raw)
    if not expected.isdigit() or int(expected) != actual:
        raise CRC32MismatchError(
            f"the answer's CRC32 is {actual}, but x-amz-crc32 says {expected}; "
            "the body was damaged in transit"
        )


_TIMESTAMP_PARENTS = frozenset(
    {"TableDescription", "Table", "TimeToLiveDescription", "TableNames"}
)


def _timestamps(value: Any) -> Any:
    """Turn every ``...DateTime`` epoch number into an aware datetime, in place."""
    if isinstance(value, dict):
        for key, member in value.items():
            if key.endswith("DateTime") and isinstance(member, (int, float)):
                value[key] = _dt.datetime.fromtimestamp(member, _dt.timezone.utc)
            elif isinstance(member, (dict, list)):
                _timestamps(member)
    elif isinstance(value, list):
        for member in value:
            _timestamps(member)
    return value


def parse(response: Response, ctx: Context) -> dict[str, Any]:
    """A 2xx answer as boto3's result dict, ResponseMetadata included."""
    try:
        result: dict[str, Any] = loads(response.body) if response.body else {}
    except ValueError as error:
        raise ResponseParseError(
            f"DynamoDB answered {response.status} with a body that is not JSON"
        ) from error
    if not isinstance(result, dict):
        raise ResponseParseError("DynamoDB answered with JSON that is not an object")
    if "TableDescription" in result or "Table" in result:
        _timestamps(result)
    result["ResponseMetadata"] = response.metadata()
    return result


# errors

# The errors DynamoDB's API reference models, and their members; boto3 copies
# those members from the error body to the top of err.response. Unmodeled
# errors (ValidationException, ...) carry only Error and ResponseMetadata.
_MESSAGE_ONLY = [
    "BackupInUseException",
    "BackupNotFoundException",
    "ContinuousBackupsUnavailableException",
    "DuplicateItemException",
    "ExportConflictException",
    "ExportNotFoundException",
    "GlobalTableAlreadyExistsException",
    "GlobalTableNotFoundException",
    "ImportConflictException",
    "ImportNotFoundException",
    "IndexNotFoundException",
    "InternalServerError",
    "InvalidExportTimeException",
    "InvalidRestoreTimeException",
    "ItemCollectionSizeLimitExceededException",
    "LimitExceededException",
    "PointInTimeRecoveryUnavailableException",
    "PolicyNotFoundException",
    "ReplicaAlreadyExistsException",
    "ReplicaNotFoundException",
    "ReplicatedWriteConflictException",
    "ResourceInUseException",
    "ResourceNotFoundException",
    "TableAlreadyExistsException",
    "TableInUseException",
    "TableNotFoundException",
    "TransactionConflictException",
]
MODELED_ERRORS: dict[str, tuple[str, ...]] = {
    **{code: ("message",) for code in _MESSAGE_ONLY},
    "ConditionalCheckFailedException": ("message", "Item"),
    "IdempotentParameterMismatchException": ("Message",),
    "ProvisionedThroughputExceededException": ("message", "ThrottlingReasons"),
    "RequestLimitExceeded": ("message", "ThrottlingReasons"),
    "ThrottlingException": ("message", "throttlingReasons"),
    "TransactionCanceledException": ("Message", "CancellationReasons"),
    "TransactionInProgressException": ("Message",),
}


def error(response: Response, operation_name: str) -> ClientError:
    """The typed error for a non-2xx answer, coded after ``__type``."""
    body: dict[str, Any] = {}
    if response.body:
        try:
            parsed = loads(response.body)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict):
            body = parsed
        elif response.status >= 500 and response.body.strip().startswith(b"<html>"):
            # a proxy's or load balancer's HTML page: its status says it all
            body = {"message": _reason(response.status)}
        else:
            # not JSON: the text itself is the message, as botocore has it
            body = {"message": response.body.decode("utf-8", "replace")}
    elif response.status >= 500:
        body = {"message": _reason(response.status)}
    kind = str(body.get("__type") or "")
    code = kind.rpartition("#")[2] or _status_code(response.status)
    message = body.get("message") or body.get("Message") or ""
    made = client_error(
        "dynamodb",
        operation_name,
        code=code,
        message=str(message),
        status_code=response.status,
        metadata=response.metadata(),
    )
    for name in MODELED_ERRORS.get(code, ()):
        if name in body:
            made.response[name] = body[name]
    return made


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _status_code(status: int) -> str:
    # no __type: name the error after the status, as boto3 does
    return str(status)


def transact_token(params: dict[str, Any]) -> dict[str, Any]:
    """TransactWriteItems params with a ClientRequestToken (a uuid4) if absent."""
    if "ClientRequestToken" in params:  # even "" or None: `check` refuses them
        return params
    import uuid

    return {**params, "ClientRequestToken": str(uuid.uuid4())}


def operation(name: str, required: Iterable[str], optional: Iterable[str]) -> Operation:
    """An `Operation` for one DynamoDB API call."""

    def build_this(params: dict[str, Any], ctx: Context) -> Request:
        if check(params) or not _LEGACY.isdisjoint(params):
            try:
                params = text_blobs(params)
            except UnicodeEncodeError as error:
                raise ParamValidationError(
                    f"a binary (B or BS) text value is not valid Unicode: {error}"
                ) from error
        return build(name, params, ctx)

    return Operation(name, build_this, parse, required=required, optional=optional)


class DynamoDBModel(ServiceModel):
    """What the executors need to know about DynamoDB."""

    name = "dynamodb"
    signing_name = "dynamodb"
    retry_base = RETRY_BASE
    # the choice: throttling too backs off from DynamoDB's short base
    # (botocore 1.44 uses 1 s there)
    throttle_base = RETRY_BASE
    max_attempts = 4  # botocore's standard mode gives DynamoDB 4 attempts

    def error(self, response: Response, operation_name: str) -> ClientError:
        """The typed error for a non-2xx answer."""
        return error(response, operation_name)

    def received(self, headers: Headers, raw: bytes) -> bytes:
        """Check ``x-amz-crc32`` over the bytes as received, then decode them."""
        check_crc32(headers, raw)
        return decoded(headers, raw)
