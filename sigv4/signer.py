"""Signing: string to sign, signing key, signature, header and query signing."""

from __future__ import annotations

import datetime as _dt
import hmac
from collections.abc import Iterable, Mapping
from hashlib import sha256
from typing import TYPE_CHECKING
from urllib.parse import quote, urlsplit

from . import canonical as _c
from . import redact as _r
from .errors import InvalidExpiryError, MalformedHeaderError, SigningError

if TYPE_CHECKING:
    from .credentials import Credentials

ALGORITHM = "AWS4-HMAC-SHA256"
MAX_EXPIRES = 604800
_DEFAULT_PORTS = {"http": 80, "https": 443}
_S3_SERVICES = frozenset({"s3", "s3-object-lambda", "s3express", "s3-outposts"})

Headers = Mapping[str, str] | Iterable[tuple[str, str]]


def is_s3(service: str) -> bool:
    """True for the services that follow S3's canonical URI rules."""
    return service in _S3_SERVICES


# -- dates and scope ---------------------------------------------------------


def amz_date(moment: _dt.datetime) -> str:
    """The `X-Amz-Date` form of a moment: 20150830T123600Z."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(_dt.timezone.utc)
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
_KEY_CACHE: dict[tuple[str, str, str, str], tuple[str, bytes]] = {}
_KEY_CACHE_SIZE = 256


def signing_key(
    credentials: Credentials, date: str, region: str, service: str
) -> bytes:
    """The signing key for a date, region and service, from a small cache."""
    cache_key = (credentials.access_key_id, date, region, service)
    secret = credentials.secret_access_key
    entry = _KEY_CACHE.get(cache_key)
    if entry is not None and hmac.compare_digest(entry[0], secret):
        return entry[1]
    key = signing_key_uncached(secret, date, region, service)
    if len(_KEY_CACHE) >= _KEY_CACHE_SIZE:
        _KEY_CACHE.clear()
    _KEY_CACHE[cache_key] = (secret, key)
    return key


def signature(key: bytes, to_sign: str) -> str:
    """The hex HMAC-SHA256 of the string to sign under the signing key."""
    return hmac.new(key, to_sign.encode(), "sha256").hexdigest()


# -- requests ----------------------------------------------------------------


def host_header(url: str) -> str:
    """The Host header for a URL: port only when not the scheme's default."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    if port is not None and port != _DEFAULT_PORTS.get(parts.scheme):
        host = f"{host}:{port}"
    return host


def _header_list(headers: Headers | None) -> list[tuple[str, str]]:
    if headers is None:
        return []
    items = headers.items() if isinstance(headers, Mapping) else headers
    result = []
    for name, value in items:
        if not name or any(c in name for c in " \t\r\n:"):
            raise MalformedHeaderError(f"header name {name!r} is not a valid token")
        if "\r" in value or "\n" in value.strip():
            value = " ".join(value.split())
        result.append((name, value))
    return result


def _has(headers: list[tuple[str, str]], lower_name: str) -> str | None:
    for name, value in headers:
        if name.lower() == lower_name:
            return value
    return None


def _now(timestamp: _dt.datetime | None) -> _dt.datetime:
    if timestamp is None:
        return _dt.datetime.now(_dt.timezone.utc)
    if timestamp.tzinfo is None:
        return timestamp.replace(tzinfo=_dt.timezone.utc)
    return timestamp


