"""The S3 client against real servers: moto (signatures checked) and Swift.

The servers are the truth: what is written is read back, listed, copied and
deleted; and boto3 on the same moto server gives the reference result dicts
(response metadata and body objects aside).
"""

from __future__ import annotations

import io
import secrets
from collections.abc import Iterator
from typing import Any

import boto3
import botocore.config
import botocore.exceptions
import httpx
import pytest

import services
from services import ClientError

from .servers import Server

pytestmark = pytest.mark.integration

MiB = 1024 * 1024
AWKWARD_KEYS = [
    "with space",
    "plus+sign",
    "tilde~",
    "per%cent",
    "double//slash",
    "ünïcødé/ключ",
    "trailing/",
    "a=b&c?d#e",
]


def client(server: Server, **config: Any) -> Any:
    creds = server.credentials
    return services.client(
        "s3",
        region_name=server.region,
        endpoint_url=server.endpoint,
        aws_access_key_id=creds.access_key_id,
        aws_secret_access_key=creds.secret_access_key,
        aws_session_token=creds.session_token,
        config=services.Config(**config) if config else None,
    )


def boto_client(server: Server, **config: Any) -> Any:
    creds = server.credentials
    return boto3.client(
        "s3",
        region_name=server.region,
        endpoint_url=server.endpoint,
        aws_access_key_id=creds.access_key_id,
        aws_secret_access_key=creds.secret_access_key,
        aws_session_token=creds.session_token,
        config=botocore.config.Config(**config),
    )


@pytest.fixture(params=["moto", "swift"])
def server(request: pytest.FixtureRequest) -> Server:
    found: Server = request.getfixturevalue(request.param)
    return found


@pytest.fixture
def bucket(server: Server) -> Iterator[str]:
    name = f"ll-{secrets.token_hex(6)}"
    s3 = client(server)
    s3.create_bucket(Bucket=name)
    yield name
    # leave nothing behind
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=name):
        for item in page.get("Contents", []):
            s3.delete_object(Bucket=name, Key=item["Key"])
    for upload in s3.list_multipart_uploads(Bucket=name).get("Uploads", []):
        s3.abort_multipart_upload(
            Bucket=name, Key=upload["Key"], UploadId=upload["UploadId"]
        )
    s3.delete_bucket(Bucket=name)
    s3.close()


