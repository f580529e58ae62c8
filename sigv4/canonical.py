"""The canonical request of Signature Version 4.

Theory of operation. A signature covers a canonical form of the request, built in
this order (see AWS's "Create a signed AWS API request",
https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html):

    method
    canonical URI
    canonical query string
    canonical headers (one "name:value" line each, then a blank line)
    signed headers (the names, ";"-joined)
    payload hash

The URL handed to the signer is the URL as it goes on the wire: its path is
already percent-encoded by whoever built it. Two rules then apply.

* Every service but S3 normalises the path (dot segments removed, runs of
  slashes collapsed) and URI-encodes it once more, "%" included, which is the
  "encode twice" rule of the specification.
* S3 signs the path exactly as sent: no normalisation (a key may hold `//`, `.`
  or `..`), and no second encoding. S3 decodes the path it receives and
  URI-encodes the bytes again, so the signer does the same: characters the
  caller left raw (a space, UTF-8, `+`, a `%` that starts no `%XX` escape) are
  encoded once, existing escapes are decoded and encoded in the canonical form
  (`%41` signs as `A`, and `%2F` as `/`: S3 reads an escaped slash as a
  slash, Swift and moto both store `a%2Fb` as the key `a/b`, and Swift
  refuses a canonical URI that keeps `%2F`), and the signed request carries
  that path so what is
  signed is what is sent; only `.` and `..` segments travel as `%2E`, because
  HTTP clients drop them and S3 decodes them back (`signer.wire_path`).

Query parameters are decoded and encoded again with the unreserved set, so any
consistent encoding of the same parameters signs the same; a key without a
value becomes `key=`, and repeated keys stay, sorted by encoded name then value.
A `+` in a query is a literal plus sign, not a space (signed as `%2B`); a
verifier also accepts the query exactly as received (`sigv4.verify`), which is
what botocore signs when handed a raw `+`.

Header values are trimmed and inner runs of white space collapsed to one space;
repeated headers are joined with commas in the order given.
"""

from __future__ import annotations

from hashlib import sha256

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable

EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"

# Headers a proxy or the HTTP stack may add, drop or rewrite: signing them would
# make a correct signature fail in transit.
UNSIGNED_HEADERS = frozenset(
    {
        "authorization",
        "baggage",
        "connection",
        "expect",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "traceparent",
        "tracestate",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "user-agent",
        "x-amzn-trace-id",
    }
)


_UNRESERVED = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
)
_UNRESERVED_SLASH = _UNRESERVED | {"/"}


def quote(text: str, safe: str) -> str:
    """urllib.parse.quote, imported on first use.

    urllib.parse brings re, enum and ipaddress with it, which cost more at
    start-up than the whole signer; a request whose names, values and path
    are all unreserved characters never needs it.
    """
    from urllib.parse import quote

    return quote(text, safe=safe)


def unquote(text: str) -> str:
    """urllib.parse.unquote (UTF-8), imported on first use like `quote`."""
    from urllib.parse import unquote

    return unquote(text)


def uri_encode(text: str, *, keep_slash: bool = False) -> str:
    """Percent-encode every byte of UTF-8 `text` outside the unreserved set."""
    # Most names and values need no escape; checking is much cheaper than quote.
    if (_UNRESERVED_SLASH if keep_slash else _UNRESERVED).issuperset(text):
        return text
    return quote(text, safe="/~" if keep_slash else "~")


def _encode(text: str) -> str:
    """`uri_encode` without the keyword, for the hot loops below."""
    return text if _UNRESERVED.issuperset(text) else quote(text, safe="~")


def normalize_path(path: str) -> str:
    """Remove dot segments and collapse runs of slashes (RFC 3986 5.2.4)."""
    if not path:
        return "/"
    kept: list[str] = []
    for segment in path.split("/"):
        if segment == "..":
            if kept:
                kept.pop()
        elif segment and segment != ".":
            kept.append(segment)
    head = "/" if path[0] == "/" else ""
    tail = "/" if path[-1] == "/" and kept else ""
    return head + "/".join(kept) + tail


def s3_path(path: str) -> str:
    """The path as S3 signs and receives it: raw characters encoded once."""
    if _UNRESERVED_SLASH.issuperset(path):
        return path or "/"
    from urllib.parse import quote_from_bytes, unquote_to_bytes

    # decode to the key's bytes (a lone "%" stays a "%"), then encode once
    return quote_from_bytes(unquote_to_bytes(path), safe="/~")


def canonical_uri(path: str, *, s3: bool, normalize: bool = True) -> str:
    """The canonical URI of a wire path."""
    if s3:
        return s3_path(path)
    # without "." or "//" a path is already normal
    if normalize and ("." in path or "//" in path or not path):
        path = normalize_path(path)
    return uri_encode(path or "/", keep_slash=True)


def query_pairs(query: str) -> list[tuple[str, str]]:
    """Decode a query string into (name, value) pairs, in order, `+` kept as is."""
    pairs = []
    for piece in query.split("&"):
        if piece:
            name, _, value = piece.partition("=")
            if "%" in piece:
                name, value = unquote(name), unquote(value)
            pairs.append((name, value))
    return pairs


def canonical_query(pairs: Iterable[tuple[str, str]]) -> str:
    """The canonical query string of decoded (name, value) pairs."""
    return canonical_query_encoded([(_encode(k), _encode(v)) for k, v in pairs])


# what a query string may hold when it needs neither decoding nor encoding
_PLAIN_QUERY = _UNRESERVED | {"=", "&"}


def canonical_query_string(query: str) -> str:
    """The canonical query string of a query string as sent."""
    if not _PLAIN_QUERY.issuperset(query):
        return canonical_query(query_pairs(query))
    # already encoded as the canonical form wants: only sort
    pairs = sorted([piece.partition("=")[::2] for piece in query.split("&") if piece])
    return "&".join([f"{k}={v}" for k, v in pairs])


def canonical_query_encoded(pairs: Iterable[tuple[str, str]]) -> str:
    """The canonical query string of (name, value) pairs already URI-encoded."""
    return "&".join([f"{k}={v}" for k, v in sorted(pairs)])


def canonical_headers(
    headers: Iterable[tuple[str, str]],
    *,
    unsigned: frozenset[str] = UNSIGNED_HEADERS,
) -> tuple[str, str]:
    """The canonical header block and the signed header list, in that order.

    Headers named in `unsigned` are left out of both.
    """
    grouped: dict[str, str] = {}
    for name, value in headers:
        key = name.strip().lower()
        if key in unsigned:
            continue
        value = " ".join(value.split())
        if key in grouped:
            grouped[key] += "," + value
        else:
            grouped[key] = value
    names = sorted(grouped)
    block = "".join([f"{name}:{grouped[name]}\n" for name in names])
    return block, ";".join(names)


def payload_hash(body: bytes | str | None) -> str:
    """The hex SHA-256 of a body held in memory."""
    if not body:
        return EMPTY_SHA256
    if isinstance(body, str):
        body = body.encode()
    return sha256(body).hexdigest()


def canonical_request(
    method: str,
    uri: str,
    query: str,
    header_block: str,
    signed_headers: str,
    body_hash: str,
) -> str:
    """Join the six parts of a canonical request."""
    return f"{method}\n{uri}\n{query}\n{header_block}\n{signed_headers}\n{body_hash}"
