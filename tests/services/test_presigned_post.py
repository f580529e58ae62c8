"""S3 clients' generate_presigned_post against boto3's, time frozen for both.

The signing itself is checked in tests/sigv4/test_post.py; here the client's
part is: the URL for its endpoint and addressing style, the region of the
credential scope, its credentials, and boto3's parameter names. No request is
sent: neither test server takes browser POST uploads (Swift's s3api answers a
POST to a bucket with NotImplemented; moto with signature checking on answers
500), so no real server checks these forms here.
"""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.config import Config as BotoConfig
from freezegun import freeze_time

import services
from services.errors import ParamValidationError

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
KEYS = {
    "aws_access_key_id": "AKIDEXAMPLE",
    "aws_secret_access_key": SECRET,
    "aws_session_token": "session/token==",
}

SETUPS = [
    pytest.param("us-east-1", "http://127.0.0.1:9000", None, id="custom-endpoint"),
    pytest.param("eu-west-1", "http://127.0.0.1:9000", "path", id="custom-path"),
    pytest.param("us-east-1", None, None, id="aws-us-east-1"),
    pytest.param("eu-west-1", None, None, id="aws-eu-west-1"),
    pytest.param("eu-west-1", None, "path", id="aws-path"),
]
OPTIONS = {
    "Fields": {"acl": "public-read", "Content-Type": "text/plain"},
    "Conditions": [
        {"acl": "public-read"},
        ["content-length-range", 1, 1024],
        ["starts-with", "$Content-Type", "text/"],
    ],
    "ExpiresIn": 900,
}


def both(region: str, endpoint: str | None, style: str | None) -> tuple[Any, Any]:
    s3 = {"addressing_style": style} if style else None
    theirs = boto3.client(
        "s3",
        region_name=region,
        endpoint_url=endpoint,
        config=BotoConfig(signature_version="s3v4", s3=s3),
        **KEYS,
    )
    ours = services.client(
        "s3",
        region_name=region,
        endpoint_url=endpoint,
        config=services.Config(s3=s3),
        **KEYS,
    )
    return theirs, ours


@pytest.mark.parametrize(("region", "endpoint", "style"), SETUPS)
@pytest.mark.parametrize(
    ("bucket", "key", "options"),
    [
        ("photos", "cat.jpg", {}),
        ("photos", "uploads/${filename}", OPTIONS),
        ("my.dotted.bucket", "a b/ü+.txt", OPTIONS),
    ],
)
@freeze_time("2026-07-01 08:30:00")
def test_generate_presigned_post_matches_boto3(
    region: str,
    endpoint: str | None,
    style: str | None,
    bucket: str,
    key: str,
    options: dict[str, Any],
) -> None:
    theirs, ours = both(region, endpoint, style)
    with ours:
        got = ours.generate_presigned_post(bucket, key, **options)
    expected = theirs.generate_presigned_post(bucket, key, **options)
    if (
        region != "us-east-1"
        and expected["url"] == f"https://{bucket}.s3.amazonaws.com/"
    ):
        # boto3 gives virtual-hosted POST URLs the global host whatever the
        # region; the client uses the region's own, where the scope points.
        expected["url"] = f"https://{bucket}.s3.{region}.amazonaws.com/"
    assert got == expected


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@freeze_time("2026-07-01 08:30:00")
async def test_async_generate_presigned_post_matches_boto3(anyio_backend: str) -> None:
    theirs, _ = both("eu-west-1", "http://127.0.0.1:9000", None)
    async with services.async_client(
        "s3", region_name="eu-west-1", endpoint_url="http://127.0.0.1:9000", **KEYS
    ) as ours:
        got = await ours.generate_presigned_post(
            Bucket="b1", Key="k", Fields={"acl": "private"}, ExpiresIn=60
        )
    assert got == theirs.generate_presigned_post(
        Bucket="b1", Key="k", Fields={"acl": "private"}, ExpiresIn=60
    )


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"ExpiresIn": 0}, "expires"),
        ({"Conditions": [["between", "$key", "a"]]}, "between"),
        ({"Conditions": [["content-length-range", 10, 1]]}, "content-length-range"),
    ],
)
def test_generate_presigned_post_refuses_bad_input(
    options: dict[str, Any], named: str
) -> None:
    with (
        services.client(
            "s3", region_name="us-east-1", endpoint_url="http://127.0.0.1:9", **KEYS
        ) as s3,
        pytest.raises(ParamValidationError) as caught,
    ):
        s3.generate_presigned_post("b1", "k", **options)
    assert named in str(caught.value)
    assert SECRET not in str(caught.value)
