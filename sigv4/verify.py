"""Verification of incoming SigV4 requests, for services that accept SigV4.

The verifier rebuilds the canonical request from what arrived, with the same
functions the signer uses, and compares signatures in constant time. Before it
spends an HMAC it checks what is cheap and names what failed: the signature
fields parse, the scope names the expected region and service and the request's
own date, the request time is inside the skew window (and, presigned, not past
its expiry), the headers that must be signed are, and a body held in memory
matches its declared hash.

Header-signed requests carry `Authorization: AWS4-HMAC-SHA256 Credential=...,
SignedHeaders=..., Signature=...` and `X-Amz-Date` (or a signed `Date`).
Presigned requests carry the same fields as `X-Amz-*` query parameters
(https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html).

The canonical request is tried in two forms when they differ: the canonical
one (path and query decoded and encoded again) and the one exactly as
received, which is what botocore signs when handed an S3 key's `%2F` or a raw
`+` in a query. Both are compared, in constant time each.

Not supported: streaming (chunk-signed) payloads, whose chunk signatures need
the body as a stream, and session tokens added after signing.
"""

from __future__ import annotations

import datetime as _dt
import hmac
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from urllib.parse import unquote

from . import canonical as _c
from . import redact as _r
from . import signer as _s
from .credentials import Credentials
from .errors import (
    InvalidSkewError,
    MalformedAuthError,
    MalformedHeaderError,
    MissingAuthError,
    PayloadHashMismatchError,
    RequestExpiredError,
    RequestTimeSkewedError,
    ScopeMismatchError,
    SessionTokenMismatchError,
    SignatureMismatchError,
    UnknownAccessKeyError,
    UnsignedHeaderError,
)

DEFAULT_MAX_SKEW = 900
# the longest a SigV4 signature lives (a presigned URL's longest expiry)
MAX_SKEW = _s.MAX_EXPIRES

SecretLookup = (
    Mapping[str, "str | Credentials"] | Callable[[str], "str | Credentials | None"]
)

_STAMP = re.compile(r"\d{8}T\d{6}Z\Z")
_HEX64 = re.compile(r"[0-9a-f]{64}\Z")
_TERMINATOR = "aws4_request"


@dataclass(frozen=True)
class Verified:
    """Who signed an accepted request, and under which scope.

    `expires` is the moment a presigned request stops being valid (None for a
    header-signed request).
    """

    access_key_id: str
    date: str
    region: str
    service: str
    signed_headers: tuple[str, ...]
    presigned: bool
    timestamp: _dt.datetime
    expires: _dt.datetime | None = None

    @property
    def scope(self) -> str:
        """The credential scope the request was signed under."""
        return _s.credential_scope(self.date, self.region, self.service)


@dataclass
class _Claim:
    """What the request says about its own signature."""

    access_key_id: str
    date: str
    region: str
    service: str
    signed_headers: str
    signature: str
    stamp: str
    expires: int | None
    token: str | None


# -- reading the signature fields --------------------------------------------


def _auth_fields(value: str) -> dict[str, str]:
    algorithm, _, rest = value.strip().partition(" ")
    if algorithm != _s.ALGORITHM:
        raise MalformedAuthError(f"the algorithm must be {_s.ALGORITHM}")
    fields: dict[str, str] = {}
    for piece in rest.split(","):
        name, eq, field = piece.strip().partition("=")
        if not eq or name in fields:
            raise MalformedAuthError("the Authorization header cannot be parsed")
        fields[name] = field
    for name in ("Credential", "SignedHeaders", "Signature"):
        if name not in fields:
            raise MalformedAuthError(f"the Authorization header has no {name}")
    return fields


def _split_credential(text: str) -> tuple[str, str, str, str]:
    parts = text.split("/")
    if len(parts) != 5 or not all(parts) or parts[4] != _TERMINATOR:
        raise MalformedAuthError(
            "the credential must be access-key-id/date/region/service/aws4_request"
        )
    return parts[0], parts[1], parts[2], parts[3]


def _check_signature_format(sig: str) -> None:
    if not _HEX64.match(sig):
        raise MalformedAuthError("the signature must be 64 lowercase hex digits")


def _header_claim(auth: str, headers: list[tuple[str, str]]) -> _Claim:
    fields = _auth_fields(auth)
    akid, date, region, service = _split_credential(fields["Credential"])
    _check_signature_format(fields["Signature"])
    stamp = _s._has(headers, "x-amz-date")
    if stamp is None:
        stamp = _date_header_stamp(_s._has(headers, "date"))
    return _Claim(
        akid,
        date,
        region,
        service,
        fields["SignedHeaders"],
        fields["Signature"],
        stamp.strip(),
        None,
        _s._has(headers, "x-amz-security-token"),
    )


