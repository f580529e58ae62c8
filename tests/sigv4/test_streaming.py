"""Chunked streaming payloads (aws-chunked), against AWS's documented examples,
botocore's aws-chunked encoder and moto with signature checking on."""

from __future__ import annotations

import datetime as dt
import io
import logging
import os
import re
import tracemalloc
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from botocore.httpchecksum import (
    AwsChunkedWrapper,
    Crc32Checksum,
    Sha1Checksum,
    Sha256Checksum,
)

import sigv4
from sigv4 import streaming
from sigv4.errors import PayloadLengthError, SigningError
from tests.integration.servers import Server

# https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html
# and .../sigv4-streaming-trailers.html: 66560 bytes of "a", 64 KiB chunks.
EXAMPLE_CREDENTIALS = sigv4.Credentials(
    "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
)
EXAMPLE_URL = "https://s3.amazonaws.com/examplebucket/chunkObject.txt"
EXAMPLE_TIME = dt.datetime(2013, 5, 24, tzinfo=dt.timezone.utc)
EXAMPLE_BODY = b"a" * 66560
SEED = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
CHUNK_SIGNATURES = [
    "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
    "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
    "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
]
TRAILER_SEED = "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e"
TRAILER_CHUNK_SIGNATURES = [
    "b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2",
    "1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7",
    "2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992",
]
TRAILER_SIGNATURE = "d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435"


def documented_wire() -> bytes:
    """The encoded body exactly as the AWS example lays it out."""
    first, second, last = CHUNK_SIGNATURES
    return (
        f"10000;chunk-signature={first}\r\n".encode()
        + b"a" * 65536
        + f"\r\n400;chunk-signature={second}\r\n".encode()
        + b"a" * 1024
        + f"\r\n0;chunk-signature={last}\r\n\r\n".encode()
    )


def example_payload(body: object = EXAMPLE_BODY, **kwargs: object) -> object:
    return streaming.sign_streaming(
        "PUT",
        EXAMPLE_URL,
        [("x-amz-storage-class", "REDUCED_REDUNDANCY")],
        body,  # type: ignore[arg-type]
        credentials=EXAMPLE_CREDENTIALS,
        region="us-east-1",
        service="s3",
        timestamp=EXAMPLE_TIME,
        **kwargs,  # type: ignore[arg-type]
    )


def header(payload: streaming.StreamingPayload, name: str) -> str | None:
    for key, value in payload.headers:
        if key.lower() == name:
            return value
    return None


# -- AWS's documented examples -----------------------------------------------


def test_sign_streaming_matches_documented_seed_and_headers() -> None:
    payload = example_payload()
    assert isinstance(payload, streaming.StreamingPayload)

    assert payload.request.signature == SEED
    assert payload.request.authorization == (
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/"
        "aws4_request, SignedHeaders=content-encoding;content-length;host;"
        "x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;"
        f"x-amz-storage-class, Signature={SEED}"
    )
    assert header(payload, "content-encoding") == "aws-chunked"
    assert header(payload, "x-amz-decoded-content-length") == "66560"
    assert header(payload, "content-length") == "66824"
    assert header(payload, "x-amz-content-sha256") == streaming.STREAMING_PAYLOAD
    assert payload.content_length == 66824


def test_sign_streaming_body_matches_documented_chunks() -> None:
    payload = example_payload()
    assert isinstance(payload, streaming.StreamingPayload)

    wire = b"".join(payload)

    assert wire == documented_wire()


def test_sign_streaming_generator_body_matches_documented_chunks() -> None:
    def pieces() -> Iterator[bytes]:
        for _ in range(65):  # uneven pieces, regrouped into 64 KiB chunks
            yield b"a" * 1000
        yield b"a" * 1560

    payload = example_payload(pieces(), decoded_length=66560)
    assert isinstance(payload, streaming.StreamingPayload)

    assert payload.request.signature == SEED
    assert b"".join(payload) == documented_wire()


