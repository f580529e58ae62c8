"""S3 build and parse against the request and response shapes AWS documents."""

from __future__ import annotations

import datetime as dt
from urllib.parse import unquote

import httpx
import pytest
import respx

from services import ClientError, ParamValidationError
from services.s3 import checksums
from services.s3.client import S3Client
from services.s3.operations import dns_compatible

from .conftest import KEYS, s3_client

UTC = dt.timezone.utc
AWS = "https://s3.amazonaws.com"

# Shapes as in the S3 API reference examples.
LIST_V2 = b"""<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>bucket</Name>
  <Prefix>photos%2F</Prefix>
  <KeyCount>2</KeyCount>
  <MaxKeys>1000</MaxKeys>
  <Delimiter>%2F</Delimiter>
  <IsTruncated>true</IsTruncated>
  <NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>
  <EncodingType>url</EncodingType>
  <Contents>
    <Key>photos%2Fa+b%2B%25.jpg</Key>
    <LastModified>2009-10-12T17:50:30.000Z</LastModified>
    <ETag>&quot;fba9dede5f27731c9771645a39863328&quot;</ETag>
    <ChecksumAlgorithm>CRC32</ChecksumAlgorithm>
    <Size>434234</Size>
    <StorageClass>STANDARD</StorageClass>
  </Contents>
  <CommonPrefixes><Prefix>photos%2F2006%2F</Prefix></CommonPrefixes>
</ListBucketResult>"""


def test_list_objects_v2_sends_url_encoding_and_decodes_keys() -> None:
    router = respx.MockRouter()
    route = router.get(url__startswith="https://bucket.s3.amazonaws.com/").respond(
        200, content=LIST_V2
    )
    result = s3_client(router).list_objects_v2(Bucket="bucket", Prefix="photos/")
    sent = route.calls.last.request.url
    assert sent.params["list-type"] == "2"
    assert sent.params["encoding-type"] == "url"
    assert sent.params["prefix"] == "photos/"
    assert result["Contents"] == [
        {
            "Key": "photos/a b+%.jpg",
            "LastModified": dt.datetime(2009, 10, 12, 17, 50, 30, tzinfo=UTC),
            "ETag": '"fba9dede5f27731c9771645a39863328"',
            "ChecksumAlgorithm": ["CRC32"],
            "Size": 434234,
            "StorageClass": "STANDARD",
        }
    ]
    assert result["CommonPrefixes"] == [{"Prefix": "photos/2006/"}]
    assert result["Prefix"] == "photos/"
    assert result["Delimiter"] == "/"
    assert result["IsTruncated"] is True
    assert result["KeyCount"] == 2
    assert result["NextContinuationToken"].startswith("1ueGcxLPRx1Tr")


def test_list_objects_v2_keeps_encoding_the_caller_asked_for() -> None:
    router = respx.MockRouter()
    router.get(url__startswith="https://bucket.s3.amazonaws.com/").respond(
        200, content=LIST_V2
    )
    result = s3_client(router).list_objects_v2(Bucket="bucket", EncodingType="url")
    assert result["Contents"][0]["Key"] == "photos%2Fa+b%2B%25.jpg"


@pytest.mark.parametrize(
    "key",
    ["a b", "a+b", "tilde~", "100%", "double//slash", "ünïcødé/ключ", "dir/", "/lead"],
)
def test_keys_go_in_the_path_encoded_once(key: str) -> None:
    router = respx.MockRouter()
    route = router.put(url__startswith="https://bucket.s3.amazonaws.com/").respond(
        200, headers={"ETag": '"x"'}
    )
    s3_client(router).put_object(Bucket="bucket", Key=key, Body=b"")
    raw_path = route.calls.last.request.url.raw_path.decode()
    assert unquote(raw_path) == "/" + key
    assert " " not in raw_path and "+" not in raw_path


