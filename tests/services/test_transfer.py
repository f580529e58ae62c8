"""Managed transfers against a scripted S3, with faults injected through respx.

The scripted S3 keeps objects and multipart uploads in memory and answers as
S3 documents it: XML bodies, `ETag` headers with the part's MD5, 206 with
`Content-Range` for ranged GETs, 412 `PreconditionFailed` when If-Match does
not match. Each fault test states what the server saw: which requests came,
how often each part was stored, what the completion listed.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import secrets
import tracemalloc
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import httpx
import pytest
import respx

from services.errors import ClientError, ParamValidationError
from services.s3.client import AsyncS3Client, S3Client
from services.s3.transfer import TransferConfig

ENDPOINT = "http://127.0.0.1:9"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
MiB = 1024 * 1024
PART = 5 * MiB
CONFIG = TransferConfig(
    multipart_threshold=PART, multipart_chunksize=PART, max_concurrency=3
)
NS = "http://s3.amazonaws.com/doc/2006-03-01/"

Fault = Callable[[httpx.Request], httpx.Response | None]


def s3_error(status: int, code: str, message: str = "scripted") -> httpx.Response:
    body = (
        f"<Error><Code>{code}</Code><Message>{message}</Message>"
        f"<RequestId>REQ{secrets.token_hex(2)}</RequestId></Error>"
    )
    return httpx.Response(
        status, content=body.encode(), headers={"content-type": "application/xml"}
    )


class Broken(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A body that sends `data[:cut]` and then loses its connection."""

    def __init__(self, data: bytes, cut: int) -> None:
        self.data = data
        self.cut = cut

    def __iter__(self) -> Iterator[bytes]:
        yield self.data[: self.cut]
        raise httpx.ReadError("connection reset by peer")

    async def __aiter__(self) -> Any:
        yield self.data[: self.cut]
        raise httpx.ReadError("connection reset by peer")


