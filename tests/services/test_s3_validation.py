"""S3 parameters refused or encoded before anything is sent, with boto3 as oracle.

boto3 (botocore's service model and validator) is the independent truth: for
each bad input both clients must raise ParamValidationError; for each good
input both must put the same thing on the wire. botocore's requests are
captured in its ``before-send`` event, so nothing leaves the process.
"""

from __future__ import annotations

import datetime as dt
import io
import tracemalloc
from collections.abc import Iterator
from typing import Any

import boto3
import botocore.awsrequest
import botocore.config
import botocore.exceptions
import httpx
import pytest
import respx

import services
from services import ParamValidationError
from services.errors import ClientError
from services.s3 import operations
from services.s3.client import AsyncS3Client, S3Client

from .conftest import KEYS, async_s3_client, s3_client

ENDPOINT = "http://127.0.0.1:9"


class _Raw:
    def stream(self, **_: Any) -> Iterator[bytes]:
        return iter(())


def boto3_sent(method: str, **params: Any) -> dict[str, str]:
    """The headers boto3 would send for a call (captured, never sent)."""
    sent: dict[str, str] = {}

    def capture(request: Any, **_: Any) -> Any:
        sent.update({k.lower(): v for k, v in request.headers.items()})
        sent["url"] = request.url
        return botocore.awsrequest.AWSResponse(request.url, 200, {}, _Raw())

    client = boto3.client(
        "s3",
        region_name="us-east-1",
        endpoint_url=ENDPOINT,
        config=botocore.config.Config(s3={"addressing_style": "path"}),
        **KEYS,
    )
    client.meta.events.register("before-send", capture)
    getattr(client, method)(**params)
    return {k: (v.decode() if isinstance(v, bytes) else v) for k, v in sent.items()}


def boto3_refuses(method: str, **params: Any) -> bool:
    client = boto3.client("s3", region_name="us-east-1", endpoint_url=ENDPOINT, **KEYS)

    def fail(request: Any, **_: Any) -> Any:
        raise AssertionError("boto3 tried to send the request")

    client.meta.events.register("before-send", fail)
    try:
        getattr(client, method)(**params)
    except botocore.exceptions.ParamValidationError:
        return True
    return False


def router_any() -> respx.MockRouter:
    router = respx.MockRouter(assert_all_called=False)
    router.route().respond(200)
    return router


def path_client(router: respx.MockRouter) -> S3Client:
    return s3_client(router, endpoint_url=ENDPOINT, addressing_style="path")


# -- empty Key and Bucket ------------------------------------------------------

EMPTY_KEY_CALLS = [
    ("delete_object", {"Bucket": "bucket", "Key": ""}),
    ("get_object", {"Bucket": "bucket", "Key": ""}),
    ("head_object", {"Bucket": "bucket", "Key": ""}),
    ("put_object", {"Bucket": "bucket", "Key": "", "Body": b"x"}),
    ("copy_object", {"Bucket": "bucket", "Key": "", "CopySource": "src/key"}),
    ("create_multipart_upload", {"Bucket": "bucket", "Key": ""}),
    ("upload_part", {"Bucket": "bucket", "Key": "", "PartNumber": 1, "UploadId": "u"}),
    ("abort_multipart_upload", {"Bucket": "bucket", "Key": "", "UploadId": "u"}),
    ("list_parts", {"Bucket": "bucket", "Key": "", "UploadId": "u"}),
    ("delete_object", {"Bucket": "", "Key": "key"}),
    ("delete_bucket", {"Bucket": ""}),
    ("list_objects_v2", {"Bucket": ""}),
    ("put_object", {"Bucket": "", "Key": "key", "Body": b"x"}),
]


@pytest.mark.parametrize(("method", "params"), EMPTY_KEY_CALLS)
def test_empty_key_or_bucket_is_refused_before_sending(
    method: str, params: dict[str, Any]
) -> None:
    assert boto3_refuses(method, **params)
    router = router_any()
    with pytest.raises(ParamValidationError, match=r"Key|Bucket"):
        getattr(s3_client(router), method)(**params)
    assert not router.calls