@pytest.mark.parametrize(
    ("bucket", "endpoint", "style", "expected"),
    [
        ("bucket", None, "auto", "https://bucket.s3.amazonaws.com/k"),
        ("my.bucket", None, "auto", "https://s3.amazonaws.com/my.bucket/k"),
        ("Upper_Case", None, "auto", "https://s3.amazonaws.com/Upper_Case/k"),
        ("bucket", None, "path", "https://s3.amazonaws.com/bucket/k"),
        ("bucket", "http://127.0.0.1:9000", "auto", "http://127.0.0.1:9000/bucket/k"),
        (
            "bucket",
            "http://localhost:9000",
            "virtual",
            "http://bucket.localhost:9000/k",
        ),
    ],
)
def test_addressing_style(
    bucket: str, endpoint: str | None, style: str, expected: str
) -> None:
    router = respx.MockRouter()
    route = router.route().respond(200, content=b"")
    s3_client(router, endpoint_url=endpoint, addressing_style=style).head_object(
        Bucket=bucket, Key="k"
    )
    assert str(route.calls.last.request.url) == expected


def test_dns_compatible_names() -> None:
    assert dns_compatible("my-bucket.name")
    for name in ("ab", "UPPER", "a..b", "-x-y", "192.168.1.1", "under_score"):
        assert not dns_compatible(name)


def test_put_object_headers_metadata_and_default_crc32() -> None:
    router = respx.MockRouter()
    route = router.put(url__startswith=AWS.replace("s3.", "bucket.s3.")).respond(
        200,
        headers={
            "ETag": '"5d41402abc4b2a76b9719d911017c592"',
            "x-amz-version-id": "v1",
            "x-amz-server-side-encryption": "AES256",
            "x-amz-checksum-crc32": "NhCmhg==",
        },
    )
    result = s3_client(router).put_object(
        Bucket="bucket",
        Key="k",
        Body="hello",
        ContentType="text/plain",
        Metadata={"color": "blue"},
        CacheControl="no-cache",
        ContentDisposition="attachment",
        ServerSideEncryption="AES256",
        IfNoneMatch="*",
    )
    sent = route.calls.last.request
    assert sent.content == b"hello"
    assert sent.headers["content-type"] == "text/plain"
    assert sent.headers["x-amz-meta-color"] == "blue"
    assert sent.headers["cache-control"] == "no-cache"
    assert sent.headers["if-none-match"] == "*"
    # CRC32 of b"hello" is 0x3610a686 (zlib), base64 "NhCmhg=="
    assert sent.headers["x-amz-checksum-crc32"] == "NhCmhg=="
    assert sent.headers["x-amz-sdk-checksum-algorithm"] == "CRC32"
    assert result["ETag"] == '"5d41402abc4b2a76b9719d911017c592"'
    assert result["VersionId"] == "v1"
    assert result["ServerSideEncryption"] == "AES256"
    assert result["ChecksumCRC32"] == "NhCmhg=="
    assert result["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_custom_endpoint_sends_no_default_checksum() -> None:
    router = respx.MockRouter()
    route = router.put().respond(200, headers={"ETag": '"x"'})
    s3_client(router, endpoint_url="http://127.0.0.1:9").put_object(
        Bucket="b", Key="k", Body=b"x"
    )
    assert not any(
        name.startswith("x-amz-checksum") for name in route.calls.last.request.headers
    )


@pytest.mark.parametrize(
    ("algorithm", "data", "expected"),
    [
        # CRC32C("123456789") = 0xE3069283, SHA-1/256 of "abc" (FIPS 180 vectors)
        ("CRC32C", b"123456789", "4waSgw=="),
        ("CRC32", b"123456789", "y/Q5Jg=="),
        ("SHA1", b"abc", "qZk+NkcGgWq6PiVxeFDCbJzQ2J0="),
        ("SHA256", b"abc", "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="),
    ],
)
def test_checksums_match_known_values(
    algorithm: str, data: bytes, expected: str
) -> None:
    assert checksums.of(algorithm, data) == expected


def test_get_object_body_stream_and_headers() -> None:
    # a plain mock transport: respx would decode the gzip-labelled body
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200,
            stream=httpx.ByteStream(b"line1\nline2\n"),
            headers={
                "Content-Length": "12",
                "Last-Modified": "Wed, 12 Oct 2009 17:50:00 GMT",
                "ETag": '"abc"',
                "Content-Type": "text/plain",
                "x-amz-meta-color": "blue",
                "Content-Encoding": "gzip",
                "Accept-Ranges": "bytes",
            },
        )

    client = S3Client(
        region_name="us-east-1", _transport=httpx.MockTransport(handler), **KEYS
    )
    result = client.get_object(Bucket="bucket", Key="k")
    assert result["LastModified"] == dt.datetime(2009, 10, 12, 17, 50, tzinfo=UTC)
    assert result["ContentLength"] == 12
    assert result["Metadata"] == {"color": "blue"}
    assert result["ContentEncoding"] == "gzip"
    body = result["Body"]
    assert body.read(3) == b"lin"
    # bytes as stored: never decompressed whatever Content-Encoding says
    assert list(body.iter_lines()) == [b"e1", b"line2"]
    body.close()


