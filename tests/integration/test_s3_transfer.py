"""Managed transfers against real servers: moto (signatures checked) and Swift.

Files are larger than the threshold (5 MiB parts), so uploads are multipart
and downloads ranged. The servers are the truth: what each one stores is read
back with one plain GetObject and compared byte for byte, its ETag has S3's
multipart shape (the MD5 of the parts' MD5s, then `-<parts>`), and no
multipart upload is left behind. boto3 on the same moto server is the
reference for what `upload_file` and `download_file` leave behind.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from boto3.s3.transfer import TransferConfig as BotoConfig

import services
from services.s3.transfer import TransferConfig

from .servers import Server

MiB = 1024 * 1024
PART = 5 * MiB
CONFIG = TransferConfig(
    multipart_threshold=PART, multipart_chunksize=PART, max_concurrency=4
)
SIZE = 12 * MiB + 12345  # three parts: 5, 5 and a little over 2 MiB
AWKWARD_KEYS = [
    "plain/transfer.bin",
    "with space and + plus ~ tilde.bin",
    "per%cent/ünïcødé ключ.bin",
    "double//slash/trailing/",
]


def multipart_etag(data: bytes, part: int) -> str:
    """S3's ETag for a multipart upload of `data` in parts of `part` bytes."""
    digests = b"".join(
        hashlib.md5(data[i : i + part]).digest() for i in range(0, len(data), part)
    )
    count = -(-len(data) // part)
    return f'"{hashlib.md5(digests).hexdigest()}-{count}"'


def client_kwargs(server: Server) -> dict[str, Any]:
    creds = server.credentials
    return {
        "region_name": server.region,
        "endpoint_url": server.endpoint,
        "aws_access_key_id": creds.access_key_id,
        "aws_secret_access_key": creds.secret_access_key,
        "aws_session_token": creds.session_token,
    }


@pytest.fixture(params=["moto", "swift"])
def server(request: pytest.FixtureRequest) -> Server:
    """Each real S3 server in turn."""
    found: Server = request.getfixturevalue(request.param)
    return found


@pytest.fixture
def s3(server: Server) -> Iterator[Any]:
    with services.client("s3", **client_kwargs(server)) as client:
        yield client


@pytest.fixture
def bucket(s3: Any) -> str:
    name = f"transfer-{secrets.token_hex(4)}"
    s3.create_bucket(Bucket=name)
    return name


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("transfer") / "source.bin"
    path.write_bytes(os.urandom(SIZE))
    return path


def stored(s3: Any, bucket: str, key: str) -> bytes:
    """The object as one plain GetObject returns it."""
    body = s3.get_object(Bucket=bucket, Key=key)["Body"]
    with body:
        data: bytes = body.read()
    return data


def uploads_left(s3: Any, bucket: str) -> list[Any]:
    return list(s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []))


# -- sync ------------------------------------------------------------------------


@pytest.mark.parametrize("key", AWKWARD_KEYS)
def test_upload_file_then_download_file_multipart(
    s3: Any, bucket: str, key: str, source: Path, tmp_path: Path
) -> None:
    data = source.read_bytes()
    moved: list[int] = []

    s3.upload_file(str(source), bucket, key, Config=CONFIG, Callback=moved.append)

    assert sum(moved) == SIZE
    assert stored(s3, bucket, key) == data
    head = s3.head_object(Bucket=bucket, Key=key)
    assert head["ETag"] == multipart_etag(data, PART)
    assert head["ContentLength"] == SIZE
    assert uploads_left(s3, bucket) == []

    target = tmp_path / "copy.bin"
    moved.clear()
    s3.download_file(bucket, key, str(target), Config=CONFIG, Callback=moved.append)
    assert target.read_bytes() == data
    assert sum(moved) == SIZE
    assert sorted(os.listdir(tmp_path)) == ["copy.bin"]


def test_failed_upload_is_aborted_on_the_server(
    s3: Any, bucket: str, source: Path
) -> None:
    class Stop(Exception):
        pass

    def stop_after_first_part(amount: int) -> None:
        raise Stop("the caller gave up")

    with pytest.raises(Stop):
        s3.upload_file(
            str(source),
            bucket,
            "gave-up.bin",
            Config=CONFIG,
            Callback=stop_after_first_part,
        )

    assert uploads_left(s3, bucket) == []
    listed = s3.list_objects_v2(Bucket=bucket).get("Contents", [])
    assert [item["Key"] for item in listed] == []


