"""An `httpx.Auth` that signs every request an httpx client sends with SigV4.

What is signed is what httpx sends: the Host header httpx set, the path and
query as `request.url.raw_path` holds them, or as the `target` extension holds
them when the caller set one (for S3 the path is rewritten to the form it was
signed in when the two differ, e.g. a `+` becomes `%2B`; httpx removes `.` and
`..` segments from URLs, so an S3 path holding them is sent through the
`target` extension, which httpx's transports send as given), and
every header but those the HTTP stack or an intermediary may change in transit:
the hop-by-hop headers, `User-Agent` (HTTP stacks append to it) and
`Accept-Encoding` (proxies rewrite it), see `UNSIGNED_HEADERS`. A `+` in the
query is read the way httpx writes it, as a space, and the query is re-sent
percent-encoded (`%20`), the one form every AWS endpoint decodes alike.

Bodies. A body held in memory (`content=b"..."`, `json=`, `data=`) is hashed.
A streamed body (a generator, an async iterator, a file) is never read into
memory: for S3 it goes out as `UNSIGNED-PAYLOAD`, or chunk-signed
(`aws-chunked`, see `sigv4.streaming`) with `stream_payload="chunked"`; other
services need the hash of the whole body, so a streamed body is refused
unless `unsigned_payload=True` says the service takes `UNSIGNED-PAYLOAD`.

Redirects. httpx follows redirects below the auth layer, re-sending the old
signature (or none, across origins), which no AWS endpoint accepts. So this
auth follows them itself, signing each new request for its own host and path,
when the client leaves `follow_redirects` off (httpx's default). Not followed
(the 3xx response is returned): redirects from https to http, and redirects
that would re-send a streamed body, which was spent on the first request.
Each request sent through the client, retries by the caller included, is
signed afresh with fresh credentials and date.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Generator, Iterator
from typing import Any, Literal
from urllib.parse import parse_qsl

import httpx

from . import canonical as _c
from . import redact as _r
from . import signer as _s
from . import streaming as _st
from .credentials import Credentials
from .errors import CredentialsError, SigningError

logger = logging.getLogger(__name__)

UNSIGNED_HEADERS = _c.UNSIGNED_HEADERS | frozenset({"accept-encoding"})

# request.extensions key: what an earlier signing of this request added
_STATE = "sigv4"
_SIGNING_HEADERS = ("authorization", "x-amz-date", "x-amz-security-token")

# a Credentials, a provider with resolve()/aresolve(), or a callable
CredentialSource = Credentials | Callable[[], Any] | object


class _PayloadStream(httpx.SyncByteStream, httpx.AsyncByteStream):
    """An aws-chunked payload as a body httpx can send, sync or async."""

    def __init__(self, payload: _st.StreamingPayload) -> None:
        self.payload = payload

    def __iter__(self) -> Iterator[bytes]:
        yield from self.payload

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for piece in self.payload:
            yield piece


class SigV4Auth(httpx.Auth):
    """Sign each request of an `httpx.Client` or `httpx.AsyncClient`.

    `credentials` is a `Credentials`, a provider with a `resolve()` method (and
    optionally `aresolve()` for async clients), or a zero-argument callable
    returning `Credentials` (or an awaitable of them, for async clients); a
    provider is asked again for every request, so refreshed credentials are
    picked up. `stream_payload` chooses how an S3 streamed body is sent:
    `"unsigned"` (`UNSIGNED-PAYLOAD`) or `"chunked"` (aws-chunked, each chunk
    signed). `unsigned_payload` sends every body as `UNSIGNED-PAYLOAD`, for
    the services that accept it. Redirects are followed and re-signed, at most
    `max_redirects`.

    After signing, `last_signing(request)` gives the canonical request and the
    string to sign, for debugging (redact them before showing them).
    """

    requires_request_body = False
    requires_response_body = False

    def __init__(
        self,
        credentials: CredentialSource,
        *,
        region: str,
        service: str,
        stream_payload: Literal["unsigned", "chunked"] = "unsigned",
        chunk_size: int = _st.DEFAULT_CHUNK_SIZE,
        follow_redirects: bool = True,
        max_redirects: int = 10,
        sign_session_token: bool = True,
        unsigned_payload: bool = False,
    ) -> None:
        if not region:
            from .errors import NoRegionError

            raise NoRegionError("SigV4Auth needs a region")
        if not service:
            raise SigningError("SigV4Auth needs a service name, e.g. 's3'")
        if stream_payload not in ("unsigned", "chunked"):
            raise SigningError("stream_payload must be 'unsigned' or 'chunked'")
        self._credentials = credentials
        self.region = region
        self.service = service
        self.stream_payload = stream_payload
        self.chunk_size = chunk_size
        self.follow_redirects = follow_redirects
        self.max_redirects = max_redirects
        self.sign_session_token = sign_session_token
        self.unsigned_payload = unsigned_payload

    def __repr__(self) -> str:
        return f"<SigV4Auth service={self.service!r} region={self.region!r}>"

    # credentials

    def _resolve(self) -> Credentials:
        source = self._credentials
        if isinstance(source, Credentials):
            return source
        resolve = getattr(source, "resolve", None)
        if callable(resolve):
            found = resolve()
        elif callable(source):
            found = source()
        else:
            found = source
        if inspect.isawaitable(found):
            if inspect.iscoroutine(found):
                found.close()
            raise CredentialsError(
                "the credential provider is async: use it with httpx.AsyncClient"
            )
        return self._check(found)

    async def _aresolve(self) -> Credentials:
        source = self._credentials
        if isinstance(source, Credentials):
            return source
        for name in ("aresolve", "resolve"):
            method = getattr(source, name, None)
            if callable(method):
                found = method()
                break
        else:
            found = source() if callable(source) else None
        if inspect.isawaitable(found):
            found = await found
        return self._check(found)

    @staticmethod
    def _check(found: object) -> Credentials:
        if not isinstance(found, Credentials):
            raise CredentialsError(
                "the credential provider gave "
                f"{type(found).__name__}, not sigv4.Credentials"
            )
        return found

    # signing

    def sign_request(self, request: httpx.Request, credentials: Credentials) -> None:
        """Sign `request` in place: headers, and for S3 the path as signed."""
        state = request.extensions.get(_STATE)
        if not isinstance(state, dict):
            state = {}
        for name in (*_SIGNING_HEADERS, *state.get("added", ())):
            request.headers.pop(name, None)

        method = request.method
        netloc = request.url.netloc.decode("ascii")
        # a target the caller set (httpx keeps dot segments only there)
        target = request.extensions.get("target")
        raw = target if isinstance(target, bytes) else request.url.raw_path
        raw_path = raw.decode("ascii")
        path, _, query = raw_path.partition("?")
        if "+" in query:
            # httpx writes a space in params as "+"; send it unambiguous
            pairs = parse_qsl(query, keep_blank_values=True)
            raw_path = f"{path}?{_c.canonical_query(pairs)}"
            request.url = request.url.copy_with(raw_path=raw_path.encode("ascii"))
            if isinstance(target, bytes):
                request.extensions["target"] = raw_path.encode("ascii")
        url = f"{request.url.scheme}://{netloc}{raw_path}"
        before = {name.lower() for name in request.headers}
        stream = request.stream
        length: int | None = None
        if isinstance(stream, _PayloadStream):
            # a redirect that keeps the body: sign the original body again
            stream, length = state["source"], state["decoded_length"]
        elif not isinstance(stream, httpx.ByteStream):
            declared = request.headers.get("content-length")
            length = int(declared) if declared and declared.isdigit() else None
        logger.debug(
            "signing %s %s for %s in %s",
            method,
            _r.redact_url(url),
            self.service,
            self.region,
        )

        if isinstance(stream, httpx.ByteStream):
            signed = _s.sign(
                method,
                url,
                request.headers.multi_items(),
                request.read(),
                credentials=credentials,
                region=self.region,
                service=self.service,
                unsigned_payload=self.unsigned_payload,
                sign_session_token=self.sign_session_token,
                unsigned_headers=UNSIGNED_HEADERS,
            )
            request.headers = httpx.Headers(signed.headers)
            new_url = signed.url
            done = signed
        elif self.unsigned_payload or (
            _s.is_s3(self.service) and self.stream_payload == "unsigned"
        ):
            signed = _s.sign(
                method,
                url,
                request.headers.multi_items(),
                credentials=credentials,
                region=self.region,
                service=self.service,
                unsigned_payload=True,
                sign_session_token=self.sign_session_token,
                unsigned_headers=UNSIGNED_HEADERS,
            )
            request.headers = httpx.Headers(signed.headers)
            new_url = signed.url
            done = signed
        elif not _s.is_s3(self.service):
            raise SigningError(
                f"{self.service} needs the SHA-256 of the whole body: "
                "give the body as bytes, not a stream"
            )
        else:
            payload = _st.sign_streaming(
                method,
                url,
                request.headers.multi_items(),
                stream,
                credentials=credentials,
                region=self.region,
                service=self.service,
                chunk_size=self.chunk_size,
                decoded_length=length,
                unsigned_headers=UNSIGNED_HEADERS,
            )
            headers = httpx.Headers(payload.headers)
            if payload.content_length is None:
                headers["Transfer-Encoding"] = "chunked"
            request.headers = headers
            request.stream = _PayloadStream(payload)
            state["source"] = stream
            state["decoded_length"] = length
            new_url = payload.url
            done = payload.request

        # the path as signed (S3 encodes some characters httpx leaves raw);
        # httpx removes dot segments from a URL, so a path holding them goes
        # as the request target, which httpcore sends as given
        if new_url != url or isinstance(target, bytes):
            sent = new_url[len(f"{request.url.scheme}://{netloc}") :].encode("ascii")
            request.url = request.url.copy_with(raw_path=sent)
            if request.url.raw_path != sent:
                request.extensions["target"] = sent
            else:
                request.extensions.pop("target", None)
        state["added"] = [
            name for name in request.headers if name.lower() not in before
        ]
        state["signed"] = (done.canonical_request, done.string_to_sign)
        request.extensions[_STATE] = state

    @staticmethod
    def last_signing(request: httpx.Request) -> tuple[str, str] | None:
        """The canonical request and string to sign of the request's last signing.

        The canonical request is not redacted: pass it through
        `sigv4.redact.redact_canonical_request` before showing it.
        """
        state = request.extensions.get(_STATE)
        if isinstance(state, dict):
            found = state.get("signed")
            if isinstance(found, tuple):
                return found
        return None

    def _next(
        self, request: httpx.Request, response: httpx.Response, followed: int
    ) -> httpx.Request | None:
        """The redirect to follow after `response`, if any."""
        # TODO(#2): with the client's follow_redirects on, httpx redirects
        # below this layer and never shows us the 3xx; nothing can re-sign it.
        following = response.next_request
        if not self.follow_redirects or following is None:
            return None
        if request.url.scheme == "https" and following.url.scheme != "https":
            logger.debug("not following a redirect from https to http")
            return None
        if not isinstance(following.stream, httpx.ByteStream):
            logger.debug("not following a redirect: the streamed body is spent")
            return None
        if followed >= self.max_redirects:
            raise httpx.TooManyRedirects(
                f"more than {self.max_redirects} redirects", request=request
            )
        return following

    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        """Sign the request, then each redirect it leads to."""
        followed = 0
        while True:
            self.sign_request(request, self._resolve())
            response = yield request
            following = self._next(request, response, followed)
            if following is None:
                return
            followed += 1
            request = following

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        """Sign the request, then each redirect it leads to (async credentials)."""
        followed = 0
        while True:
            self.sign_request(request, await self._aresolve())
            response = yield request
            following = self._next(request, response, followed)
            if following is None:
                return
            followed += 1
            request = following
