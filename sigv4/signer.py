"""Signing: string to sign, signing key, signature, header and query signing."""

from __future__ import annotations

import functools
import hmac
import time
from hashlib import sha256

from . import canonical as _c
from . import redact as _r
from .errors import (
    AuthParamsInURLError,
    InvalidExpiryError,
    InvalidScopeError,
    MalformedHeaderError,
    SigningError,
)

# typing, collections.abc and datetime cost milliseconds at start-up; the
# annotations need them only when checked, and a caller who hands in a datetime
# has imported datetime already.
TYPE_CHECKING = False
if TYPE_CHECKING:
    import datetime as _dt
    from collections.abc import Iterable, Mapping
    from hashlib import _Hash

    from .credentials import Credentials

    Headers = Mapping[str, str] | Iterable[tuple[str, str]]
    _Pads = tuple[_Hash, _Hash]

ALGORITHM = "AWS4-HMAC-SHA256"
MAX_EXPIRES = 604800
_DEFAULT_PORTS = {"http": 80, "https": 443}
_S3_SERVICES = frozenset({"s3", "s3-object-lambda", "s3express", "s3-outposts"})


def is_s3(service: str) -> bool:
    """True for the services that follow S3's canonical URI rules."""
    return service in _S3_SERVICES


# -- dates and scope ---------------------------------------------------------


def amz_date(moment: _dt.datetime) -> str:
    """The `X-Amz-Date` form of a moment: 20150830T123600Z."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(_utc())
    return moment.strftime("%Y%m%dT%H%M%SZ")


def credential_scope(date: str, region: str, service: str) -> str:
    """The credential scope: date/region/service/aws4_request (no access key)."""
    return f"{date}/{region}/{service}/aws4_request"


def credential(access_key_id: str, scope: str) -> str:
    """The credential: the access key id followed by its scope."""
    return f"{access_key_id}/{scope}"


def string_to_sign(timestamp: str, scope: str, canonical_request: str) -> str:
    """The string to sign for a canonical request."""
    digest = sha256(canonical_request.encode()).hexdigest()
    return f"{ALGORITHM}\n{timestamp}\n{scope}\n{digest}"


# -- signing key -------------------------------------------------------------


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.digest(key, text.encode(), "sha256")


def signing_key_uncached(secret: str, date: str, region: str, service: str) -> bytes:
    """Derive the signing key: k_date, k_region, k_service, then k_signing."""
    k_date = _hmac(("AWS4" + secret).encode(), date)
    k_region = _hmac(k_date, region)
    k_service = _hmac(k_region, service)
    return _hmac(k_service, "aws4_request")


# Keyed on (access key id, date, region, service). The secret is kept beside the
# key only to notice a different secret presented under the same access key id.
# Beside the key are its two HMAC pads already hashed (RFC 2104: the inner
# hash starts with key XOR 0x36.., the outer with key XOR 0x5c..); copying
# them saves the key set-up of every signature.
_KEY_CACHE: dict[tuple[str, str, str, str], tuple[str, bytes, _Pads]] = {}
_KEY_CACHE_SIZE = 256


def _pads(key: bytes) -> _Pads:
    block = key.ljust(64, b"\0")  # a 32-byte key fits SHA-256's 64-byte block
    inner = sha256(bytes(byte ^ 0x36 for byte in block))
    outer = sha256(bytes(byte ^ 0x5C for byte in block))
    return inner, outer


# what a region or service name may hold: it goes in the Authorization header
# and the X-Amz-Credential parameter, where "/" separates the scope's parts
_SCOPE_CHARS = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~"
)


def check_scope_part(value: str, argument: str) -> None:
    """Refuse a region or service that cannot go in a credential scope.

    The error names the argument, never the value.
    """
    if not isinstance(value, str) or not value:
        raise InvalidScopeError(f"the {argument} must be a non-empty string", argument)
    if not _SCOPE_CHARS.issuperset(value):
        raise InvalidScopeError(
            f"the {argument} may hold only letters, digits, '-', '_', '.' and '~'",
            argument,
        )


def _cached_key(
    credentials: Credentials, date: str, region: str, service: str
) -> tuple[str, bytes, _Pads]:
    cache_key = (credentials.access_key_id, date, region, service)
    secret = credentials.secret_access_key
    entry = _KEY_CACHE.get(cache_key)
    # the same string object is the same secret; otherwise compare in constant time
    if entry is not None and (
        entry[0] is secret or hmac.compare_digest(entry[0], secret)
    ):
        return entry
    # checked once per new scope: a cached key's scope was checked already
    check_scope_part(region, "region")
    check_scope_part(service, "service")
    key = signing_key_uncached(secret, date, region, service)
    if len(_KEY_CACHE) >= _KEY_CACHE_SIZE:
        _KEY_CACHE.clear()
    entry = (secret, key, _pads(key))
    _KEY_CACHE[cache_key] = entry
    return entry


def signing_key(
    credentials: Credentials, date: str, region: str, service: str
) -> bytes:
    """The signing key for a date, region and service, from a small cache."""
    return _cached_key(credentials, date, region, service)[1]


def signature(key: bytes, to_sign: str) -> str:
    """The hex HMAC-SHA256 of the string to sign under the signing key."""
    return hmac.new(key, to_sign.encode(), "sha256").hexdigest()


def _signature(
    credentials: Credentials, date: str, region: str, service: str, to_sign: str
) -> str:
    """`signature` under the cached signing key of credentials and scope."""
    inner_pad, outer_pad = _cached_key(credentials, date, region, service)[2]
    inner = inner_pad.copy()
    inner.update(to_sign.encode())
    outer = outer_pad.copy()
    outer.update(inner.digest())
    return outer.hexdigest()


# -- requests ----------------------------------------------------------------


def host_header(url: str) -> str:
    """The Host header for a URL: port only when not the scheme's default."""
    return _host(_split_url(url)[0])


