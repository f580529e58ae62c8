"""Errors a boto3 user ports over: named exceptions, the tree, a closed client."""

from __future__ import annotations

import gzip
import json
import os
from typing import Any

import botocore
import pytest
import respx

import services
from services.dynamodb import errors as ddb_errors
from services.errors import (
    KNOWN_CODES,
    ClientClosedError,
    ClientError,
    ServiceError,
    ServiceExceptions,
)

from .conftest import async_s3_client, s3_client


def model_exceptions(service: str, version: str) -> set[str]:
    path = os.path.join(
        os.path.dirname(botocore.__file__),
        "data",
        service,
        version,
        "service-2.json.gz",
    )
    with gzip.open(path) as file:
        shapes = json.load(file)["shapes"]
    return {name for name, shape in shapes.items() if shape.get("exception")}


@pytest.mark.parametrize(
    ("service", "version"), [("s3", "2006-03-01"), ("dynamodb", "2012-08-10")]
)
def test_every_modelled_exception_is_reachable(service: str, version: str) -> None:
    declared = model_exceptions(service, version)
    assert declared <= KNOWN_CODES[service]
    exceptions = ServiceExceptions(service)
    for code in declared:
        assert issubclass(getattr(exceptions, code), ClientError)


@pytest.mark.parametrize(
    ("service", "name"),
    [("s3", "NoSuchKeys"), ("s3", "NoSuchkey"), ("dynamodb", "ConditionalCheckFailed")],
)
def test_a_misspelled_exception_is_an_attribute_error(service: str, name: str) -> None:
    exceptions = ServiceExceptions(service)
    with pytest.raises(AttributeError, match=name):
        getattr(exceptions, name)
    # a code that arrives at runtime still gets its class
    made = exceptions.from_code(name)
    assert made.__name__ == name and issubclass(made, ClientError)


def test_dynamodb_common_errors_stay_reachable() -> None:
    exceptions = services.client(
        "dynamodb",
        region_name="eu-west-1",
        endpoint_url="http://127.0.0.1:9",
        aws_access_key_id="a",
        aws_secret_access_key="b",
    ).exceptions
    assert exceptions.ValidationException.__name__ == "ValidationException"
    assert exceptions.ClientError is ClientError


@pytest.mark.parametrize(
    "cls",
    [
        ddb_errors.DynamoDBValueError,
        ddb_errors.InvalidNumberError,
        ddb_errors.EmptySetError,
        ddb_errors.ExpressionError,
        ddb_errors.UnsupportedTypeError,
        ddb_errors.UnprocessedItemsError,
        ddb_errors.WaiterError,
    ],
)
def test_dynamodb_errors_are_service_errors(cls: type[Exception]) -> None:
    assert issubclass(cls, ServiceError)
    if cls.__name__ not in ("UnprocessedItemsError", "WaiterError"):
        assert issubclass(cls, ValueError)


def test_marshalling_error_is_caught_as_service_error() -> None:
    from services.dynamodb.types import serialize

    with pytest.raises(ServiceError):
        serialize(set())


def test_closed_sync_client_raises_a_typed_error() -> None:
    router = respx.MockRouter(assert_all_called=False)
    router.route().respond(200)
    s3 = s3_client(router)
    s3.close()
    with pytest.raises(ClientClosedError, match="closed"):
        s3.head_bucket(Bucket="bucket")
    assert not router.calls


def test_closed_dynamodb_client_raises_a_typed_error() -> None:
    ddb = services.client(
        "dynamodb",
        region_name="eu-west-1",
        endpoint_url="http://127.0.0.1:9",
        aws_access_key_id="a",
        aws_secret_access_key="b",
    )
    with ddb:
        pass
    with pytest.raises(ClientClosedError):
        ddb.get_item(TableName="tbl", Key={"pk": {"S": "a"}})
    with pytest.raises(ClientClosedError):
        ddb.Table("tbl").get_item(Key={"pk": "a"})


@pytest.mark.anyio
async def test_closed_async_client_raises_a_typed_error() -> None:
    router = respx.MockRouter(assert_all_called=False)
    router.route().respond(200)
    s3: Any = async_s3_client(router)
    async with s3:
        pass
    with pytest.raises(ClientClosedError):
        await s3.head_bucket(Bucket="bucket")
    assert not router.calls


@pytest.mark.parametrize("verify", [False, "/etc/ssl/certs/ca.pem"])
def test_verify_other_than_true_is_refused_clearly(verify: Any) -> None:
    for make in (services.client, services.async_client):
        with pytest.raises(NotImplementedError, match=r"SSL_CERT_FILE|always verified"):
            make("s3", region_name="us-east-1", verify=verify)


def test_verify_true_is_accepted() -> None:
    s3 = services.client(
        "s3",
        region_name="us-east-1",
        verify=True,
        aws_access_key_id="a",
        aws_secret_access_key="b",
    )
    s3.close()


def test_get_paginator_for_an_operation_without_one_is_typed() -> None:
    from services.errors import OperationNotPageableError

    s3 = s3_client(respx.MockRouter())
    with pytest.raises(OperationNotPageableError, match="get_object") as caught:
        s3.get_paginator("get_object")
    assert caught.value.operation_name == "get_object"
    assert isinstance(caught.value, ServiceError)
