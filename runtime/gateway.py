"""What the local API Gateway (`lambdalite serve`) does between HTTP and Lambda.

Two directions, each a pure function over plain values:

- `http_to_event` turns one HTTP request into the event API Gateway would send:
  an HTTP API event in payload format 2.0 (the default) or a REST API proxy
  event (`version="1.0"`), as for a `$default` route / a `{proxy+}` resource.
- `result_to_http` turns what the handler returned into the HTTP response API
  Gateway would send back, and `failure_to_http` is the answer when the
  function failed or timed out.

Rules applied, from the API Gateway developer guide ("HTTP API payload format
version 2.0", "Lambda proxy integration input format"):

- 2.0: header names lower-cased, repeated headers joined with commas; the
  `cookie` headers split into `cookies` and left out of `headers`; repeated
  query parameters joined with commas; `rawPath` and `rawQueryString` as sent.
  A result without `statusCode` (or any non-object result) is the JSON body of
  a 200 `application/json` answer. A failed function is 500, as HTTP APIs do.
- 1.0: header names as sent, `headers` holding the last value and
  `multiValueHeaders` every value, the same for query parameters; `null` where
  there is nothing. A result must be an object with `statusCode` and only the
  documented keys, else 502 `{"message": "Internal server error"}`, as REST
  APIs do; a failed function is 502 too.
- Both: a body is sent as text when its content type is textual and it is
  valid UTF-8, otherwise base64 with `isBase64Encoded` (as if every binary type
  were listed in a REST API's binary media types). Hop-by-hop and length
  headers from the handler are dropped: the server frames the body itself.
  A header name that is not a token, or a value or cookie holding CR, LF or
  NUL, makes the result malformed: it would split the response.

API Gateway's 10 MB payload limit is kept by the HTTP server in front
(`runtime.commands.Gateway`). Not simulated: custom domains and API mappings,
authorizers (the request context carries no `authorizer`), route keys other
than `$default`, and API Gateway's header size limits.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
import time
import urllib.parse
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .errors import BadRequest
from .errors import MalformedResultError as MalformedResultError

_MONTHS = (
    "Jan", "Feb", "Mar", "Apr", "May", "Jun",
    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
)  # fmt: skip

_TEXT_TYPES = (
    "application/json",
    "application/xml",
    "application/javascript",
    "application/ecmascript",
    "application/x-www-form-urlencoded",
    "application/graphql",
    "application/x-ndjson",
    "application/yaml",
    "image/svg+xml",
)

# The server sets these from the body it sends, whatever the handler said.
_FRAMING_HEADERS = frozenset(
    {"content-length", "transfer-encoding", "connection", "keep-alive"}
)

_V1_RESULT_KEYS = frozenset(
    {"statusCode", "headers", "multiValueHeaders", "body", "isBase64Encoded"}
)

HttpResponse = tuple[int, list[tuple[str, str]], bytes]

log = logging.getLogger(__name__)

# RFC 9110 5.1 and 5.5: a field name is a token; a value has no CR, LF or NUL
# (a line break in one would start a header line of the handler's choosing)
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# RFC 9110 5.5: no ASCII control but tab in a field value. U+0085 and U+2028
# stay: sent as UTF-8 they hold no CR or LF byte, so no HTTP line breaks there
_UNSAFE_VALUE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


# ---------------------------------------------------------------- requests


def http_to_event(
    method: str,
    target: str,
    headers: list[tuple[str, str]],
    body: bytes,
    *,
    version: str = "2.0",
    source_ip: str = "127.0.0.1",
    stage: str = "$default",
    request_id: str | None = None,
    protocol: str = "HTTP/1.1",
    time_epoch_ms: int | None = None,
    account_id: str = "123456789012",
    api_id: str = "local",
    stage_variables: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The API Gateway event for one HTTP request, in payload format `version`.

    `target` is the request target as sent (`/path?query`); `headers` are the
    request's header lines in order, repeats included.
    """
    if version not in ("1.0", "2.0"):
        raise ValueError(f"payload format version must be 1.0 or 2.0, not {version!r}")
    if not method or not method.isascii() or not method.isalpha():
        raise BadRequest(f"not an HTTP method: {method!r}")

    raw_path, _, raw_query = target.partition("?")
    if not raw_path.startswith("/"):
        # not quoted: a target may carry a token
        raise BadRequest("the request target must start with '/'")
    path = urllib.parse.unquote(raw_path)
    query = urllib.parse.parse_qsl(raw_query, keep_blank_values=True)
    request_id = request_id or str(uuid.uuid4())
    if time_epoch_ms is None:
        time_epoch_ms = int(time.time() * 1000)
    host = _header(headers, "host") or "localhost"
    user_agent = _header(headers, "user-agent") or ""
    text, is_base64 = _body_for_event(body, _header(headers, "content-type"))

    request = _Request(
        method=method.upper(),
        raw_path=raw_path,
        path=path,
        raw_query=raw_query,
        query=query,
        headers=_forwarded(headers, source_ip),
        text=text,
        is_base64=is_base64,
        source_ip=source_ip,
        user_agent=user_agent,
        protocol=protocol,
        time_epoch_ms=time_epoch_ms,
        stage_variables=dict(stage_variables or {}),
        context={
            "accountId": account_id,
            "apiId": api_id,
            "domainName": host,
            "domainPrefix": host.split(".", 1)[0],
            "requestId": request_id,
            "stage": stage,
        },
    )
    return _event_v2(request) if version == "2.0" else _event_v1(request)