@functools.lru_cache(maxsize=256)
def _url_parts(url: str, s3: bool, normalize: bool) -> tuple[str, str, str, str]:
    """The part before the path, the query, the canonical URI and the canonical
    query string of a URL. A client signs the same few URLs over and over
    (a DynamoDB client always the one), so they are worked out once."""
    prefix, path, query = _split_url(url)
    uri = _c.canonical_uri(path, s3=s3, normalize=normalize)
    return prefix, query, uri, _c.canonical_query_string(query)


@functools.lru_cache(maxsize=64)
def _host(prefix: str) -> str:
    """The Host header for the part of a URL before its path."""
    scheme, _, netloc = prefix.partition("://")
    netloc = netloc.rpartition("@")[2]
    if netloc.startswith("["):
        host, _, port = netloc[1:].partition("]")
        host, port = f"[{host.lower()}]", port[1:]
    else:
        host, _, port = netloc.partition(":")
        host = host.lower()
    if not port:
        return host
    if not port.isdigit() or int(port) > 65535:
        raise SigningError("the URL's port is not a number from 0 to 65535")
    if int(port) == _DEFAULT_PORTS.get(scheme.lower()):
        return host
    return f"{host}:{int(port)}"


_NOT_IN_NAME = frozenset(" \t\r\n:")
# RFC 9110 5.5: a field value holds visible characters, space and tab; the
# ASCII controls (CR, LF and NUL among them) and DEL cannot travel as given
_CONTROLS = frozenset([chr(c) for c in range(32) if c != 9] + ["\x7f"])


def _controlled(text: str) -> bool:
    # isprintable() is True for most text and fast; only then look closer
    return not text.isprintable() and not _CONTROLS.isdisjoint(text)


def _header_list(headers: Headers | None) -> list[tuple[str, str]]:
    if headers is None:
        return []
    # a mapping (dict, httpx.Headers...) or (name, value) pairs; hasattr, not
    # an isinstance check against Mapping, which needs collections.abc
    pairs = headers.items() if hasattr(headers, "items") else headers
    result = []
    for name, value in pairs:
        if not name or not _NOT_IN_NAME.isdisjoint(name) or _controlled(name):
            raise MalformedHeaderError(f"header name {name!r} is not a valid token")
        if _controlled(value):
            # refused, not folded: folding would sign and send another value
            raise MalformedHeaderError(
                f"the {name} header value holds a control character"
            )
        result.append((name, value))
    return result


