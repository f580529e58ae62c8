"""The executors: send an operation's request and hand its response to parse.

How to define an operation. An operation is two pure functions and a little
data, put together as an `Operation`:

* ``build(params, ctx) -> Request``: turn the caller's validated parameters
  into a `Request` (method, wire URL with the path already percent-encoded
  once, headers, body). `ctx` is the client's `Context`: region, endpoint,
  resolved settings. No I/O, no signing, no clock.
* ``parse(response, ctx) -> dict``: turn a 2xx `Response` (status, headers,
  body bytes, or an open stream for streaming operations) into boto3's result
  dict, `ResponseMetadata` included (`response.metadata()`), or raise the
  typed error (S3's 200-with-<Error> answers are raised from here).
* `required` and `allowed` name the parameters; `validate` checks them before
  `build`, so a typo fails with the parameter's name instead of a 400.

A `ServiceModel` tells the executors what is common to a service's
operations: its signing name, how its error bodies read, whether a wrong-region
answer names the right region (S3), and its backoff base.

`SyncExecutor.call(op, params)` and `AsyncExecutor.call(op, params)` run the
same loop: validate, build, sign (with the learned clock offset), send, and
on an error answer decide among: re-sign after a clock-skew error (once,
learning the offset from the response's Date header), rebuild in the region a
wrong-region answer named (once, remembered per bucket), retry in the standard
mode (`services.retry`), or raise. Request and response lines are logged at
DEBUG only, with secrets masked by `sigv4.redact`.
"""

from __future__ import annotations

import datetime as _dt
import io
import logging
import time
import zlib
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

import sigv4
from sigv4 import redact as _redact

from . import retry as _retry
from .errors import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    EndpointError,
    ParamValidationError,
    ReadTimeoutError,
    ResponseParseError,
)

if TYPE_CHECKING:
    import httpx

    from .config import Resolved

log = logging.getLogger(__name__)

SKEW_CODES = frozenset({"RequestTimeTooSkewed", "RequestExpired", "RequestInTheFuture"})
_MONTHS = {
    m: i
    for i, m in enumerate(
        (
            "Jan",
            "Feb",
            "Mar",
            "Apr",
            "May",
            "Jun",
            "Jul",
            "Aug",
            "Sep",
            "Oct",
            "Nov",
            "Dec",
        ),
        1,
    )
}

Body = bytes | io.IOBase | Iterable[bytes] | None


class Request:
    """What `build` returns: one HTTP request, before signing.

    `flags` carry what build decided and parse must know (for S3, that the
    client asked for url-encoded keys); `bucket` and `region` serve S3's
    wrong-region handling.
    """

    __slots__ = (
        "body",
        "bucket",
        "flags",
        "headers",
        "method",
        "region",
        "replayable",
        "start",
        "unsigned_payload",
        "url",
    )

    def __init__(
        self,
        method: str,
        url: str,
        headers: dict[str, str] | None = None,
        body: Any = None,
        *,
        bucket: str | None = None,
        region: str | None = None,
        unsigned_payload: bool = False,
        flags: frozenset[str] = frozenset(),
    ) -> None:
        self.flags = flags
        self.method = method
        self.url = url
        self.headers = headers if headers is not None else {}
        self.body = body
        self.bucket = bucket
        self.region = region
        self.unsigned_payload = unsigned_payload
        self.replayable = True
        self.start = -1
        if body is not None and not isinstance(body, bytes):
            self._prepare_stream(body)

    def _prepare_stream(self, body: Any) -> None:
        # A seekable file is sent from where it stands and rewound for a retry;
        # any other stream goes once, so it is never retried blindly.
        self.unsigned_payload = True
        seekable = getattr(body, "seekable", None)
        if seekable is not None and seekable():
            self.start = body.tell()
        else:
            self.replayable = False

    def rewind(self) -> bool:
        """Make the body ready to send again; False when it cannot be."""
        if self.start >= 0:
            self.body.seek(self.start)
            return True
        return self.replayable

    def __repr__(self) -> str:
        return f"<Request {self.method} {_redact.redact_url(self.url)}>"


class Headers(dict[str, str]):
    """Response headers: lower-case names, looked up in any case."""

    def get(self, name: str, default: Any = None) -> Any:
        return dict.get(self, name.lower(), default)

    def __getitem__(self, name: str) -> str:
        return dict.__getitem__(self, name.lower())

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and dict.__contains__(self, name.lower())


