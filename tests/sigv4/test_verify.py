"""Verification of incoming requests: what is signed verifies, what is tampered fails.

Requests signed by botocore (SigV4Auth, S3SigV4Auth and their query variants)
are the independent truth: they must verify. Every tampering must be rejected
with the error class that names it, and no message may carry the signature the
verifier expected (computed here by botocore over the tampered request), the
secret key or the canonical request.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import pytest
from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth, SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotoCredentials
from hypothesis import given, settings
from hypothesis import strategies as st

import sigv4
from sigv4 import errors
from sigv4.canonical import UNSIGNED_HEADERS

NOW = dt.datetime(2026, 3, 1, 12, 0, 0, tzinfo=dt.timezone.utc)
KEY, SECRET, TOKEN = (
    "AKIDEXAMPLE",
    "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
    "tok/en+==",
)
CREDS = sigv4.Credentials(KEY, SECRET)
TEMP = sigv4.Credentials(KEY, SECRET, TOKEN)
SECRETS = {KEY: SECRET}
REGION = "eu-west-1"


def verify(
    method: str,
    url: str,
    headers: Any,
    body: bytes | None = b"",
    **options: Any,
) -> sigv4.Verified:
    kwargs: dict[str, Any] = {
        "secrets": SECRETS,
        "region": REGION,
        "service": "s3",
        "now": NOW,
    }
    kwargs.update(options)
    return sigv4.verify(method, url, headers, body, **kwargs)


# -- all we sign verifies ------------------------------------------------------

segment = st.text(
    alphabet=st.one_of(
        st.sampled_from(list("!$&'()*+,;=:@ %-._~")),
        st.characters(blacklist_categories=("Cs", "Cc")),
    ),
    max_size=6,
)
paths = st.lists(st.one_of(segment, st.just(".."), st.just("")), max_size=4).map(
    lambda parts: quote("/" + "/".join(parts), safe="/~")
)
queries = st.lists(
    st.tuples(st.text(min_size=1, max_size=5), st.text(max_size=5)), max_size=3
).map(lambda pairs: urlencode(pairs, quote_via=quote, safe="~"))
header_sets = st.dictionaries(
    st.sampled_from(["Content-Type", "X-Amz-Meta-A", "X-Custom", "Range"]),
    st.text(alphabet="ab c\t=/", max_size=8),
    max_size=3,
)


@settings(max_examples=60, deadline=None)
@given(
    method=st.sampled_from(["GET", "PUT", "POST", "DELETE"]),
    service=st.sampled_from(["s3", "dynamodb", "execute-api"]),
    host=st.sampled_from(["h.example.com", "127.0.0.1:9000", "[::1]:8080"]),
    path=paths,
    query=queries,
    headers=header_sets,
    body=st.binary(max_size=200),
    token=st.booleans(),
    presigned=st.booleans(),
)
def test_verify_accepts_all_we_sign(
    method: str,
    service: str,
    host: str,
    path: str,
    query: str,
    headers: dict[str, str],
    body: bytes,
    token: bool,
    presigned: bool,
) -> None:
    creds = TEMP if token else CREDS
    url = f"https://{host}{path}" + (f"?{query}" if query else "")
    common: dict[str, Any] = {
        "credentials": creds,
        "region": REGION,
        "service": service,
        "timestamp": NOW,
    }
    if presigned:
        signed: Any = sigv4.presign(method, url, headers, body, **common)
    else:
        signed = sigv4.sign(method, url, headers, body, **common)

    result = verify(
        method, signed.url, signed.headers, body, service=service, secrets={KEY: creds}
    )

    assert result.access_key_id == KEY
    assert (result.date, result.region, result.service) == ("20260301", REGION, service)
    assert result.presigned is presigned


# -- botocore-signed requests verify -------------------------------------------


def boto_signed(
    signer: Callable[..., Any],
    method: str,
    url: str,
    headers: dict[str, str],
    body: bytes | None,
    *,
    service: str = "s3",
    token: str | None = None,
    **extra: Any,
) -> Any:
    """A request signed by a botocore signer at NOW and prepared for the wire."""
    request = AWSRequest(method=method, url=url, headers=headers, data=body)
    auth = signer(BotoCredentials(KEY, SECRET, token), service, REGION, **extra)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            "botocore.auth.get_current_datetime", lambda: NOW.replace(tzinfo=None)
        )
        auth.add_auth(request)
    return request.prepare()


BOTO_CASES = [
    pytest.param(SigV4Auth, "dynamodb", {}, id="SigV4Auth"),
    pytest.param(S3SigV4Auth, "s3", {}, id="S3SigV4Auth"),
    pytest.param(SigV4QueryAuth, "dynamodb", {"expires": 300}, id="SigV4QueryAuth"),
    pytest.param(S3SigV4QueryAuth, "s3", {"expires": 300}, id="S3SigV4QueryAuth"),
]


@pytest.mark.parametrize(("signer", "service", "extra"), BOTO_CASES)
@pytest.mark.parametrize("token", [None, TOKEN], ids=["keys", "session"])
def test_verify_accepts_botocore_signed(
    signer: Callable[..., Any], service: str, extra: dict[str, Any], token: str | None
) -> None:
    body = b"" if extra else b'{"TableName": "t"}'
    url = "https://h.example.com:8443/a%20b/c%2Bd/~e?list-type=2&prefix=x%2Fy"
    prepared = boto_signed(
        signer,
        "PUT",
        url,
        {"Content-Type": "application/json", "X-Amz-Meta-Tag": "  a   b "},
        body,
        service=service,
        token=token,
        **extra,
    )
    creds = sigv4.Credentials(KEY, SECRET, token)

    result = verify(
        "PUT",
        prepared.url,
        dict(prepared.headers),
        body,
        service=service,
        secrets=lambda key: creds if key == KEY else None,
    )

    assert result.access_key_id == KEY
    assert result.presigned is bool(extra)
    assert result.scope == f"20260301/{REGION}/{service}/aws4_request"
    if extra:
        assert result.expires == NOW + dt.timedelta(seconds=300)


def test_verify_accepts_botocore_date_header() -> None:
    # With a Date header botocore signs Date (RFC 1123) instead of X-Amz-Date.
    prepared = boto_signed(
        SigV4Auth, "GET", "https://h.example.com/", {"Date": "x"}, b"", service="sqs"
    )
    assert "X-Amz-Date" not in prepared.headers

    result = verify("GET", prepared.url, dict(prepared.headers), service="sqs")

    assert "date" in result.signed_headers


# -- tampering -------------------------------------------------------------------

S3_URL = "https://bucket.example.com/photos/cat.jpg?versionId=3"


def signed_s3(body: bytes = b"meow", **options: Any) -> sigv4.SignedRequest:
    return sigv4.sign(
        "PUT",
        S3_URL,
        {"Content-Type": "image/jpeg", "X-Amz-Meta-Owner": "ann"},
        body,
        credentials=options.pop("credentials", CREDS),
        region=REGION,
        service="s3",
        timestamp=options.pop("timestamp", NOW),
        **options,
    )


def replaced(
    headers: list[tuple[str, str]], name: str, value: str
) -> list[tuple[str, str]]:
    return [(n, value if n.lower() == name else v) for n, v in headers]


def boto_signature(method: str, url: str, headers: list[tuple[str, str]]) -> str:
    """The signature botocore computes for a (tampered) S3 request."""
    kept = {n: v for n, v in headers if n.lower() not in ("authorization", "host")}
    prepared = boto_signed(S3SigV4Auth, method, url, kept, b"meow")
    return str(prepared.headers["Authorization"].rpartition("Signature=")[2])


def assert_clean(error: BaseException, *hidden: str) -> None:
    message = str(error)
    for secret in (SECRET, TOKEN, *hidden):
        assert secret not in message
    assert "\n" not in message  # no canonical request


def test_verify_accepts_untampered() -> None:
    signed = signed_s3()
    result = verify("PUT", signed.url, signed.headers, b"meow")
    assert result.signed_headers == (
        "content-type",
        "host",
        "x-amz-content-sha256",
        "x-amz-date",
        "x-amz-meta-owner",
    )


@pytest.mark.parametrize(
    ("method", "url", "header", "value"),
    [
        pytest.param("POST", S3_URL, None, None, id="method"),
        pytest.param("PUT", S3_URL.replace("cat", "dog"), None, None, id="path"),
        pytest.param("PUT", S3_URL.replace("=3", "=4"), None, None, id="query"),
        pytest.param("PUT", S3_URL + "&acl", None, None, id="query-added"),
        pytest.param("PUT", S3_URL, "x-amz-meta-owner", "bob", id="signed-header"),
        pytest.param("PUT", S3_URL, "content-type", "text/html", id="content-type"),
        pytest.param("PUT", S3_URL, "x-amz-date", "20260301T120001Z", id="date"),
    ],
)
def test_verify_rejects_tampering_as_signature_mismatch(
    method: str, url: str, header: str | None, value: str | None
) -> None:
    signed = signed_s3()
    headers = signed.headers
    if header is not None and value is not None:
        headers = replaced(headers, header, value)
    expected = boto_signature(method, url, headers)

    with pytest.raises(errors.SignatureMismatchError) as caught:
        verify(method, url, headers, b"meow")

    assert_clean(caught.value, expected, signed.signature)


def test_verify_rejects_tampered_body_by_its_hash() -> None:
    signed = signed_s3()
    with pytest.raises(errors.PayloadHashMismatchError) as caught:
        verify("PUT", signed.url, signed.headers, b"woof")
    assert_clean(caught.value, signed.signature)


def test_verify_rejects_tampered_body_without_payload_header() -> None:
    signed = sigv4.sign(
        "POST",
        "https://dynamodb.example.com/",
        {"X-Amz-Target": "DynamoDB_20120810.GetItem"},
        b"{}",
        credentials=CREDS,
        region=REGION,
        service="dynamodb",
        timestamp=NOW,
    )
    with pytest.raises(errors.SignatureMismatchError):
        verify("POST", signed.url, signed.headers, b"[]", service="dynamodb")


def test_verify_rejects_removed_signed_header() -> None:
    signed = signed_s3()
    headers = [(n, v) for n, v in signed.headers if n.lower() != "x-amz-meta-owner"]
    with pytest.raises(errors.SignatureMismatchError, match="x-amz-meta-owner"):
        verify("PUT", signed.url, headers, b"meow")


def test_verify_rejects_date_of_another_day_as_scope_mismatch() -> None:
    signed = signed_s3()
    headers = replaced(signed.headers, "x-amz-date", "20260302T120000Z")
    with pytest.raises(errors.ScopeMismatchError, match="date"):
        verify("PUT", signed.url, headers, b"meow", now=NOW + dt.timedelta(days=1))


@pytest.mark.parametrize(
    ("options", "word"),
    [
        ({"region": "us-east-1"}, "region"),
        ({"region": ["us-east-1", "us-west-2"]}, "region"),
        ({"service": "s3-object-lambda"}, "service"),
    ],
)
def test_verify_rejects_scope_mismatch(options: dict[str, Any], word: str) -> None:
    signed = signed_s3()
    with pytest.raises(errors.ScopeMismatchError, match=word) as caught:
        verify("PUT", signed.url, signed.headers, b"meow", **options)
    assert_clean(caught.value, signed.signature)


def test_verify_accepts_one_of_several_regions() -> None:
    signed = signed_s3()
    result = verify(
        "PUT", signed.url, signed.headers, b"meow", region=("us-east-1", REGION)
    )
    assert result.region == REGION


@pytest.mark.parametrize("minutes", [-16, 16])
def test_verify_rejects_clock_skew(minutes: int) -> None:
    signed = signed_s3()
    later = NOW + dt.timedelta(minutes=minutes)
    with pytest.raises(errors.RequestTimeSkewedError):
        verify("PUT", signed.url, signed.headers, b"meow", now=later)


@pytest.mark.parametrize("minutes", [-14, 14])
def test_verify_accepts_inside_skew_window(minutes: int) -> None:
    signed = signed_s3()
    later = NOW + dt.timedelta(minutes=minutes)
    assert verify("PUT", signed.url, signed.headers, b"meow", now=later)


def test_verify_skew_window_is_a_parameter() -> None:
    signed = signed_s3()
    later = NOW + dt.timedelta(minutes=2)
    with pytest.raises(errors.RequestTimeSkewedError):
        verify("PUT", signed.url, signed.headers, b"meow", now=later, max_skew=60)


def presigned_get(expires: int = 60, **options: Any) -> sigv4.PresignedURL:
    return sigv4.presign(
        "GET",
        S3_URL,
        credentials=options.pop("credentials", CREDS),
        region=REGION,
        service="s3",
        expires=expires,
        timestamp=NOW,
        **options,
    )


def test_verify_presigned_until_expiry() -> None:
    url = presigned_get(60).url
    result = verify("GET", url, {}, None, now=NOW + dt.timedelta(seconds=59))
    assert result.expires == NOW + dt.timedelta(seconds=60)
    with pytest.raises(errors.RequestExpiredError):
        verify("GET", url, {}, None, now=NOW + dt.timedelta(seconds=60))


def test_verify_presigned_from_the_future_is_skewed() -> None:
    url = presigned_get(600).url
    with pytest.raises(errors.RequestTimeSkewedError):
        verify("GET", url, {}, None, now=NOW - dt.timedelta(minutes=16))


def test_verify_rejects_presigned_with_longer_expiry() -> None:
    presigned = presigned_get(60)
    url = presigned.url.replace("X-Amz-Expires=60", "X-Amz-Expires=3600")
    with pytest.raises(errors.SignatureMismatchError) as caught:
        verify("GET", url, {}, None)
    assert_clean(caught.value, presigned.signature)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("X-Amz-Expires=60", "X-Amz-Expires=0"),
        ("X-Amz-Expires=60", "X-Amz-Expires=604801"),
        ("X-Amz-Algorithm=AWS4-HMAC-SHA256", "X-Amz-Algorithm=AWS4-HMAC-SHA1"),
        ("X-Amz-Date=20260301T120000Z", "X-Amz-Date=2026-03-01"),
        ("aws4_request", "aws5_request"),
    ],
)
def test_verify_rejects_malformed_presigned(old: str, new: str) -> None:
    url = presigned_get(60).url
    assert old in url
    with pytest.raises(errors.MalformedAuthError):
        verify("GET", url.replace(old, new), {}, None)


def test_verify_rejects_missing_signature() -> None:
    with pytest.raises(errors.MissingAuthError):
        verify("GET", S3_URL, {"Host": "bucket.example.com"}, b"")


@pytest.mark.parametrize(
    "authorization",
    [
        "AWS4-HMAC-SHA256 Credential=AKID/20260301/eu-west-1/s3/aws4_request",
        "AWS4-HMAC-SHA256 Credential=AKID/20260301/eu-west-1/s3, "
        "SignedHeaders=host, Signature=" + "0" * 64,
        "AWS4-HMAC-SHA256 Credential=AKID/20260301/eu-west-1/s3/aws4_request, "
        "SignedHeaders=host, Signature=xyz",
        "AWS4-HMAC-SHA256 Credential=AKID/20260301/eu-west-1/s3/aws4_request, "
        "SignedHeaders=x-amz-date;host, Signature=" + "0" * 64,
        "AWS AKID:signature",
    ],
    ids=["fields-missing", "short-scope", "bad-signature", "unsorted", "sigv2"],
)
def test_verify_rejects_malformed_authorization(authorization: str) -> None:
    headers = {"Authorization": authorization, "X-Amz-Date": "20260301T120000Z"}
    with pytest.raises(errors.MalformedAuthError):
        verify("GET", S3_URL, headers, b"")


def test_verify_rejects_unknown_access_key() -> None:
    signed = signed_s3()
    with pytest.raises(errors.UnknownAccessKeyError):
        verify("PUT", signed.url, signed.headers, b"meow", secrets={"OTHER": "x"})
    with pytest.raises(errors.UnknownAccessKeyError):
        verify("PUT", signed.url, signed.headers, b"meow", secrets=lambda key: None)


def test_verify_rejects_wrong_secret() -> None:
    signed = signed_s3()
    with pytest.raises(errors.SignatureMismatchError) as caught:
        verify("PUT", signed.url, signed.headers, b"meow", secrets={KEY: "other"})
    assert_clean(caught.value, signed.signature, "other")


@pytest.mark.parametrize("header", ["x-amz-date", "x-amz-content-sha256", "host"])
def test_verify_requires_signed_header(header: str) -> None:
    signed = signed_s3(unsigned_headers=UNSIGNED_HEADERS | {header})
    with pytest.raises(errors.UnsignedHeaderError, match=header):
        verify("PUT", signed.url, signed.headers, b"meow")


def test_verify_unsigned_payload_only_when_allowed() -> None:
    signed = signed_s3(unsigned_payload=True)
    with pytest.raises(errors.PayloadHashMismatchError, match="unsigned"):
        verify("PUT", signed.url, signed.headers, b"meow")
    assert verify("PUT", signed.url, signed.headers, b"meow", unsigned_payload=True)


def test_verify_declared_hash_stands_for_the_body() -> None:
    signed = signed_s3()
    body_hash = dict(signed.headers)["X-Amz-Content-SHA256"]
    assert verify("PUT", signed.url, signed.headers, None, payload_hash=body_hash)
    with pytest.raises(errors.PayloadHashMismatchError):
        verify("PUT", signed.url, signed.headers, None, payload_hash="0" * 64)


def test_verify_session_token() -> None:
    signed = signed_s3(credentials=TEMP)
    assert verify("PUT", signed.url, signed.headers, b"meow", secrets={KEY: TEMP})
    with pytest.raises(errors.SessionTokenMismatchError) as caught:
        verify("PUT", signed.url, signed.headers, b"meow", secrets=SECRETS)
    assert_clean(caught.value)
    other = sigv4.Credentials(KEY, SECRET, "another")
    with pytest.raises(errors.SessionTokenMismatchError) as caught:
        verify("PUT", signed.url, signed.headers, b"meow", secrets={KEY: other})
    assert_clean(caught.value, "another")


def test_verify_presigned_session_token() -> None:
    url = presigned_get(60, credentials=TEMP).url
    assert verify("GET", url, {}, None, secrets={KEY: TEMP})
    query = dict(parse_qsl(urlsplit(url).query))
    assert query["X-Amz-Security-Token"] == TOKEN
    with pytest.raises(errors.SessionTokenMismatchError):
        verify("GET", url, {}, None, secrets=SECRETS)


def test_verification_errors_are_one_tree() -> None:
    for name in (
        "MissingAuthError",
        "MalformedAuthError",
        "UnknownAccessKeyError",
        "SignatureMismatchError",
        "RequestExpiredError",
        "RequestTimeSkewedError",
        "ScopeMismatchError",
        "UnsignedHeaderError",
        "SessionTokenMismatchError",
        "PayloadHashMismatchError",
    ):
        assert issubclass(getattr(errors, name), errors.VerificationError)


# -- what botocore signs as given verifies (issue 2) -------------------------------


@pytest.mark.parametrize(
    ("signer", "service", "extra", "url"),
    [
        pytest.param(S3SigV4Auth, "s3", {}, "/b/a%2Fb", id="S3SigV4Auth-slash"),
        pytest.param(
            S3SigV4QueryAuth, "s3", {"expires": 300}, "/b/a%2Fb", id="S3Query-slash"
        ),
        pytest.param(
            S3SigV4Auth, "s3", {}, "/b/a%2fb%2F/c%2F%2F", id="S3SigV4Auth-slashes"
        ),
        pytest.param(S3SigV4Auth, "s3", {}, "/b/k?x=a+b", id="S3SigV4Auth-plus"),
        pytest.param(SigV4Auth, "dynamodb", {}, "/?x=a+b&y=c", id="SigV4Auth-plus"),
        pytest.param(S3SigV4Auth, "s3", {}, "/b/%41b?x=%41", id="S3SigV4Auth-%41"),
    ],
)
def test_verify_accepts_botocore_signed_as_given(
    signer: Callable[..., Any], service: str, extra: dict[str, Any], url: str
) -> None:
    """botocore signs the path and query it is handed, byte for byte."""
    prepared = boto_signed(
        signer, "GET", f"https://h.example.com{url}", {}, b"", service=service, **extra
    )
    sent = urlsplit(prepared.url)
    assert sent.path == url.partition("?")[0]  # as given, not re-encoded

    result = verify("GET", prepared.url, dict(prepared.headers), b"", service=service)

    assert result.access_key_id == KEY


def test_verify_as_received_form_still_checks_every_byte() -> None:
    """A path or query changed after botocore signed it is still refused."""
    prepared = boto_signed(
        S3SigV4Auth, "GET", "https://h.example.com/b/a%2Fb?x=a+b", {}, b""
    )
    headers = dict(prepared.headers)
    for changed in [
        "https://h.example.com/b/a/b?x=a+b",
        "https://h.example.com/b/a%2Fb?x=a%2Bb",
        "https://h.example.com/b/a%2Fb?x=a%20b",
    ]:
        with pytest.raises(errors.SignatureMismatchError):
            verify("GET", changed, headers, b"")


@pytest.mark.parametrize("max_skew", [float("nan"), -1, float("inf"), "900", True])
def test_verify_rejects_bad_max_skew(max_skew: Any) -> None:
    signed = signed_s3()

    with pytest.raises(errors.InvalidSkewError, match="max_skew"):
        verify(signed.method, signed.url, signed.headers, b"meow", max_skew=max_skew)


def test_verify_max_skew_zero_needs_the_exact_second() -> None:
    signed = signed_s3()

    verify(signed.method, signed.url, signed.headers, b"meow", max_skew=0)
    with pytest.raises(errors.RequestTimeSkewedError):
        verify(
            signed.method,
            signed.url,
            signed.headers,
            b"meow",
            max_skew=0,
            now=NOW + dt.timedelta(seconds=1),
        )


# -- headers that must be signed, or appear once ----------------------------------


@pytest.mark.parametrize("name", ["X-Amz-Acl", "x-amz-meta-extra", "X-AMZ-Tagging"])
def test_verify_rejects_unsigned_amz_header(name: str) -> None:
    # S3: every x-amz-* header sent with a SigV4 request must be signed
    # (https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html)
    signed = signed_s3()
    headers = [*signed.headers, (name, "public-read")]

    with pytest.raises(errors.UnsignedHeaderError, match=name.lower()) as caught:
        verify("PUT", signed.url, headers, b"meow")
    assert_clean(caught.value, "public-read")


def test_verify_rejects_unsigned_amz_header_on_presigned() -> None:
    url = presigned_get(60).url

    with pytest.raises(errors.UnsignedHeaderError, match="x-amz-acl"):
        verify("GET", url, {"X-Amz-Acl": "public-read"}, b"")


def test_signer_default_blacklist_holds_no_amz_header() -> None:
    # the signer signs all it is given but this list: no x-amz-* may be on it
    assert not [n for n in UNSIGNED_HEADERS if n.startswith("x-amz-")]


def test_signer_signs_every_amz_header_it_is_given() -> None:
    headers = {"X-Amz-Acl": "private", "x-amz-meta-a": "1", "X-Amz-Tagging": "t=1"}
    signed = sigv4.sign(
        "PUT", S3_URL, headers, b"", credentials=CREDS, region=REGION, service="s3"
    )
    names = signed.authorization.split("SignedHeaders=")[1].split(",")[0]

    assert {"x-amz-acl", "x-amz-meta-a", "x-amz-tagging"} <= set(names.split(";"))


def test_verify_body_none_is_an_empty_body() -> None:
    # fail closed: None is no body, never "trust the declared hash"
    signed = signed_s3()
    with pytest.raises(errors.PayloadHashMismatchError):
        verify("PUT", signed.url, signed.headers, None)
    empty = signed_s3(b"")
    assert verify("PUT", empty.url, empty.headers, None)


def test_verify_body_none_is_empty_without_payload_header() -> None:
    signed = sigv4.sign(
        "POST",
        "https://h.example.com/",
        {},
        b"{}",
        credentials=CREDS,
        region=REGION,
        service="dynamodb",
        timestamp=NOW,
    )
    with pytest.raises(errors.SignatureMismatchError):
        verify("POST", signed.url, signed.headers, None, service="dynamodb")
    assert verify("POST", signed.url, signed.headers, b"{}", service="dynamodb")


@pytest.mark.parametrize(
    "name",
    ["Authorization", "X-Amz-Date", "X-Amz-Content-SHA256", "X-Amz-Security-Token"],
)
def test_verify_rejects_repeated_auth_header(name: str) -> None:
    signed = signed_s3(credentials=TEMP)
    value = dict(signed.headers)[name]
    headers = [*signed.headers, (name.lower(), value)]

    with pytest.raises(errors.MalformedAuthError, match=name.lower()) as caught:
        verify("PUT", signed.url, headers, b"meow", secrets={KEY: TEMP})
    assert_clean(caught.value, signed.signature, TOKEN)


@pytest.mark.parametrize("max_skew", [10**30, 10**400, 1e300])
def test_verify_rejects_huge_max_skew(max_skew: Any) -> None:
    signed = signed_s3()

    with pytest.raises(errors.InvalidSkewError, match="max_skew"):
        verify(signed.method, signed.url, signed.headers, b"meow", max_skew=max_skew)


@pytest.mark.parametrize(
    "name", ["X-Amz-Signature", "X-Amz-Expires", "X-Amz-Date", "X-Amz-Credential"]
)
def test_verify_rejects_repeated_presign_parameter(name: str) -> None:
    url = presigned_get(60).url
    value = dict(parse_qsl(urlsplit(url).query))[name]

    with pytest.raises(errors.MalformedAuthError, match=name) as caught:
        verify("GET", f"{url}&{name}={quote(value, safe='')}", {}, b"")
    assert_clean(caught.value)


def test_verify_header_with_control_character_is_malformed_auth() -> None:
    signed = signed_s3()
    headers = [*signed.headers, ("X-Custom", "a\x01b")]

    with pytest.raises(errors.MalformedAuthError, match="X-Custom"):
        verify("PUT", signed.url, headers, b"meow")