def test_bucket_operations(server: Server, bucket: str) -> None:
    s3 = client(server)
    assert s3.head_bucket(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 200
    names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert bucket in names
    with pytest.raises(ClientError) as info:
        s3.head_bucket(Bucket=f"{bucket}-missing")
    assert info.value.code == "404"
    with pytest.raises(s3.exceptions.NoSuchBucket):
        s3.list_objects_v2(Bucket=f"{bucket}-missing")


def test_object_round_trip_and_conditions(server: Server, bucket: str) -> None:
    s3 = client(server)
    put = s3.put_object(
        Bucket=bucket,
        Key="doc.txt",
        Body="hello world",
        ContentType="text/plain",
        Metadata={"color": "blue"},
        CacheControl="max-age=60",
        ContentDisposition="attachment",
    )
    # S3's ETag of a single-part object is the quoted MD5 of its bytes
    assert put["ETag"] == '"5eb63bbbe01eeed093cb22bb8f5acdc3"'
    got = s3.get_object(Bucket=bucket, Key="doc.txt")
    assert got["Body"].read() == b"hello world"
    assert got["ContentLength"] == 11
    assert got["ContentType"] == "text/plain"
    assert got["Metadata"] == {"color": "blue"}
    assert got["CacheControl"] == "max-age=60"
    assert got["ETag"] == put["ETag"]
    part = s3.get_object(Bucket=bucket, Key="doc.txt", Range="bytes=6-10")
    assert part["Body"].read() == b"world"
    assert part["ContentRange"] == "bytes 6-10/11"
    head = s3.head_object(Bucket=bucket, Key="doc.txt")
    assert head["ContentLength"] == 11 and head["Metadata"] == {"color": "blue"}
    with pytest.raises(ClientError) as info:
        s3.get_object(Bucket=bucket, Key="doc.txt", IfNoneMatch=put["ETag"])
    assert info.value.code == "304"
    with pytest.raises(ClientError) as info:
        s3.get_object(Bucket=bucket, Key="doc.txt", IfMatch='"0000"')
    assert info.value.code == "PreconditionFailed"
    with pytest.raises(s3.exceptions.NoSuchKey):
        s3.get_object(Bucket=bucket, Key="missing")
    with pytest.raises(ClientError) as info:
        s3.head_object(Bucket=bucket, Key="missing")
    assert info.value.code == "404"


def test_bodies_of_every_kind(server: Server, bucket: str) -> None:
    s3 = client(server)
    bodies: dict[str, Any] = {
        "bytes": b"\x00\x01binary",
        "str": "ünïcødé text",
        "file": io.BytesIO(b"from a file"),
        "iter": iter([b"chunk one, ", b"chunk two"]),
        "empty": b"",
    }
    expected = {
        "bytes": b"\x00\x01binary",
        "str": "ünïcødé text".encode(),
        "file": b"from a file",
        "iter": b"chunk one, chunk two",
        "empty": b"",
    }
    for name, body in bodies.items():
        s3.put_object(Bucket=bucket, Key=name, Body=body)
    # a generator with its length is streamed (UNSIGNED-PAYLOAD), not buffered
    streamed = (bytes([n]) * MiB for n in range(3))
    s3.put_object(Bucket=bucket, Key="streamed", Body=streamed, ContentLength=3 * MiB)
    expected["streamed"] = b"".join(bytes([n]) * MiB for n in range(3))
    for name, data in expected.items():
        assert s3.get_object(Bucket=bucket, Key=name)["Body"].read() == data


@pytest.mark.parametrize("key", AWKWARD_KEYS)
def test_awkward_keys_round_trip(server: Server, bucket: str, key: str) -> None:
    s3 = client(server)
    s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == key.encode()
    assert s3.head_object(Bucket=bucket, Key=key)["ContentLength"] == len(key.encode())
    listed = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert listed == [key]
    s3.copy_object(Bucket=bucket, Key=key + ".copy", CopySource=f"{bucket}/{key}")
    got = s3.get_object(Bucket=bucket, Key=key + ".copy")["Body"].read()
    assert got == key.encode()
    s3.delete_object(Bucket=bucket, Key=key)
    s3.delete_object(Bucket=bucket, Key=key + ".copy")
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)


def test_listing_prefix_delimiter_start_after_and_pages(
    server: Server, bucket: str
) -> None:
    s3 = client(server)
    keys = ["a/1", "a/2", "a/b/3", "c/4", "d", "e", "f"]
    for key in keys:
        s3.put_object(Bucket=bucket, Key=key, Body=b"")
    top = s3.list_objects_v2(Bucket=bucket, Delimiter="/")
    assert [p["Prefix"] for p in top["CommonPrefixes"]] == ["a/", "c/"]
    assert [o["Key"] for o in top["Contents"]] == ["d", "e", "f"]
    under = s3.list_objects_v2(Bucket=bucket, Prefix="a/", Delimiter="/")
    assert [o["Key"] for o in under["Contents"]] == ["a/1", "a/2"]
    after = s3.list_objects_v2(Bucket=bucket, StartAfter="d")
    assert [o["Key"] for o in after["Contents"]] == ["e", "f"]
    pages = list(
        s3.get_paginator("list_objects_v2").paginate(
            Bucket=bucket, PaginationConfig={"PageSize": 3}
        )
    )
    assert len(pages) == 3
    assert [o["Key"] for p in pages for o in p["Contents"]] == sorted(keys)


