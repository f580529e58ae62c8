"""S3 and DynamoDB clients on httpx, shaped like boto3's.

``import services as boto3`` then ``boto3.client("s3")`` gives a sync client,
``boto3.async_client("s3")`` an async one (``async with``), and
``boto3.resource("dynamodb")`` the DynamoDB resource. httpx is imported when
the first client is built, not when this package is.

Service clients stand on a small core: `services.errors` (one error tree),
`services.config` (settings and endpoints), `services.retry` (the standard
retry mode) and `services._executor` (how to define an operation, and the sync
and async executors that send it).
"""

from __future__ import annotations

import importlib
from typing import Any

from .config import Config
from .errors import ClientError, ParamValidationError, ServiceError

__all__ = [
    "ClientError",
    "Config",
    "ParamValidationError",
    "ServiceError",
    "async_client",
    "client",
    "resource",
]

# service name -> (module, sync client class, async client class)
_CLIENTS = {
    "s3": ("services.s3.client", "S3Client", "AsyncS3Client"),
    "dynamodb": ("services.dynamodb.client", "DynamoDBClient", "AsyncDynamoDBClient"),
}

# service name -> (module, resource factory); the DynamoDB package provides it
_RESOURCES = {
    "dynamodb": ("services.dynamodb.resource", "resource"),
}


def _client_class(service_name: str, index: int) -> Any:
    entry = _CLIENTS.get(service_name)
    if entry is None:
        known = ", ".join(sorted(_CLIENTS))
        raise ParamValidationError(
            f"unknown service {service_name!r}; known services are {known}"
        )
    return getattr(importlib.import_module(entry[0]), entry[index])


def _check_verify(verify: bool | str | None) -> None:
    if verify is None or verify is True:
        return
    if verify is False:
        raise NotImplementedError(
            "verify=False is not supported: TLS certificates are always verified"
        )
    raise NotImplementedError(
        "verify=<CA bundle> is not supported; set SSL_CERT_FILE (or "
        "SSL_CERT_DIR) to the bundle's path instead"
    )


def client(
    service_name: str,
    *,
    region_name: str | None = None,
    endpoint_url: str | None = None,
    aws_access_key_id: str | None = None,
    aws_secret_access_key: str | None = None,
    aws_session_token: str | None = None,
    config: Config | None = None,
    verify: bool | str | None = None,
) -> Any:
    """A sync client for `service_name` ("s3" or "dynamodb"), as boto3.client.

    TLS certificates are always verified: `verify` may be left out or True;
    False or a CA bundle path raise NotImplementedError (point SSL_CERT_FILE
    or SSL_CERT_DIR at a bundle instead).
    """
    _check_verify(verify)
    cls = _client_class(service_name, 1)
    return cls(
        region_name=region_name,
        endpoint_url=endpoint_url,
        aws_access_key_id=aws_access_key_id,
        aws_secret_access_key=aws_secret_access_key,
        aws_session_token=aws_session_token,
        config=config,
    )


def async_client(
    service_name: str,
    *,
    region_name: str | None = None,
    endpoint_url: str | None = None,
    aws_access_key_id: str | None = None,
    aws_secret_access_key: str | None = None,
    aws_session_token: str | None = None,
    config: Config | None = None,
    verify: bool | str | None = None,
) -> Any:
    """An async client for `service_name`; use it with ``async with``.

    `verify` as for `client`.
    """
    _check_verify(verify)
    cls = _client_class(service_name, 2)
    return cls(
        region_name=region_name,
        endpoint_url=endpoint_url,
        aws_access_key_id=aws_access_key_id,
        aws_secret_access_key=aws_secret_access_key,
        aws_session_token=aws_session_token,
        config=config,
    )


def resource(service_name: str, **kwargs: Any) -> Any:
    """A boto3-style resource; only "dynamodb" has one (services.dynamodb)."""
    entry = _RESOURCES.get(service_name)
    if entry is None:
        raise ParamValidationError(
            f"no resource for {service_name!r}; only dynamodb has one"
        )
    return getattr(importlib.import_module(entry[0]), entry[1])(**kwargs)
