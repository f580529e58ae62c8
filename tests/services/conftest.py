"""Helpers for the services unit tests: clients on a respx router."""

from __future__ import annotations

from typing import Any

import httpx
import respx

import services
from services.s3.client import AsyncS3Client, S3Client

KEYS = {"aws_access_key_id": "AKIDEXAMPLE", "aws_secret_access_key": "SECRETEXAMPLE"}


def s3_client(
    router: respx.MockRouter,
    *,
    region: str = "us-east-1",
    endpoint_url: str | None = None,
    **config: Any,
) -> S3Client:
    """A sync S3 client whose transport is the router; no backoff sleeping."""
    config.setdefault("retry_base", 0.0)
    return S3Client(
        region_name=region,
        endpoint_url=endpoint_url,
        config=services.Config(**config),
        _transport=httpx.MockTransport(router.handler),
        **KEYS,
    )


def async_s3_client(
    router: respx.MockRouter, *, region: str = "us-east-1", **config: Any
) -> AsyncS3Client:
    """An async S3 client whose transport is the router."""
    config.setdefault("retry_base", 0.0)
    return AsyncS3Client(
        region_name=region,
        config=services.Config(**config),
        _transport=httpx.MockTransport(router.async_handler),
        **KEYS,
    )
