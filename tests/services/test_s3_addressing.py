"""Where S3 requests go for custom endpoints, checked against botocore's own
prepared requests (nothing is sent: botocore's is stopped before sending,
ours is answered by a mock transport)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
import httpx
import pytest
from botocore.config import Config as BotoConfig

import services
from services.s3.client import S3Client

KEYS = {"aws_access_key_id": "AKIDEXAMPLE", "aws_secret_access_key": "SECRETEXAMPLE"}
ENDPOINTS = [
    "http://127.0.0.1:9000",
    "http://127.0.0.1:9000/prefix",
    "http://[::1]:9000",
    "http://localhost:9000/prefix/",
    "http://localhost:9000",
]
CALLS: dict[str, Callable[[Any], Any]] = {
    "get_object": lambda c: c.get_object(Bucket="bkt", Key="k"),
    "list_objects_v2": lambda c: c.list_objects_v2(Bucket="bkt"),
    "list_buckets": lambda c: c.list_buckets(),
}


class _Stop(Exception):
    pass


def _botocore_url(endpoint: str, style: str, call: str) -> str:
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        config=BotoConfig(s3={"addressing_style": style}),
        **KEYS,
    )
    seen: list[str] = []

    def stop(request: Any, **_: Any) -> None:
        seen.append(request.url)
        raise _Stop

    client.meta.events.register("before-send", stop)
    with pytest.raises(_Stop):
        CALLS[call](client)
    return seen[0]


def _our_url(endpoint: str, style: str, call: str) -> str:
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        raise httpx.ConnectError("stop", request=request)

    client = S3Client(
        region_name="us-east-1",
        endpoint_url=endpoint,
        config=services.Config(addressing_style=style, max_attempts=1),
        _transport=httpx.MockTransport(answer),
        **KEYS,
    )
    with pytest.raises(services.errors.EndpointConnectionError):
        CALLS[call](client)
    return seen[0]


@pytest.mark.parametrize("call", sorted(CALLS))
@pytest.mark.parametrize("style", ["virtual", "auto", "path"])
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_requests_go_where_botocore_sends_them(
    endpoint: str, style: str, call: str
) -> None:
    assert _our_url(endpoint, style, call) == _botocore_url(endpoint, style, call)
