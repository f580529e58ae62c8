"""sigv4 against botocore's signers on generated requests.

botocore (SigV4Auth, S3SigV4Auth, SigV4QueryAuth, S3SigV4QueryAuth) is the
independent truth here: for every generated request both must produce the same
canonical request, string to sign and signature.

The URL handed to both is the URL as botocore's serializers send it: the path
percent-encoded with `quote(path, safe="/~")` and the query already canonically
encoded. botocore reads the clock through `botocore.compat.get_current_datetime`
(`datetime.datetime.now`), sigv4 through `time.time`: the generated tests hand
both the same moment (botocore's clock function patched, sigv4's `timestamp`),
and one test freezes the real clock for both with freezegun.

Known botocore quirks, kept out of the generated requests (not sigv4 bugs):

* SigV4QueryAuth parses the query with `parse_qs` into a dict, so a repeated
  query key keeps only its first value and the others are dropped from the
  URL it returns; presigned requests here have distinct keys.
* SigV4QueryAuth moves a request body into the query string (a presign of a
  query-protocol call); presigned requests here have no body.
* S3SigV4Auth signs an empty path as an empty canonical URI where the
  specification asks for "/"; botocore's serializers never send an empty path,
  so generated paths start with "/".
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

import pytest
from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth, SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotoCredentials
from freezegun import freeze_time
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sigv4

SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

# -- generated requests --------------------------------------------------------

methods = st.sampled_from(["GET", "PUT", "POST", "DELETE", "HEAD", "PATCH"])
hosts = st.sampled_from(
    [
        "example.amazonaws.com",
        "Bucket.S3.Example.COM",
        "127.0.0.1",
        "localhost",
        "[::1]",
        "[2001:db8::8a2e:370:7334]",
    ]
)
ports = st.sampled_from([None, 80, 443, 8080, 9000])
schemes = st.sampled_from(["http", "https"])

# Unicode, every reserved character, "%", "+", spaces and dots.
segment_text = st.text(
    alphabet=st.one_of(
        st.sampled_from(list("!#$&'()*+,;=:@[]% -._~?")),
        st.characters(blacklist_categories=("Cs", "Cc")),
    ),
    max_size=8,
)
segments = st.one_of(segment_text, st.sampled_from(["", ".", "..", "..."]))
paths = st.lists(segments, max_size=5).map(lambda parts: "/" + "/".join(parts))

query_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)), min_size=0, max_size=8
)
query_pairs = st.lists(
    st.tuples(query_text.filter(bool), query_text, st.booleans()), max_size=4
)

header_names = st.sampled_from(
    [
        "Content-Type",
        "X-Amz-Meta-Colour",
        "x-amz-meta-colour",
        "X-Custom",
        "My-Header",
        "Cache-Control",
        "User-Agent",
        "traceparent",
        "Content-MD5",
    ]
)
# Values with runs of spaces and tabs, leading and trailing white space.
header_values = st.text(alphabet=st.sampled_from(list("ab Z09,;=/\t  ")), max_size=12)
header_lists = st.lists(st.tuples(header_names, header_values), max_size=5)
bodies = st.binary(max_size=300)
moments = st.datetimes(
    min_value=dt.datetime(2015, 1, 1), max_value=dt.datetime(2035, 12, 31)
)
secrets = st.text(
    alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=1
)
tokens = st.one_of(st.none(), st.text(alphabet="ABCdef+/=0123", min_size=1))
regions = st.sampled_from(["us-east-1", "eu-west-3", "ap-southeast-2"])
services = st.sampled_from(["dynamodb", "sqs", "execute-api", "es"])


def wire_url(scheme: str, host: str, port: int | None, path: str, query: str) -> str:
    """The URL as botocore sends it: path encoded once, query already encoded."""
    netloc = host if port is None else f"{host}:{port}"
    url = f"{scheme}://{netloc}{quote(path, safe='/~')}"
    return f"{url}?{query}" if query else url


def encoded_query(pairs: list[tuple[str, str, bool]]) -> str:
    """A query string encoded as botocore's serializers encode it."""
    pieces = []
    for name, value, bare in pairs:
        key = quote(name, safe="~")
        pieces.append(key if bare and not value else f"{key}={quote(value, safe='~')}")
    return "&".join(pieces)


# -- botocore, recording its intermediates -------------------------------------


class Recorder:
    """Wraps a botocore signer class to keep its canonical request and string."""

    canonical: str
    to_sign: str