def test_delete_objects_reports_each_key(server: Server, bucket: str) -> None:
    s3 = client(server)
    for key in ("x", "y z"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"1")
    result = s3.delete_objects(
        Bucket=bucket, Delete={"Objects": [{"Key": "x"}, {"Key": "y z"}]}
    )
    assert sorted(d["Key"] for d in result["Deleted"]) == ["x", "y z"]
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)


def test_multipart_upload(server: Server, bucket: str) -> None:
    s3 = client(server)
    first, second = b"a" * (5 * MiB), b"tail"
    upload = s3.create_multipart_upload(Bucket=bucket, Key="big", ContentType="x/y")
    upload_id = upload["UploadId"]
    listed = s3.list_multipart_uploads(Bucket=bucket)
    assert [u["UploadId"] for u in listed["Uploads"]] == [upload_id]
    parts = []
    for number, data in ((1, first), (2, second)):
        etag = s3.upload_part(
            Bucket=bucket, Key="big", UploadId=upload_id, PartNumber=number, Body=data
        )["ETag"]
        parts.append({"ETag": etag, "PartNumber": number})
    pages = list(
        s3.get_paginator("list_parts").paginate(
            Bucket=bucket,
            Key="big",
            UploadId=upload_id,
            PaginationConfig={"PageSize": 1},
        )
    )
    assert [p["Parts"][0]["PartNumber"] for p in pages] == [1, 2]
    assert pages[0]["Parts"][0]["Size"] == 5 * MiB
    done = s3.complete_multipart_upload(
        Bucket=bucket, Key="big", UploadId=upload_id, MultipartUpload={"Parts": parts}
    )
    assert done["ETag"].endswith('-2"')
    body = s3.get_object(Bucket=bucket, Key="big")["Body"]
    assert sum(len(c) for c in body.iter_chunks(1 << 20)) == len(first) + len(second)

    aborted = s3.create_multipart_upload(Bucket=bucket, Key="gone")["UploadId"]
    s3.abort_multipart_upload(Bucket=bucket, Key="gone", UploadId=aborted)
    with pytest.raises(s3.exceptions.NoSuchUpload):
        s3.list_parts(Bucket=bucket, Key="gone", UploadId=aborted)


def test_wrong_secret_is_a_typed_signature_error(server: Server, bucket: str) -> None:
    s3 = services.client(
        "s3",
        region_name=server.region,
        endpoint_url=server.endpoint,
        aws_access_key_id=server.credentials.access_key_id,
        aws_secret_access_key="not-the-secret",
    )
    with pytest.raises(ClientError) as info:
        s3.list_objects_v2(Bucket=bucket)
    assert info.value.code == "SignatureDoesNotMatch"
    assert info.value.status_code == 403
    assert "not-the-secret" not in str(info.value) + repr(info.value.response)


@pytest.mark.anyio
async def test_async_client(server: Server, bucket: str) -> None:
    creds = server.credentials
    async with services.async_client(
        "s3",
        region_name=server.region,
        endpoint_url=server.endpoint,
        aws_access_key_id=creds.access_key_id,
        aws_secret_access_key=creds.secret_access_key,
        aws_session_token=creds.session_token,
    ) as s3:
        await s3.put_object(Bucket=bucket, Key="async key", Body=b"from async")
        got = await s3.get_object(Bucket=bucket, Key="async key")
        assert await got["Body"].read() == b"from async"

        async def chunks() -> Any:
            for part in (b"async ", b"stream"):
                yield part

        await s3.put_object(
            Bucket=bucket, Key="async stream", Body=chunks(), ContentLength=12
        )
        got = await s3.get_object(Bucket=bucket, Key="async stream")
        assert await got["Body"].read() == b"async stream"
        await s3.delete_object(Bucket=bucket, Key="async stream")
        pages = [
            page
            async for page in s3.get_paginator("list_objects_v2").paginate(
                Bucket=bucket
            )
        ]
        assert pages[0]["Contents"][0]["Key"] == "async key"
        await s3.delete_object(Bucket=bucket, Key="async key")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