def _date_header_stamp(value: str | None) -> str:
    if value is None:
        raise MalformedAuthError("the request has neither X-Amz-Date nor Date")
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        raise MalformedAuthError("the Date header cannot be parsed") from None
    return _s.amz_date(moment.replace(tzinfo=moment.tzinfo or _dt.timezone.utc))


_QUERY_FIELDS = (
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Date",
    "X-Amz-Expires",
    "X-Amz-SignedHeaders",
    "X-Amz-Signature",
    "X-Amz-Security-Token",
)
# checked below (the algorithm) or only when the key has a token
_QUERY_OPTIONAL = frozenset({"X-Amz-Algorithm", "X-Amz-Security-Token"})


def _query_claim(pairs: list[tuple[str, str]]) -> _Claim:
    params = dict(pairs)
    names = [name for name, _ in pairs]
    for name in _QUERY_FIELDS:
        if names.count(name) > 1:
            raise MalformedAuthError(f"the presigned request has more than one {name}")
        if name not in params and name not in _QUERY_OPTIONAL:
            raise MalformedAuthError(f"the presigned request has no {name}")
    if params.get("X-Amz-Algorithm") != _s.ALGORITHM:
        raise MalformedAuthError(f"X-Amz-Algorithm must be {_s.ALGORITHM}")
    akid, date, region, service = _split_credential(params["X-Amz-Credential"])
    _check_signature_format(params["X-Amz-Signature"])
    expires_text = params["X-Amz-Expires"]
    if not expires_text.isdigit() or not 1 <= int(expires_text) <= _s.MAX_EXPIRES:
        raise MalformedAuthError(
            f"X-Amz-Expires must be from 1 to {_s.MAX_EXPIRES} seconds"
        )
    return _Claim(
        akid,
        date,
        region,
        service,
        params["X-Amz-SignedHeaders"],
        params["X-Amz-Signature"],
        params["X-Amz-Date"],
        int(expires_text),
        params.get("X-Amz-Security-Token"),
    )


# -- the cheap checks ----------------------------------------------------------


def _request_time(stamp: str) -> _dt.datetime:
    if not _STAMP.match(stamp):
        raise MalformedAuthError("the request date must look like 20150830T123600Z")
    try:
        moment = _dt.datetime.strptime(stamp, "%Y%m%dT%H%M%SZ")
    except ValueError:
        raise MalformedAuthError("the request date is not a real date") from None
    return moment.replace(tzinfo=_dt.timezone.utc)


def _check_scope(claim: _Claim, regions: frozenset[str], service: str) -> None:
    if claim.date != claim.stamp[:8]:
        raise ScopeMismatchError(
            f"the scope date {claim.date} is not the request date {claim.stamp[:8]}"
        )
    if claim.region not in regions:
        raise ScopeMismatchError(
            f"the scope region {claim.region!r} is not one this service accepts"
        )
    if claim.service != service:
        raise ScopeMismatchError(
            f"the scope service {claim.service!r} is not {service!r}"
        )


def _check_time(
    claim: _Claim, moment: _dt.datetime, now: _dt.datetime, max_skew: float
) -> _dt.datetime | None:
    skew = _dt.timedelta(seconds=max_skew)
    if claim.expires is None:
        if abs(now - moment) > skew:
            raise RequestTimeSkewedError(
                f"the request time {claim.stamp} is more than {max_skew:g} "
                "seconds from the server's clock"
            )
        return None
    if moment - now > skew:
        raise RequestTimeSkewedError(
            f"the presigned request's date {claim.stamp} is in the future"
        )
    expiry = moment + _dt.timedelta(seconds=claim.expires)
    if now >= expiry:
        raise RequestExpiredError(
            f"the presigned request expired at {expiry:%Y-%m-%dT%H:%M:%SZ}"
        )
    return expiry


def _check_signed_names(
    claim: _Claim, headers: list[tuple[str, str]]
) -> tuple[str, ...]:
    names = tuple(claim.signed_headers.split(";"))
    if not all(names) or list(names) != sorted(set(names)):
        raise MalformedAuthError(
            "the signed header names must be distinct, sorted and lowercase"
        )
    if any(n != n.lower() or n != n.strip() for n in names):
        raise MalformedAuthError("the signed header names must be lowercase")
    if "host" not in names:
        raise UnsignedHeaderError("the host header must be signed")
    present = {name.strip().lower() for name, _ in headers}
    # every x-amz-* header sent must be signed, presigned or not
    # (https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html)
    must = {n for n in present if n.startswith("x-amz-")}
    if claim.expires is None:
        must.add("x-amz-date" if "x-amz-date" in present else "date")
    unsigned = sorted(must & present - set(names))
    if unsigned:
        raise UnsignedHeaderError(f"the {unsigned[0]} header must be signed")
    missing = [n for n in names if n not in present]
    if missing:
        raise SignatureMismatchError(
            f"the signed header {missing[0]!r} is not in the request"
        )
    return names