def headers_of(raw: httpx.Response) -> Headers:
    """The response's headers: names in lower case, bytes read as ISO-8859-1
    (as http.client, and so botocore, reads them), repeats joined by ", "."""
    found: dict[str, str] = {}
    for name, value in raw.headers.raw:
        key = name.decode("latin-1").lower()
        text = value.decode("latin-1")
        before = found.get(key)
        found[key] = text if before is None else f"{before}, {text}"
    return Headers(found)


class Response:
    """What `parse` receives: status, headers (any case), body or stream."""

    __slots__ = (
        "asynchronous",
        "attempts",
        "body",
        "headers",
        "raw",
        "request",
        "service",
        "status",
    )

    def __init__(
        self,
        status: int,
        headers: Mapping[str, str],
        body: bytes,
        *,
        raw: Any = None,
        attempts: int = 0,
        service: ServiceModel | None = None,
        asynchronous: bool = False,
        request: Request | None = None,
    ) -> None:
        self.request = request
        self.asynchronous = asynchronous
        self.status = status
        self.headers = headers
        self.body = body
        self.raw = raw
        self.attempts = attempts
        self.service = service

    def metadata(self) -> dict[str, Any]:
        """boto3's ResponseMetadata for this response."""
        if self.service is not None:
            return self.service.metadata(self)
        return default_metadata(self)

    def __repr__(self) -> str:
        return f"<Response {self.status}>"


def default_metadata(response: Response) -> dict[str, Any]:
    """ResponseMetadata as boto3 gives it for JSON services."""
    headers = response.headers
    meta: dict[str, Any] = {}
    request_id = headers.get("x-amzn-requestid") or headers.get("x-amz-request-id")
    if request_id:
        meta["RequestId"] = request_id
    meta["HTTPStatusCode"] = response.status
    meta["HTTPHeaders"] = dict(headers.items())
    meta["RetryAttempts"] = response.attempts
    return meta


class Operation:
    """One API operation: its name, pure build and parse, and its parameters."""

    __slots__ = ("allowed", "build", "name", "parse", "required", "streaming")

    def __init__(
        self,
        name: str,
        build: Callable[[dict[str, Any], Context], Request],
        parse: Callable[[Response, Context], dict[str, Any]],
        *,
        required: Iterable[str] = (),
        optional: Iterable[str] = (),
        streaming: bool = False,
    ) -> None:
        self.name = name
        self.build = build
        self.parse = parse
        self.required = frozenset(required)
        self.allowed = self.required | frozenset(optional)
        self.streaming = streaming

    def validate(self, params: Mapping[str, Any]) -> None:
        """Raise ParamValidationError naming a missing or unknown parameter."""
        missing = self.required.difference(params)
        unknown = set(params).difference(self.allowed)
        if not (missing or unknown):
            for name in self.required:
                if params[name] is None:
                    # as boto3: None is no value of any parameter type
                    raise ParamValidationError(
                        f"required parameter {name} of {self.name} is None"
                    )
            return
        problems = []
        if unknown:
            problems.append(f"unknown parameter {', '.join(sorted(unknown))}")
        if missing:
            problems.append(f"missing required parameter {', '.join(sorted(missing))}")
        raise ParamValidationError(
            f"{'; '.join(problems)} in {self.name}; "
            f"valid parameters are {', '.join(sorted(self.allowed))}"
        )

    def __repr__(self) -> str:
        return f"<Operation {self.name}>"


class ServiceModel:
    """What the executors need to know about a service beyond its operations.

    Subclass and override `error` (how an error body reads), `metadata`,
    `received` (DynamoDB: check the body as received) and, for S3,
    `redirect_region`.
    """

    name = ""
    signing_name = ""
    # botocore's standard retry mode: back off from 50 ms, or from 1 s after
    # a throttling error; 3 attempts in all
    retry_base = 0.05
    throttle_base = 1.0
    max_attempts = 3
    sign_payload_header: bool | None = None

    def error(self, response: Response, operation_name: str) -> ClientError:
        """The typed error for a non-2xx response."""
        raise NotImplementedError

    def metadata(self, response: Response) -> dict[str, Any]:
        """boto3's ResponseMetadata."""
        return default_metadata(response)

    def redirect_region(self, response: Response, error: ClientError) -> str | None:
        """The region a wrong-region answer names, if any."""
        return None

    def received(self, headers: Headers, raw: bytes) -> bytes:
        """The body to parse, from the bytes exactly as they came off the wire.

        DynamoDB checks its CRC32 here before decoding; raising an
        `EndpointError` makes the executor retry the call.
        """
        return decoded(headers, raw)


