"""httpx clients for the executors: one pool per client, TLS context built lazily.

Building an `httpx.Client` the ordinary way loads the CA bundle into a new TLS
context (tens of milliseconds), even for an `http://` endpoint. Here no TLS
context is built until the first https connection opens; then one verified
context is built per process and shared by every client. Sync clients use
`services._transport.FastTransport` (plain sockets, no httpcore);
async clients use httpx's own transport, picked per scheme on first use.
Verification stays on. Proxies named by the environment (HTTP_PROXY,
HTTPS_PROXY, ALL_PROXY, NO_PROXY, as httpx reads them) are mounted as httpx
proxy transports, since httpx applies them only to its default transport.
"""

from __future__ import annotations

import functools
import ssl
import sys
import threading
from collections.abc import AsyncIterator
from typing import Any, TypeVar

if "httpx" not in sys.modules and "httpx._main" not in sys.modules:
    # httpx imports its command-line client when click, rich and pygments are
    # installed (tens of ms); marking it absent makes httpx skip it, exactly as
    # when they are not installed. The `httpx` command runs in its own process.
    sys.modules["httpx._main"] = None  # type: ignore[assignment]
    import httpx

    del sys.modules["httpx._main"]
else:
    import httpx

from .config import Resolved

__all__ = [
    "HEADERS",
    "async_client",
    "httpx",
    "request",
    "sync_client",
    "tls_context",
    "unlink",
]

_T = TypeVar("_T")
_TLS: ssl.SSLContext | None = None
_TLS_LOCK = threading.Lock()
HEADERS = {"User-Agent": "lambdalite/0.1", "Accept-Encoding": "identity"}


def tls_context() -> ssl.SSLContext:
    """The verified TLS context shared by every client (CA bundle as httpx)."""
    global _TLS
    if _TLS is None:
        with _TLS_LOCK:
            if _TLS is None:
                _TLS = httpx.create_ssl_context()
    return _TLS


def _plain_context() -> ssl.SSLContext:
    # Handed to the transport of an http:// pool, which never opens TLS. It
    # verifies and trusts no CA, so it can only fail closed if ever used.
    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


class _AsyncSchemeTransport(httpx.AsyncBaseTransport):
    """The async twin of `_SchemeTransport`."""

    def __init__(self, limits: httpx.Limits) -> None:
        self._limits = limits
        self._by_scheme: dict[str, httpx.AsyncBaseTransport] = {}

    def _make(self, scheme: str) -> httpx.AsyncBaseTransport:
        verify = tls_context() if scheme == "https" else _plain_context()
        made = httpx.AsyncHTTPTransport(verify=verify, limits=self._limits)
        self._by_scheme[scheme] = made
        return made

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        scheme = request.url.scheme
        transport = self._by_scheme.get(scheme) or self._make(scheme)
        _hold_to_length(request)
        return await transport.handle_async_request(request)

    async def aclose(self) -> None:
        for transport in list(self._by_scheme.values()):
            await transport.aclose()


def _hold_to_length(request: httpx.Request) -> None:
    """Make the body keep to the Content-Length sent, as `FastTransport` does.

    A body in memory of another length is refused before anything is sent;
    a streamed one is cut off before the chunk that would cross the length
    (httpcore then closes the connection, its exchange unfinished).
    """
    from ._transport import declared_length

    declared = declared_length(request)
    stream = request.stream
    if isinstance(stream, httpx.ByteStream):
        size = len(b"".join(stream))
        if declared is not None and size != declared:
            raise httpx.LocalProtocolError(
                f"the request body has {size} bytes but its Content-Length "
                f"says {declared}: not sent"
            )
    elif declared is not None:
        request.stream = _HeldStream(stream, declared)


class _HeldStream(httpx.AsyncByteStream):
    """An async body that gives exactly `declared` bytes or raises."""

    def __init__(self, stream: Any, declared: int) -> None:
        self._stream = stream
        self._declared = declared

    async def __aiter__(self) -> AsyncIterator[bytes]:
        sent = 0
        async for chunk in self._stream:
            sent += len(chunk)
            if sent > self._declared:
                raise httpx.LocalProtocolError(
                    "the request body gave more bytes than its Content-Length "
                    f"of {self._declared}"
                )
            yield chunk
        if sent != self._declared:
            raise httpx.LocalProtocolError(
                f"the request body gave {sent} bytes, fewer than its "
                f"Content-Length of {self._declared}"
            )

    async def aclose(self) -> None:
        close = getattr(self._stream, "aclose", None)
        if close is not None:
            await close()


class _NoCookies(httpx.Cookies):
    """AWS APIs set no cookies: nothing to extract, nothing to send.

    httpx.Client extracts cookies from every response through urllib's cookie
    machinery, a tenth of a small call's time; this store skips it.
    """

    def extract_cookies(self, response: httpx.Response) -> None:
        return None

    def set_cookie_header(self, request: httpx.Request) -> None:
        return None


_NO_COOKIES = _NoCookies()


class _Client(httpx.Client):
    """httpx.Client without a cookie store."""

    @property
    def cookies(self) -> httpx.Cookies:
        return _NO_COOKIES

    @cookies.setter
    def cookies(self, cookies: Any) -> None:
        return None


class _AsyncClient(httpx.AsyncClient):
    """httpx.AsyncClient without a cookie store."""

    @property
    def cookies(self) -> httpx.Cookies:
        return _NO_COOKIES

    @cookies.setter
    def cookies(self, cookies: Any) -> None:
        return None


