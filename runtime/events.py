"""Typed, lazily parsed views over the HTTP events Lambda receives.

Four sources send an HTTP request to a function, in four shapes:

- API Gateway REST APIs, and HTTP APIs in payload format 1.0 (`REST_V1`):
  `httpMethod`, `headers` and `multiValueHeaders`, decoded query parameters.
- API Gateway HTTP APIs in payload format 2.0 (`HTTP_V2`): `rawPath`,
  `rawQueryString`, headers joined with commas, a separate `cookies` list.
- Lambda function URLs (`FUNCTION_URL`): the 2.0 shape, told apart by the
  `lambda-url` domain name.
- Application Load Balancer targets (`ALB`, `ALB_MULTI_VALUE`): `httpMethod`
  and `requestContext.elb`, query parameters *not* decoded by the balancer,
  and with multi-value headers on, only the `multiValue*` fields.

`request(event)` returns one `HttpRequest` whatever the shape; nothing is
parsed until a property is read, and each property is parsed once. Header
names are case-insensitive everywhere; `Headers.get_all` and
`QueryParameters.get_all` give every value of a repeated name (for 2.0 events,
whose values API Gateway joined with commas, the comma-separated parts).

A dict that is none of these shapes raises `UnknownEventError`, a body that
is not valid base64, UTF-8 or JSON raises `BodyError`; both are `EventError`s
(see `runtime.errors`).
"""

from __future__ import annotations

import base64
import binascii
import enum
import json
import urllib.parse
from collections.abc import Iterator, Mapping
from functools import cached_property
from typing import Any

from .errors import BodyError, EventError, UnknownEventError

__all__ = [
    "BodyError",
    "EventError",
    "EventKind",
    "Headers",
    "HttpRequest",
    "QueryParameters",
    "RequestContext",
    "UnknownEventError",
    "event_kind",
    "request",
]


class EventKind(enum.Enum):
    """Which service sent an HTTP event, and in which payload format."""

    REST_V1 = "rest-v1"
    HTTP_V2 = "http-v2"
    FUNCTION_URL = "function-url"
    ALB = "alb"
    ALB_MULTI_VALUE = "alb-multi-value"


def event_kind(event: Mapping[str, Any]) -> EventKind:
    """The kind of an HTTP event; `UnknownEventError` for anything else."""
    if not isinstance(event, Mapping):
        raise UnknownEventError(f"an event is a JSON object, not {type(event)}")
    context = event.get("requestContext")
    if not isinstance(context, Mapping):
        raise UnknownEventError("the event has no requestContext object")

    if event.get("version") == "2.0" and "rawPath" in event:
        domain = context.get("domainName") or ""
        if ".lambda-url." in domain:
            return EventKind.FUNCTION_URL
        return EventKind.HTTP_V2
    if "httpMethod" in event:
        if "elb" in context:
            if "multiValueHeaders" in event:
                return EventKind.ALB_MULTI_VALUE
            return EventKind.ALB
        return EventKind.REST_V1
    raise UnknownEventError("the event is not from API Gateway, ALB or a URL")


def request(event: Mapping[str, Any]) -> HttpRequest:
    """A view of an HTTP event of any kind."""
    return HttpRequest(event, event_kind(event))


class _RepeatableValues(Mapping[str, str]):
    """One value per name, and every value of a repeated name on request.

    `single` is what the event gives per name, `multi` every value sent;
    a name only in `multi` reads as its last value. `_key` says when two
    names are the same.
    """

    def __init__(
        self, single: Mapping[str, str], multi: Mapping[str, list[str]]
    ) -> None:
        key = self._key
        self._single = {key(name): value for name, value in single.items()}
        self._multi: dict[str, list[str]] = {}
        for name, values in multi.items():
            self._multi.setdefault(key(name), []).extend(values)
        for name, values in self._multi.items():
            if values:
                self._single.setdefault(name, values[-1])

    @staticmethod
    def _key(name: str) -> str:
        return name

    def __getitem__(self, name: str) -> str:
        return self._single[self._key(name)]

    def __iter__(self) -> Iterator[str]:
        return iter(self._single)

    def __len__(self) -> int:
        return len(self._single)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self._key(name) in self._single

    def get_all(self, name: str) -> list[str]:
        """Every value sent for `name`, in order; empty when absent."""
        key = self._key(name)
        if key in self._multi:
            return list(self._multi[key])
        return [self._single[key]] if key in self._single else []

    def __repr__(self) -> str:
        # names only: values may be tokens or cookies
        return f"{type(self).__name__}({sorted(self._single)})"


class Headers(_RepeatableValues):
    """Request headers, case-insensitive.

    `headers[name]` is the single value the event gives (for REST and ALB
    events the last one sent, for 2.0 events every value joined with commas);
    `get_all(name)` is every value sent, in order. A 2.0 event cannot tell a
    comma inside a value from one API Gateway added: there `get_all` gives
    the comma-separated parts.
    """

    @staticmethod
    def _key(name: str) -> str:
        return name.lower()