def test_get_object_checksum_mismatch_is_detected() -> None:
    router = respx.MockRouter()
    router.get().respond(
        200, content=b"hello", headers={"x-amz-checksum-crc32": "AAAAAA=="}
    )
    body = s3_client(router).get_object(Bucket="bucket", Key="k")["Body"]
    from services.errors import ChecksumMismatchError

    with pytest.raises(ChecksumMismatchError):
        body.read()


def test_head_404_maps_like_boto3() -> None:
    router = respx.MockRouter()
    router.head().respond(404, headers={"x-amz-request-id": "R1"})
    with pytest.raises(ClientError) as info:
        s3_client(router).head_object(Bucket="bucket", Key="missing")
    err = info.value
    assert type(err) is ClientError
    assert err.response["Error"] == {"Code": "404", "Message": "Not Found"}
    assert err.request_id == "R1"


def test_error_body_maps_to_named_error() -> None:
    body = (
        b"<?xml version='1.0' encoding='UTF-8'?><Error><Code>NoSuchKey</Code>"
        b"<Message>The specified key does not exist.</Message><Key>k</Key>"
        b"<RequestId>4442587FB7D0A2F9</RequestId><HostId>h</HostId></Error>"
    )
    router = respx.MockRouter()
    router.get().respond(404, content=body)
    client = s3_client(router)
    with pytest.raises(client.exceptions.NoSuchKey) as info:
        client.get_object(Bucket="bucket", Key="k")
    assert info.value.response["Error"] == {
        "Code": "NoSuchKey",
        "Message": "The specified key does not exist.",
        "Key": "k",
    }
    assert info.value.response["ResponseMetadata"]["RequestId"] == "4442587FB7D0A2F9"
    assert info.value.response["ResponseMetadata"]["HostId"] == "h"


def test_not_modified_is_client_error_304() -> None:
    router = respx.MockRouter()
    router.get().respond(304)
    with pytest.raises(ClientError) as info:
        s3_client(router).get_object(Bucket="bucket", Key="k", IfNoneMatch='"x"')
    assert info.value.code == "304"


def test_delete_objects_body_md5_and_per_key_errors() -> None:
    router = respx.MockRouter()
    route = router.post(
        url__startswith="https://bucket.s3.amazonaws.com/?delete"
    ).respond(
        200,
        content=b"""<?xml version="1.0" encoding="UTF-8"?>
<DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Deleted><Key>sample1.txt</Key></Deleted>
  <Error><Key>sample2.txt</Key><Code>AccessDenied</Code>
  <Message>Access Denied</Message></Error>
</DeleteResult>""",
    )
    result = s3_client(router).delete_objects(
        Bucket="bucket",
        Delete={"Objects": [{"Key": "sample1.txt"}, {"Key": "a&b<c>"}], "Quiet": False},
    )
    sent = route.calls.last.request
    assert b"<Key>a&amp;b&lt;c&gt;</Key>" in sent.content
    assert sent.headers["content-md5"] == checksums.md5(sent.content)
    assert result["Deleted"] == [{"Key": "sample1.txt"}]
    assert result["Errors"] == [
        {"Key": "sample2.txt", "Code": "AccessDenied", "Message": "Access Denied"}
    ]


