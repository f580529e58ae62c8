"""Faults on the wire: each ends in the right result or typed error, in bounds."""

from __future__ import annotations

import datetime as dt
import io
import logging
from collections.abc import Iterator

import httpx
import pytest
import respx

import services
from services import ClientError
from services.errors import EndpointConnectionError, ReadTimeoutError
from services.s3.client import S3Client

from .conftest import KEYS, async_s3_client, s3_client

URL = "https://bucket.s3.amazonaws.com/key"
OK = {"ETag": '"5d41402abc4b2a76b9719d911017c592"'}


def _error(code: str, message: str = "m") -> bytes:
    return (
        f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{code}</Code>"
        f"<Message>{message}</Message><RequestId>R</RequestId></Error>"
    ).encode()


def test_503_slowdown_then_success_writes_once() -> None:
    router = respx.MockRouter()
    route = router.put(URL).mock(
        side_effect=[
            httpx.Response(503, content=_error("SlowDown", "Please reduce")),
            httpx.Response(200, headers=OK),
        ]
    )
    s3 = s3_client(router)
    result = s3.put_object(Bucket="bucket", Key="key", Body=b"hello")
    assert route.call_count == 2
    assert [c.request.content for c in route.calls] == [b"hello", b"hello"]
    assert result["ResponseMetadata"]["RetryAttempts"] == 1
    # the retry's cost is refunded on success
    assert s3._executor.quota.available == 500


def test_500_three_times_is_the_error_after_three_attempts() -> None:
    router = respx.MockRouter()
    route = router.get(URL).mock(
        return_value=httpx.Response(500, content=_error("InternalError"))
    )
    s3 = s3_client(router)
    with pytest.raises(ClientError) as info:
        s3.get_object(Bucket="bucket", Key="key")
    assert route.call_count == 3
    assert info.value.code == "InternalError"
    assert "reached max retries: 2" in str(info.value)
    assert s3._executor.quota.available == 490


def test_throttling_is_retried_client_errors_are_not() -> None:
    router = respx.MockRouter()
    route = router.get(URL).mock(
        side_effect=[
            httpx.Response(400, content=_error("ThrottlingException")),
            httpx.Response(403, content=_error("AccessDenied")),
        ]
    )
    with pytest.raises(ClientError) as info:
        s3_client(router).get_object(Bucket="bucket", Key="key")
    assert info.value.code == "AccessDenied"
    assert route.call_count == 2


def test_retry_quota_stops_a_retry_storm() -> None:
    router = respx.MockRouter()
    route = router.get(URL).mock(return_value=httpx.Response(503))
    s3 = s3_client(router, max_attempts=10)
    s3._executor.quota.available = 12
    with pytest.raises(ClientError):
        s3.get_object(Bucket="bucket", Key="key")
    # 12 tokens pay for two retries of 5: three attempts, not ten
    assert route.call_count == 3


def _broken_stream() -> Iterator[bytes]:
    yield b"<ListBucketResult><Name>buck"
    raise httpx.ReadError("connection reset by peer")


def test_connection_reset_mid_body_is_retried() -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if len(calls) == 1:
            return httpx.Response(200, stream=_Broken())
        return httpx.Response(
            200,
            content=b"<ListBucketResult><Name>bucket</Name>"
            b"<IsTruncated>false</IsTruncated></ListBucketResult>",
        )

    # a transport of its own: respx would read the broken body itself
    client = S3Client(
        region_name="us-east-1",
        config=services.Config(retry_base=0.0),
        _transport=httpx.MockTransport(handler),
        **KEYS,
    )
    result = client.list_objects_v2(Bucket="bucket")
    assert len(calls) == 2
    assert result["Name"] == "bucket"


class _Broken(httpx.SyncByteStream):
    def __iter__(self) -> Iterator[bytes]:
        return _broken_stream()


