"""The httpx adapter: the signature on what httpx actually sends, compared with
botocore's signer over the same request; redirects, retries, streamed bodies,
async clients; and moto with signature checking on."""

from __future__ import annotations

import hashlib
import json
import logging
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from botocore.auth import S3SigV4Auth
from botocore.auth import SigV4Auth as BotocoreSigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotocoreCredentials
from freezegun import freeze_time

import sigv4
from sigv4.errors import CredentialsError, SigningError
from sigv4.httpx_auth import SigV4Auth
from tests.integration.servers import Server

CREDENTIALS = sigv4.Credentials(
    "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
)
TEMPORARY = sigv4.Credentials("ASIAEXAMPLE", "temporary/secret+key", "SESSIONTOKEN==")
NOW = "2024-02-29 12:34:56"

# what the adapter must leave out of the signature, and what signing adds
NOT_SIGNED = {"user-agent", "accept-encoding", "connection", "transfer-encoding"}
ADDED = {"authorization", "x-amz-date", "x-amz-security-token"}


class Recorder(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """A transport that records what it is sent and answers as told.

    Like a real transport it consumes the body stream as it goes, without
    turning it into bytes on the request (httpx.MockTransport does that, which
    would make every streamed body replayable).
    """

    def __init__(self, *answers: httpx.Response) -> None:
        self.sent: list[httpx.Request] = []
        self.bodies: list[bytes] = []
        self.answers = list(answers)

    def _answer(self, request: httpx.Request, body: bytes) -> httpx.Response:
        self.sent.append(request)
        self.bodies.append(body)
        answer = self.answers.pop(0) if self.answers else httpx.Response(200)
        return httpx.Response(
            answer.status_code,
            headers=answer.headers,
            content=answer.content,
            request=request,
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, httpx.SyncByteStream)
        return self._answer(request, b"".join(request.stream))

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, httpx.AsyncByteStream)
        body = b"".join([piece async for piece in request.stream])
        return self._answer(request, body)


def botocore_authorization(
    request: httpx.Request,
    body: bytes,
    credentials: sigv4.Credentials,
    region: str,
    service: str,
) -> str:
    """botocore's Authorization header for the request as httpx sent it."""
    headers = {
        name: value
        for name, value in request.headers.multi_items()
        if name.lower() not in NOT_SIGNED | ADDED
    }
    boto_request = AWSRequest(
        method=request.method, url=str(request.url), headers=headers, data=body
    )
    boto_credentials = BotocoreCredentials(
        credentials.access_key_id,
        credentials.secret_access_key,
        credentials.session_token,
    )
    # S3SigV4Auth always rehashes the body; the base class keeps a declared
    # x-amz-content-sha256 (a streaming or unsigned payload) as it is.
    declared = request.headers.get("x-amz-content-sha256", "")
    kept = declared.startswith(("STREAMING-", "UNSIGNED-"))
    oracle = S3SigV4Auth if service == "s3" and not kept else BotocoreSigV4Auth
    oracle(boto_credentials, service, region).add_auth(boto_request)
    return str(boto_request.headers["Authorization"])


def assert_botocore_agrees(
    request: httpx.Request,
    body: bytes,
    credentials: sigv4.Credentials = CREDENTIALS,
    region: str = "us-east-1",
    service: str = "s3",
) -> None:
    assert request.headers.get_list("authorization") == [
        botocore_authorization(request, body, credentials, region, service)
    ]
    signed = request.headers["authorization"].split("SignedHeaders=")[1]
    names = set(signed.split(",")[0].split(";"))
    assert "host" in names
    assert not names & NOT_SIGNED


def client(recorder: Recorder, **kwargs: Any) -> httpx.Client:
    auth = kwargs.pop("auth", None) or SigV4Auth(
        CREDENTIALS, region="us-east-1", service="s3", **kwargs
    )
    return httpx.Client(transport=recorder, auth=auth)


# -- what is sent is what is signed ------------------------------------------


@pytest.mark.parametrize(
    "key",
    [
        "plain.txt",
        "a b+c~d=e",
        "dir//x/./y/%41",
        "caf\u00e9/\u65e5\u672c",
        "!$'()*,;:@",
    ],
)
@freeze_time(NOW)
def test_s3_put_matches_botocore(key: str) -> None:
    recorder = Recorder()
    with client(recorder) as http:
        http.put(
            f"http://bucket.s3.us-east-1.amazonaws.com/{key}",
            content=b"some bytes",
            headers={"Content-Type": "text/plain", "x-amz-meta-Odd": "  a   b "},
        )

    (sent,) = recorder.sent
    assert_botocore_agrees(sent, recorder.bodies[0])
    expected = hashlib.sha256(b"some bytes").hexdigest()
    assert sent.headers["x-amz-content-sha256"] == expected