class FakeS3:
    """An in-memory S3: objects, multipart uploads, ranged and pinned GETs.

    With `keep=False` parts are reduced to their MD5 and length as they
    arrive, so the fake itself holds no part data (for the memory test).
    """

    def __init__(self, *, keep: bool = True) -> None:
        self.keep = keep
        self.objects: dict[str, bytes] = {}
        self.etags: dict[str, str] = {}
        self.uploads: dict[str, dict[int, tuple[str, bytes]]] = {}
        self.part_writes: dict[int, int] = {}
        self.part_hashes: dict[int, str] = {}
        self.log: list[tuple[str, str, dict[str, list[str]]]] = []
        self.completed: list[list[int]] = []
        self.aborted: list[str] = []
        self.ranges: list[str] = []
        self.faults: list[Fault] = []

    # routing

    def __call__(self, request: httpx.Request) -> httpx.Response:
        url = urlsplit(str(request.url))
        query = parse_qs(url.query, keep_blank_values=True)
        key = unquote(url.path.split("/", 2)[2])
        self.log.append((request.method, key, query))
        for fault in self.faults:
            answer = fault(request)
            if answer is not None:
                return answer
        method = request.method
        if method == "POST" and "uploads" in query:
            return self.create(key)
        if method == "PUT" and "uploadId" in query:
            return self.part(query, self.body(request), request)
        if method == "POST" and "uploadId" in query:
            return self.complete(key, query["uploadId"][0], request.read())
        if method == "DELETE" and "uploadId" in query:
            self.aborted.append(query["uploadId"][0])
            self.uploads.pop(query["uploadId"][0], None)
            return httpx.Response(204)
        if method == "PUT":
            return self.put(key, request.read())
        if method in ("GET", "HEAD"):
            return self.get(key, request)
        return s3_error(405, "MethodNotAllowed")

    def body(self, request: httpx.Request) -> bytes:
        """The request body; only its MD5 when parts are not kept."""
        if self.keep:
            return request.read()
        digest = hashlib.md5()
        for chunk in request.stream:  # type: ignore[union-attr]
            digest.update(chunk)
        return digest.digest()

    def names(self) -> list[str]:
        """Each request as 'METHOD what', in order."""
        named = []
        for method, _, query in self.log:
            what = "upload" if "uploads" in query else ""
            what = "part" if "partNumber" in query else what
            if not what and "uploadId" in query:
                what = "complete" if method == "POST" else "abort"
            named.append(f"{method} {what}".strip())
        return named

    # operations

    def store(self, key: str, data: bytes, etag: str) -> None:
        self.objects[key] = data
        self.etags[key] = etag

    def put(self, key: str, data: bytes) -> httpx.Response:
        etag = f'"{hashlib.md5(data).hexdigest()}"'
        self.store(key, data, etag)
        return httpx.Response(200, headers={"ETag": etag})

    def create(self, key: str) -> httpx.Response:
        upload_id = secrets.token_hex(8)
        self.uploads[upload_id] = {}
        body = (
            f'<InitiateMultipartUploadResult xmlns="{NS}"><Bucket>b</Bucket>'
            f"<Key>{key}</Key><UploadId>{upload_id}</UploadId>"
            "</InitiateMultipartUploadResult>"
        )
        return httpx.Response(200, content=body.encode())

    def part(
        self, query: dict[str, list[str]], data: bytes, request: httpx.Request
    ) -> httpx.Response:
        upload = self.uploads.get(query["uploadId"][0])
        if upload is None:
            return s3_error(404, "NoSuchUpload")
        number = int(query["partNumber"][0])
        request_hash = request.headers.get("x-amz-content-sha256", "")
        digest = hashlib.md5(data).digest() if self.keep else data
        etag = f'"{digest.hex()}"'
        upload[number] = (etag, data if self.keep else digest)
        self.part_hashes[number] = request_hash
        self.part_writes[number] = self.part_writes.get(number, 0) + 1
        return httpx.Response(200, headers={"ETag": etag})

    def complete(self, key: str, upload_id: str, body: bytes) -> httpx.Response:
        upload = self.uploads.pop(upload_id, None)
        if upload is None:
            return s3_error(404, "NoSuchUpload")
        listed = [
            (int(p.findtext(f"{{{NS}}}PartNumber", "")), p.findtext(f"{{{NS}}}ETag"))
            for p in ET.fromstring(body).iter(f"{{{NS}}}Part")
        ]
        self.completed.append([n for n, _ in listed])
        for number, etag in listed:
            if upload[number][0] != etag:
                return s3_error(400, "InvalidPart")
        pieces = [upload[n][1] for n, _ in listed]
        digests = b"".join(
            p if not self.keep else hashlib.md5(p).digest() for p in pieces
        )
        etag = f'"{hashlib.md5(digests).hexdigest()}-{len(listed)}"'
        self.store(key, b"".join(pieces) if self.keep else b"", etag)
        result = (
            f'<CompleteMultipartUploadResult xmlns="{NS}"><Key>{key}</Key>'
            f"<ETag>{etag}</ETag></CompleteMultipartUploadResult>"
        )
        return httpx.Response(200, content=result.encode())

    def get(self, key: str, request: httpx.Request) -> httpx.Response:
        if key not in self.objects:
            if request.method == "HEAD":
                return httpx.Response(404)
            return s3_error(404, "NoSuchKey")
        data, etag = self.objects[key], self.etags[key]
        pinned = request.headers.get("if-match")
        if pinned is not None and pinned != etag:
            return s3_error(412, "PreconditionFailed", "At least one failed")
        headers = {"ETag": etag, "Content-Length": str(len(data))}
        if request.method == "HEAD":
            return httpx.Response(200, headers=headers)
        wanted = request.headers.get("range")
        if wanted is None:
            return httpx.Response(200, headers=headers, content=data)
        self.ranges.append(wanted)
        match = re.fullmatch(r"bytes=(\d+)-(\d*)", wanted)
        assert match is not None, wanted
        start = int(match[1])
        end = int(match[2]) if match[2] else len(data) - 1
        piece = data[start : end + 1]
        headers["Content-Length"] = str(len(piece))
        headers["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
        return httpx.Response(206, headers=headers, content=piece)


# -- fixtures --------------------------------------------------------------------


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as made:
        yield made


@pytest.fixture
def fake(router: respx.MockRouter) -> FakeS3:
    made = FakeS3()
    router.route(host="127.0.0.1").mock(side_effect=made)
    return made


def _args() -> dict[str, Any]:
    return {
        "region_name": "us-east-1",
        "endpoint_url": ENDPOINT,
        "aws_access_key_id": "AKIDEXAMPLE",
        "aws_secret_access_key": SECRET,
    }


@pytest.fixture
def s3(router: respx.MockRouter) -> Iterator[S3Client]:
    client = S3Client(_transport=httpx.MockTransport(router.handler), **_args())
    client._executor.sleep = lambda seconds: None
    yield client
    client.close()


@pytest.fixture
async def as3(router: respx.MockRouter) -> Any:
    transport = httpx.MockTransport(router.async_handler)
    client = AsyncS3Client(_transport=transport, **_args())

    async def no_sleep(seconds: float) -> None:
        return None

    client._executor.sleep = no_sleep
    yield client
    await client.close()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def data() -> bytes:
    return os.urandom(3 * PART + 4321)  # four parts, the last one short


@pytest.fixture
def source(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "source.bin"
    path.write_bytes(data)
    return path


def multipart_etag(data: bytes, part: int) -> str:
    digests = b"".join(
        hashlib.md5(data[i : i + part]).digest() for i in range(0, len(data), part)
    )
    return f'"{hashlib.md5(digests).hexdigest()}-{-(-len(data) // part)}"'


def fail_part(number: int, response: Callable[[], httpx.Response], times: int) -> Fault:
    """A fault: the first `times` uploads of part `number` get `response()`."""
    seen = [0]

    def fault(request: httpx.Request) -> httpx.Response | None:
        if request.method != "PUT" or f"partNumber={number}&" not in (
            request.url.query.decode() + "&"
        ):
            return None
        seen[0] += 1
        return response() if seen[0] <= times else None

    return fault


# -- uploads ---------------------------------------------------------------------


def test_upload_file_multipart_parts_and_etag(
    fake: FakeS3, s3: S3Client, source: Path, data: bytes
) -> None:
    moved: list[int] = []
    s3.upload_file(str(source), "b", "k", Config=CONFIG, Callback=moved.append)

    assert fake.objects["k"] == data
    assert fake.etags["k"] == multipart_etag(data, PART)
    assert fake.names() == ["POST upload"] + ["PUT part"] * 4 + ["POST complete"]
    assert fake.completed == [[1, 2, 3, 4]]
    assert sum(moved) == len(data)
    # parts stream from the file, yet each is signed with its SHA-256
    assert fake.part_hashes == {
        n + 1: hashlib.sha256(data[n * PART : (n + 1) * PART]).hexdigest()
        for n in range(4)
    }


def test_failed_part_aborts_the_upload_and_raises_the_typed_error(
    fake: FakeS3, s3: S3Client, source: Path
) -> None:
    fake.faults.append(fail_part(2, lambda: s3_error(500, "InternalError"), 99))

    with pytest.raises(s3.exceptions.ClientError) as caught:
        s3.upload_file(str(source), "b", "k", Config=CONFIG)

    error = caught.value
    assert type(error).__name__ == "InternalError"
    assert error.status_code == 500
    assert error.operation_name == "UploadPart"
    assert fake.names().count("DELETE abort") == 1
    assert fake.names()[-1] == "DELETE abort"  # after every part finished
    assert fake.aborted and fake.uploads == {}
    assert fake.completed == []
    # part 2 was tried three times (the default attempts), then given up
    assert sum(1 for m, _, q in fake.log if q.get("partNumber") == ["2"]) == 3
    assert "k" not in fake.objects


def test_failed_abort_does_not_hide_the_upload_error(
    fake: FakeS3, s3: S3Client, source: Path
) -> None:
    fake.faults.append(fail_part(1, lambda: s3_error(403, "AccessDenied"), 99))

    def refuse_abort(request: httpx.Request) -> httpx.Response | None:
        if request.method == "DELETE":
            return s3_error(403, "AccessDenied", "no abort for you")
        return None

    fake.faults.append(refuse_abort)
    with pytest.raises(ClientError) as caught:
        s3.upload_file(str(source), "b", "k", Config=CONFIG)
    assert caught.value.operation_name == "UploadPart"
    notes = getattr(caught.value, "__notes__", [])
    assert any("abort" in note and "no abort for you" in note for note in notes)


def test_throttled_parts_are_retried_and_stored_once(
    fake: FakeS3, s3: S3Client, source: Path, data: bytes
) -> None:
    fake.faults.append(fail_part(1, lambda: s3_error(503, "SlowDown"), 1))
    fake.faults.append(fail_part(3, lambda: s3_error(503, "SlowDown"), 2))
    moved: list[int] = []

    s3.upload_file(str(source), "b", "k", Config=CONFIG, Callback=moved.append)

    assert fake.objects["k"] == data
    assert fake.part_writes == {1: 1, 2: 1, 3: 1, 4: 1}
    assert fake.completed == [[1, 2, 3, 4]]
    assert sum(moved) == len(data)
    assert fake.aborted == []


def test_failed_completion_aborts(fake: FakeS3, s3: S3Client, source: Path) -> None:
    def broken_complete(request: httpx.Request) -> httpx.Response | None:
        if request.method == "POST" and b"uploadId" in request.url.query:
            # S3 may answer 200 with an error document
            body = b"<Error><Code>InternalError</Code><Message>x</Message></Error>"
            return httpx.Response(200, content=body)
        return None

    fake.faults.append(broken_complete)
    with pytest.raises(ClientError) as caught:
        s3.upload_file(str(source), "b", "k", Config=CONFIG)
    assert caught.value.code == "InternalError"
    assert fake.names()[-1] == "DELETE abort"


def test_below_the_threshold_is_one_put(
    fake: FakeS3, s3: S3Client, tmp_path: Path
) -> None:
    small = tmp_path / "small.bin"
    small.write_bytes(b"x" * (PART - 1))
    moved: list[int] = []
    s3.upload_file(str(small), "b", "k", Config=CONFIG, Callback=moved.append)
    assert fake.names() == ["PUT"]
    assert sum(moved) == PART - 1


def test_stream_of_unknown_size_goes_up_in_parts(
    fake: FakeS3, s3: S3Client, data: bytes
) -> None:
    class Pipe:
        def __init__(self) -> None:
            self.at = 0

        def read(self, amount: int = -1) -> bytes:
            chunk = data[self.at : self.at + min(amount, 65536)]
            self.at += len(chunk)
            return chunk

    s3.upload_fileobj(Pipe(), "b", "k", Config=CONFIG)  # type: ignore[arg-type]
    assert fake.objects["k"] == data
    assert fake.completed == [[1, 2, 3, 4]]


# -- downloads -------------------------------------------------------------------


def test_download_file_ranged_parts(
    fake: FakeS3, s3: S3Client, tmp_path: Path, data: bytes
) -> None:
    fake.store("k", data, '"v1"')
    moved: list[int] = []
    target = tmp_path / "out.bin"

    s3.download_file("b", "k", str(target), Config=CONFIG, Callback=moved.append)

    assert target.read_bytes() == data
    assert sum(moved) == len(data)
    assert sorted(fake.ranges) == sorted(
        f"bytes={s}-{min(s + PART, len(data)) - 1}" for s in range(0, len(data), PART)
    )
    assert all(q == {} for m, _, q in fake.log)  # no query: plain HEAD and GETs


def test_connection_reset_mid_body_resumes_where_it_broke(
    fake: FakeS3, s3: S3Client, tmp_path: Path, data: bytes
) -> None:
    fake.store("k", data, '"v1"')
    broken = [False]
    cut = 1000003

    def reset_second_part(request: httpx.Request) -> httpx.Response | None:
        if (
            request.headers.get("range") == f"bytes={PART}-{2 * PART - 1}"
            and not (broken[0])
        ):
            broken[0] = True
            piece = data[PART : 2 * PART]
            return httpx.Response(
                206,
                headers={
                    "ETag": '"v1"',
                    "Content-Length": str(PART),
                    "Content-Range": f"bytes {PART}-{2 * PART - 1}/{len(data)}",
                },
                stream=Broken(piece, cut),
            )
        return None

    fake.faults.append(reset_second_part)
    moved: list[int] = []
    target = tmp_path / "out.bin"

    s3.download_file("b", "k", str(target), Config=CONFIG, Callback=moved.append)

    assert target.read_bytes() == data
    assert sum(moved) == len(data)
    # the second GET asks for what was not yet written: from a byte the first
    # delivered (bytes arrive in whole reads) up to the part's end
    resumed = [r for r in fake.ranges if r.endswith(f"-{2 * PART - 1}")]
    assert len(resumed) == 1
    start = int(resumed[0][len("bytes=") :].split("-")[0])
    assert PART < start <= PART + cut


def test_object_changed_mid_download_is_a_clear_error_and_leaves_no_file(
    fake: FakeS3, s3: S3Client, tmp_path: Path, data: bytes
) -> None:
    fake.store("k", data, '"v1"')
    target = tmp_path / "out.bin"
    target.write_bytes(b"the old contents")

    def replace_after_first_get(request: httpx.Request) -> httpx.Response | None:
        if request.method == "GET":
            fake.store("k", b"new" * 10, '"v2"')
        return None

    fake.faults.append(replace_after_first_get)
    with pytest.raises(ClientError) as caught:
        s3.download_file("b", "k", str(target), Config=CONFIG)

    assert caught.value.code == "PreconditionFailed"
    assert caught.value.status_code == 412
    assert "changed during the download" in str(caught.value)
    assert target.read_bytes() == b"the old contents"
    assert os.listdir(tmp_path) == ["out.bin"]


def test_download_below_the_threshold_is_one_pinned_get(
    fake: FakeS3, s3: S3Client, tmp_path: Path
) -> None:
    fake.store("k", b"small", '"v1"')
    moved: list[int] = []
    s3.download_file("b", "k", str(tmp_path / "o"), Callback=moved.append)
    assert (tmp_path / "o").read_bytes() == b"small"
    assert [m for m, _, _ in fake.log] == ["HEAD", "GET"]
    assert fake.ranges == []
    assert moved == [5]


def test_download_fileobj_keeps_the_callers_offset(
    fake: FakeS3, s3: S3Client, data: bytes
) -> None:
    import io

    fake.store("k", data, '"v1"')
    buffer = io.BytesIO()
    buffer.write(b"header:")
    s3.download_fileobj("b", "k", buffer, Config=CONFIG)
    assert buffer.getvalue() == b"header:" + data
    assert buffer.tell() == 7 + len(data)


# -- bad input -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "bad"),
    [
        ("upload_file", "Bogus"),
        ("upload_file", "Range"),
        ("download_file", "ContentType"),
        ("download_file", "Bucket"),
    ],
)
def test_bad_extra_args_name_the_argument_and_send_nothing(
    fake: FakeS3, s3: S3Client, source: Path, call: str, bad: str
) -> None:
    with pytest.raises(ParamValidationError) as caught:
        if call == "upload_file":
            s3.upload_file(str(source), "b", "k", ExtraArgs={bad: "x"})
        else:
            s3.download_file("b", "k", str(source), ExtraArgs={bad: "x"})
    assert f"ExtraArgs not allowed here: {bad};" in str(caught.value)
    assert fake.log == []


def test_bad_config_is_refused() -> None:
    with pytest.raises(ParamValidationError, match="multipart_chunksize"):
        TransferConfig(multipart_chunksize=1024)
    with pytest.raises(ParamValidationError, match="max_concurrency"):
        TransferConfig(max_concurrency=0)


def test_a_boto3_transfer_config_is_taken(
    fake: FakeS3, s3: S3Client, source: Path, data: bytes
) -> None:
    from boto3.s3.transfer import TransferConfig as BotoConfig

    config = BotoConfig(multipart_threshold=PART, multipart_chunksize=2 * PART)
    s3.upload_file(str(source), "b", "k", Config=config)
    assert fake.completed == [[1, 2]]  # two parts of 10 MiB, as boto3 would
    assert fake.objects["k"] == data
    with pytest.raises(ParamValidationError, match="Config must be a TransferConfig"):
        s3.upload_file(str(source), "b", "k", Config={"max_concurrency": 2})


# -- memory ----------------------------------------------------------------------


class Direct(httpx.BaseTransport):
    """Hands requests to the fake unread (MockTransport reads each body first)."""

    def __init__(self, fake: FakeS3) -> None:
        self.fake = fake

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self.fake(request)


class Endless:
    """A non-seekable stream of `size` bytes that never holds more than 1 MiB."""

    def __init__(self, size: int) -> None:
        self.left = size
        self.block = os.urandom(MiB)

    def read(self, amount: int = -1) -> bytes:
        amount = min(amount, self.left, MiB)
        self.left -= amount
        return self.block[:amount]


@pytest.mark.parametrize("source_kind", ["file", "stream"])
def test_multipart_upload_memory_stays_bounded(
    tmp_path: Path, source_kind: str
) -> None:
    fake = FakeS3(keep=False)
    concurrency = 3
    size = 24 * PART  # 120 MiB, 24 parts
    path = tmp_path / "large.bin"
    if source_kind == "file":
        with open(path, "wb") as out:
            block = os.urandom(MiB)
            for _ in range(size // MiB):
                out.write(block)
    config = TransferConfig(
        multipart_threshold=PART, multipart_chunksize=PART, max_concurrency=concurrency
    )
    client = S3Client(_transport=Direct(fake), **_args())

    tracemalloc.start()
    try:
        if source_kind == "file":
            client.upload_file(str(path), "b", "large", Config=config)
        else:
            client.upload_fileobj(Endless(size), "b", "large", Config=config)  # type: ignore[arg-type]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        client.close()

    assert fake.completed == [list(range(1, 25))]
    assert peak < PART * concurrency + 4 * MiB, f"peak {peak / MiB:.1f} MiB"


# -- async -----------------------------------------------------------------------


@pytest.mark.anyio
async def test_async_upload_and_download(
    fake: FakeS3, as3: AsyncS3Client, source: Path, tmp_path: Path, data: bytes
) -> None:
    fake.faults.append(fail_part(2, lambda: s3_error(503, "SlowDown"), 1))
    moved: list[int] = []
    await as3.upload_file(str(source), "b", "k", Config=CONFIG, Callback=moved.append)
    assert fake.objects["k"] == data
    assert fake.part_writes == {1: 1, 2: 1, 3: 1, 4: 1}
    assert sum(moved) == len(data)

    moved.clear()
    target = tmp_path / "out.bin"
    await as3.download_file("b", "k", str(target), Config=CONFIG, Callback=moved.append)
    assert target.read_bytes() == data
    assert sum(moved) == len(data)


@pytest.mark.anyio
async def test_async_failed_part_aborts(
    fake: FakeS3, as3: AsyncS3Client, source: Path
) -> None:
    fake.faults.append(fail_part(3, lambda: s3_error(500, "InternalError"), 99))
    with pytest.raises(ClientError) as caught:
        await as3.upload_file(str(source), "b", "k", Config=CONFIG)
    assert caught.value.code == "InternalError"
    assert fake.names()[-1] == "DELETE abort"
    assert fake.completed == []


@pytest.mark.anyio
async def test_async_reset_mid_body_resumes_and_412_leaves_no_file(
    fake: FakeS3, as3: AsyncS3Client, tmp_path: Path, data: bytes
) -> None:
    fake.store("k", data, '"v1"')
    broken = [False]

    def reset_first(request: httpx.Request) -> httpx.Response | None:
        if request.headers.get("range") == f"bytes=0-{PART - 1}" and not broken[0]:
            broken[0] = True
            return httpx.Response(
                206,
                headers={
                    "ETag": '"v1"',
                    "Content-Length": str(PART),
                    "Content-Range": f"bytes 0-{PART - 1}/{len(data)}",
                },
                stream=Broken(data[:PART], 777),
            )
        return None

    fake.faults.append(reset_first)
    target = tmp_path / "out.bin"
    await as3.download_file("b", "k", str(target), Config=CONFIG)
    assert target.read_bytes() == data
    assert [r for r in fake.ranges if r.endswith(f"-{PART - 1}")] == [
        f"bytes=0-{PART - 1}"  # 777 bytes came, less than one read: all again
    ]

    def replace_on_get(request: httpx.Request) -> httpx.Response | None:
        if request.method == "GET":
            fake.store("k", data[::-1], '"v2"')
        return None

    fake.faults[:] = [replace_on_get]
    with pytest.raises(ClientError) as caught:
        await as3.download_file("b", "k", str(tmp_path / "new.bin"), Config=CONFIG)
    assert caught.value.code == "PreconditionFailed"
    assert os.listdir(tmp_path) == ["out.bin"]  # no new.bin, no temp file


# -- secrets and odd sinks -------------------------------------------------------


def test_sse_c_key_never_reaches_the_log(
    fake: FakeS3,
    s3: S3Client,
    source: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    key = "c2VjcmV0LWN1c3RvbWVyLWtleS0zMi1ieXRlcy1sb25nIQ=="
    extra = {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": key}
    fake.faults.append(fail_part(2, lambda: s3_error(503, "SlowDown"), 1))
    caplog.set_level(logging.DEBUG)

    s3.upload_file(str(source), "b", "k", ExtraArgs=extra, Config=CONFIG)
    s3.download_file("b", "k", str(tmp_path / "o"), ExtraArgs=extra, Config=CONFIG)

    assert caplog.records  # the client did log at DEBUG
    assert key not in caplog.text
    assert SECRET not in caplog.text


@pytest.mark.anyio
async def test_async_download_into_a_non_seekable_sink(
    fake: FakeS3, as3: AsyncS3Client, data: bytes
) -> None:
    fake.store("k", data, '"v1"')

    class Sink:
        def __init__(self) -> None:
            self.pieces: list[bytes] = []

        def write(self, chunk: bytes) -> int:
            self.pieces.append(chunk)
            return len(chunk)

        def seekable(self) -> bool:
            return False

    sink = Sink()
    moved: list[int] = []
    await as3.download_fileobj("b", "k", sink, Config=CONFIG, Callback=moved.append)
    assert b"".join(sink.pieces) == data
    assert sum(moved) == len(data)


def test_use_threads_false_runs_in_the_calling_thread(
    fake: FakeS3, s3: S3Client, source: Path, data: bytes
) -> None:
    import threading

    seen: set[int] = set()
    config = TransferConfig(
        multipart_threshold=PART, multipart_chunksize=PART, use_threads=False
    )
    s3.upload_file(
        str(source),
        "b",
        "k",
        Config=config,
        Callback=lambda n: seen.add(threading.get_ident()),
    )
    assert fake.objects["k"] == data
    assert seen == {threading.get_ident()}