class SignedRequest:
    """A request signed in its headers, with every intermediate of the signing.

    `url` is the URL to send (for S3 with the path as signed); `headers` are all
    the headers to send, the caller's first and then those the signer added.
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
    now = _now(timestamp)
    stamp = amz_date(now)
    s3 = is_s3(service)
    prefix, path, query = _split_url(url)

    # headers to sign
    given = _header_list(headers)
    added: list[tuple[str, str]] = []
    if _has(given, "host") is None:
        added.append(("Host", host_header(url)))
    given = [
        (n, v) for n, v in given if n.lower() not in ("x-amz-date", "authorization")
    ]
    added.append(("X-Amz-Date", stamp))
    token = credentials.session_token
    if token and sign_session_token:
        added.append(("X-Amz-Security-Token", token))

    # payload hash
    declared = _has(given, "x-amz-content-sha256")
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
    uri = _c.canonical_uri(path, s3=s3, normalize=normalize_path)
    query_string = _c.canonical_query(_c.query_pairs(query)) if query else ""
    every = given + added
    block, signed_names = _c.canonical_headers(every, unsigned=unsigned_headers)
    creq = _c.canonical_request(
        method, uri, query_string, block, signed_names, payload_hash
    )

    # string to sign and signature
    scope = credential_scope(stamp[:8], region, service)
    to_sign = string_to_sign(stamp, scope, creq)
    key = signing_key(credentials, stamp[:8], region, service)
    sig = signature(key, to_sign)

    # authorization
    auth = (
        f"{ALGORITHM} Credential={credential(credentials.access_key_id, scope)}, "
        f"SignedHeaders={signed_names}, Signature={sig}"
    )
    added.append(("Authorization", auth))
    if token and not sign_session_token:
        added.append(("X-Amz-Security-Token", token))
    _r.log_signing(creq, to_sign)

    sent_url = url
    if s3:
        sent_url = prefix + uri + (f"?{query}" if query else "")
    return SignedRequest(method, sent_url, given + added, added, creq, to_sign, sig)


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
    services the hash of `body` (empty by default).
    """
    if isinstance(expires, bool) or not isinstance(expires, int):
        raise InvalidExpiryError("expires must be a whole number of seconds")
    if not 1 <= expires <= MAX_EXPIRES:
        raise InvalidExpiryError(
            f"expires must be from 1 to {MAX_EXPIRES} seconds, not {expires}"
        )
    method = method.upper()
    now = _now(timestamp)
    if credentials.expiration is not None:
        left = int((credentials.expiration - now).total_seconds())
        if left < 1:
            raise InvalidExpiryError("the credentials have expired")
        expires = min(expires, left)
    stamp = amz_date(now)
    s3 = is_s3(service)
    prefix, path, query = _split_url(url)

    # headers to sign
    given = _header_list(headers)
    if _has(given, "host") is None:
        given.insert(0, ("Host", host_header(url)))
    block, signed_names = _c.canonical_headers(given, unsigned=unsigned_headers)

    # query
    scope = credential_scope(stamp[:8], region, service)
    pairs = _c.query_pairs(query) if query else []
    pairs += [
        ("X-Amz-Algorithm", ALGORITHM),
        ("X-Amz-Credential", credential(credentials.access_key_id, scope)),
        ("X-Amz-Date", stamp),
        ("X-Amz-Expires", str(expires)),
        ("X-Amz-SignedHeaders", signed_names),
    ]
    token = credentials.session_token
    if token and sign_session_token:
        pairs.append(("X-Amz-Security-Token", token))
    query_string = _c.canonical_query(pairs)

    # canonical request
    if payload_hash is None:
        payload_hash = _c.UNSIGNED_PAYLOAD if s3 else _c.payload_hash(body)
    uri = _c.canonical_uri(path, s3=s3, normalize=normalize_path)
    creq = _c.canonical_request(
        method, uri, query_string, block, signed_names, payload_hash
    )

    # string to sign and signature
    to_sign = string_to_sign(stamp, scope, creq)
    sig = signature(signing_key(credentials, stamp[:8], region, service), to_sign)
    _r.log_signing(creq, to_sign)

    final = f"{query_string}&X-Amz-Signature={sig}"
    if token and not sign_session_token:
        final += f"&X-Amz-Security-Token={quote(token, safe='~')}"
    wire_path = uri if s3 else path
    return PresignedURL(
        method, f"{prefix}{wire_path}?{final}", given, expires, creq, to_sign, sig
    )