def decoded(headers: Mapping[str, str], raw: bytes) -> bytes:
    """The body after a gzip or deflate content encoding, if any.

    The executors ask for ``Accept-Encoding: identity``; a server that
    compresses anyway is decoded here. Other encodings pass through as sent,
    as httpx leaves those it does not know.
    """
    encoding = headers.get("content-encoding", "").strip().lower()
    if not raw or encoding not in ("gzip", "x-gzip", "deflate"):
        return raw
    try:
        if encoding == "deflate":
            try:
                return zlib.decompress(raw)
            except zlib.error:
                return zlib.decompress(raw, wbits=-zlib.MAX_WBITS)
        return zlib.decompress(raw, wbits=16 + zlib.MAX_WBITS)
    except zlib.error as exc:
        raise ResponseParseError(
            f"the answer's {encoding} content encoding does not decode"
        ) from exc


class Context:
    """What build and parse may read about the client: region, endpoint, settings.

    `bucket_regions` remembers, per S3 bucket, the region a redirect named.
    """

    __slots__ = (
        "bucket_regions",
        "endpoint_url",
        "host",
        "region",
        "scheme",
        "service",
        "settings",
    )

    def __init__(self, service: ServiceModel, settings: Resolved) -> None:
        self.service = service
        self.settings = settings
        self.region = settings.region
        self.endpoint_url = settings.endpoint_url
        self.scheme, _, self.host = self.endpoint_url.partition("://")
        self.bucket_regions: dict[str, str] = {}


# -- clock skew ----------------------------------------------------------------


def http_date(value: str) -> _dt.datetime | None:
    """Parse an RFC 7231 date (`Sun, 06 Nov 1994 08:49:37 GMT`); None if not one."""
    try:
        _, day, month, year, clock, _zone = value.split()
        hour, minute, second = clock.split(":")
        return _dt.datetime(
            int(year),
            _MONTHS[month],
            int(day),
            int(hour),
            int(minute),
            int(second),
            tzinfo=_dt.timezone.utc,
        )
    except (ValueError, KeyError):
        return None


def is_skew_error(error: ClientError) -> bool:
    """True for the answers that mean our clock is off from the service's."""
    if error.code in SKEW_CODES:
        return True
    return error.code in ("InvalidSignatureException", "AuthFailure") and (
        "signature expired" in error.message.lower()
    )


def learned_offset(response: Response) -> _dt.timedelta | None:
    """The service's clock minus ours, from the response's Date header."""
    server = http_date(response.headers.get("date", ""))
    if server is None:
        return None
    return server - _dt.datetime.now(_dt.timezone.utc)


# -- the shared loop -----------------------------------------------------------


class Credentialer:
    """Hands out the credentials to sign with, fixed or from a provider."""

    __slots__ = ("_fixed", "_provider")

    def __init__(
        self,
        fixed: sigv4.Credentials | None = None,
        provider: Callable[[], sigv4.Credentials] | None = None,
    ) -> None:
        self._fixed = fixed
        self._provider = provider

    def get(self) -> sigv4.Credentials:
        """The current credentials."""
        if self._fixed is not None:
            return self._fixed
        if self._provider is None:
            raise sigv4.NoCredentialsError("no credentials were found")
        return self._provider()

    def __repr__(self) -> str:
        return "<Credentialer>"