@freeze_time(NOW)
def test_s3_get_with_query_and_port_matches_botocore() -> None:
    recorder = Recorder()
    with client(recorder) as http:
        http.get(
            "http://127.0.0.1:9000/bucket",
            params={"list-type": "2", "prefix": "a b/", "marker": "", "x": "\u00e9"},
        )

    (sent,) = recorder.sent
    assert sent.headers["host"] == "127.0.0.1:9000"
    assert_botocore_agrees(sent, b"")


@freeze_time(NOW)
def test_dynamodb_post_matches_botocore() -> None:
    recorder = Recorder()
    auth = SigV4Auth(CREDENTIALS, region="eu-west-1", service="dynamodb")
    with client(recorder, auth=auth) as http:
        http.post(
            "https://dynamodb.eu-west-1.amazonaws.com/",
            content=json.dumps({"TableName": "t"}).encode(),
            headers={
                "Content-Type": "application/x-amz-json-1.0",
                "X-Amz-Target": "DynamoDB_20120810.DescribeTable",
            },
        )

    (sent,) = recorder.sent
    assert "x-amz-content-sha256" not in sent.headers
    assert_botocore_agrees(
        sent, recorder.bodies[0], region="eu-west-1", service="dynamodb"
    )


@freeze_time(NOW)
def test_non_s3_path_matches_botocore() -> None:
    recorder = Recorder()
    auth = SigV4Auth(CREDENTIALS, region="us-east-1", service="execute-api")
    with client(recorder, auth=auth) as http:
        http.get("https://abc.execute-api.us-east-1.amazonaws.com/prod/a%20b/c=d")

    (sent,) = recorder.sent
    assert_botocore_agrees(sent, b"", service="execute-api")


@freeze_time(NOW)
def test_session_token_is_sent_and_signed() -> None:
    recorder = Recorder()
    auth = SigV4Auth(TEMPORARY, region="us-east-1", service="s3")
    with client(recorder, auth=auth) as http:
        http.get("http://bucket.s3.amazonaws.com/key")

    (sent,) = recorder.sent
    assert sent.headers["x-amz-security-token"] == "SESSIONTOKEN=="
    assert "x-amz-security-token" in sent.headers["authorization"]
    assert_botocore_agrees(sent, b"", credentials=TEMPORARY)


# -- redirects and retries ----------------------------------------------------


@freeze_time(NOW)
def test_redirect_is_resigned_for_the_new_host_and_path() -> None:
    moved = httpx.Response(
        307, headers={"Location": "http://bucket.s3.eu-west-1.amazonaws.com/new%20key"}
    )
    recorder = Recorder(moved)
    with client(recorder) as http:
        answer = http.put("http://bucket.s3.amazonaws.com/key", content=b"data")

    assert answer.status_code == 200
    first, second = recorder.sent
    assert second.headers["host"] == "bucket.s3.eu-west-1.amazonaws.com"
    assert second.url.raw_path == b"/new%20key"
    assert recorder.bodies == [b"data", b"data"]
    assert_botocore_agrees(first, b"data")
    assert_botocore_agrees(second, b"data")
    assert first.headers["authorization"] != second.headers["authorization"]


@freeze_time(NOW)
def test_see_other_redirect_becomes_a_signed_get() -> None:
    moved = httpx.Response(303, headers={"Location": "/other?x=1"})
    recorder = Recorder(moved)
    with client(recorder) as http:
        http.put("http://bucket.s3.amazonaws.com/key", content=b"data")

    _, second = recorder.sent
    assert second.method == "GET"
    assert recorder.bodies[1] == b""
    assert "content-length" not in second.headers
    assert_botocore_agrees(second, b"")


def test_redirect_from_https_to_http_is_not_followed() -> None:
    moved = httpx.Response(301, headers={"Location": "http://elsewhere.example/k"})
    recorder = Recorder(moved)
    with client(recorder) as http:
        answer = http.get("https://bucket.s3.amazonaws.com/key")

    assert answer.status_code == 301
    assert len(recorder.sent) == 1


def test_redirects_are_bounded() -> None:
    loops = [httpx.Response(302, headers={"Location": "/again"}) for _ in range(20)]
    recorder = Recorder(*loops)
    with (
        client(recorder, max_redirects=3) as http,
        pytest.raises(httpx.TooManyRedirects),
    ):
        http.get("http://bucket.s3.amazonaws.com/key")

    assert len(recorder.sent) == 4