@dataclass(frozen=True)
class _Request:
    """One HTTP request taken apart, as both payload formats read it."""

    method: str
    raw_path: str
    path: str
    raw_query: str
    query: list[tuple[str, str]]
    headers: list[tuple[str, str]]
    """As sent, plus the X-Forwarded-* headers API Gateway adds."""
    text: str | None
    is_base64: bool
    source_ip: str
    user_agent: str
    protocol: str
    time_epoch_ms: int
    stage_variables: dict[str, str]
    context: dict[str, str]
    """The `requestContext` fields both formats carry."""


def _event_v2(request: _Request) -> dict[str, Any]:
    # cookies out of the headers, one entry per cookie pair
    cookies: list[str] = []
    joined: dict[str, str] = {}
    for name, value in request.headers:
        lower = name.lower()
        if lower == "cookie":
            cookies.extend(c.strip() for c in value.split(";") if c.strip())
            continue
        joined[lower] = f"{joined[lower]},{value}" if lower in joined else value

    parameters: dict[str, str] = {}
    for key, value in request.query:
        parameters[key] = f"{parameters[key]},{value}" if key in parameters else value

    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": request.raw_path,
        "rawQueryString": request.raw_query,
    }
    if cookies:
        event["cookies"] = cookies
    event["headers"] = joined
    if parameters:
        event["queryStringParameters"] = parameters
    event["requestContext"] = {
        **request.context,
        "http": {
            "method": request.method,
            "path": request.path,
            "protocol": request.protocol,
            "sourceIp": request.source_ip,
            "userAgent": request.user_agent,
        },
        "routeKey": "$default",
        "time": _request_time(request.time_epoch_ms),
        "timeEpoch": request.time_epoch_ms,
    }
    if request.text is not None:
        event["body"] = request.text
    if request.stage_variables:
        event["stageVariables"] = request.stage_variables
    event["isBase64Encoded"] = request.is_base64
    return event