def recording(cls: type[Any]) -> type[Any]:
    class Recording(cls):  # type: ignore[misc, valid-type]
        def canonical_request(self, request: AWSRequest) -> str:
            self.canonical = super().canonical_request(request)
            return str(self.canonical)

        def string_to_sign(self, request: AWSRequest, canonical: str) -> str:
            self.to_sign = super().string_to_sign(request, canonical)
            return str(self.to_sign)

    return Recording


def boto_request(
    method: str, url: str, headers: list[tuple[str, str]], body: bytes | None
) -> AWSRequest:
    request = AWSRequest(method=method, url=url, data=body)
    for name, value in headers:
        request.headers[name] = value  # HTTPMessage appends: repeats kept
    return request


class Clock:
    """Sets the moment botocore's signers read as now."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.now = dt.datetime(2026, 1, 1)
        monkeypatch.setattr("botocore.auth.get_current_datetime", lambda: self.now)

    def move_to(self, moment: dt.datetime) -> dt.datetime:
        self.now = moment
        return moment.replace(tzinfo=dt.timezone.utc)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return Clock(monkeypatch)


def both_credentials(
    key: str, secret: str, token: str | None
) -> tuple[sigv4.Credentials, BotoCredentials]:
    return sigv4.Credentials(key, secret, token), BotoCredentials(key, secret, token)


# -- header signing ------------------------------------------------------------


def check_header_signing(
    oracle: Any,
    service: str,
    method: str,
    url: str,
    headers: list[tuple[str, str]],
    body: bytes,
    ours: sigv4.Credentials,
    region: str,
    when: dt.datetime,
) -> None:
    request = boto_request(method, url, headers, body)
    oracle.add_auth(request)
    signed = sigv4.sign(
        method,
        url,
        headers,
        body,
        credentials=ours,
        region=region,
        service=service,
        timestamp=when,
    )

    assert signed.canonical_request == oracle.canonical
    assert signed.string_to_sign == oracle.to_sign
    assert signed.authorization == request.headers["Authorization"]
    sent = dict((n.lower(), v) for n, v in signed.headers)
    assert sent["x-amz-date"] == request.headers["X-Amz-Date"]
    for name in ("X-Amz-Content-SHA256", "X-Amz-Security-Token"):
        assert sent.get(name.lower()) == request.headers.get(name)


@SETTINGS
@given(
    method=methods,
    scheme=schemes,
    host=hosts,
    port=ports,
    path=paths,
    query=query_pairs,
    headers=header_lists,
    body=bodies,
    moment=moments,
    secret=secrets,
    token=tokens,
    region=regions,
    service=services,
)
def test_sign_matches_botocore_sigv4auth(
    clock: Clock,
    method: str,
    scheme: str,
    host: str,
    port: int | None,
    path: str,
    query: list[tuple[str, str, bool]],
    headers: list[tuple[str, str]],
    body: bytes,
    moment: dt.datetime,
    secret: str,
    token: str | None,
    region: str,
    service: str,
) -> None:
    when = clock.move_to(moment)
    ours, theirs = both_credentials("AKIDEXAMPLE", secret, token)
    url = wire_url(scheme, host, port, path, encoded_query(query))
    oracle = recording(SigV4Auth)(theirs, service, region)
    check_header_signing(
        oracle, service, method, url, headers, body, ours, region, when
    )


@SETTINGS
@given(
    method=methods,
    scheme=schemes,
    host=hosts,
    port=ports,
    path=paths,
    query=query_pairs,
    headers=header_lists,
    body=bodies,
    moment=moments,
    secret=secrets,
    token=tokens,
    region=regions,
)
def test_sign_matches_botocore_s3sigv4auth(
    clock: Clock,
    method: str,
    scheme: str,
    host: str,
    port: int | None,
    path: str,
    query: list[tuple[str, str, bool]],
    headers: list[tuple[str, str]],
    body: bytes,
    moment: dt.datetime,
    secret: str,
    token: str | None,
    region: str,
) -> None:
    when = clock.move_to(moment)
    ours, theirs = both_credentials("AKIDEXAMPLE", secret, token)
    url = wire_url(scheme, host, port, path, encoded_query(query))
    oracle = recording(S3SigV4Auth)(theirs, "s3", region)
    check_header_signing(oracle, "s3", method, url, headers, body, ours, region, when)


# -- query signing (presigned URLs) -----------------------------------------------


def check_query_signing(
    oracle: Any,
    service: str,
    method: str,
    url: str,
    headers: list[tuple[str, str]],
    ours: sigv4.Credentials,
    region: str,
    expires: int,
    when: dt.datetime,
) -> None:
    request = boto_request(method, url, headers, None)
    oracle.add_auth(request)
    presigned = sigv4.presign(
        method,
        url,
        headers,
        credentials=ours,
        region=region,
        service=service,
        expires=expires,
        timestamp=when,
    )

    assert presigned.canonical_request == oracle.canonical
    assert presigned.string_to_sign == oracle.to_sign
    ours_url, theirs_url = urlsplit(presigned.url), urlsplit(request.url)
    assert ours_url[:2] == theirs_url[:2]
    assert sorted(parse_qsl(ours_url.query, keep_blank_values=True)) == sorted(
        parse_qsl(theirs_url.query, keep_blank_values=True)
    )


distinct_query_pairs = query_pairs.map(
    lambda pairs: list({name: (name, v, b) for name, v, b in pairs}.values())
)
presign_headers = st.lists(
    st.tuples(st.sampled_from(["X-Amz-Meta-Colour", "X-Custom"]), header_values),
    max_size=2,
)
expiries = st.integers(min_value=1, max_value=604800)


@SETTINGS
@given(
    method=methods,
    scheme=schemes,
    host=hosts,
    port=ports,
    path=paths,
    query=distinct_query_pairs,
    headers=presign_headers,
    moment=moments,
    secret=secrets,
    token=tokens,
    region=regions,
    service=services,
    expires=expiries,
)
def test_presign_matches_botocore_sigv4queryauth(
    clock: Clock,
    method: str,
    scheme: str,
    host: str,
    port: int | None,
    path: str,
    query: list[tuple[str, str, bool]],
    headers: list[tuple[str, str]],
    moment: dt.datetime,
    secret: str,
    token: str | None,
    region: str,
    service: str,
    expires: int,
) -> None:
    when = clock.move_to(moment)
    ours, theirs = both_credentials("AKIDEXAMPLE", secret, token)
    url = wire_url(scheme, host, port, path, encoded_query(query))
    oracle = recording(SigV4QueryAuth)(theirs, service, region, expires=expires)
    check_query_signing(
        oracle, service, method, url, headers, ours, region, expires, when
    )


@SETTINGS
@given(
    method=methods,
    scheme=schemes,
    host=hosts,
    port=ports,
    path=paths,
    query=distinct_query_pairs,
    headers=presign_headers,
    moment=moments,
    secret=secrets,
    token=tokens,
    region=regions,
    expires=expiries,
)
def test_presign_matches_botocore_s3sigv4queryauth(
    clock: Clock,
    method: str,
    scheme: str,
    host: str,
    port: int | None,
    path: str,
    query: list[tuple[str, str, bool]],
    headers: list[tuple[str, str]],
    moment: dt.datetime,
    secret: str,
    token: str | None,
    region: str,
    expires: int,
) -> None:
    when = clock.move_to(moment)
    ours, theirs = both_credentials("AKIDEXAMPLE", secret, token)
    url = wire_url(scheme, host, port, path, encoded_query(query))
    oracle = recording(S3SigV4QueryAuth)(theirs, "s3", region, expires=expires)
    check_query_signing(oracle, "s3", method, url, headers, ours, region, expires, when)


# -- the real clock --------------------------------------------------------------


@freeze_time("2026-02-28 23:59:59")
def test_sign_reads_the_same_clock_as_botocore() -> None:
    ours, theirs = both_credentials("AKIDEXAMPLE", "secret", "token")
    url = "https://example.amazonaws.com/a%20b?x=1"
    for oracle_class, service in ((SigV4Auth, "dynamodb"), (S3SigV4Auth, "s3")):
        oracle = recording(oracle_class)(theirs, service, "eu-west-3")
        request = boto_request("PUT", url, [("X-Custom", "1")], b"body")
        oracle.add_auth(request)
        signed = sigv4.sign(
            "PUT",
            url,
            {"X-Custom": "1"},
            b"body",
            credentials=ours,
            region="eu-west-3",
            service=service,
        )
        assert signed.string_to_sign == oracle.to_sign
        assert signed.authorization == request.headers["Authorization"]


@freeze_time("2026-02-28 23:59:59")
def test_presign_reads_the_same_clock_as_botocore() -> None:
    ours, theirs = both_credentials("AKIDEXAMPLE", "secret", None)
    url = "https://bucket.example.com/key"
    oracle = recording(S3SigV4QueryAuth)(theirs, "s3", "eu-west-3", expires=60)
    request = boto_request("GET", url, [], None)
    oracle.add_auth(request)
    presigned = sigv4.presign(
        "GET", url, credentials=ours, region="eu-west-3", service="s3", expires=60
    )
    assert presigned.string_to_sign == oracle.to_sign
    assert presigned.signature == parse_qsl(urlsplit(request.url).query)[-1][1]