def test_timeouts_are_retried_then_typed() -> None:
    router = respx.MockRouter()
    route = router.put(URL).mock(side_effect=httpx.ReadTimeout("read timed out"))
    s3 = s3_client(router)
    with pytest.raises(ReadTimeoutError):
        s3.put_object(Bucket="bucket", Key="key", Body=b"x")
    assert route.call_count == 3
    # a timeout retry costs 10
    assert s3._executor.quota.available == 480


def test_connect_errors_are_typed() -> None:
    router = respx.MockRouter()
    router.get(URL).mock(side_effect=httpx.ConnectError("refused"))
    with pytest.raises(EndpointConnectionError, match=r"bucket\.s3\.amazonaws\.com"):
        s3_client(router, max_attempts=1).get_object(Bucket="bucket", Key="key")


def test_non_replayable_body_is_not_retried() -> None:
    router = respx.MockRouter()
    route = router.put(URL).mock(return_value=httpx.Response(503))

    class Pipe(io.RawIOBase):
        def __init__(self) -> None:
            self.data = io.BytesIO(b"streamed")

        def readable(self) -> bool:
            return True

        def seekable(self) -> bool:
            return False

        def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
            chunk = self.data.read(len(buffer))
            buffer[: len(chunk)] = chunk
            return len(chunk)

    with pytest.raises(ClientError):
        s3_client(router).put_object(
            Bucket="bucket", Key="key", Body=Pipe(), ContentLength=8
        )
    assert route.call_count == 1


def test_seekable_body_is_rewound_for_a_retry() -> None:
    router = respx.MockRouter()
    route = router.put(URL).mock(
        side_effect=[httpx.Response(500), httpx.Response(200, headers=OK)]
    )
    body = io.BytesIO(b"skip:payload")
    body.seek(5)
    s3_client(router).put_object(Bucket="bucket", Key="key", Body=body)
    assert [c.request.content for c in route.calls] == [b"payload", b"payload"]
    assert route.calls.last.request.headers["content-length"] == "7"


def test_skewed_clock_is_learned_from_date_and_kept() -> None:
    router = respx.MockRouter()
    server_now = dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=2)
    date = server_now.strftime("%a, %d %b %Y %H:%M:%S GMT")
    route = router.get(URL).mock(
        side_effect=[
            httpx.Response(
                403,
                headers={"Date": date},
                content=_error(
                    "RequestTimeTooSkewed",
                    "The difference between the request time and the current "
                    "time is too large.",
                ),
            ),
            httpx.Response(200, content=b"ok"),
            httpx.Response(200, content=b"ok"),
        ]
    )
    s3 = s3_client(router)
    assert s3.get_object(Bucket="bucket", Key="key")["Body"].read() == b"ok"
    s3.get_object(Bucket="bucket", Key="key")["Body"].read()
    stamps = [
        dt.datetime.strptime(c.request.headers["x-amz-date"], "%Y%m%dT%H%M%SZ")
        for c in route.calls
    ]
    server_naive = server_now.replace(tzinfo=None)
    assert abs((stamps[0] - server_naive).total_seconds()) > 3600
    for later in stamps[1:]:
        assert abs((later - server_naive).total_seconds()) < 60


def test_wrong_region_redirect_is_followed_once_and_remembered() -> None:
    router = respx.MockRouter()
    wrong = router.get(url__startswith="https://bucket.s3.amazonaws.com/").mock(
        return_value=httpx.Response(
            301,
            headers={"x-amz-bucket-region": "eu-west-1"},
            content=_error("PermanentRedirect", "use the right endpoint"),
        )
    )
    right = router.get(
        url__startswith="https://bucket.s3.eu-west-1.amazonaws.com/"
    ).mock(return_value=httpx.Response(200, content=b"data"))
    s3 = s3_client(router)
    assert s3.get_object(Bucket="bucket", Key="key")["Body"].read() == b"data"
    assert s3.get_object(Bucket="bucket", Key="key")["Body"].read() == b"data"
    assert wrong.call_count == 1 and right.call_count == 2
    scope = right.calls.last.request.headers["authorization"]
    assert "/eu-west-1/s3/aws4_request" in scope