# -- Swift only: presigned URLs (moto answers them with 500 while auth is on) ----


def test_presigned_urls_on_swift(swift: Server) -> None:
    s3 = client(swift)
    name = f"ll-{secrets.token_hex(6)}"
    s3.create_bucket(Bucket=name)
    try:
        key = "pre signed/ünï+~.txt"
        put_url = s3.generate_presigned_url(
            "put_object", Params={"Bucket": name, "Key": key}, ExpiresIn=300
        )
        assert httpx.put(put_url, content=b"via url").status_code == 200
        get_url = s3.generate_presigned_url(
            "get_object", Params={"Bucket": name, "Key": key}, ExpiresIn=300
        )
        answer = httpx.get(get_url)
        assert answer.status_code == 200 and answer.content == b"via url"
        tampered = get_url.replace("X-Amz-Expires=300", "X-Amz-Expires=301")
        assert httpx.get(tampered).status_code == 403
        s3.delete_object(Bucket=name, Key=key)
    finally:
        s3.delete_bucket(Bucket=name)


# -- parity with boto3 on moto -----------------------------------------------------


def _strip(result: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in result.items() if k not in ("ResponseMetadata", "Body")}


@pytest.mark.parametrize("checksums", ["when_required", "when_supported"])
def test_parity_with_boto3(moto: Server, checksums: str) -> None:
    ours = client(moto, request_checksum_calculation=checksums)
    theirs = boto_client(moto, request_checksum_calculation=checksums)
    results: dict[str, list[dict[str, Any]]] = {"ours": [], "boto3": []}
    for label, s3 in (("ours", ours), ("boto3", theirs)):
        name = f"parity-{label}-{secrets.token_hex(4)}"
        out = results[label]
        out.append(_strip(s3.create_bucket(Bucket=name)) and {})
        out.append(_strip(s3.head_bucket(Bucket=name)))
        for key in ("plain", "sp ace+plus", "dir/ünï", "dir/sub/x"):
            out.append(
                _strip(
                    s3.put_object(
                        Bucket=name,
                        Key=key,
                        Body=b"payload",
                        ContentType="text/plain",
                        Metadata={"k": "v"},
                    )
                )
            )
        got = s3.get_object(Bucket=name, Key="sp ace+plus")
        assert got["Body"].read() == b"payload"
        out.append(_strip(got))
        out.append(_strip(s3.head_object(Bucket=name, Key="dir/ünï")))
        out.append(_strip(s3.get_object(Bucket=name, Key="plain", Range="bytes=0-2")))
        listing = _strip(s3.list_objects_v2(Bucket=name, Delimiter="/"))
        listing.pop("Name")
        out.append(listing)
        paged = _strip(s3.list_objects_v2(Bucket=name, Prefix="dir/", MaxKeys=1))
        paged.pop("Name")
        paged.pop("NextContinuationToken", None)
        out.append(paged)
        copy = _strip(
            s3.copy_object(Bucket=name, Key="copy", CopySource=f"{name}/plain")
        )
        copy["CopyObjectResult"].pop("LastModified")
        out.append(copy)
        out.append(
            _strip(
                s3.delete_objects(
                    Bucket=name,
                    Delete={"Objects": [{"Key": "plain"}, {"Key": "copy"}]},
                )
            )
        )
        upload = _strip(s3.create_multipart_upload(Bucket=name, Key="mp"))
        upload_id = upload.pop("UploadId")
        upload.pop("Bucket")
        out.append(upload)
        part = s3.upload_part(
            Bucket=name, Key="mp", UploadId=upload_id, PartNumber=1, Body=b"p" * 10
        )
        out.append(_strip(part))
        parts = _strip(s3.list_parts(Bucket=name, Key="mp", UploadId=upload_id))
        for key in ("Bucket", "UploadId"):
            parts.pop(key)
        out.append(parts)
        done = _strip(
            s3.complete_multipart_upload(
                Bucket=name,
                Key="mp",
                UploadId=upload_id,
                MultipartUpload={"Parts": [{"ETag": part["ETag"], "PartNumber": 1}]},
            )
        )
        done.pop("Bucket")
        done.pop("Location")
        out.append(done)
        try:
            s3.get_object(Bucket=name, Key="missing")
        except (ClientError, botocore.exceptions.ClientError) as exc:
            out.append(dict(exc.response["Error"]))
        try:
            s3.head_object(Bucket=name, Key="missing")
        except (ClientError, botocore.exceptions.ClientError) as exc:
            out.append(dict(exc.response["Error"]))
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=name):
            for item in page.get("Contents", []):
                s3.delete_object(Bucket=name, Key=item["Key"])
        out.append(_strip(s3.delete_bucket(Bucket=name)))
    _normalise_times(results)
    assert results["ours"][2]["ETag"] == '"321c3cf486ed509164edec1e1981fec8"'
    for ours_result, boto_result in zip(results["ours"], results["boto3"], strict=True):
        assert ours_result == boto_result