@pytest.mark.anyio
@pytest.mark.parametrize(("method", "params"), EMPTY_KEY_CALLS[:4])
async def test_async_empty_key_is_refused_before_sending(
    method: str, params: dict[str, Any]
) -> None:
    router = router_any()
    async with async_s3_client(router) as s3:
        with pytest.raises(ParamValidationError, match="Key"):
            await getattr(s3, method)(**params)
    assert not router.calls


@pytest.mark.parametrize("method", ["get_object", "put_object", "delete_object"])
def test_presigned_url_refuses_an_empty_key(method: str) -> None:
    s3 = s3_client(router_any())
    with pytest.raises(ParamValidationError, match="Key"):
        s3.generate_presigned_url(method, Params={"Bucket": "bucket", "Key": ""})


def test_copy_source_with_an_empty_key_is_refused() -> None:
    router = router_any()
    with pytest.raises(ParamValidationError, match="CopySource"):
        s3_client(router).copy_object(
            Bucket="bucket", Key="k", CopySource={"Bucket": "src", "Key": ""}
        )
    assert not router.calls


# -- streamed iterable bodies --------------------------------------------------

MiB = 1024 * 1024


def _chunks(total: int, size: int = 256 * 1024) -> Iterator[bytes]:
    sent = 0
    while sent < total:
        step = min(size, total - sent)
        sent += step
        yield b"x" * step


class _Sink(httpx.BaseTransport):
    """A transport that reads the request body in chunks and keeps only a count.

    (httpx.MockTransport would read the whole body into memory first.)
    """

    def __init__(self, status: int = 200, content: bytes = b"") -> None:
        self.status = status
        self.content = content
        self.received: list[int] = []
        self.headers: list[httpx.Headers] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        total = 0
        for chunk in request.stream:  # type: ignore[union-attr]
            total += len(chunk)
        self.received.append(total)
        self.headers.append(request.headers)
        return httpx.Response(self.status, content=self.content)


def _sink_client(sink: _Sink) -> S3Client:
    return S3Client(
        region_name="us-east-1",
        config=services.Config(retry_base=0.0),
        _transport=sink,
        **KEYS,
    )