def test_copy_object_200_with_error_body_is_an_error_and_retried() -> None:
    router = respx.MockRouter()
    error = (
        b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>InternalError</Code>'
        b"<Message>We encountered an internal error. Please try again.</Message>"
        b"<RequestId>656c76696e6727732072657175657374</RequestId></Error>"
    )
    ok = (
        b"<CopyObjectResult><LastModified>2009-10-28T22:32:00.000Z</LastModified>"
        b"<ETag>&quot;9b2cf535f27731c974343645a3985328&quot;</ETag></CopyObjectResult>"
    )
    route = router.put().mock(
        side_effect=[
            httpx.Response(200, content=error),
            httpx.Response(200, content=ok),
        ]
    )
    result = s3_client(router).copy_object(
        Bucket="bucket", Key="dst", CopySource={"Bucket": "src", "Key": "a b/c"}
    )
    assert route.call_count == 2
    assert route.calls.last.request.headers["x-amz-copy-source"] == "src/a%20b/c"
    assert result["CopyObjectResult"] == {
        "LastModified": dt.datetime(2009, 10, 28, 22, 32, tzinfo=UTC),
        "ETag": '"9b2cf535f27731c974343645a3985328"',
    }

    router2 = respx.MockRouter()
    router2.put().mock(return_value=httpx.Response(200, content=error))
    with pytest.raises(ClientError) as info:
        s3_client(router2, max_attempts=2).copy_object(
            Bucket="bucket", Key="dst", CopySource="src/k"
        )
    assert info.value.code == "InternalError"


def test_multipart_shapes() -> None:
    router = respx.MockRouter()
    router.post(url__regex=r".*\?uploads$").respond(
        200,
        content=b"""<InitiateMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
<Bucket>bucket</Bucket><Key>big</Key><UploadId>VXBsb2FkIElE</UploadId>
</InitiateMultipartUploadResult>""",
    )
    part = router.put(url__regex=r".*partNumber=1&uploadId=VXBsb2FkIElE").respond(
        200, headers={"ETag": '"p1"'}
    )
    complete = router.post(url__regex=r".*\?uploadId=VXBsb2FkIElE$").respond(
        200,
        content=b"""<CompleteMultipartUploadResult>
<Location>https://bucket.s3.amazonaws.com/big</Location><Bucket>bucket</Bucket>
<Key>big</Key><ETag>"3858f62230ac3c915f300c664312c11f-9"</ETag>
</CompleteMultipartUploadResult>""",
    )
    router.get(url__regex=r".*\?uploadId=VXBsb2FkIElE$").respond(
        200,
        content=b"""<ListPartsResult><Bucket>bucket</Bucket><Key>big</Key>
<UploadId>VXBsb2FkIElE</UploadId><PartNumberMarker>1</PartNumberMarker>
<NextPartNumberMarker>3</NextPartNumberMarker><MaxParts>2</MaxParts>
<IsTruncated>true</IsTruncated>
<Part><PartNumber>2</PartNumber><LastModified>2010-11-10T20:48:34.000Z</LastModified>
<ETag>"7778aef83f66abc1fa1e8477f296d394"</ETag><Size>10485760</Size></Part>
<Initiator><ID>arn:aws:iam::111122223333:user/some-user</ID><DisplayName>umat</DisplayName></Initiator>
<StorageClass>STANDARD</StorageClass></ListPartsResult>""",
    )
    s3 = s3_client(router)
    upload = s3.create_multipart_upload(Bucket="bucket", Key="big")
    assert upload["UploadId"] == "VXBsb2FkIElE"
    etag = s3.upload_part(
        Bucket="bucket", Key="big", PartNumber=1, UploadId="VXBsb2FkIElE", Body=b"x"
    )["ETag"]
    assert part.called and etag == '"p1"'
    done = s3.complete_multipart_upload(
        Bucket="bucket",
        Key="big",
        UploadId="VXBsb2FkIElE",
        MultipartUpload={"Parts": [{"ETag": etag, "PartNumber": 1}]},
    )
    assert b'<Part><ETag>"p1"</ETag><PartNumber>1</PartNumber></Part>' in (
        complete.calls.last.request.content
    )
    assert done["ETag"] == '"3858f62230ac3c915f300c664312c11f-9"'
    parts = s3.list_parts(Bucket="bucket", Key="big", UploadId="VXBsb2FkIElE")
    assert parts["Parts"][0]["Size"] == 10485760
    assert parts["Parts"][0]["PartNumber"] == 2
    assert parts["NextPartNumberMarker"] == 3 and parts["IsTruncated"] is True
    assert parts["Initiator"]["DisplayName"] == "umat"
    with pytest.raises(ParamValidationError, match="PartNumber"):
        s3.upload_part(Bucket="b", Key="k", PartNumber=0, UploadId="u", Body=b"")