@pytest.mark.anyio
async def test_sign_streaming_async_body_matches_documented_chunks() -> None:
    async def pieces() -> AsyncIterator[bytes]:
        for _ in range(13):
            yield b"a" * 5120

    payload = example_payload(pieces(), decoded_length=66560)
    assert isinstance(payload, streaming.StreamingPayload)

    wire = b"".join([piece async for piece in payload])

    assert wire == documented_wire()


@pytest.mark.anyio
async def test_sign_streaming_async_iteration_of_bytes_body() -> None:
    payload = example_payload()
    assert isinstance(payload, streaming.StreamingPayload)

    wire = b"".join([piece async for piece in payload])

    assert wire == documented_wire()


def test_trailer_variant_matches_documented_example() -> None:
    # The documented trailer example sends no Content-Length (it is chunked in
    # transfer), so the seed covers x-amz-trailer but no content-length.
    payload = example_payload(checksum="crc32c", send_content_length=False)
    assert isinstance(payload, streaming.StreamingPayload)

    assert payload.request.signature == TRAILER_SEED
    assert header(payload, "content-length") is None
    assert ";x-amz-trailer, " in payload.request.authorization
    wire = b"".join(payload)

    first, second, last = TRAILER_CHUNK_SIGNATURES
    assert wire == (
        f"10000;chunk-signature={first}\r\n".encode()
        + b"a" * 65536
        + f"\r\n400;chunk-signature={second}\r\n".encode()
        + b"a" * 1024
        + f"\r\n0;chunk-signature={last}\r\n".encode()
        + b"x-amz-checksum-crc32c:sOO8/Q==\r\n"
        + f"x-amz-trailer-signature:{TRAILER_SIGNATURE}\r\n\r\n".encode()
    )


def test_sign_streaming_trailer_headers_and_length() -> None:
    payload = example_payload(checksum="crc32c")
    assert isinstance(payload, streaming.StreamingPayload)

    wire = b"".join(payload)

    assert header(payload, "x-amz-trailer") == "x-amz-checksum-crc32c"
    assert header(payload, "x-amz-content-sha256") == (
        streaming.STREAMING_PAYLOAD_TRAILER
    )
    assert payload.content_length == len(wire)
    assert b"\r\nx-amz-checksum-crc32c:sOO8/Q==\r\n" in wire
    assert re.search(rb"x-amz-trailer-signature:[0-9a-f]{64}\r\n\r\n\Z", wire)


# -- botocore's aws-chunked encoder (unsigned trailer) -----------------------


@pytest.mark.parametrize(
    ("algorithm", "checksum_cls"),
    [("crc32", Crc32Checksum), ("sha1", Sha1Checksum), ("sha256", Sha256Checksum)],
)
@pytest.mark.parametrize("size", [0, 1, 8192, 8193, 3 * 8192, 50000])
def test_unsigned_trailer_matches_botocore(
    algorithm: str, checksum_cls: type, size: int
) -> None:
    data = bytes(range(256)) * (size // 256) + b"z" * (size % 256)
    chunk_size = 8192
    expected = AwsChunkedWrapper(
        io.BytesIO(data),
        checksum_cls=checksum_cls,
        checksum_name=f"x-amz-checksum-{algorithm}",
        chunk_size=chunk_size,
    ).read()

    payload = streaming.sign_streaming(
        "PUT",
        "https://bucket.s3.us-east-1.amazonaws.com/key",
        body=data,
        credentials=EXAMPLE_CREDENTIALS,
        region="us-east-1",
        chunk_size=chunk_size,
        checksum=algorithm,
        signed=False,
    )

    assert b"".join(payload) == expected
    assert payload.content_length == len(expected)
    assert header(payload, "x-amz-content-sha256") == (
        "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
    )


# -- streaming, never reading whole ------------------------------------------


class NoWholeReads(io.RawIOBase):
    """A file of `size` zero bytes that fails if anyone reads it whole."""

    def __init__(self, size: int, limit: int) -> None:
        self.left = size
        self.limit = limit

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1, /) -> bytes:
        if size is None or size < 0 or size > self.limit:
            raise AssertionError(f"read({size}) would read the body whole")
        size = min(size, self.left)
        self.left -= size
        return b"\0" * size