class QueryParameters(_RepeatableValues):
    """Query parameters, decoded, case-sensitive.

    `query[name]` is the single value the event gives (for REST and ALB events
    the last one sent, for 2.0 events every value joined with commas);
    `get_all(name)` is every value sent, in order.
    """


class RequestContext:
    """The parts of `requestContext` a handler uses, whatever the kind."""

    def __init__(self, context: Mapping[str, Any], kind: EventKind) -> None:
        self.raw = context
        self.kind = kind

    @property
    def request_id(self) -> str | None:
        """API Gateway's or the URL's request id; ALB events have none."""
        return _str_or_none(self.raw.get("requestId"))

    @property
    def source_ip(self) -> str | None:
        """The client's address as API Gateway saw it; ALB events: None."""
        if self.kind is EventKind.REST_V1:
            return _str_or_none(_dig(self.raw, "identity", "sourceIp"))
        return _str_or_none(_dig(self.raw, "http", "sourceIp"))

    @property
    def user_agent(self) -> str | None:
        """The client's User-Agent as API Gateway recorded it."""
        if self.kind is EventKind.REST_V1:
            return _str_or_none(_dig(self.raw, "identity", "userAgent"))
        return _str_or_none(_dig(self.raw, "http", "userAgent"))

    @property
    def stage(self) -> str | None:
        """The API Gateway stage (`$default` for HTTP APIs and URLs)."""
        return _str_or_none(self.raw.get("stage"))

    @property
    def domain_name(self) -> str | None:
        """The domain the client called."""
        return _str_or_none(self.raw.get("domainName"))

    @property
    def api_id(self) -> str | None:
        """The API id, or the URL id for function URLs."""
        return _str_or_none(self.raw.get("apiId"))

    @property
    def account_id(self) -> str | None:
        """The account that owns the API or the function."""
        return _str_or_none(self.raw.get("accountId"))

    @property
    def time_epoch_ms(self) -> int | None:
        """When the request arrived, in milliseconds since the epoch."""
        value = self.raw.get("timeEpoch", self.raw.get("requestTimeEpoch"))
        return value if isinstance(value, int) else None

    @property
    def authorizer(self) -> Mapping[str, Any]:
        """The whole `authorizer` object, empty when there is none."""
        value = self.raw.get("authorizer")
        return value if isinstance(value, Mapping) else {}

    @property
    def claims(self) -> Mapping[str, Any]:
        """Token claims: JWT authorizer (2.0) or Cognito user pool (REST)."""
        found = _dig(self.authorizer, "jwt", "claims")
        if found is None:
            found = self.authorizer.get("claims")
        return found if isinstance(found, Mapping) else {}

    @property
    def scopes(self) -> list[str]:
        """The JWT authorizer's scopes (2.0 events), empty otherwise."""
        found = _dig(self.authorizer, "jwt", "scopes")
        return [s for s in found if isinstance(s, str)] if found else []

    @property
    def authorizer_context(self) -> Mapping[str, Any]:
        """What a Lambda authorizer returned as its context.

        For 2.0 events, `authorizer.lambda`; for REST events, the authorizer
        object itself (where API Gateway puts the context's keys, next to
        `principalId`).
        """
        if self.kind is EventKind.REST_V1:
            return self.authorizer if "claims" not in self.authorizer else {}
        found = self.authorizer.get("lambda")
        return found if isinstance(found, Mapping) else {}

    @property
    def iam(self) -> Mapping[str, Any]:
        """The IAM caller (2.0 and function URL events with AWS_IAM auth)."""
        found = self.authorizer.get("iam")
        return found if isinstance(found, Mapping) else {}

    @property
    def target_group_arn(self) -> str | None:
        """The ALB target group that sent the event."""
        return _str_or_none(_dig(self.raw, "elb", "targetGroupArn"))

    def __repr__(self) -> str:
        return f"RequestContext(kind={self.kind.value}, request_id={self.request_id})"


