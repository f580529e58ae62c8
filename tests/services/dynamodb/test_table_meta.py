"""`Table.meta`, the described attributes, load/reload and the waiters.

boto3's Table resource is the oracle for the names: every attribute its
resource model gives a Table must be there, and ``table.meta.client`` must
be the client the table calls (so ``except table.meta.client.exceptions.X``
ports). Values are compared with boto3 against real servers in
tests/integration/test_dynamodb_parity.py.
"""

from __future__ import annotations

import datetime

import boto3
import pytest

from services.dynamodb.client import AsyncDynamoDBClient, DynamoDBClient
from services.dynamodb.conditions import Attr
from services.dynamodb.errors import WaiterError
from services.dynamodb.resource import DynamoDBResource
from services.dynamodb.table import AsyncTable, Table, TableNotLoadedError
from services.errors import ServiceError

from .conftest import ENDPOINT, Fake, answer, failure

DESCRIBED = {
    "TableName": "tbl",
    "TableStatus": "ACTIVE",
    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
    "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
    "ItemCount": 3,
    "TableSizeBytes": 120,
    "TableArn": "arn:aws:dynamodb:eu-west-1:123456789012:table/tbl",
    "CreationDateTime": 1700000000.5,
    "BillingModeSummary": {"BillingMode": "PAY_PER_REQUEST"},
}


def _boto3_table_attributes() -> set[str]:
    resource = boto3.resource(
        "dynamodb",
        region_name="eu-west-1",
        endpoint_url=ENDPOINT,
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="not-a-secret",
    )
    table = resource.Table("tbl")
    shape = table.meta.client.meta.service_model.shape_for("TableDescription")
    return set(table.meta.resource_model.get_attributes(shape))


def test_table_has_every_attribute_boto3s_table_has(client: DynamoDBClient) -> None:
    names = _boto3_table_attributes()

    assert {"key_schema", "table_status", "item_count"} <= names
    for table in (Table(client, "tbl"), AsyncTable(client, "tbl")):
        missing = {n for n in names if not hasattr(type(table), n)}
        assert not missing, type(table).__name__


def test_meta_client_is_the_client_and_its_exceptions_catch(
    client: DynamoDBClient, fake: Fake
) -> None:
    fake.handler = lambda op, params, request: failure(
        "ConditionalCheckFailedException", "The conditional request failed"
    )
    table = DynamoDBResource(client).Table("tbl")

    assert table.meta.client is client
    with pytest.raises(table.meta.client.exceptions.ConditionalCheckFailedException):
        table.put_item(Item={"pk": "a"}, ConditionExpression=Attr("pk").not_exists())


def test_attributes_load_once_on_first_use(client: DynamoDBClient, fake: Fake) -> None:
    fake.handler = lambda op, params, request: answer({"Table": DESCRIBED})
    table = Table(client, "tbl")

    assert table.meta.data is None
    assert table.key_schema == DESCRIBED["KeySchema"]
    assert table.table_status == "ACTIVE"
    assert table.item_count == 3
    assert table.table_arn == DESCRIBED["TableArn"]
    assert table.billing_mode_summary == {"BillingMode": "PAY_PER_REQUEST"}
    assert table.creation_date_time == datetime.datetime(
        2023, 11, 14, 22, 13, 20, 500000, tzinfo=datetime.UTC
    )
    assert table.global_secondary_indexes is None  # absent, as boto3 gives it
    assert fake.ops() == ["DescribeTable"]
    assert fake.calls[0][1] == {"TableName": "tbl"}


def test_reload_describes_again(client: DynamoDBClient, fake: Fake) -> None:
    counts = iter([3, 7])
    fake.handler = lambda op, params, request: answer(
        {"Table": {**DESCRIBED, "ItemCount": next(counts)}}
    )
    table = Table(client, "tbl")

    table.load()
    first = table.item_count
    table.reload()

    assert (first, table.item_count) == (3, 7)
    assert fake.ops() == ["DescribeTable", "DescribeTable"]