_DONE = httpx.ByteStream(b"")


def unlink(response: httpx.Response) -> None:
    """After close: drop the response's stream, which points back at it.

    httpx wraps a sent response's stream in one that refers to the response,
    a cycle only the garbage collector would free; a closed response needs
    neither.
    """
    response.stream = _DONE


@functools.lru_cache(maxsize=64)
def _url(text: str) -> httpx.URL:
    # a DynamoDB client sends to the same URL every call: parse it once
    return httpx.URL(text)


_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def request(
    method: str,
    url: str,
    headers: list[tuple[str, str]],
    content: Any,
    timeout: dict[str, Any],
) -> httpx.Request:
    """The httpx.Request for a signed request; `headers` must carry Host.

    A body in memory (or none) goes as a ready stream with its Content-Length
    set here, as httpx would set it: that skips httpx's content encoding,
    which re-reads every header. Other content (iterators) goes through it.
    """
    extensions: dict[str, Any] = {"timeout": timeout}
    if "/." in url:
        # httpx drops "." and ".." segments from a URL; an S3 key may hold
        # them, signed literally: send the target as signed (both transports
        # honour the "target" extension)
        start = url.find("/", url.find("://") + 3)
        if start > 0 and _url(url).raw_path != url[start:].encode("ascii"):
            extensions["target"] = url[start:].encode("ascii")
    if content is not None and not isinstance(content, bytes):
        return httpx.Request(
            method, _url(url), headers=headers, content=content, extensions=extensions
        )
    for name, _ in headers:
        if name.lower() == "content-length":
            break
    else:
        if content is not None:
            headers = [*headers, ("Content-Length", str(len(content)))]
        elif method in _BODY_METHODS:
            headers = [*headers, ("Content-Length", "0")]
    return httpx.Request(
        method,
        _url(url),
        headers=headers,
        stream=httpx.ByteStream(content or b""),
        extensions=extensions,
    )


def _timeout(settings: Resolved) -> httpx.Timeout:
    return httpx.Timeout(
        connect=settings.connect_timeout,
        read=settings.read_timeout,
        write=settings.read_timeout,
        pool=settings.connect_timeout,
    )


def _limits(settings: Resolved) -> httpx.Limits:
    size = settings.max_pool_connections
    return httpx.Limits(max_connections=size, max_keepalive_connections=size)


def _environment_proxies() -> dict[str, str | None]:
    """httpx's reading of HTTP(S)_PROXY, ALL_PROXY and NO_PROXY."""
    # httpx applies the environment's proxies only to its default transport;
    # with ours plugged in, the same mounts are made here from its own reading.
    from httpx._utils import get_environment_proxies

    return get_environment_proxies()


def _proxy_mounts(settings: Resolved) -> dict[str, httpx.BaseTransport | None]:
    mounts: dict[str, httpx.BaseTransport | None] = {}
    for pattern, proxy in _environment_proxies().items():
        mounts[pattern] = (
            None
            if proxy is None
            else httpx.HTTPTransport(
                proxy=proxy, verify=tls_context(), limits=_limits(settings)
            )
        )
    return mounts


def _async_proxy_mounts(
    settings: Resolved,
) -> dict[str, httpx.AsyncBaseTransport | None]:
    mounts: dict[str, httpx.AsyncBaseTransport | None] = {}
    for pattern, proxy in _environment_proxies().items():
        mounts[pattern] = (
            None
            if proxy is None
            else httpx.AsyncHTTPTransport(
                proxy=proxy, verify=tls_context(), limits=_limits(settings)
            )
        )
    return mounts


def sync_client(
    settings: Resolved, transport: httpx.BaseTransport | None = None
) -> tuple[httpx.Client, httpx.BaseTransport | None]:
    """The httpx.Client (one connection pool) for a sync service client, and
    the transport its requests may go to directly (see `direct`)."""
    if transport is None:
        from ._transport import FastTransport

        transport = FastTransport(max_keepalive=settings.max_pool_connections)
    mounts = _proxy_mounts(settings)
    client = _Client(
        transport=transport,
        mounts=mounts,
        timeout=_timeout(settings),
        headers=HEADERS,
        follow_redirects=False,
    )
    return client, direct(transport, mounts)


def async_client(
    settings: Resolved, transport: httpx.AsyncBaseTransport | None = None
) -> tuple[httpx.AsyncClient, httpx.AsyncBaseTransport | None]:
    """The async twin of `sync_client`."""
    transport = transport or _AsyncSchemeTransport(_limits(settings))
    mounts = _async_proxy_mounts(settings)
    client = _AsyncClient(
        transport=transport,
        mounts=mounts,
        timeout=_timeout(settings),
        headers=HEADERS,
        follow_redirects=False,
    )
    return client, direct(transport, mounts)


def direct(transport: _T, mounts: dict[str, Any]) -> _T | None:
    """The transport an executor may hand its requests to, skipping the client.

    What `httpx.Client.send` adds around its transport is all switched off for
    these clients (auth, cookies, redirects, event hooks), yet it costs about
    a tenth of a small DynamoDB call. With no proxy mounted every request goes
    to the one transport, so the executors call it through httpx's transport
    API (`handle_request`); with proxies, `send` picks the transport per URL.
    """
    return None if mounts else transport
