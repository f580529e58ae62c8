"""Presigned POST against boto3's `generate_presigned_post`, time frozen for both."""

from __future__ import annotations

import base64
import datetime as dt
import json
from typing import Any

import boto3
import pytest
from botocore.config import Config
from freezegun import freeze_time

import sigv4
from sigv4.errors import InvalidExpiryError, SigningError
from sigv4.post import policy_document

ENDPOINT = "http://127.0.0.1:9000"
REGION = "eu-west-1"


def boto3_post(
    token: str | None, bucket: str, key: str, **options: Any
) -> dict[str, Any]:
    client = boto3.client(
        "s3",
        region_name=REGION,
        endpoint_url=ENDPOINT,
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="secret/key+",
        aws_session_token=token,
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )
    result: dict[str, Any] = client.generate_presigned_post(bucket, key, **options)
    return result


CASES = [
    pytest.param("photos", "cat.jpg", {}, id="plain"),
    pytest.param("photos", "uploads/${filename}", {}, id="filename"),
    pytest.param(
        "photos",
        "a b/ü+=.txt",
        {
            "Fields": {"acl": "public-read", "Content-Type": "image/png"},
            "Conditions": [
                {"acl": "public-read"},
                ["content-length-range", 1, 1048576],
                ["starts-with", "$Content-Type", "image/"],
                ["eq", "$x-amz-meta-owner", "ann"],
                {"x-amz-server-side-encryption": "AES256"},
            ],
            "ExpiresIn": 600,
        },
        id="conditions",
    ),
]


@pytest.mark.parametrize("token", [None, "session/token=="], ids=["keys", "session"])
@pytest.mark.parametrize(("bucket", "key", "options"), CASES)
@freeze_time("2026-05-31 23:59:30")
def test_presign_post_matches_boto3(
    bucket: str, key: str, options: dict[str, Any], token: str | None
) -> None:
    expected = boto3_post(token, bucket, key, **options)

    post = sigv4.presign_post(
        expected["url"],
        bucket,
        key,
        credentials=sigv4.Credentials("AKIDEXAMPLE", "secret/key+", token),
        region=REGION,
        fields=options.get("Fields"),
        conditions=options.get("Conditions"),
        expires=options.get("ExpiresIn", 3600),
    )

    assert post.as_dict() == expected
    policy = json.loads(base64.b64decode(expected["fields"]["policy"]))
    assert post.policy == policy


@freeze_time("2026-05-31 12:00:00")
def test_presign_post_expiry_is_capped_by_credentials() -> None:
    ends = dt.datetime(2026, 5, 31, 12, 5, tzinfo=dt.timezone.utc)
    post = sigv4.presign_post(
        ENDPOINT,
        "b",
        "k",
        credentials=sigv4.Credentials("AKID", "s", "t", expiration=ends),
        region=REGION,
    )
    assert post.expiration == ends
    assert post.policy["expiration"] == "2026-05-31T12:05:00Z"


@pytest.mark.parametrize("expires", [0, -5, 1.5, True])
def test_presign_post_rejects_bad_expiry(expires: Any) -> None:
    with pytest.raises(InvalidExpiryError):
        sigv4.presign_post(
            ENDPOINT,
            "b",
            "k",
            credentials=sigv4.Credentials("AKID", "s"),
            region=REGION,
            expires=expires,
        )


@pytest.mark.parametrize(
    "condition",
    [
        {"a": "1", "b": "2"},
        ["content-length-range", 10, 1],
        ["content-length-range", "1", 10],
        ["starts-with", "key", "x"],
        ["eq", "$key"],
        ["like", "$key", "x"],
        "acl",
    ],
)
def test_policy_document_rejects_malformed_conditions(condition: Any) -> None:
    moment = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    with pytest.raises(SigningError):
        policy_document(moment, [condition])