def _has(headers: list[tuple[str, str]], lower_name: str) -> str | None:
    for name, value in headers:
        if name.lower() == lower_name:
            return value
    return None


# (whole second since the epoch, its X-Amz-Date): formatting a date costs more
# than half the rest of signing, and a busy caller signs many times a second.
_CLOCK: tuple[int, str] = (0, "")


def _epoch(timestamp: _dt.datetime | None) -> float:
    """Seconds since the epoch of `timestamp`, or of now."""
    return time.time() if timestamp is None else _now(timestamp).timestamp()


def _stamp(epoch: float) -> str:
    """The X-Amz-Date of a moment in seconds since the epoch."""
    global _CLOCK
    second = int(epoch)
    if _CLOCK[0] != second:
        _CLOCK = (second, time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(second)))
    return _CLOCK[1]


def _utc() -> _dt.timezone:
    import datetime

    return datetime.timezone.utc


def _now(timestamp: _dt.datetime | None) -> _dt.datetime:
    if timestamp is None:
        import datetime

        return datetime.datetime.now(_utc())
    if timestamp.tzinfo is None:
        return timestamp.replace(tzinfo=_utc())
    return timestamp


class SignedRequest:
    """A request signed in its headers, with every intermediate of the signing.

    `url` is the URL to send (for S3 with the path as signed, `.` and `..`
    segments included); `headers` are all the headers to send, the caller's
    first and then those the signer added. HTTP clients that follow RFC 3986
    (httpx, urllib3, browsers) remove dot segments from a URL; send `target`
    as the request target instead (httpx: `extensions={"target": ...}`).
    """

    __slots__ = (
        "added_headers",
        "canonical_request",
        "headers",
        "method",
        "signature",
        "string_to_sign",
        "url",
    )

    def __init__(
        self,
        method: str,
        url: str,
        headers: list[tuple[str, str]],
        added_headers: list[tuple[str, str]],
        canonical_request: str,
        string_to_sign: str,
        signature: str,
    ) -> None:
        self.method = method
        self.url = url
        self.headers = headers
        self.added_headers = added_headers
        self.canonical_request = canonical_request
        self.string_to_sign = string_to_sign
        self.signature = signature

    @property
    def target(self) -> bytes:
        """The request target to send: the URL's path and query, as signed."""
        start = self.url.find("/", self.url.find("://") + 3)
        return (self.url[start:] if start >= 0 else "/").encode("ascii")

    @property
    def authorization(self) -> str:
        """The Authorization header value."""
        return _has(self.added_headers, "authorization") or ""

    def __repr__(self) -> str:
        return f"<SignedRequest {self.method} {_r.redact_url(self.url)}>"


class PresignedURL:
    """A presigned URL, the headers its user must send, and the intermediates."""

    __slots__ = (
        "canonical_request",
        "expires",
        "headers",
        "method",
        "signature",
        "string_to_sign",
        "url",
    )

    def __init__(
        self,
        method: str,
        url: str,
        headers: list[tuple[str, str]],
        expires: int,
        canonical_request: str,
        string_to_sign: str,
        signature: str,
    ) -> None:
        self.method = method
        self.url = url
        self.headers = headers
        self.expires = expires
        self.canonical_request = canonical_request
        self.string_to_sign = string_to_sign
        self.signature = signature

    def __str__(self) -> str:
        return self.url

    def __repr__(self) -> str:
        return f"<PresignedURL {self.method} {_r.redact_url(self.url)}>"


def _split_url(url: str) -> tuple[str, str, str]:
    """Split a URL into the part before the path, the path and the query."""
    scheme_end = url.find("://")
    if scheme_end < 0:
        raise SigningError("the URL must be absolute, with a scheme and a host")
    path_start = url.find("/", scheme_end + 3)
    query_start = url.find("?", scheme_end + 3)
    fragment = url.find("#", scheme_end + 3)
    if fragment >= 0:
        url = url[:fragment]
    if query_start >= 0 and (path_start < 0 or query_start < path_start):
        return url[:query_start], "/", url[query_start + 1 :]
    if path_start < 0:
        return url, "/", ""
    rest = url[path_start:]
    path, _, query = rest.partition("?")
    return url[:path_start], path, query


