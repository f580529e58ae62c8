"""Response objects in the shape each HTTP event source expects back.

Give the event (or its `HttpRequest` view, or its `EventKind`) and the pieces
of the answer; the builder picks the fields:

- REST APIs (1.0): `statusCode`, `headers` for single values,
  `multiValueHeaders` for repeated names and cookies (one `Set-Cookie` each).
- HTTP APIs (2.0) and function URLs: `statusCode`, `headers` (repeats joined
  with commas, as 2.0 allows no multi-value headers), `cookies`.
- ALB: `statusCode`, `statusDescription` (`200 OK`), and `headers`, or only
  `multiValueHeaders` when the target group has multi-value headers on (the
  balancer ignores `headers` then). Without multi-value headers a name can
  carry one value only: a second value is an error.

Bytes bodies are base64-encoded with `isBase64Encoded: true`; text bodies go
as they are. `json_response` serialises a value and sets
`Content-Type: application/json` unless told otherwise.

A status out of range, a bad header or a body of the wrong type raises
`ResponseError` (see `runtime.errors`).
"""

from __future__ import annotations

import base64
import http
import json
from collections.abc import Mapping, Sequence
from typing import Any

from .errors import ResponseError
from .events import EventKind, HttpRequest, event_kind

__all__ = ["ResponseError", "json_response", "response"]

HeaderValues = str | Sequence[str]
Target = Mapping[str, Any] | HttpRequest | EventKind


def response(
    to: Target,
    status: int = 200,
    *,
    body: str | bytes | None = None,
    headers: Mapping[str, HeaderValues] | None = None,
    cookies: Sequence[str] = (),
    content_type: str | None = None,
) -> dict[str, Any]:
    """A response for the event `to` answers (an event dict, view or kind).

    `headers` values may be a string or a list of strings for a repeated
    name; `cookies` are full `Set-Cookie` values (`id=1; Path=/; Secure`).
    """
    kind = _kind(to)
    _check_status(status)
    lines = _header_lines(headers)
    if content_type is not None:
        _check_header("Content-Type", content_type)
        lines = [(n, v) for n, v in lines if n.lower() != "content-type"]
        lines.append(("Content-Type", content_type))
    for cookie in cookies:
        if not isinstance(cookie, str) or not cookie:
            raise ResponseError("each cookie must be a non-empty Set-Cookie string")
        _check_header("Set-Cookie", cookie)

    result: dict[str, Any] = {"statusCode": status}
    if kind in (EventKind.ALB, EventKind.ALB_MULTI_VALUE):
        result["statusDescription"] = _status_description(status)
    result.update(_headers_for(kind, lines, list(cookies)))
    result.update(_body_fields(body))
    return result


def json_response(
    to: Target,
    value: Any,
    status: int = 200,
    *,
    headers: Mapping[str, HeaderValues] | None = None,
    cookies: Sequence[str] = (),
    content_type: str = "application/json",
) -> dict[str, Any]:
    """A response whose body is `value` as JSON, with a JSON content type."""
    try:
        body = json.dumps(value, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ResponseError(f"the body cannot be encoded as JSON: {exc}") from exc
    return response(
        to,
        status,
        body=body,
        headers=headers,
        cookies=cookies,
        content_type=content_type,
    )


def _kind(to: Target) -> EventKind:
    if isinstance(to, EventKind):
        return to
    if isinstance(to, HttpRequest):
        return to.kind
    return event_kind(to)


def _check_status(status: object) -> None:
    if isinstance(status, bool) or not isinstance(status, int):
        raise ResponseError(f"status must be an int, not {type(status).__name__}")
    if not 100 <= status <= 599:
        raise ResponseError(f"status must be between 100 and 599, not {status}")


def _status_description(status: int) -> str:
    try:
        phrase = http.HTTPStatus(status).phrase
    except ValueError:
        phrase = "Unknown"
    return f"{status} {phrase}"


def _check_header(name: str, value: str) -> None:
    if not name or any(c in name for c in " \t\r\n:") or not name.isascii():
        raise ResponseError(f"not a valid header name: {name!r}")
    if "\r" in value or "\n" in value:
        # a header value must not start a new header line
        raise ResponseError(f"the value of header {name!r} holds a line break")


def _header_lines(headers: Mapping[str, HeaderValues] | None) -> list[tuple[str, str]]:
    lines: list[tuple[str, str]] = []
    for name, values in (headers or {}).items():
        if not isinstance(name, str):
            raise ResponseError("header names must be strings")
        if isinstance(values, str):
            values = [values]
        if not isinstance(values, Sequence):
            raise ResponseError(f"the value of header {name!r} is not a string")
        for value in values:
            if not isinstance(value, str):
                raise ResponseError(f"the value of header {name!r} is not a string")
            _check_header(name, value)
            lines.append((name, value))
    return lines


def _headers_for(
    kind: EventKind, lines: list[tuple[str, str]], cookies: list[str]
) -> dict[str, Any]:
    if kind in (EventKind.HTTP_V2, EventKind.FUNCTION_URL):
        joined: dict[str, str] = {}
        for name, value in lines:
            if name.lower() == "set-cookie":
                cookies.append(value)
                continue
            joined[name] = f"{joined[name]},{value}" if name in joined else value
        fields: dict[str, Any] = {"headers": joined}
        if cookies:
            fields["cookies"] = cookies
        return fields

    lines = lines + [("Set-Cookie", c) for c in cookies]
    grouped: dict[str, list[str]] = {}
    for name, value in lines:
        grouped.setdefault(name, []).append(value)

    if kind is EventKind.ALB_MULTI_VALUE:
        return {"multiValueHeaders": grouped}
    if kind is EventKind.ALB:
        repeated = sorted(n for n, vs in grouped.items() if len(vs) > 1)
        if repeated:
            raise ResponseError(
                f"headers {repeated} repeat, which an ALB target group "
                "without multi-value headers cannot send"
            )
        return {"headers": {n: vs[0] for n, vs in grouped.items()}}

    # REST: repeated names go to multiValueHeaders, the rest stay single
    single = {n: vs[0] for n, vs in grouped.items() if len(vs) == 1}
    multi = {n: vs for n, vs in grouped.items() if len(vs) > 1}
    fields = {"headers": single}
    if multi:
        fields["multiValueHeaders"] = multi
    return fields


def _body_fields(body: str | bytes | None) -> dict[str, Any]:
    if body is None:
        return {"body": "", "isBase64Encoded": False}
    if isinstance(body, bytes | bytearray | memoryview):
        encoded = base64.b64encode(bytes(body)).decode("ascii")
        return {"body": encoded, "isBase64Encoded": True}
    if isinstance(body, str):
        return {"body": body, "isBase64Encoded": False}
    raise ResponseError(f"body must be str or bytes, not {type(body).__name__}")