class HttpRequest:
    """One HTTP request, read from an event of any kind, parsed on demand."""

    def __init__(self, event: Mapping[str, Any], kind: EventKind) -> None:
        self.event = event
        self.kind = kind

    @property
    def _v2(self) -> bool:
        return self.kind in (EventKind.HTTP_V2, EventKind.FUNCTION_URL)

    @property
    def _alb(self) -> bool:
        return self.kind in (EventKind.ALB, EventKind.ALB_MULTI_VALUE)

    @cached_property
    def method(self) -> str:
        """The HTTP method, upper case."""
        if self._v2:
            method = _dig(self.event, "requestContext", "http", "method")
        else:
            method = self.event.get("httpMethod")
        if not isinstance(method, str):
            raise EventError("the event has no HTTP method")
        return method.upper()

    @cached_property
    def path(self) -> str:
        """The path, percent-decoded (as API Gateway passes it)."""
        if self._v2:
            path = _dig(self.event, "requestContext", "http", "path")
            if not isinstance(path, str):
                path = urllib.parse.unquote(self.raw_path)
            return path
        path = self.event.get("path")
        if not isinstance(path, str):
            raise EventError("the event has no path")
        return urllib.parse.unquote(path) if self._alb else path

    @cached_property
    def raw_path(self) -> str:
        """The path as sent: `rawPath` for 2.0, `path` otherwise."""
        path = self.event.get("rawPath" if self._v2 else "path")
        if not isinstance(path, str):
            raise EventError("the event has no path")
        return path

    @cached_property
    def headers(self) -> Headers:
        """Request headers, case-insensitive, repeats kept (see get_all)."""
        single = _str_map(self.event.get("headers"))
        if self._v2:
            # API Gateway joined repeats with commas; split them back
            return Headers(single, {k: _split_commas(v) for k, v in single.items()})
        return Headers(single, _list_map(self.event.get("multiValueHeaders")))

    @cached_property
    def query(self) -> QueryParameters:
        """Query parameters, decoded, repeats kept (see get_all)."""
        single = _str_map(self.event.get("queryStringParameters"))
        if self._v2:
            raw = self.event.get("rawQueryString")
            pairs = urllib.parse.parse_qsl(raw or "", keep_blank_values=True)
            grouped: dict[str, list[str]] = {}
            for key, value in pairs:
                grouped.setdefault(key, []).append(value)
            return QueryParameters(single, grouped)
        multi = _list_map(self.event.get("multiValueQueryStringParameters"))
        if self._alb:
            # the load balancer passes parameters as sent, still encoded
            single = {_unquote(k): _unquote(v) for k, v in single.items()}
            multi = {_unquote(k): [_unquote(v) for v in vs] for k, vs in multi.items()}
        return QueryParameters(single, multi)

    @cached_property
    def path_parameters(self) -> Mapping[str, str]:
        """Path parameters matched by the route (`{id}`, `{proxy+}`)."""
        return dict(self.event.get("pathParameters") or {})

    @cached_property
    def stage_variables(self) -> Mapping[str, str]:
        """The stage's variables."""
        return dict(self.event.get("stageVariables") or {})

    @cached_property
    def cookies(self) -> dict[str, str]:
        """Cookies by name: the 2.0 `cookies` list, else the Cookie headers."""
        if self._v2:
            pairs = list(self.event.get("cookies") or [])
        else:
            pairs = [
                part.strip()
                for line in self.headers.get_all("cookie")
                for part in line.split(";")
            ]
        jar: dict[str, str] = {}
        for pair in pairs:
            name, sep, value = pair.partition("=")
            if sep and name.strip():
                jar[name.strip()] = value.strip()
        return jar

    @property
    def is_base64_encoded(self) -> bool:
        """Whether the event carried the body base64-encoded."""
        return self.event.get("isBase64Encoded") is True

    @cached_property
    def body(self) -> bytes:
        """The body as bytes, base64-decoded when the event says so."""
        raw = self.event.get("body")
        if raw is None:
            return b""
        if not isinstance(raw, str):
            raise BodyError("the event's body is not a string")
        if not self.is_base64_encoded:
            try:
                return raw.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise BodyError("the body holds a lone surrogate") from exc
        try:
            return base64.b64decode(raw, validate=True)
        except binascii.Error as exc:
            raise BodyError(
                "the body is marked base64 but is not valid base64"
            ) from exc

    @cached_property
    def text(self) -> str:
        """The body as text; `BodyError` when it is not UTF-8."""
        raw = self.event.get("body")
        if isinstance(raw, str) and not self.is_base64_encoded:
            return raw
        try:
            return self.body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BodyError("the body is not UTF-8 text") from exc

    def json(self) -> Any:
        """The body parsed as JSON; `BodyError` when empty or not JSON."""
        text = self.text
        if not text.strip():
            raise BodyError("the body is empty, expected JSON")
        try:
            return json.loads(text)
        except ValueError as exc:
            raise BodyError(f"the body is not valid JSON: {exc}") from exc
        except RecursionError as exc:
            raise BodyError("the body's JSON is nested too deeply") from exc

    @cached_property
    def request_context(self) -> RequestContext:
        """The request context: request id, source IP, stage, authorizer."""
        return RequestContext(self.event.get("requestContext") or {}, self.kind)

    def __repr__(self) -> str:
        # headers, cookies and body may hold secrets: not shown
        return f"HttpRequest(kind={self.kind.value}, {self.method} {self.path})"


def _dig(mapping: Mapping[str, Any], *keys: str) -> Any:
    value: Any = mapping
    for key in keys:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _split_commas(value: str) -> list[str]:
    return [part.strip() for part in value.split(",")]


def _unquote(value: str) -> str:
    return urllib.parse.unquote_plus(value)


def _str_map(value: object) -> dict[str, str]:
    if not isinstance(value, Mapping):
        return {}
    return {k: v for k, v in value.items() if isinstance(v, str)}


def _list_map(value: object) -> dict[str, list[str]]:
    if not isinstance(value, Mapping):
        return {}
    return {
        k: [x for x in v if isinstance(x, str)]
        for k, v in value.items()
        if isinstance(v, list)
    }