def test_generator_with_content_length_is_streamed_not_buffered() -> None:
    total = 64 * MiB
    sink = _Sink()
    s3 = _sink_client(sink)
    tracemalloc.start()
    try:
        s3.put_object(
            Bucket="bucket", Key="big", Body=_chunks(total), ContentLength=total
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert sink.received == [total]
    assert sink.headers[0]["content-length"] == str(total)
    assert sink.headers[0]["x-amz-content-sha256"] == "UNSIGNED-PAYLOAD"
    assert "transfer-encoding" not in sink.headers[0]
    assert peak < 8 * MiB, peak


SLOW_DOWN = b"<Error><Code>SlowDown</Code><Message>Reduce</Message></Error>"


def test_generator_body_is_sent_once_on_a_503() -> None:
    pulled: list[int] = []

    def body() -> Iterator[bytes]:
        for chunk in _chunks(4 * MiB):
            pulled.append(len(chunk))
            yield chunk

    sink = _Sink(503, SLOW_DOWN)
    with pytest.raises(ClientError) as caught:
        _sink_client(sink).put_object(
            Bucket="bucket", Key="k", Body=body(), ContentLength=4 * MiB
        )
    assert caught.value.code == "SlowDown"
    assert sink.received == [4 * MiB]
    assert sum(pulled) == 4 * MiB


def test_generator_shorter_than_content_length_is_a_validation_error() -> None:
    sink = _Sink()
    with pytest.raises(ParamValidationError, match="fewer bytes"):
        _sink_client(sink).put_object(
            Bucket="bucket", Key="k", Body=_chunks(10), ContentLength=20
        )


def test_small_generator_without_length_is_buffered_and_retried() -> None:
    router = respx.MockRouter()
    route = router.put("https://bucket.s3.amazonaws.com/k")
    route.side_effect = [
        httpx.Response(503, content=SLOW_DOWN),
        httpx.Response(200, headers={"ETag": '"e"'}),
    ]
    result = s3_client(router).put_object(
        Bucket="bucket", Key="k", Body=iter([b"ab", bytearray(b"cd")])
    )
    assert result["ETag"] == '"e"'
    assert [call.request.content for call in route.calls] == [b"abcd", b"abcd"]


def test_large_generator_without_length_is_refused() -> None:
    router = router_any()
    limit = operations.ITERABLE_BUFFER_LIMIT
    with pytest.raises(ParamValidationError, match="ContentLength"):
        s3_client(router).put_object(
            Bucket="bucket", Key="k", Body=_chunks(limit + MiB)
        )
    assert not router.calls


@pytest.mark.anyio
async def test_async_iterable_body_is_streamed_with_content_length() -> None:
    async def body() -> Any:
        for chunk in _chunks(3 * MiB):
            yield chunk

    received: list[int] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        received.append(sum([len(c) async for c in request.stream]))  # type: ignore[union-attr]
        return httpx.Response(200)

    s3 = AsyncS3Client(
        region_name="us-east-1",
        config=services.Config(retry_base=0.0),
        _transport=httpx.MockTransport(handler),
        **KEYS,
    )
    async with s3:
        await s3.put_object(
            Bucket="bucket", Key="k", Body=body(), ContentLength=3 * MiB
        )
        with pytest.raises(ParamValidationError, match="ContentLength"):
            await s3.put_object(Bucket="bucket", Key="k", Body=body())
    assert received == [3 * MiB]


def test_sync_client_refuses_an_async_iterable() -> None:
    async def body() -> Any:
        yield b"x"

    with pytest.raises(ParamValidationError, match="async"):
        s3_client(router_any()).put_object(
            Bucket="bucket", Key="k", Body=body(), ContentLength=1
        )


# -- text bodies ---------------------------------------------------------------


def test_text_bodies_are_validation_errors(tmp_path: Any) -> None:
    # boto3 raises a bare TypeError from its checksum code here; ours names Body
    path = tmp_path / "t.txt"
    path.write_text("hello")
    router = router_any()
    s3 = s3_client(router)
    with path.open("r") as text_file:
        for body in (io.StringIO("hello"), text_file, iter(["a", "b"])):
            with pytest.raises(ParamValidationError, match="Body"):
                s3.put_object(Bucket="bucket", Key="k", Body=body)
    with pytest.raises(ParamValidationError, match="Body"):
        s3.put_object(Bucket="bucket", Key="k", Body=iter(["a"]), ContentLength=1)
    assert not router.calls


# -- types ---------------------------------------------------------------------

BAD_TYPES = [
    ("get_object", {"Bucket": "bucket", "Key": "k", "IfModifiedSince": "garbage"}),
    ("get_object", {"Bucket": "bucket", "Key": "k", "IfUnmodifiedSince": [1]}),
    ("put_object", {"Bucket": "bucket", "Key": "k", "Expires": "not a date"}),
    ("get_object", {"Bucket": "bucket", "Key": "k", "ResponseExpires": "soon"}),
    ("get_object", {"Bucket": "bucket", "Key": "k", "PartNumber": "1"}),
    ("list_objects_v2", {"Bucket": "bucket", "MaxKeys": "10"}),
    ("list_objects_v2", {"Bucket": "bucket", "MaxKeys": 1.5}),
    ("list_parts", {"Bucket": "bucket", "Key": "k", "UploadId": "u", "MaxParts": "2"}),
    (
        "create_bucket",
        {"Bucket": "bucket", "CreateBucketConfiguration": {"LocationConstraint": 1}},
    ),
    ("put_object", {"Bucket": "bucket", "Key": "k", "Metadata": {"a": "caf\u00e9"}}),
    ("put_object", {"Bucket": "bucket", "Key": "k", "Metadata": "x"}),
    (
        "delete_objects",
        {"Bucket": "bucket", "Delete": {"Objects": [{"Key": "a", "Nope": 1}]}},
    ),
    ("delete_objects", {"Bucket": "bucket", "Delete": {"Objects": [{"Key": ""}]}}),
    (
        "complete_multipart_upload",
        {
            "Bucket": "bucket",
            "Key": "k",
            "UploadId": "u",
            "MultipartUpload": {"Parts": [{"ETag": "e", "PartNumber": "1"}]},
        },
    ),
]


@pytest.mark.parametrize(
    ("method", "params"),
    BAD_TYPES,
    ids=[f"{m}-{i}" for i, (m, _) in enumerate(BAD_TYPES)],
)
def test_mistyped_parameters_are_refused_like_boto3(
    method: str, params: dict[str, Any]
) -> None:
    assert boto3_refuses(method, **params)
    router = router_any()
    bad = [name for name in params if name not in ("Bucket", "Key", "UploadId")]
    with pytest.raises(ParamValidationError) as caught:
        getattr(s3_client(router), method)(**params)
    assert not router.calls
    named = bad[0]
    assert named in str(caught.value) or named == "Delete"


@pytest.mark.parametrize("value", ["x\r\nX-Evil: 1", "x\ny", 1, None])
def test_metadata_values_that_are_not_header_text_are_refused(value: Any) -> None:
    # boto3 sends CR/LF on to urllib3 and fails on an int with AttributeError
    router = router_any()
    with pytest.raises(ParamValidationError, match="Metadata"):
        s3_client(router).put_object(Bucket="bucket", Key="k", Metadata={"a": value})
    assert not router.calls


@pytest.mark.parametrize(
    "params",
    [
        {"ContentDisposition": "attachment\r\nX-Evil: 1"},
        {"CacheControl": "no-cache\n"},
        {"ContentType": "text/plain\0"},
    ],
)
def test_header_parameters_with_line_breaks_are_refused(params: dict[str, str]) -> None:
    # the signer folds CR/LF away, so what would be sent is not what was given
    router = router_any()
    with pytest.raises(ParamValidationError, match=next(iter(params))):
        s3_client(router).put_object(Bucket="bucket", Key="k", Body=b"", **params)
    assert not router.calls


TIMESTAMPS = [
    dt.datetime(2024, 5, 6, 7, 8, 9, tzinfo=dt.timezone.utc),
    dt.datetime(2024, 5, 6, 7, 8, 9),
    "2024-05-06T07:08:09Z",
    "2024-05-06T09:08:09+02:00",
    "2024-05-06",
    "Mon, 06 May 2024 07:08:09 GMT",
    "1714979289",
    1714979289,
]


@pytest.mark.parametrize("value", TIMESTAMPS, ids=[repr(v) for v in TIMESTAMPS])
def test_timestamps_are_sent_as_boto3_sends_them(value: Any) -> None:
    expected = boto3_sent(
        "head_object", Bucket="bucket", Key="k", IfModifiedSince=value
    )["if-modified-since"]
    router = respx.MockRouter()
    route = router.head(f"{ENDPOINT}/bucket/k").respond(200)
    path_client(router).head_object(Bucket="bucket", Key="k", IfModifiedSince=value)
    assert route.calls.last.request.headers["if-modified-since"] == expected


def test_metadata_spaces_and_sse_key_bytes_are_sent_as_boto3_sends_them() -> None:
    params: dict[str, Any] = {
        "Bucket": "bucket",
        "Key": "k",
        "Body": b"x",
        "Metadata": {"padded": "  two  spaces  "},
        "SSECustomerAlgorithm": "AES256",
        "SSECustomerKey": bytes(range(32)),
    }
    expected = boto3_sent("put_object", **params)
    router = respx.MockRouter()
    route = router.put(f"{ENDPOINT}/bucket/k").respond(200)
    path_client(router).put_object(**params)
    sent = route.calls.last.request.headers
    for name in (
        "x-amz-meta-padded",
        "x-amz-server-side-encryption-customer-key",
        "x-amz-server-side-encryption-customer-key-md5",
    ):
        assert sent[name] == expected[name], name


def test_metadata_spaces_survive_the_wire() -> None:
    # through the real transport to a socket: what arrives is what was given
    import socket
    import threading

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(10)
    port = listener.getsockname()[1]
    seen: list[bytes] = []

    def serve() -> None:
        conn, _ = listener.accept()
        conn.settimeout(10)
        data = b""
        while b"\r\n\r\n" not in data:
            data += conn.recv(65536)
        seen.append(data)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        conn.close()

    thread = threading.Thread(target=serve)
    thread.start()
    try:
        with services.client(
            "s3",
            region_name="us-east-1",
            endpoint_url=f"http://127.0.0.1:{port}",
            config=services.Config(retries={"max_attempts": 1}),
            **KEYS,
        ) as s3:
            s3.put_object(Bucket="bucket", Key="k", Body=b"", Metadata={"m": " a  b "})
    finally:
        thread.join(10)
        listener.close()
    assert b"\r\nx-amz-meta-m:  a  b \r\n" in seen[0].lower()


def test_presigned_post_refuses_an_empty_bucket() -> None:
    s3 = s3_client(router_any())
    with pytest.raises(ParamValidationError, match="Bucket"):
        s3.generate_presigned_post(Bucket="", Key="k")


# -- text that cannot travel as given ------------------------------------------

UNSENDABLE = [
    ("put_object", {"ContentType": "a\u2028b"}, "ContentType"),
    ("put_object", {"ExpectedBucketOwner": "\u00e9"}, "ExpectedBucketOwner"),
    ("put_object", {"ContentType": "text/plain\x01"}, "ContentType"),
    ("put_object", {"CacheControl": "no-cache\x1b"}, "CacheControl"),
    ("put_object", {"ContentDisposition": "a\x7f"}, "ContentDisposition"),
    ("put_object", {"Key": "lone \ud800 surrogate"}, "Key"),
    ("get_object", {"IfModifiedSince": float("nan")}, "IfModifiedSince"),
    ("get_object", {"IfModifiedSince": 1e20}, "IfModifiedSince"),
    ("get_object", {"IfUnmodifiedSince": -1e20}, "IfUnmodifiedSince"),
    ("list_objects_v2", {"Prefix": "\udc80"}, "Prefix"),
    ("copy_object", {"CopySource": "src/\ud800"}, "CopySource"),
    ("copy_object", {"CopySource": {"Bucket": "src", "Key": "\ud800"}}, "CopySource"),
]


@pytest.mark.parametrize(
    ("method", "extra", "named"),
    UNSENDABLE,
    ids=[f"{m}-{n}-{i}" for i, (m, _, n) in enumerate(UNSENDABLE)],
)
def test_unsendable_text_is_a_validation_error_naming_the_parameter(
    method: str, extra: dict[str, Any], named: str
) -> None:
    params: dict[str, Any] = {"Bucket": "bucket", "Key": "k"}
    if method == "put_object":
        params["Body"] = b""
    if method == "list_objects_v2":
        del params["Key"]
    params.update(extra)
    router = router_any()
    with pytest.raises(ParamValidationError, match=named):
        getattr(s3_client(router), method)(**params)
    assert not router.calls


def test_a_tab_in_a_header_parameter_is_sent_as_boto3_sends_it() -> None:
    expected = boto3_sent(
        "put_object", Bucket="bucket", Key="k", Body=b"", ContentType="a\tb"
    )["content-type"]
    router = router_any()
    path_client(router).put_object(
        Bucket="bucket", Key="k", Body=b"", ContentType="a\tb"
    )
    assert router.calls.last.request.headers["content-type"] == expected


# -- bucket names that cannot stand in a path ------------------------------------


@pytest.mark.parametrize("bucket", [".", "..", "a/b", "bu\x01cket", "bu\ud800"])
@pytest.mark.parametrize("style", ["path", "virtual"])
def test_bucket_names_that_are_path_segments_are_refused(
    bucket: str, style: str
) -> None:
    router = router_any()
    client = s3_client(router, endpoint_url=ENDPOINT, addressing_style=style)
    with pytest.raises(ParamValidationError, match="Bucket"):
        client.get_object(Bucket=bucket, Key="k")
    with pytest.raises(ParamValidationError, match="Bucket"):
        client.list_objects_v2(Bucket=bucket)
    with pytest.raises(ParamValidationError, match="Bucket"):
        client.generate_presigned_url(
            "get_object", Params={"Bucket": bucket, "Key": "k"}
        )
    with pytest.raises(ParamValidationError, match="Bucket"):
        client.copy_object(
            Bucket="bucket", Key="k", CopySource={"Bucket": bucket, "Key": "k"}
        )
    assert not router.calls


@pytest.mark.parametrize("bucket", ["Legacy_Bucket", "ab", "a..b", "x" * 70])
def test_legacy_bucket_names_still_go_as_boto3_sends_them(bucket: str) -> None:
    # outside today's naming rules, but older buckets and other stores have them
    expected = boto3_sent("get_object", Bucket=bucket, Key="k")["url"]
    router = router_any()
    path_client(router).get_object(Bucket=bucket, Key="k")
    assert str(router.calls.last.request.url) == expected


# -- PaginationConfig numbers --------------------------------------------------


def _listing(keys: list[str]) -> bytes:
    contents = "".join(f"<Contents><Key>{k}</Key></Contents>" for k in keys)
    return (
        f"<ListBucketResult><Name>bucket</Name><IsTruncated>false</IsTruncated>"
        f"{contents}</ListBucketResult>"
    ).encode()


def test_pagination_numbers_are_taken_as_boto3_takes_them() -> None:
    # boto3 passes MaxItems and PageSize through int(): "2" works there
    answer = _listing(["a", "b", "c"])

    def capture(request: Any, **_: Any) -> Any:
        captured.append(request.url)
        raw = botocore.awsrequest.AWSResponse(request.url, 200, {}, _Raw())
        raw._content = answer  # type: ignore[attr-defined]
        return raw

    captured: list[str] = []
    theirs = boto3.client(
        "s3",
        region_name="us-east-1",
        endpoint_url=ENDPOINT,
        config=botocore.config.Config(s3={"addressing_style": "path"}),
        **KEYS,
    )
    theirs.meta.events.register("before-send", capture)
    config = {"MaxItems": "2", "PageSize": "5"}
    expected = (
        theirs.get_paginator("list_objects_v2")
        .paginate(Bucket="bucket", PaginationConfig=config)
        .build_full_result()
    )

    router = respx.MockRouter()
    route = router.get(url__startswith=f"{ENDPOINT}/bucket").respond(
        200, content=answer
    )
    mine = (
        path_client(router)
        .get_paginator("list_objects_v2")
        .paginate(Bucket="bucket", PaginationConfig=config)
        .build_full_result()
    )
    assert [o["Key"] for o in mine["Contents"]] == ["a", "b"]
    assert [o["Key"] for o in mine["Contents"]] == [
        o["Key"] for o in expected["Contents"]
    ]
    assert route.calls.last.request.url.params["max-keys"] == "5"
    assert "max-keys=5" in captured[0]


@pytest.mark.parametrize("config", [{"MaxItems": "five"}, {"PageSize": [1]}])
def test_pagination_numbers_that_are_not_numbers_are_refused(
    config: dict[str, Any],
) -> None:
    router = router_any()
    pages = path_client(router).get_paginator("list_objects_v2")
    with pytest.raises(ParamValidationError, match=next(iter(config))):
        list(pages.paginate(Bucket="bucket", PaginationConfig=config))
    assert not router.calls


@pytest.mark.parametrize(
    ("method", "params"),
    [
        ("get_object", {"Bucket": "bucket", "Key": None}),
        ("delete_objects", {"Bucket": "bucket", "Delete": None}),
        # boto3 fails here with a TypeError in its bucket-name check
        ("get_object", {"Bucket": None, "Key": "k"}),
    ],
)
def test_required_parameters_given_none_are_refused_like_boto3(
    method: str, params: dict[str, Any]
) -> None:
    if params["Bucket"] is not None:
        assert boto3_refuses(method, **params)
    router = router_any()
    with pytest.raises(ParamValidationError, match="None"):
        getattr(s3_client(router), method)(**params)
    assert not router.calls