class _Loop:
    """State and decisions shared by the sync and async executors."""

    asynchronous = False
    http: Any  # the executor's httpx.Client or httpx.AsyncClient

    def __init__(
        self,
        ctx: Context,
        credentials: Credentialer,
        quota: _retry.RetryQuota | None = None,
    ) -> None:
        self.ctx = ctx
        self.service = ctx.service
        self.credentials = credentials
        self.quota = quota or _retry.RetryQuota()
        self.skew = _dt.timedelta(0)
        self.max_attempts = ctx.settings.max_attempts
        self.retry_base = ctx.settings.retry_base
        self.throttle_base = ctx.settings.throttle_base
        from . import _http  # httpx loads with the first executor, not before

        self.net = _http

    def sign(self, request: Request) -> tuple[str, list[tuple[str, str]]]:
        body = request.body if isinstance(request.body, bytes) else None
        signed = sigv4.sign(
            request.method,
            request.url,
            request.headers,
            body,
            credentials=self.credentials.get(),
            region=request.region or self.ctx.region,
            service=self.service.signing_name,
            timestamp=_dt.datetime.now(_dt.timezone.utc) + self.skew,
            unsigned_payload=request.unsigned_payload,
            payload_hash=getattr(request.body, "payload_sha256", None),
            sign_payload_header=self.service.sign_payload_header,
        )
        if log.isEnabledFor(logging.DEBUG):
            log.debug(
                "%s %s headers=%s",
                request.method,
                _redact.redact_url(signed.url),
                _redact.redact_headers(signed.headers),
            )
        return signed.url, signed.headers

    def outgoing(self, request: Request, content: Any) -> tuple[str, httpx.Request]:
        """The signed URL and the httpx.Request to send for `request`."""
        url, headers = self.sign(request)
        # not build_request: that would merge client defaults into a new
        # header set on every call; ours are added here instead.
        return url, self.net.request(
            request.method,
            url,
            headers + _DEFAULT_HEADERS,
            content,
            self.http.timeout.as_dict(),
        )

    def incoming(
        self,
        op: Operation,
        request: Request,
        raw: httpx.Response,
        body: bytes | None,
        retries: int,
    ) -> Response:
        """The `Response` for an answer: its body as read, or (None) the
        answer kept open for a streaming operation to read."""
        received = headers_of(raw)
        keep = raw if body is None else None
        body = b"" if body is None else self.service.received(received, body)
        log.debug("%s %s -> %s", op.name, request.method, raw.status_code)
        return Response(
            raw.status_code,
            received,
            body,
            raw=keep,
            attempts=retries,
            service=self.service,
            asynchronous=self.asynchronous,
            request=request,
        )

    def base_for(self, error: ClientError) -> float:
        """The backoff base after `error`: throttling backs off longer."""
        if error.code in _retry.THROTTLING_CODES:
            return self.throttle_base
        return self.retry_base

    def _retry_cost(self, request: Request, attempts: int, *, timeout: bool) -> int:
        if attempts >= self.max_attempts or not request.rewind():
            return 0
        return self.quota.acquire(timeout=timeout)

    def error_for(self, response: Response, op: Operation) -> ClientError:
        return self.service.error(response, op.name)

    def _resend(
        self,
        op: Operation,
        params: dict[str, Any],
        request: Request,
        response: Response,
        error: ClientError,
        fixed: set[str],
    ) -> Request | None:
        """The request to send again at once, free of retry cost, or None.

        Each at most once a call: a clock-skew error whose response taught the
        offset (the same request, signed again), and a bucket that answered
        from another region (built again for it, the region remembered).
        """
        if (
            "skew" not in fixed
            and is_skew_error(error)
            and request.rewind()
            and self.learn_skew(response)
        ):
            fixed.add("skew")
            return request
        region = self.service.redirect_region(response, error)
        if (
            region
            and "region" not in fixed
            and request.bucket
            and region != (request.region or self.ctx.region)
            and request.rewind()
        ):
            fixed.add("region")
            self.ctx.bucket_regions[request.bucket] = region
            log.debug("bucket %s is in %s: resending", request.bucket, region)
            return op.build(params, self.ctx)
        return None

    def learn_skew(self, response: Response) -> bool:
        offset = learned_offset(response)
        if offset is None:
            return False
        log.debug("clock skew: adjusting by %s", offset)
        self.skew = offset
        return True


_DEFAULT_HEADERS = [("User-Agent", "lambdalite/0.1"), ("Accept-Encoding", "identity")]


def _body_content(body: Any) -> Any:
    """What httpx gets as content: bytes, or an iterator over a stream."""
    if body is None or isinstance(body, bytes):
        return body
    read = getattr(body, "read", None)
    if read is not None:
        return _file_chunks(read)
    return body