def test_sign_streaming_file_is_read_chunk_by_chunk() -> None:
    source = NoWholeReads(1_000_000, limit=65536)

    payload = streaming.sign_streaming(
        "PUT",
        "https://s3.amazonaws.com/b/k",
        body=source,
        credentials=EXAMPLE_CREDENTIALS,
        region="us-east-1",
        decoded_length=1_000_000,
    )
    total = sum(len(piece) for piece in payload)

    assert total == payload.content_length
    assert total == streaming.encoded_length(1_000_000)


def test_sign_streaming_large_generator_stays_small_in_memory() -> None:
    pieces_sent = 0

    def big() -> Iterator[bytes]:
        nonlocal pieces_sent
        for _ in range(800):  # 50 MiB in all
            pieces_sent += 1
            yield b"x" * 65536

    payload = streaming.sign_streaming(
        "PUT",
        "https://s3.amazonaws.com/b/k",
        body=big(),
        credentials=EXAMPLE_CREDENTIALS,
        region="us-east-1",
    )
    assert header(payload, "content-length") is None
    assert header(payload, "x-amz-decoded-content-length") is None

    tracemalloc.start()
    try:
        total = 0
        for piece in payload:
            total += len(piece)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert pieces_sent == 800
    assert total == streaming.encoded_length(800 * 65536)
    assert peak < 2 * 1024 * 1024, f"peak {peak} bytes while streaming 50 MiB"


def test_sign_streaming_seekable_file_length_and_replay(tmp_path: Path) -> None:
    path = tmp_path / "body"
    path.write_bytes(EXAMPLE_BODY)
    with path.open("rb") as file:
        payload = example_payload(file)
        assert isinstance(payload, streaming.StreamingPayload)

        assert header(payload, "content-length") == "66824"
        assert payload.replayable
        assert b"".join(payload) == documented_wire()
        assert b"".join(payload) == documented_wire()  # a retry starts over


def test_sign_streaming_iterator_cannot_be_sent_twice() -> None:
    payload = example_payload(iter([EXAMPLE_BODY]), decoded_length=66560)
    assert isinstance(payload, streaming.StreamingPayload)
    b"".join(payload)

    with pytest.raises(SigningError, match="only once"):
        b"".join(payload)


@pytest.mark.parametrize("declared", [66559, 66561])
def test_sign_streaming_wrong_declared_length(declared: int) -> None:
    payload = example_payload(iter([EXAMPLE_BODY]), decoded_length=declared)
    assert isinstance(payload, streaming.StreamingPayload)

    with pytest.raises(PayloadLengthError, match=str(declared)):
        b"".join(payload)


def test_sign_streaming_rejects_bad_arguments() -> None:
    with pytest.raises(SigningError, match="at least 8192"):
        example_payload(chunk_size=1024)
    with pytest.raises(SigningError, match="'md5' is not supported"):
        example_payload(checksum="md5")
    with pytest.raises(SigningError, match="needs a checksum"):
        example_payload(signed=False)
    with pytest.raises(SigningError, match="must yield bytes"):
        b"".join(example_payload(iter(["text"])))  # type: ignore[call-overload]
    with pytest.raises(PayloadLengthError):
        example_payload(b"abc", decoded_length=4)


def test_streaming_payload_hides_secrets(caplog: pytest.LogCaptureFixture) -> None:
    credentials = sigv4.Credentials("AKIDEXAMPLE", "SECRETSECRET", "TOKENTOKEN")
    with caplog.at_level(logging.DEBUG):
        payload = streaming.sign_streaming(
            "PUT",
            "https://s3.amazonaws.com/b/k",
            body=b"x" * 10,
            credentials=credentials,
            region="us-east-1",
        )
        wire = b"".join(payload)

    shown = repr(payload) + caplog.text
    signature = payload.request.signature
    chunk_signatures = re.findall(rb"chunk-signature=(\w+)", wire)
    for secret in ["SECRETSECRET", "TOKENTOKEN", signature]:
        assert secret not in shown
    for chunk_signature in chunk_signatures:
        assert chunk_signature.decode() not in shown
    assert "canonical request" in caplog.text