def test_list_buckets_shape() -> None:
    router = respx.MockRouter()
    router.get("https://s3.amazonaws.com/").respond(
        200,
        content=b"""<ListAllMyBucketsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
<Owner><ID>bcaf1ffd86f461ca5fb16fd081034f</ID><DisplayName>webfile</DisplayName></Owner>
<Buckets><Bucket><Name>quotes</Name><CreationDate>2006-02-03T16:45:09.000Z</CreationDate></Bucket>
<Bucket><Name>samples</Name><CreationDate>2006-02-03T16:41:58.000Z</CreationDate></Bucket>
</Buckets></ListAllMyBucketsResult>""",
    )
    result = s3_client(router).list_buckets()
    assert [b["Name"] for b in result["Buckets"]] == ["quotes", "samples"]
    assert result["Owner"] == {
        "ID": "bcaf1ffd86f461ca5fb16fd081034f",
        "DisplayName": "webfile",
    }


def test_create_bucket_location_constraint() -> None:
    router = respx.MockRouter()
    route = router.put().respond(200, headers={"Location": "/bucket"})
    result = s3_client(router, region="eu-west-1").create_bucket(
        Bucket="bucket",
        CreateBucketConfiguration={"LocationConstraint": "eu-west-1"},
    )
    assert b"<LocationConstraint>eu-west-1</LocationConstraint>" in (
        route.calls.last.request.content
    )
    assert (
        str(route.calls.last.request.url)
        == "https://bucket.s3.eu-west-1.amazonaws.com/"
    )
    assert result["Location"] == "/bucket"


def test_parameter_errors_name_the_parameter() -> None:
    s3 = s3_client(respx.MockRouter())
    with pytest.raises(ParamValidationError, match="Key"):
        s3.get_object(Bucket="b")
    with pytest.raises(ParamValidationError, match="Bukcet"):
        s3.get_object(Bukcet="b", Key="k")
    with pytest.raises(ParamValidationError, match="Body"):
        s3.put_object(Bucket="b", Key="k", Body=12)


def test_presigned_url_is_sigv4_and_hides_nothing_it_should_not() -> None:
    s3 = s3_client(respx.MockRouter())
    url = s3.generate_presigned_url(
        "get_object", Params={"Bucket": "bucket", "Key": "a b"}, ExpiresIn=60
    )
    assert url.startswith("https://bucket.s3.amazonaws.com/a%20b?")
    query = httpx.URL(url).params
    assert query["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"
    assert query["X-Amz-Expires"] == "60"
    assert query["X-Amz-Credential"].startswith("AKIDEXAMPLE/")
    assert "SECRETEXAMPLE" not in url


def test_paginator_follows_tokens() -> None:
    router = respx.MockRouter()
    page = (
        "<ListBucketResult><IsTruncated>{t}</IsTruncated>{n}"
        "<Contents><Key>{k}</Key><Size>1</Size></Contents></ListBucketResult>"
    )
    route = router.get().mock(
        side_effect=[
            httpx.Response(
                200,
                content=page.format(
                    t="true",
                    n="<NextContinuationToken>T1</NextContinuationToken>",
                    k="a",
                ).encode(),
            ),
            httpx.Response(200, content=page.format(t="false", n="", k="b").encode()),
        ]
    )
    s3 = s3_client(router)
    pages = list(s3.get_paginator("list_objects_v2").paginate(Bucket="bucket"))
    assert [p["Contents"][0]["Key"] for p in pages] == ["a", "b"]
    assert route.calls[1].request.url.params["continuation-token"] == "T1"
    assert not s3.can_paginate("get_object")