def _normalise_times(results: dict[str, list[dict[str, Any]]]) -> None:
    # timestamps differ between the two runs; their presence and type must not
    import datetime as dt

    def walk(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: walk(v) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        if isinstance(value, dt.datetime):
            assert value.tzinfo is not None
            return "datetime"
        return value

    for label in results:
        results[label] = [walk(r) for r in results[label]]


def test_max_items_resumes_inside_a_page_like_boto3(moto: Server) -> None:
    ours, theirs = client(moto), boto_client(moto)
    name = f"ll-{secrets.token_hex(6)}"
    ours.create_bucket(Bucket=name)
    try:
        keys = [f"k{i}" for i in range(7)]
        for key in keys:
            ours.put_object(Bucket=name, Key=key, Body=b"")

        def walk(s3: Any) -> list[list[str]]:
            chunks, token = [], None
            for _ in range(10):
                config: dict[str, Any] = {"MaxItems": 2, "PageSize": 3}
                if token:
                    config["StartingToken"] = token
                full = (
                    s3.get_paginator("list_objects_v2")
                    .paginate(Bucket=name, PaginationConfig=config)
                    .build_full_result()
                )
                chunks.append([o["Key"] for o in full.get("Contents", [])])
                token = full.get("NextToken")
                if not token:
                    break
            return chunks

        mine = walk(ours)
        assert mine == walk(theirs)
        assert mine == [["k0", "k1"], ["k2", "k3"], ["k4", "k5"], ["k6"]]
    finally:
        for key in keys:
            ours.delete_object(Bucket=name, Key=key)
        ours.delete_bucket(Bucket=name)


# keys with "." and ".." segments go on the wire literally, as boto3 sends them
# (added by the sigv4 helper, issue 2)
DOT_KEYS = ["dot/./seg", "dotdot/../seg", "..", "a/./b/../c/"]


@pytest.mark.parametrize("key", DOT_KEYS)
def test_dot_segment_keys_round_trip(server: Server, bucket: str, key: str) -> None:
    s3 = client(server)
    s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == key.encode()
    listed = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert listed == [key]
    s3.delete_object(Bucket=bucket, Key=key)


@pytest.mark.anyio
async def test_async_dot_segment_keys_round_trip(server: Server, bucket: str) -> None:
    creds = server.credentials
    async with services.async_client(
        "s3",
        region_name=server.region,
        endpoint_url=server.endpoint,
        aws_access_key_id=creds.access_key_id,
        aws_secret_access_key=creds.secret_access_key,
        aws_session_token=creds.session_token,
    ) as s3:
        for key in DOT_KEYS:
            await s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
            got = await s3.get_object(Bucket=bucket, Key=key)
            assert await got["Body"].read() == key.encode()
            await s3.delete_object(Bucket=bucket, Key=key)