def test_lazy_names_from_sigv4() -> None:
    assert sigv4.sign_streaming is streaming.sign_streaming
    assert sigv4.StreamingPayload is streaming.StreamingPayload


# -- a real server -----------------------------------------------------------


@pytest.mark.integration
@pytest.mark.parametrize("checksum", [None, "sha256"])
def test_chunked_upload_accepted_by_moto(moto: Server, checksum: str | None) -> None:
    bucket = f"stream-{uuid.uuid4().hex[:12]}"
    data = bytes(range(256)) * 700  # 179200 bytes: two full chunks and a part

    def send(method: str, url: str, **kwargs: object) -> httpx.Response:
        signed = sigv4.sign(
            method,
            url,
            credentials=moto.credentials,
            region=moto.region,
            service="s3",
        )
        return httpx.request(method, signed.url, headers=signed.headers, timeout=10)

    assert send("PUT", f"{moto.endpoint}/{bucket}").status_code == 200
    payload = streaming.sign_streaming(
        "PUT",
        f"{moto.endpoint}/{bucket}/streamed",
        body=iter([data[:100000], data[100000:]]),
        credentials=moto.credentials,
        region=moto.region,
        decoded_length=len(data),
        checksum=checksum,
    )
    answer = httpx.put(
        payload.url, headers=payload.headers, content=iter(payload), timeout=10
    )
    assert answer.status_code == 200, answer.text

    got = send("GET", f"{moto.endpoint}/{bucket}/streamed")
    assert got.status_code == 200
    assert got.content == data


@pytest.mark.integration
def test_chunked_upload_with_wrong_secret_refused_by_moto(moto: Server) -> None:
    wrong = sigv4.Credentials(moto.credentials.access_key_id, "not-the-secret")
    payload = streaming.sign_streaming(
        "PUT",
        f"{moto.endpoint}/nobucket-{uuid.uuid4().hex[:8]}/k",
        body=b"x" * 10,
        credentials=wrong,
        region=moto.region,
    )
    answer = httpx.put(
        payload.url, headers=payload.headers, content=iter(payload), timeout=10
    )
    assert answer.status_code == 403
    assert b"SignatureDoesNotMatch" in answer.content


def test_sign_streaming_text_mode_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "text"
    path.write_text("not bytes")
    with path.open() as file:
        payload = example_payload(file)
        assert isinstance(payload, streaming.StreamingPayload)

        with pytest.raises(SigningError, match="binary mode"):
            b"".join(payload)


def test_sign_streaming_pipe_is_read_once_without_its_length() -> None:
    read_end, write_end = os.pipe()
    os.write(write_end, b"p" * 20000)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        payload = streaming.sign_streaming(
            "PUT",
            "https://s3.amazonaws.com/b/k",
            body=pipe,
            credentials=EXAMPLE_CREDENTIALS,
            region="us-east-1",
        )
        assert header(payload, "content-length") is None
        assert not payload.replayable

        wire = b"".join(payload)

        assert wire.startswith(b"4e20;chunk-signature=")
        with pytest.raises(SigningError, match="only once"):
            b"".join(payload)


def test_sign_streaming_device_has_no_length_from_its_size() -> None:
    with open("/dev/zero", "rb") as zeros:
        payload = streaming.sign_streaming(
            "PUT",
            "https://s3.amazonaws.com/b/k",
            body=zeros,
            credentials=EXAMPLE_CREDENTIALS,
            region="us-east-1",
        )
        assert header(payload, "content-length") is None
        assert header(payload, "x-amz-decoded-content-length") is None

        declared = streaming.sign_streaming(
            "PUT",
            "https://s3.amazonaws.com/b/k",
            body=zeros,
            credentials=EXAMPLE_CREDENTIALS,
            region="us-east-1",
            decoded_length=10000,
        )
        with pytest.raises(PayloadLengthError, match="longer than the 10000"):
            b"".join(declared)  # stops at the first chunk past the length