def test_upload_fileobj_of_a_stream_with_metadata(
    s3: Any, bucket: str, source: Path
) -> None:
    data = source.read_bytes()

    class Stream:
        """Readable, not seekable: the size is not known up front."""

        def __init__(self) -> None:
            self.position = 0

        def read(self, amount: int = -1) -> bytes:
            amount = min(amount, 1000003)  # short reads, as a pipe gives
            chunk = data[self.position : self.position + amount]
            self.position += len(chunk)
            return chunk

        def seekable(self) -> bool:
            return False

    extra = {"ContentType": "application/x-test", "Metadata": {"colour": "blue"}}
    s3.upload_fileobj(Stream(), bucket, "stream.bin", ExtraArgs=extra, Config=CONFIG)

    head = s3.head_object(Bucket=bucket, Key="stream.bin")
    assert head["ETag"] == multipart_etag(data, PART)
    assert head["ContentType"] == "application/x-test"
    assert head["Metadata"] == {"colour": "blue"}
    assert stored(s3, bucket, "stream.bin") == data


def test_below_the_threshold_one_put_and_one_get(
    s3: Any, bucket: str, tmp_path: Path
) -> None:
    data = os.urandom(PART - 1)
    small = tmp_path / "small.bin"
    small.write_bytes(data)

    s3.upload_file(str(small), bucket, "small.bin", Config=CONFIG)

    head = s3.head_object(Bucket=bucket, Key="small.bin")
    assert head["ETag"] == f'"{hashlib.md5(data).hexdigest()}"'
    back = tmp_path / "back.bin"
    s3.download_file(bucket, "small.bin", str(back), Config=CONFIG)
    assert back.read_bytes() == data


def test_download_fileobj_into_a_non_seekable_sink(
    s3: Any, bucket: str, source: Path
) -> None:
    data = source.read_bytes()
    s3.upload_file(str(source), bucket, "sink.bin", Config=CONFIG)

    class Sink:
        def __init__(self) -> None:
            self.pieces: list[bytes] = []

        def write(self, chunk: bytes) -> int:
            self.pieces.append(bytes(chunk))
            return len(chunk)

        def seekable(self) -> bool:
            return False

    sink = Sink()
    s3.download_fileobj(bucket, "sink.bin", sink, Config=CONFIG)
    assert b"".join(sink.pieces) == data


def test_download_of_a_missing_key_leaves_no_file(
    s3: Any, bucket: str, tmp_path: Path
) -> None:
    target = tmp_path / "never.bin"
    with pytest.raises(services.ClientError) as caught:
        s3.download_file(bucket, "no/such/key", str(target), Config=CONFIG)
    assert caught.value.status_code == 404
    assert os.listdir(tmp_path) == []


# -- async -----------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@pytest.mark.parametrize("key", AWKWARD_KEYS[1:3])
async def test_async_upload_file_then_download_file(
    server: Server, key: str, source: Path, tmp_path: Path, anyio_backend: str
) -> None:
    data = source.read_bytes()
    moved: list[int] = []
    async with services.async_client("s3", **client_kwargs(server)) as s3:
        bucket = f"transfer-{secrets.token_hex(4)}"
        await s3.create_bucket(Bucket=bucket)

        await s3.upload_file(
            str(source), bucket, key, Config=CONFIG, Callback=moved.append
        )
        head = await s3.head_object(Bucket=bucket, Key=key)
        target = tmp_path / "copy.bin"
        await s3.download_file(bucket, key, str(target), Config=CONFIG)
        left = await s3.list_multipart_uploads(Bucket=bucket)

    assert sum(moved) == SIZE
    assert head["ETag"] == multipart_etag(data, PART)
    assert target.read_bytes() == data
    assert left.get("Uploads", []) == []


# -- parity with boto3 (moto) --------------------------------------------------


def test_boto3_parity_on_moto(moto: Server, source: Path, tmp_path: Path) -> None:
    data = source.read_bytes()
    boto_config = BotoConfig(
        multipart_threshold=PART, multipart_chunksize=PART, max_concurrency=4
    )
    theirs = boto3.client("s3", **client_kwargs(moto))
    with services.client("s3", **client_kwargs(moto)) as ours:
        bucket = f"parity-{secrets.token_hex(4)}"
        ours.create_bucket(Bucket=bucket)

        theirs.upload_file(str(source), bucket, "boto3.bin", Config=boto_config)
        ours.upload_file(str(source), bucket, "ours.bin", Config=CONFIG)
        head_theirs = theirs.head_object(Bucket=bucket, Key="boto3.bin")
        head_ours = theirs.head_object(Bucket=bucket, Key="ours.bin")

        # each downloads what the other uploaded
        ours.download_file(bucket, "boto3.bin", str(tmp_path / "a"), Config=CONFIG)
        theirs.download_file(bucket, "ours.bin", str(tmp_path / "b"))

    for name in ("ETag", "ContentLength", "ContentType"):
        assert head_ours[name] == head_theirs[name], name
    assert (tmp_path / "a").read_bytes() == data
    assert (tmp_path / "b").read_bytes() == data