def _file_chunks(read: Callable[[int], bytes]) -> Iterable[bytes]:
    while True:
        chunk = read(1 << 20)
        if not chunk:
            return
        yield chunk


async def _afile_chunks(read: Callable[[int], Any]) -> Any:
    import inspect

    while True:
        chunk = read(1 << 20)
        if inspect.isawaitable(chunk):
            chunk = await chunk
        if not chunk:
            return
        yield chunk


def _body_length_error(exc: Exception) -> ParamValidationError:
    # The body disagreed with the Content-Length sent: the transport sent no
    # byte past it and closed the connection. Not retried: it would again.
    return ParamValidationError(
        f"the Body does not match its ContentLength ({exc}); "
        "the request was not completed"
    )


def _transport_error(exc: Exception, url: str) -> EndpointError:
    from ._http import httpx

    base = _redact.redact_url(url).split("?", 1)[0]
    if isinstance(exc, httpx.ConnectTimeout):
        return ConnectTimeoutError(
            f"connect timeout on endpoint URL: {base}", endpoint_url=base
        )
    if isinstance(exc, httpx.TimeoutException):
        return ReadTimeoutError(
            f"read timeout on endpoint URL: {base}", endpoint_url=base
        )
    if isinstance(exc, httpx.ConnectError):
        return EndpointConnectionError(
            f"could not connect to the endpoint URL: {base} ({exc})",
            endpoint_url=base,
        )
    return ConnectionClosedError(
        f"the connection to endpoint URL {base} broke before a complete answer "
        f"came ({type(exc).__name__}: {exc})",
        endpoint_url=base,
    )