def _body_hash(
    declared: str | None,
    body: bytes | str | None,
    given_hash: str | None,
    *,
    presigned_s3: bool,
    unsigned_payload: bool,
) -> str:
    """The payload hash that goes into the canonical request, checked."""
    if declared is None and presigned_s3:
        declared = _c.UNSIGNED_PAYLOAD
    if declared is not None and declared.startswith("STREAMING-"):
        # TODO(#2): verify chunk signatures; that needs the body as a stream.
        raise NotImplementedError("streaming payloads are not verified")
    if declared == _c.UNSIGNED_PAYLOAD:
        if not (unsigned_payload or presigned_s3):
            raise PayloadHashMismatchError("an unsigned payload is not accepted")
        return declared
    if declared is not None and not _HEX64.match(declared):
        raise PayloadHashMismatchError(
            "x-amz-content-sha256 must be a hex SHA-256 or UNSIGNED-PAYLOAD"
        )
    # no body and no hash given is an empty body: the declared hash alone
    # never stands for a body nobody checked
    if body is None and given_hash is not None:
        actual = given_hash
    else:
        actual = _c.payload_hash(body)
    if declared is not None and not hmac.compare_digest(declared, actual):
        raise PayloadHashMismatchError("the body does not match x-amz-content-sha256")
    return actual


def _canonical_uri(path: str, *, s3: bool, normalize: bool) -> str:
    # S3 signs the object key, so it reads the key out of the path: a segment
    # sent as %2E%2E (to keep HTTP clients from resolving it) signs as "..".
    if s3:
        return _c.uri_encode(unquote(path), keep_slash=True) or "/"
    return _c.canonical_uri(path, s3=False, normalize=normalize)


def _as_received(
    path: str, query: str, *, s3: bool, normalize: bool, presigned: bool
) -> tuple[str, str]:
    """The canonical URI and query of the request exactly as it arrived.

    botocore signs the path and query it is handed without re-encoding them
    (an S3 key's `%2F` stays `%2F`, a raw `+` in a query stays `+`), where
    the canonical form decodes and encodes again (`/`, `%2B`). The bytes are
    the ones that arrived, so a signature over them proves the same thing.
    """
    uri = (path or "/") if s3 else _c.canonical_uri(path, s3=False, normalize=normalize)
    pairs = [piece.partition("=")[::2] for piece in query.split("&") if piece]
    if presigned:
        pairs = [(n, v) for n, v in pairs if n != "X-Amz-Signature"]
    return uri, "&".join([f"{n}={v}" for n, v in sorted(pairs)])


# headers the verifier reads as one value: a second copy would let what is
# checked differ from what a server behind the verifier acts on
_ONCE = ("authorization", "x-amz-date", "x-amz-content-sha256", "x-amz-security-token")


def _received_headers(headers: _s.Headers) -> list[tuple[str, str]]:
    try:
        given = _s._header_list(headers)
    except MalformedHeaderError as error:
        raise MalformedAuthError(str(error)) from None
    seen: set[str] = set()
    for name, _ in given:
        lower = name.strip().lower()
        if lower in _ONCE:
            if lower in seen:
                raise MalformedAuthError(f"the request has more than one {lower}")
            seen.add(lower)
    return given


def _check_skew(max_skew: object) -> float:
    if (
        isinstance(max_skew, bool)
        or not isinstance(max_skew, (int, float))
        or not 0 <= max_skew <= MAX_SKEW  # also refuses nan
    ):
        raise InvalidSkewError(
            f"max_skew must be a number of seconds from 0 to {MAX_SKEW}"
        )
    return float(max_skew)


def _lookup(secrets: SecretLookup, akid: str) -> Credentials:
    found = secrets.get(akid) if isinstance(secrets, Mapping) else secrets(akid)
    if found is None:
        raise UnknownAccessKeyError(f"the access key id {akid!r} is not known")
    if isinstance(found, Credentials):
        return found
    return Credentials(akid, found)


def _check_token(credentials: Credentials, token: str | None) -> None:
    expected = credentials.session_token
    if expected is None and token is None:
        return
    if expected is None or token is None:
        raise SessionTokenMismatchError(
            "the session token is missing or not expected for this access key"
        )
    if not hmac.compare_digest(expected.encode(), token.encode()):
        raise SessionTokenMismatchError("the session token does not match")