def _event_v1(request: _Request) -> dict[str, Any]:
    # names compare case-insensitively; the first spelling sent is kept
    spelling: dict[str, str] = {}
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for name, value in request.headers:
        name = spelling.setdefault(name.lower(), name)
        single[name] = value
        multi.setdefault(name, []).append(value)

    query_single: dict[str, str] = {}
    query_multi: dict[str, list[str]] = {}
    for key, value in request.query:
        query_single[key] = value
        query_multi.setdefault(key, []).append(value)

    # a greedy {proxy+} resource catches every path but "/"
    path = request.path
    proxy = path.lstrip("/")
    resource = "/{proxy+}" if proxy else "/"
    stage = request.context["stage"]
    stage_path = path if stage == "$default" else f"/{stage}{path}"

    return {
        "resource": resource,
        "path": request.path,
        "httpMethod": request.method,
        "headers": single or None,
        "multiValueHeaders": multi or None,
        "queryStringParameters": query_single or None,
        "multiValueQueryStringParameters": query_multi or None,
        "pathParameters": {"proxy": proxy} if proxy else None,
        "stageVariables": request.stage_variables or None,
        "requestContext": {
            **request.context,
            "extendedRequestId": request.context["requestId"],
            "httpMethod": request.method,
            "identity": {
                "accessKey": None,
                "accountId": None,
                "caller": None,
                "cognitoAuthenticationProvider": None,
                "cognitoAuthenticationType": None,
                "cognitoIdentityId": None,
                "cognitoIdentityPoolId": None,
                "principalOrgId": None,
                "sourceIp": request.source_ip,
                "user": None,
                "userAgent": request.user_agent,
                "userArn": None,
            },
            "path": stage_path,
            "protocol": request.protocol,
            "requestTime": _request_time(request.time_epoch_ms),
            "requestTimeEpoch": request.time_epoch_ms,
            "resourceId": "local",
            "resourcePath": resource,
        },
        "body": request.text,
        "isBase64Encoded": request.is_base64,
    }


def _forwarded(headers: list[tuple[str, str]], source_ip: str) -> list[tuple[str, str]]:
    """The request's headers plus the X-Forwarded-* ones API Gateway adds."""
    names = {name.lower() for name, _ in headers}
    added = list(headers)
    if "x-forwarded-for" in names:
        added = [
            (n, f"{v}, {source_ip}" if n.lower() == "x-forwarded-for" else v)
            for n, v in headers
        ]
    else:
        added.append(("X-Forwarded-For", source_ip))
    if "x-forwarded-proto" not in names:
        added.append(("X-Forwarded-Proto", "http"))
    return added


def _header(headers: Sequence[tuple[str, str]], name: str) -> str | None:
    for key, value in headers:
        if key.lower() == name:
            return value
    return None


def _is_text_type(content_type: str | None) -> bool:
    if not content_type:
        return False
    media = content_type.split(";", 1)[0].strip().lower()
    return (
        media.startswith("text/")
        or media in _TEXT_TYPES
        or media.endswith(("+json", "+xml"))
    )


def _body_for_event(body: bytes, content_type: str | None) -> tuple[str | None, bool]:
    """The event's `body` and `isBase64Encoded` for the request body."""
    if not body:
        return None, False
    if _is_text_type(content_type):
        try:
            return body.decode("utf-8"), False
        except UnicodeDecodeError:
            pass
    return base64.b64encode(body).decode("ascii"), True


def _request_time(epoch_ms: int) -> str:
    """API Gateway's `requestTime`: `09/Apr/2015:12:34:56 +0000`, in UTC."""
    t = time.gmtime(epoch_ms / 1000)
    month = _MONTHS[t.tm_mon - 1]
    return (
        f"{t.tm_mday:02d}/{month}/{t.tm_year}:"
        f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} +0000"
    )


# ---------------------------------------------------------------- responses


def result_to_http(result: object, *, version: str) -> HttpResponse:
    """The HTTP response API Gateway sends for a handler's result.

    `result` is the decoded JSON value the function returned, or the raw
    response payload as `bytes` (decoded here; a payload that is not JSON is
    a malformed result). A malformed result gets the gateway's error answer.
    """
    if version not in ("1.0", "2.0"):
        raise ValueError(f"payload format version must be 1.0 or 2.0, not {version!r}")
    raw: bytes | None = None
    if isinstance(result, bytes | bytearray):
        raw = bytes(result)
        try:
            result = json.loads(raw)
        except ValueError:
            return failure_to_http(version=version)
    try:
        if version == "2.0":
            return _response_v2(result, raw)
        return _response_v1(result)
    except MalformedResultError as exc:
        log.warning("the function's result is malformed: %s", exc)
        return failure_to_http(version=version)