def test_a_missing_table_raises_on_first_use(
    client: DynamoDBClient, fake: Fake
) -> None:
    fake.handler = lambda op, params, request: failure(
        "ResourceNotFoundException", "Requested resource not found"
    )
    table = Table(client, "gone")

    with pytest.raises(client.exceptions.ResourceNotFoundException):
        table.table_status  # noqa: B018


def test_wait_until_exists_and_not_exists(client: DynamoDBClient, fake: Fake) -> None:
    states = iter(["CREATING", "ACTIVE"])
    fake.handler = lambda op, params, request: answer(
        {"Table": {**DESCRIBED, "TableStatus": next(states)}}
    )
    waits: list[float] = []
    table = Table(client, "tbl", sleep=waits.append)

    table.wait_until_exists(WaiterConfig={"Delay": 2})
    fake.handler = lambda op, params, request: failure("ResourceNotFoundException")
    table.wait_until_not_exists()

    assert waits == [2.0]
    assert fake.ops() == ["DescribeTable"] * 3
    assert all(params == {"TableName": "tbl"} for _, params in fake.calls)


def test_wait_until_exists_gives_up(client: DynamoDBClient, fake: Fake) -> None:
    fake.handler = lambda op, params, request: answer(
        {"Table": {**DESCRIBED, "TableStatus": "CREATING"}}
    )
    table = Table(client, "tbl", sleep=lambda seconds: None)

    with pytest.raises(WaiterError):
        table.wait_until_exists(WaiterConfig={"Delay": 0, "MaxAttempts": 3})

    assert len(fake.calls) == 3


def test_resource_create_table_keeps_the_description(
    client: DynamoDBClient, fake: Fake
) -> None:
    fake.handler = lambda op, params, request: answer(
        {"TableDescription": {**DESCRIBED, "TableStatus": "CREATING"}}
    )

    table = DynamoDBResource(client).create_table(
        TableName="tbl",
        KeySchema=DESCRIBED["KeySchema"],
        AttributeDefinitions=DESCRIBED["AttributeDefinitions"],
        BillingMode="PAY_PER_REQUEST",
    )

    assert table.table_status == "CREATING"
    assert fake.ops() == ["CreateTable"]


@pytest.mark.anyio
async def test_async_table_attributes_after_load(
    aclient: AsyncDynamoDBClient, fake: Fake
) -> None:
    fake.handler = lambda op, params, request: answer({"Table": DESCRIBED})
    table = aclient.Table("tbl")

    with pytest.raises(TableNotLoadedError, match="load"):
        table.key_schema  # noqa: B018
    assert not hasattr(table, "item_count")  # an AttributeError, so hasattr works
    await table.load()

    assert table.meta.client is aclient
    assert table.key_schema == DESCRIBED["KeySchema"]
    assert table.item_count == 3
    assert fake.ops() == ["DescribeTable"]
    assert issubclass(TableNotLoadedError, ServiceError)


@pytest.mark.anyio
async def test_async_table_waiters(aclient: AsyncDynamoDBClient, fake: Fake) -> None:
    states = iter(["CREATING", "ACTIVE"])
    fake.handler = lambda op, params, request: answer(
        {"Table": {**DESCRIBED, "TableStatus": next(states)}}
    )
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    table = AsyncTable(aclient, "tbl", sleep=sleep)
    await table.wait_until_exists(WaiterConfig={"Delay": 1})
    fake.handler = lambda op, params, request: failure("ResourceNotFoundException")
    await table.wait_until_not_exists(WaiterConfig={"Delay": 1})

    assert waits == [1.0]
    assert fake.ops() == ["DescribeTable"] * 3


def test_hot_path_does_not_describe(client: DynamoDBClient, fake: Fake) -> None:
    fake.handler = lambda op, params, request: answer({})
    table = Table(client, "tbl")

    table.put_item(Item={"pk": "a"})
    table.get_item(Key={"pk": "a"})

    assert fake.ops() == ["PutItem", "GetItem"]
    assert table.meta.data is None