def test_redirect_followed_by_httpx_itself_is_not_resigned() -> None:
    # Known limit: with follow_redirects=True httpx redirects below the auth
    # layer; across origins it drops the Authorization header.
    moved = httpx.Response(307, headers={"Location": "http://other.example/k"})
    recorder = Recorder(moved)
    auth = SigV4Auth(CREDENTIALS, region="us-east-1", service="s3")
    with httpx.Client(transport=recorder, auth=auth, follow_redirects=True) as http:
        http.get("http://bucket.s3.amazonaws.com/key")

    assert "authorization" not in recorder.sent[1].headers


def test_resending_a_request_signs_it_afresh() -> None:
    recorder = Recorder()
    with client(recorder) as http:
        with freeze_time("2024-02-29 12:00:00"):
            request = http.build_request(
                "PUT", "http://bucket.s3.amazonaws.com/key", content=b"x"
            )
            http.send(request)
            first = dict(recorder.sent[0].headers)
            assert_botocore_agrees(recorder.sent[0], b"x")
        with freeze_time("2024-02-29 12:10:00"):
            http.send(request)  # a retry by the caller
            assert_botocore_agrees(recorder.sent[1], b"x")

    second = recorder.sent[1].headers
    assert first["x-amz-date"] == "20240229T120000Z"
    assert second["x-amz-date"] == "20240229T121000Z"
    assert len(second.get_list("x-amz-content-sha256")) == 1


def test_provider_is_asked_for_every_request() -> None:
    handed = [CREDENTIALS, TEMPORARY]

    class Provider:
        def resolve(self) -> sigv4.Credentials:
            return handed.pop(0)

    recorder = Recorder()
    auth = SigV4Auth(Provider(), region="us-east-1", service="s3")
    with client(recorder, auth=auth) as http:
        http.get("http://bucket.s3.amazonaws.com/a")
        http.get("http://bucket.s3.amazonaws.com/b")

    assert "Credential=AKIDEXAMPLE/" in recorder.sent[0].headers["authorization"]
    assert "Credential=ASIAEXAMPLE/" in recorder.sent[1].headers["authorization"]


def test_callable_credentials_and_bad_providers() -> None:
    recorder = Recorder()
    auth = SigV4Auth(lambda: CREDENTIALS, region="us-east-1", service="s3")
    with client(recorder, auth=auth) as http:
        http.get("http://bucket.s3.amazonaws.com/a")
    assert "Credential=AKIDEXAMPLE/" in recorder.sent[0].headers["authorization"]

    async def later() -> sigv4.Credentials:
        return CREDENTIALS

    for bad, message in [(later, "async"), (lambda: "nope", "gave str")]:
        auth = SigV4Auth(bad, region="us-east-1", service="s3")
        with (
            client(recorder, auth=auth) as http,
            pytest.raises(CredentialsError, match=message),
        ):
            http.get("http://bucket.s3.amazonaws.com/a")


# -- streamed bodies ----------------------------------------------------------


@freeze_time(NOW)
def test_streamed_body_to_s3_is_sent_unsigned_payload() -> None:
    pulled = []

    def body() -> Iterator[bytes]:
        for piece in (b"one ", b"two ", b"three"):
            pulled.append(piece)
            yield piece

    recorder = Recorder()
    with client(recorder) as http:
        http.put("https://bucket.s3.amazonaws.com/key", content=body())

    (sent,) = recorder.sent
    assert sent.headers["x-amz-content-sha256"] == "UNSIGNED-PAYLOAD"
    assert sent.headers["transfer-encoding"] == "chunked"
    assert recorder.bodies == [b"one two three"]
    assert_botocore_agrees(sent, recorder.bodies[0])


@freeze_time(NOW)
def test_streamed_body_chunk_signed() -> None:
    data = b"z" * 70000

    def body() -> Iterator[bytes]:
        yield data[:30000]
        yield data[30000:]

    recorder = Recorder()
    with client(recorder, stream_payload="chunked") as http:
        http.put(
            "http://bucket.s3.amazonaws.com/key",
            content=body(),
            headers={"Content-Length": str(len(data))},
        )

    (sent,) = recorder.sent
    wire = recorder.bodies[0]
    assert sent.headers["content-encoding"] == "aws-chunked"
    assert sent.headers["x-amz-decoded-content-length"] == "70000"
    assert sent.headers["x-amz-content-sha256"] == "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
    assert int(sent.headers["content-length"]) == len(wire)
    assert "transfer-encoding" not in sent.headers
    assert wire.startswith(b"10000;chunk-signature=")
    assert wire.endswith(b"\r\n\r\n")
    assert_botocore_agrees(sent, wire)  # the seed signature