def test_authorization_header_malformed_names_the_region() -> None:
    router = respx.MockRouter()
    body = (
        b"<Error><Code>AuthorizationHeaderMalformed</Code><Message>the region "
        b"'us-east-1' is wrong; expecting 'ap-south-1'</Message>"
        b"<Region>ap-south-1</Region><RequestId>R</RequestId></Error>"
    )
    router.head(url__startswith="https://bucket.s3.amazonaws.com/").mock(
        return_value=httpx.Response(400, content=body)
    )
    right = router.head(
        url__startswith="https://bucket.s3.ap-south-1.amazonaws.com/"
    ).mock(return_value=httpx.Response(200))
    s3_client(router).head_bucket(Bucket="bucket")
    assert right.call_count == 1


def test_a_second_wrong_region_answer_is_the_error() -> None:
    router = respx.MockRouter()
    router.get().mock(
        return_value=httpx.Response(
            301,
            headers={"x-amz-bucket-region": "eu-west-1"},
            content=_error("PermanentRedirect"),
        )
    )
    with pytest.raises(ClientError) as info:
        s3_client(router).get_object(Bucket="bucket", Key="key")
    assert info.value.code == "PermanentRedirect"


def test_debug_log_masks_secrets(caplog: pytest.LogCaptureFixture) -> None:
    router = respx.MockRouter()
    router.get(URL).respond(200, content=b"x")
    caplog.set_level(logging.DEBUG)
    s3 = s3_client(router)
    s3.get_object(Bucket="bucket", Key="key")["Body"].read()
    text = caplog.text
    assert "SECRETEXAMPLE" not in text
    assert "Signature=" not in text
    assert "***" in text
    assert "SECRETEXAMPLE" not in repr(s3) + repr(s3._executor.credentials)


@pytest.mark.anyio
async def test_async_client_retries_and_streams() -> None:
    router = respx.MockRouter()
    route = router.get(URL).mock(
        side_effect=[httpx.Response(503), httpx.Response(200, content=b"async ok")]
    )
    async with async_s3_client(router) as s3:
        result = await s3.get_object(Bucket="bucket", Key="key")
        assert await result["Body"].read() == b"async ok"
        with pytest.raises(s3.exceptions.NoSuchKey):
            router.get(URL).mock(
                return_value=httpx.Response(404, content=_error("NoSuchKey"))
            )
            await s3.get_object(Bucket="bucket", Key="key")
    assert route.call_count >= 2


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.anyio
async def test_async_skew_redirect_and_timeouts() -> None:
    router = respx.MockRouter()
    server_now = dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1)
    date = server_now.strftime("%a, %d %b %Y %H:%M:%S GMT")
    wrong = router.get(url__startswith="https://bucket.s3.amazonaws.com/").mock(
        side_effect=[
            httpx.Response(
                403, headers={"Date": date}, content=_error("RequestTimeTooSkewed")
            ),
            httpx.Response(
                301,
                headers={"x-amz-bucket-region": "eu-west-1"},
                content=_error("PermanentRedirect"),
            ),
        ]
    )
    right = router.get(
        url__startswith="https://bucket.s3.eu-west-1.amazonaws.com/"
    ).mock(side_effect=[httpx.ReadTimeout("slow"), httpx.Response(200, content=b"ok")])
    async with async_s3_client(router) as s3:
        result = await s3.get_object(Bucket="bucket", Key="key")
        assert await result["Body"].read() == b"ok"
        quota = s3._executor.quota.available
    assert wrong.call_count == 2 and right.call_count == 2
    stamp = dt.datetime.strptime(
        right.calls.last.request.headers["x-amz-date"], "%Y%m%dT%H%M%SZ"
    )
    assert abs((stamp - server_now.replace(tzinfo=None)).total_seconds()) < 60
    assert quota == 500  # the timeout retry's 10 tokens came back on success