def wire_path(uri: str) -> str:
    """An S3 canonical URI for a presigned URL: `.` and `..` segments as `%2E`.

    A presigned URL is handed to clients that drop dot segments from a URL
    before sending it (RFC 3986, 5.2.4; browsers, httpx, urllib3), but an S3
    key may hold them. Escaped, they reach the server, which decodes the path
    and URI-encodes it again to build its canonical URI; UriEncode leaves `.`
    alone, so that is the URI signed (Swift accepts this; moto, which signs
    the bytes on the wire, does not). `sign` sends dot segments literally.
    """
    if "/." not in uri:
        return uri
    return "/".join("%2E" * len(s) if s in (".", "..") else s for s in uri.split("/"))


def sign(
    method: str,
    url: str,
    headers: Headers | None = None,
    body: bytes | str | None = None,
    *,
    credentials: Credentials,
    region: str,
    service: str,
    timestamp: _dt.datetime | None = None,
    payload_hash: str | None = None,
    unsigned_payload: bool = False,
    sign_payload_header: bool | None = None,
    sign_session_token: bool = True,
    normalize_path: bool = True,
    unsigned_headers: frozenset[str] = _c.UNSIGNED_HEADERS,
) -> SignedRequest:
    """Sign a request in its headers (Authorization, X-Amz-Date and friends).

    The payload hash is, in order of preference: `payload_hash`; the value of an
    `x-amz-content-sha256` header the caller set; `UNSIGNED-PAYLOAD` when
    `unsigned_payload`; the SHA-256 of `body`. S3 always gets an
    `x-amz-content-sha256` header; other services when `sign_payload_header`.
    A session token is signed, or added after signing for the services that
    want that (`sign_session_token=False`).
    """
    method = method.upper()
    stamp = _stamp(_epoch(timestamp))
    s3 = is_s3(service)
    prefix, query, uri, query_string = _url_parts(url, s3, normalize_path)

    # headers to sign, less those the signer sets
    given = []
    host = declared = None
    for name, value in _header_list(headers):
        lower = name.lower()
        if lower == "x-amz-date" or lower == "authorization":
            continue
        if lower == "host":
            host = value
        elif lower == "x-amz-content-sha256":
            declared = value
        given.append((name, value))
    added = [("X-Amz-Date", stamp)]
    if host is None:
        added.insert(0, ("Host", _host(prefix)))
    token = credentials.session_token
    if token and sign_session_token:
        added.append(("X-Amz-Security-Token", token))

    # payload hash
    if payload_hash is None:
        if declared is not None:
            payload_hash = declared
        elif unsigned_payload:
            payload_hash = _c.UNSIGNED_PAYLOAD
        else:
            payload_hash = _c.payload_hash(body)
    if sign_payload_header is None:
        sign_payload_header = s3
    if declared is None and sign_payload_header:
        added.append(("X-Amz-Content-SHA256", payload_hash))

    # canonical request
    every = given + added
    block, signed_names = _c.canonical_headers(every, unsigned=unsigned_headers)
    creq = _c.canonical_request(
        method, uri, query_string, block, signed_names, payload_hash
    )

    # string to sign and signature
    scope = credential_scope(stamp[:8], region, service)
    to_sign = string_to_sign(stamp, scope, creq)
    sig = _signature(credentials, stamp[:8], region, service, to_sign)

    # authorization
    auth = (
        f"{ALGORITHM} Credential={credential(credentials.access_key_id, scope)}, "
        f"SignedHeaders={signed_names}, Signature={sig}"
    )
    added.append(("Authorization", auth))
    if token and not sign_session_token:
        added.append(("X-Amz-Security-Token", token))
    _r.log_signing(creq, to_sign)

    # S3: the path as signed, dot segments literal as boto3 sends them
    sent_url = url
    if s3:
        sent_url = prefix + uri + (f"?{query}" if query else "")
    return SignedRequest(method, sent_url, given + added, added, creq, to_sign, sig)


# the query parameters presign sets; names compared without regard to case
_AUTH_PARAMS = frozenset(
    {
        "x-amz-algorithm",
        "x-amz-credential",
        "x-amz-date",
        "x-amz-expires",
        "x-amz-security-token",
        "x-amz-signature",
        "x-amz-signedheaders",
    }
)