def test_streamed_body_redirect_is_returned_not_replayed() -> None:
    moved = httpx.Response(307, headers={"Location": "/elsewhere"})
    recorder = Recorder(moved)
    with client(recorder) as http:
        answer = http.put(
            "https://bucket.s3.amazonaws.com/k", content=iter([b"streamed"])
        )

    assert answer.status_code == 307
    assert len(recorder.sent) == 1


def test_streamed_body_refused_for_services_that_need_the_hash() -> None:
    recorder = Recorder()
    auth = SigV4Auth(CREDENTIALS, region="us-east-1", service="dynamodb")
    with (
        client(recorder, auth=auth) as http,
        pytest.raises(SigningError, match="dynamodb needs the SHA-256"),
    ):
        http.post("https://dynamodb.us-east-1.amazonaws.com/", content=iter([b"{}"]))
    assert recorder.sent == []


def test_constructor_rejects_bad_arguments() -> None:
    with pytest.raises(sigv4.NoRegionError):
        SigV4Auth(CREDENTIALS, region="", service="s3")
    with pytest.raises(SigningError, match="stream_payload"):
        SigV4Auth(CREDENTIALS, region="x", service="s3", stream_payload="x")  # type: ignore[arg-type]


# -- async --------------------------------------------------------------------


@pytest.mark.anyio
async def test_async_client_with_async_provider_matches_botocore() -> None:
    class AsyncProvider:
        async def aresolve(self) -> sigv4.Credentials:
            return TEMPORARY

    moved = httpx.Response(307, headers={"Location": "http://b.example:8080/n"})
    recorder = Recorder(moved)
    auth = SigV4Auth(AsyncProvider(), region="us-west-2", service="s3")
    with freeze_time(NOW):
        async with httpx.AsyncClient(transport=recorder, auth=auth) as http:
            await http.put("http://a.example/k", content=b"payload")

        assert len(recorder.sent) == 2
        for sent, body in zip(recorder.sent, recorder.bodies, strict=True):
            assert_botocore_agrees(sent, body, TEMPORARY, region="us-west-2")
    assert recorder.sent[1].headers["host"] == "b.example:8080"


@pytest.mark.anyio
async def test_async_streamed_body_chunk_signed() -> None:
    async def body() -> AsyncIterator[bytes]:
        for _ in range(3):
            yield b"q" * 10000

    async def credentials() -> sigv4.Credentials:
        return CREDENTIALS

    recorder = Recorder()
    auth = SigV4Auth(
        credentials, region="us-east-1", service="s3", stream_payload="chunked"
    )
    async with httpx.AsyncClient(transport=recorder, auth=auth) as http:
        await http.put("http://a.example/k", content=body())

    (sent,) = recorder.sent
    assert "content-length" not in sent.headers  # unknown length
    assert sent.headers["transfer-encoding"] == "chunked"
    assert recorder.bodies[0].startswith(b"7530;chunk-signature=")


# -- secrets ------------------------------------------------------------------


def test_no_secret_in_repr_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    recorder = Recorder()
    auth = SigV4Auth(TEMPORARY, region="us-east-1", service="s3")
    with caplog.at_level(logging.DEBUG), client(recorder, auth=auth) as http:
        http.put("http://bucket.s3.amazonaws.com/key?x=1", content=b"secret body")

    signature = recorder.sent[0].headers["authorization"].rsplit("=", 1)[1]
    shown = repr(auth) + caplog.text
    assert "sigv4" in caplog.text
    for secret in ["temporary/secret+key", "SESSIONTOKEN", signature, "secret body"]:
        assert secret not in shown