def failure_to_http(*, version: str, timed_out: bool = False) -> HttpResponse:
    """API Gateway's answer when the function failed, timed out or was malformed.

    REST APIs (1.0) answer 502 `Internal server error`, or 504 on a timeout;
    HTTP APIs (2.0) answer 500 `Internal Server Error`, or 503 on a timeout.
    """
    if version == "1.0":
        status, message = (
            (504, "Endpoint request timed out")
            if timed_out
            else (502, "Internal server error")
        )
    else:
        status, message = (
            (503, "Service Unavailable")
            if timed_out
            else (500, "Internal Server Error")
        )
    body = json.dumps({"message": message}).encode()
    return status, [("Content-Type", "application/json")], body


def _response_v2(result: object, raw: bytes | None) -> HttpResponse:
    if not isinstance(result, dict) or "statusCode" not in result:
        # anything else is the body of a 200 JSON answer, as the function sent it
        body = raw if raw is not None else json.dumps(result).encode()
        return 200, [("Content-Type", "application/json")], body

    status = _status(result["statusCode"])
    headers = _header_lines(result.get("headers"), multi=False)
    cookies = result.get("cookies") or []
    if not isinstance(cookies, list) or not all(isinstance(c, str) for c in cookies):
        raise MalformedResultError("cookies must be a list of strings")
    headers.extend(("Set-Cookie", _safe_value(cookie)) for cookie in cookies)
    body = _body(result)
    if not _has(headers, "content-type"):
        headers.append(("Content-Type", "text/plain; charset=utf-8"))
    return status, headers, body


def _response_v1(result: object) -> HttpResponse:
    if not isinstance(result, dict) or "statusCode" not in result:
        raise MalformedResultError("a proxy result needs a statusCode")
    extra = set(result) - _V1_RESULT_KEYS
    if extra:
        raise MalformedResultError(f"unexpected keys in result: {sorted(extra)}")

    status = _status(result["statusCode"])
    # where a name is in both, multiValueHeaders wins
    multi = _header_lines(result.get("multiValueHeaders"), multi=True)
    overridden = {name.lower() for name, _ in multi}
    single = [
        (name, value)
        for name, value in _header_lines(result.get("headers"), multi=False)
        if name.lower() not in overridden
    ]
    headers = single + multi
    body = _body(result)
    if not _has(headers, "content-type"):
        headers.append(("Content-Type", "application/json"))
    return status, headers, body


def _status(value: object) -> int:
    if isinstance(value, bool):
        raise MalformedResultError("statusCode must be a number")
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if not isinstance(value, int) or not 100 <= value <= 599:
        raise MalformedResultError("statusCode must be an HTTP status")
    return value


def _header_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return _safe_value(str(value))
    raise MalformedResultError("header values must be strings or numbers")


def _safe_value(value: str) -> str:
    """`value` if it can go on the wire as one field value (sent as UTF-8)."""
    if _UNSAFE_VALUE.search(value):
        raise MalformedResultError("a header value holds a control character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise MalformedResultError("a header value is not valid Unicode") from exc
    return value


def _header_lines(headers: object, *, multi: bool) -> list[tuple[str, str]]:
    if headers is None:
        return []
    if not isinstance(headers, dict):
        raise MalformedResultError("headers must be an object")
    lines: list[tuple[str, str]] = []
    for name, value in headers.items():
        if not isinstance(name, str) or not _TOKEN.fullmatch(name):
            raise MalformedResultError(f"not a header name: {name!r}")
        if name.lower() in _FRAMING_HEADERS:
            continue
        if multi:
            if not isinstance(value, list):
                raise MalformedResultError("multiValueHeaders values must be lists")
            lines.extend((name, _header_value(v)) for v in value)
        else:
            lines.append((name, _header_value(value)))
    return lines


def _body(result: dict[str, Any]) -> bytes:
    body = result.get("body")
    if body is None:
        return b""
    if not isinstance(body, str):
        raise MalformedResultError("body must be a string")
    if result.get("isBase64Encoded") is True:
        try:
            return base64.b64decode(body, validate=True)
        except binascii.Error as exc:
            raise MalformedResultError("body is not valid base64") from exc
    try:
        return body.encode("utf-8")
    except UnicodeEncodeError as exc:
        # a lone surrogate: JSON can carry it, UTF-8 cannot
        raise MalformedResultError("body is not valid Unicode text") from exc


def _has(headers: list[tuple[str, str]], name: str) -> bool:
    return any(key.lower() == name for key, _ in headers)