# -- verification --------------------------------------------------------------


def verify(
    method: str,
    url: str,
    headers: _s.Headers,
    body: bytes | str | None = None,
    *,
    secrets: SecretLookup,
    region: str | Iterable[str],
    service: str,
    payload_hash: str | None = None,
    unsigned_payload: bool = False,
    max_skew: float = DEFAULT_MAX_SKEW,
    now: _dt.datetime | None = None,
    normalize_path: bool = True,
) -> Verified:
    """Verify a header-signed or presigned request, or raise why it fails.

    `url` is the URL as received, path still percent-encoded. `body` is the
    body held in memory; when it is None, `payload_hash` stands for it, and
    without `payload_hash` None is an empty body (a declared
    `x-amz-content-sha256` alone never stands for an unchecked body). Every
    `x-amz-*` header present must be signed (`UnsignedHeaderError`), and
    Authorization, X-Amz-Date, X-Amz-Content-SHA256 and X-Amz-Security-Token
    may each appear once (`MalformedAuthError`). `secrets` maps an access key
    id to its secret key, or to `Credentials` whose session token the request
    must then carry. `region` is one region or several. `UNSIGNED-PAYLOAD` is
    accepted only with `unsigned_payload`, except in presigned S3 requests,
    where it is the rule. Raises a `VerificationError` subclass naming what
    failed; the message never holds the expected signature, the secret or the
    canonical request. `max_skew` must be a number of seconds from 0 to
    604800 (`InvalidSkewError` otherwise).

    Two forms of the request are accepted: the canonical one (the path and
    query decoded and URI-encoded again, which is what S3 and the AWS
    specification compute) and, when it differs, the path and query exactly
    as received, which is what botocore signs when handed a URL holding an
    S3 key's `%2F` or a raw `+` in the query. Both cover every byte that
    arrived.
    """
    max_skew = _check_skew(max_skew)
    regions = frozenset([region] if isinstance(region, str) else region)
    _, path, query = _s._split_url(url)
    given = _received_headers(headers)
    if _s._has(given, "host") is None:
        given.append(("Host", _s.host_header(url)))
    pairs = _c.query_pairs(query) if query else []

    # the claim
    auth = _s._has(given, "authorization")
    if auth is not None:
        claim = _header_claim(auth, given)
    elif any(name == "X-Amz-Signature" for name, _ in pairs):
        claim = _query_claim(pairs)
        pairs = [(n, v) for n, v in pairs if n != "X-Amz-Signature"]
    else:
        raise MissingAuthError("the request carries no SigV4 signature")

    # the cheap checks
    moment = _request_time(claim.stamp)
    _check_scope(claim, regions, service)
    now = _s._now(now)
    expiry = _check_time(claim, moment, now, max_skew)
    names = _check_signed_names(claim, given)
    s3 = _s.is_s3(service)
    declared = _s._has(given, "x-amz-content-sha256")
    body_hash = _body_hash(
        declared.strip() if declared is not None else None,
        body,
        payload_hash,
        presigned_s3=claim.expires is not None and s3,
        unsigned_payload=unsigned_payload,
    )
    credentials = _lookup(secrets, claim.access_key_id)
    _check_token(credentials, claim.token)

    # canonical request: the canonical form, then the form as received
    wanted = frozenset(names)
    signed = [(n, v) for n, v in given if n.strip().lower() in wanted]
    block, _ = _c.canonical_headers(signed, unsigned=frozenset())
    forms = [
        (
            _canonical_uri(path, s3=s3, normalize=normalize_path),
            _c.canonical_query(pairs),
        )
    ]
    received = _as_received(
        path,
        query,
        s3=s3,
        normalize=normalize_path,
        presigned=claim.expires is not None,
    )
    if received != forms[0]:
        forms.append(received)

    # string to sign and signature
    scope = _s.credential_scope(claim.date, claim.region, claim.service)
    key = _s.signing_key(credentials, claim.date, claim.region, claim.service)
    matched = False
    for uri, query_string in forms:
        creq = _c.canonical_request(
            method.upper(), uri, query_string, block, claim.signed_headers, body_hash
        )
        to_sign = _s.string_to_sign(claim.stamp, scope, creq)
        expected = _s.signature(key, to_sign)
        _r.log_signing(creq, to_sign)
        # every form is compared, so the time taken does not tell which matched
        matched |= hmac.compare_digest(expected.encode(), claim.signature.encode())
    if not matched:
        raise SignatureMismatchError("the signature does not match the request")

    return Verified(
        claim.access_key_id,
        claim.date,
        claim.region,
        claim.service,
        names,
        claim.expires is not None,
        moment,
        expiry,
    )