class SyncExecutor(_Loop):
    """Runs operations on one `httpx.Client` (one connection pool)."""

    def __init__(
        self,
        ctx: Context,
        credentials: Credentialer,
        http: httpx.Client,
        quota: _retry.RetryQuota | None = None,
        sleep: Callable[[float], None] = time.sleep,
        *,
        direct: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__(ctx, credentials, quota)
        self.http = http
        self.direct = direct  # see services._http.direct
        self.sleep = sleep

    def close(self) -> None:
        """Close the connection pool."""
        self.http.close()

    def call(self, op: Operation, params: dict[str, Any]) -> dict[str, Any]:
        """Validate, build, send with retries and parse one operation."""
        op.validate(params)
        request = op.build(params, self.ctx)
        return self.run(op, params, request)

    def run(
        self, op: Operation, params: dict[str, Any], request: Request
    ) -> dict[str, Any]:
        """Send a built request with the retry loop and parse its response."""
        attempts = 0
        taken = 0
        fixed: set[str] = set()  # "skew", "region": each fixed once a call
        while True:
            attempts += 1
            try:
                response = self._send(op, request, attempts - 1)
            except EndpointError as exc:
                timeout = isinstance(exc, ReadTimeoutError | ConnectTimeoutError)
                cost = self._retry_cost(request, attempts, timeout=timeout)
                if not cost:
                    raise
                taken += cost
                self.sleep(_retry.backoff(attempts, self.retry_base))
                continue
            try:
                if response.status >= 300:
                    raise self.error_for(response, op)
                result = op.parse(response, self.ctx)
            except ClientError as error:
                if response.raw is not None:
                    response.raw.close()
                again = self._resend(op, params, request, response, error, fixed)
                if again is not None:
                    request = again
                    attempts -= 1
                    continue
                if not _retry.is_retryable(error.code, error.status_code):
                    raise
                cost = self._retry_cost(request, attempts, timeout=False)
                if not cost:
                    _mark_exhausted(error, attempts)
                    raise
                taken += cost
                self.sleep(_retry.backoff(attempts, self.base_for(error)))
                continue
            self.quota.release(taken)
            return result

    def _send(self, op: Operation, request: Request, retries: int) -> Response:
        net = self.net
        url, http_request = self.outgoing(request, _body_content(request.body))
        try:
            if self.direct is not None:
                raw = self.direct.handle_request(http_request)
            else:
                raw = self.http.send(http_request, stream=True)
        except net.httpx.LocalProtocolError as exc:
            raise _body_length_error(exc) from exc
        except net.httpx.TransportError as exc:
            raise _transport_error(exc, url) from exc
        if op.streaming and raw.status_code < 300:
            return self.incoming(op, request, raw, None, retries)
        # the stream itself: the bytes as sent, not decoded by httpx (DynamoDB's
        # CRC32 covers those); closed as a stream, since the response object
        # is dropped here
        stream: httpx.SyncByteStream = raw.stream  # type: ignore[assignment]
        try:
            body = b"".join(stream)
        except net.httpx.TransportError as exc:
            raise _transport_error(exc, url) from exc
        finally:
            stream.close()
            net.unlink(raw)
        return self.incoming(op, request, raw, body, retries)


class AsyncExecutor(_Loop):
    """Runs operations on one `httpx.AsyncClient` (one connection pool)."""

    asynchronous = True

    def __init__(
        self,
        ctx: Context,
        credentials: Credentialer,
        http: httpx.AsyncClient,
        quota: _retry.RetryQuota | None = None,
        sleep: Callable[[float], Any] | None = None,
        *,
        direct: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__(ctx, credentials, quota)
        self.http = http
        self.direct = direct
        self.sleep = sleep

    async def close(self) -> None:
        """Close the connection pool."""
        await self.http.aclose()

    async def _sleep(self, seconds: float) -> None:
        if self.sleep is not None:
            await self.sleep(seconds)
            return
        import asyncio

        await asyncio.sleep(seconds)

    async def call(self, op: Operation, params: dict[str, Any]) -> dict[str, Any]:
        """Validate, build, send with retries and parse one operation."""
        op.validate(params)
        request = op.build(params, self.ctx)
        return await self.run(op, params, request)

    async def run(
        self, op: Operation, params: dict[str, Any], request: Request
    ) -> dict[str, Any]:
        """Send a built request with the retry loop and parse its response."""
        attempts = 0
        taken = 0
        fixed: set[str] = set()  # "skew", "region": each fixed once a call
        while True:
            attempts += 1
            try:
                response = await self._send(op, request, attempts - 1)
            except EndpointError as exc:
                timeout = isinstance(exc, ReadTimeoutError | ConnectTimeoutError)
                cost = self._retry_cost(request, attempts, timeout=timeout)
                if not cost:
                    raise
                taken += cost
                await self._sleep(_retry.backoff(attempts, self.retry_base))
                continue
            try:
                if response.status >= 300:
                    raise self.error_for(response, op)
                result = op.parse(response, self.ctx)
            except ClientError as error:
                if response.raw is not None:
                    await response.raw.aclose()
                again = self._resend(op, params, request, response, error, fixed)
                if again is not None:
                    request = again
                    attempts -= 1
                    continue
                if not _retry.is_retryable(error.code, error.status_code):
                    raise
                cost = self._retry_cost(request, attempts, timeout=False)
                if not cost:
                    _mark_exhausted(error, attempts)
                    raise
                taken += cost
                await self._sleep(_retry.backoff(attempts, self.base_for(error)))
                continue
            self.quota.release(taken)
            return result

    async def _send(self, op: Operation, request: Request, retries: int) -> Response:
        net = self.net
        content = request.body
        if content is not None and not isinstance(content, bytes):
            read = getattr(content, "read", None)
            content = _afile_chunks(read) if read is not None else content
        url, http_request = self.outgoing(request, content)
        try:
            if self.direct is not None:
                raw = await self.direct.handle_async_request(http_request)
            else:
                raw = await self.http.send(http_request, stream=True)
        except net.httpx.LocalProtocolError as exc:
            raise _body_length_error(exc) from exc
        except net.httpx.TransportError as exc:
            raise _transport_error(exc, url) from exc
        if op.streaming and raw.status_code < 300:
            return self.incoming(op, request, raw, None, retries)
        try:
            stream = raw.stream
            body = b"".join([c async for c in stream])  # type: ignore[union-attr]
        except net.httpx.TransportError as exc:
            raise _transport_error(exc, url) from exc
        finally:
            await raw.aclose()
            net.unlink(raw)
        return self.incoming(op, request, raw, body, retries)


def _mark_exhausted(error: ClientError, attempts: int) -> None:
    meta = error.response.setdefault("ResponseMetadata", {})
    meta["MaxAttemptsReached"] = True
    meta["RetryAttempts"] = attempts - 1