def _refuse_auth_params(pairs: list[tuple[str, str]]) -> None:
    for name, _ in pairs:
        if name.lower() in _AUTH_PARAMS:
            raise AuthParamsInURLError(
                f"the URL already holds the signing parameter {name}: presign "
                "the URL without its old X-Amz-* signing parameters"
            )


def presign(
    method: str,
    url: str,
    headers: Headers | None = None,
    body: bytes | str | None = None,
    *,
    credentials: Credentials,
    region: str,
    service: str,
    expires: int = 3600,
    timestamp: _dt.datetime | None = None,
    payload_hash: str | None = None,
    sign_session_token: bool = True,
    normalize_path: bool = True,
    unsigned_headers: frozenset[str] = _c.UNSIGNED_HEADERS,
) -> PresignedURL:
    """Sign a request in its query string, for `expires` seconds (1 to 604800).

    With temporary credentials the URL never outlives them: its expiry is cut
    to the time the credentials have left. S3 signs `UNSIGNED-PAYLOAD`; other
    services the hash of `body` (empty by default). A URL that already holds
    a signing parameter (`X-Amz-Signature`, `X-Amz-Credential`, ...) is
    refused with `AuthParamsInURLError` rather than signed with two of them.
    """
    if isinstance(expires, bool) or not isinstance(expires, int):
        raise InvalidExpiryError("expires must be a whole number of seconds")
    if not 1 <= expires <= MAX_EXPIRES:
        raise InvalidExpiryError(
            f"expires must be from 1 to {MAX_EXPIRES} seconds, not {expires}"
        )
    method = method.upper()
    now = _epoch(timestamp)
    if credentials.expiration is not None:
        left = int(credentials.expiration.timestamp() - now)
        if left < 1:
            raise InvalidExpiryError("the credentials have expired")
        expires = min(expires, left)
    stamp = _stamp(now)
    s3 = is_s3(service)
    prefix, path, query = _split_url(url)

    # headers to sign
    given = _header_list(headers)
    if _has(given, "host") is None:
        given.insert(0, ("Host", _host(prefix)))
    block, signed_names = _c.canonical_headers(given, unsigned=unsigned_headers)

    # query
    scope = credential_scope(stamp[:8], region, service)
    token = credentials.session_token
    pairs = [("X-Amz-Security-Token", token)] if token and sign_session_token else []
    if query:
        given_pairs = _c.query_pairs(query)
        _refuse_auth_params(given_pairs)
        pairs += given_pairs
    encoded = [(_c.uri_encode(k), _c.uri_encode(v)) for k, v in pairs]
    # The signing parameters, encoded here, where "/" and ";" are the only
    # escapes they may need: cheaper than quote on the whole value.
    cred = credential(credentials.access_key_id, scope)
    names = [_c.uri_encode(name) for name in signed_names.split(";")]
    encoded += [
        ("X-Amz-Algorithm", ALGORITHM),
        ("X-Amz-Credential", _c.uri_encode(cred, keep_slash=True).replace("/", "%2F")),
        ("X-Amz-Date", stamp),
        ("X-Amz-Expires", str(expires)),
        ("X-Amz-SignedHeaders", "%3B".join(names)),
    ]
    query_string = _c.canonical_query_encoded(encoded)

    # canonical request
    if payload_hash is None:
        payload_hash = _c.UNSIGNED_PAYLOAD if s3 else _c.payload_hash(body)
    uri = _c.canonical_uri(path, s3=s3, normalize=normalize_path)
    creq = _c.canonical_request(
        method, uri, query_string, block, signed_names, payload_hash
    )

    # string to sign and signature
    to_sign = string_to_sign(stamp, scope, creq)
    sig = _signature(credentials, stamp[:8], region, service, to_sign)
    _r.log_signing(creq, to_sign)

    final = f"{query_string}&X-Amz-Signature={sig}"
    if token and not sign_session_token:
        final += f"&X-Amz-Security-Token={_c.uri_encode(token)}"
    sent_path = wire_path(uri) if s3 else path
    return PresignedURL(
        method, f"{prefix}{sent_path}?{final}", given, expires, creq, to_sign, sig
    )