def test_import_sigv4_does_not_load_httpx() -> None:
    code = (
        "import sys, sigv4; assert 'httpx' not in sys.modules; "
        "sigv4.SigV4Auth; assert 'httpx' in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# -- a real server ------------------------------------------------------------


@pytest.mark.integration
def test_moto_accepts_what_the_adapter_signs(moto: Server) -> None:
    bucket = f"adapter-{uuid.uuid4().hex[:12]}"
    key = "dir/a b+c~d=e.txt"
    auth = SigV4Auth(moto.credentials, region=moto.region, service="s3")
    chunked = SigV4Auth(
        moto.credentials, region=moto.region, service="s3", stream_payload="chunked"
    )
    with httpx.Client(auth=auth, timeout=10) as http:
        assert http.put(f"{moto.endpoint}/{bucket}").status_code == 200
        put = http.put(f"{moto.endpoint}/{bucket}/{key}", content=b"bytes body")
        assert put.status_code == 200, put.text
        assert http.get(f"{moto.endpoint}/{bucket}/{key}").content == b"bytes body"

        streamed = http.put(
            f"{moto.endpoint}/{bucket}/streamed",
            content=iter([b"x" * 5000, b"y" * 5000]),
            headers={"Content-Length": "10000"},
        )
        assert streamed.status_code == 200, streamed.text
        got = http.get(f"{moto.endpoint}/{bucket}/streamed")
        assert got.content == b"x" * 5000 + b"y" * 5000

    with httpx.Client(auth=chunked, timeout=10) as http:
        data = bytes(range(256)) * 400
        put = http.put(
            f"{moto.endpoint}/{bucket}/chunked",
            content=iter([data[:70000], data[70000:]]),
            headers={"Content-Length": str(len(data))},
        )
        assert put.status_code == 200, put.text
        assert http.get(f"{moto.endpoint}/{bucket}/chunked").content == data


@pytest.mark.integration
@pytest.mark.anyio
async def test_moto_accepts_async_client_and_dynamodb(moto: Server) -> None:
    auth = SigV4Auth(moto.credentials, region=moto.region, service="dynamodb")
    async with httpx.AsyncClient(auth=auth, timeout=10) as http:
        answer = await http.post(
            f"{moto.endpoint}/",
            content=b"{}",
            headers={
                "Content-Type": "application/x-amz-json-1.0",
                "X-Amz-Target": "DynamoDB_20120810.ListTables",
            },
        )
    assert answer.status_code == 200, answer.text
    assert "TableNames" in answer.json()


@pytest.mark.integration
def test_moto_refuses_a_wrong_secret(moto: Server) -> None:
    wrong = sigv4.Credentials(moto.credentials.access_key_id, "wrong-secret")
    auth = SigV4Auth(wrong, region=moto.region, service="s3")
    with httpx.Client(auth=auth, timeout=10) as http:
        answer = http.get(f"{moto.endpoint}/")
    assert answer.status_code == 403
    assert b"SignatureDoesNotMatch" in answer.content


@freeze_time(NOW)
def test_streamed_body_unsigned_when_asked_for_any_service() -> None:
    recorder = Recorder()
    auth = SigV4Auth(
        CREDENTIALS, region="us-east-1", service="lambda", unsigned_payload=True
    )
    with client(recorder, auth=auth) as http:
        http.post("https://lambda.us-east-1.amazonaws.com/x", content=iter([b"{}"]))

    (sent,) = recorder.sent
    assert recorder.bodies == [b"{}"]
    headers = {
        name: value
        for name, value in sent.headers.multi_items()
        if name.lower() not in NOT_SIGNED | ADDED
    }
    expected = AWSRequest(method="POST", url=str(sent.url), headers=headers)

    class UnsignedPayload(BotocoreSigV4Auth):
        def payload(self, request: AWSRequest) -> str:
            return "UNSIGNED-PAYLOAD"

    UnsignedPayload(
        BotocoreCredentials(CREDENTIALS.access_key_id, CREDENTIALS.secret_access_key),
        "lambda",
        "us-east-1",
    ).add_auth(expected)
    assert sent.headers["authorization"] == expected.headers["Authorization"]


@freeze_time(NOW)
def test_credential_chain_as_provider_sync() -> None:
    chain = sigv4.CredentialChain(TEMPORARY, environ={})
    recorder = Recorder()
    auth = SigV4Auth(chain, region="us-east-1", service="s3")
    with client(recorder, auth=auth) as http:
        http.put("http://bucket.s3.amazonaws.com/k", content=b"c")

    assert_botocore_agrees(recorder.sent[0], b"c", credentials=TEMPORARY)


@pytest.mark.anyio
async def test_credential_chain_as_provider_async() -> None:
    chain = sigv4.CredentialChain(TEMPORARY, environ={})
    recorder = Recorder()
    auth = SigV4Auth(chain, region="us-east-1", service="s3")
    with freeze_time(NOW):
        async with httpx.AsyncClient(transport=recorder, auth=auth) as http:
            await http.put("http://bucket.s3.amazonaws.com/k", content=b"c")

        assert_botocore_agrees(recorder.sent[0], b"c", credentials=TEMPORARY)
