"""The DynamoDB client against dynalite and moto (signature checking on).

Each server is the independent truth for what it checks: dynalite for
DynamoDB's validation and error shapes, moto for signatures (a wrong secret
is refused) and for the operations dynalite lacks (transactions, TTL,
PartiQL), which run on moto alone.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

import services
from services.dynamodb.conditions import Attr, Key, Set
from services.dynamodb.errors import UnprocessedItemsError

from .servers import Server

pytestmark = pytest.mark.integration


@pytest.fixture(params=["dynalite", "moto"])
def server(request: pytest.FixtureRequest) -> Server:
    found: Server = request.getfixturevalue(request.param)
    return found


def client_args(server: Server) -> dict[str, Any]:
    creds = server.credentials
    return {
        "region_name": server.region,
        "endpoint_url": server.endpoint,
        "aws_access_key_id": creds.access_key_id,
        "aws_secret_access_key": creds.secret_access_key,
        "aws_session_token": creds.session_token,
    }


@pytest.fixture
def client(server: Server) -> Iterator[Any]:
    made = services.client("dynamodb", **client_args(server))
    yield made
    made.close()


def create(client: Any, *, range_key: bool = True) -> str:
    name = f"t{uuid.uuid4().hex[:12]}"
    schema = [{"AttributeName": "pk", "KeyType": "HASH"}]
    attributes = [{"AttributeName": "pk", "AttributeType": "S"}]
    if range_key:
        schema.append({"AttributeName": "sk", "KeyType": "RANGE"})
        attributes.append({"AttributeName": "sk", "AttributeType": "N"})
    client.create_table(
        TableName=name,
        KeySchema=schema,
        AttributeDefinitions=attributes,
        ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
    )
    client.get_waiter("table_exists").wait(
        TableName=name, WaiterConfig={"Delay": 0.05, "MaxAttempts": 100}
    )
    return name


@pytest.fixture
def table_name(client: Any) -> Iterator[str]:
    name = create(client)
    yield name
    client.delete_table(TableName=name)


@pytest.fixture
def moto_client(moto: Server) -> Iterator[Any]:
    made = services.client("dynamodb", **client_args(moto))
    yield made
    made.close()


@pytest.fixture
def moto_table(moto_client: Any) -> Iterator[str]:
    name = create(moto_client)
    yield name
    moto_client.delete_table(TableName=name)


def test_item_operations_round_trip(client: Any, table_name: str) -> None:
    item = {
        "pk": {"S": "a"},
        "sk": {"N": "1"},
        "b": {"B": bytes(range(256))},
        "bs": {"BS": [b"\x00", b"\xff"]},
        "m": {
            "M": {"n": {"N": "-1500"}, "l": {"L": [{"NULL": True}, {"BOOL": False}]}}
        },
        "ss": {"SS": ["x", "y"]},
    }
    key = {"pk": {"S": "a"}, "sk": {"N": "1"}}

    assert (
        client.put_item(TableName=table_name, Item=item)["ResponseMetadata"][
            "HTTPStatusCode"
        ]
        == 200
    )
    got = client.get_item(TableName=table_name, Key=key, ConsistentRead=True)["Item"]
    updated = client.update_item(
        TableName=table_name,
        Key=key,
        UpdateExpression="SET #c = if_not_exists(#c, :zero) + :one",
        ExpressionAttributeNames={"#c": "count"},
        ExpressionAttributeValues={":zero": {"N": "0"}, ":one": {"N": "1"}},
        ReturnValues="UPDATED_NEW",
    )
    deleted = client.delete_item(TableName=table_name, Key=key, ReturnValues="ALL_OLD")
    gone = client.get_item(TableName=table_name, Key=key)

    assert {k: v for k, v in got.items() if k not in ("bs", "ss")} == {
        k: v for k, v in item.items() if k not in ("bs", "ss")
    }
    assert sorted(got["bs"]["BS"]) == [b"\x00", b"\xff"]
    assert sorted(got["ss"]["SS"]) == ["x", "y"]
    assert updated["Attributes"] == {"count": {"N": "1"}}
    assert deleted["Attributes"]["count"] == {"N": "1"}
    assert "Item" not in gone


def test_typed_errors(client: Any, table_name: str) -> None:
    key = {"pk": {"S": "a"}, "sk": {"N": "1"}}
    client.put_item(TableName=table_name, Item=key)

    with pytest.raises(client.exceptions.ConditionalCheckFailedException) as failed:
        client.put_item(
            TableName=table_name,
            Item=key,
            ConditionExpression="attribute_not_exists(pk)",
        )
    with pytest.raises(client.exceptions.ResourceNotFoundException) as missing:
        client.get_item(TableName=table_name + "x", Key=key)
    with pytest.raises(client.exceptions.ValidationException) as invalid:
        client.get_item(TableName=table_name, Key={"pk": {"S": "a"}})

    assert failed.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
    assert failed.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert invalid.value.response["Error"]["Message"]


def test_pagination_goes_past_empty_filtered_pages(
    client: Any, table_name: str
) -> None:
    for n in range(30):
        client.put_item(
            TableName=table_name,
            Item={"pk": {"S": "p"}, "sk": {"N": str(n)}, "keep": {"BOOL": n >= 25}},
        )

    pages = list(
        client.get_paginator("query").paginate(
            TableName=table_name,
            KeyConditionExpression="pk = :p",
            FilterExpression="keep = :t",
            ExpressionAttributeValues={":p": {"S": "p"}, ":t": {"BOOL": True}},
            PaginationConfig={"PageSize": 5},
        )
    )
    scanned = client.get_paginator("scan").paginate(TableName=table_name, Limit=7)
    full = scanned.build_full_result()

    assert [p["Count"] for p in pages[:5]] == [0, 0, 0, 0, 0]
    found = [int(i["sk"]["N"]) for p in pages for i in p["Items"]]
    assert found == [25, 26, 27, 28, 29]
    assert full["Count"] == 30 and len(full["Items"]) == 30


def test_parallel_scan_segments_cover_the_table(client: Any, table_name: str) -> None:
    for n in range(20):
        client.put_item(
            TableName=table_name, Item={"pk": {"S": f"p{n}"}, "sk": {"N": "0"}}
        )

    seen = []
    for segment in range(3):
        pages = client.get_paginator("scan").paginate(
            TableName=table_name, Segment=segment, TotalSegments=3
        )
        seen += [i["pk"]["S"] for p in pages for i in p["Items"]]

    assert sorted(seen) == sorted(f"p{n}" for n in range(20))


def test_batches(client: Any, table_name: str) -> None:
    puts = [
        {"PutRequest": {"Item": {"pk": {"S": "b"}, "sk": {"N": str(n)}}}}
        for n in range(20)
    ]
    written = client.batch_write_item(RequestItems={table_name: puts})
    keys = [{"pk": {"S": "b"}, "sk": {"N": str(n)}} for n in range(20)]
    read = client.batch_get_item(RequestItems={table_name: {"Keys": keys}})

    assert written["UnprocessedItems"] == {}
    assert len(read["Responses"][table_name]) == 20


def test_transactions_on_moto(moto_client: Any, moto_table: str) -> None:
    client, table_name = moto_client, moto_table
    keys = [{"pk": {"S": "b"}, "sk": {"N": str(n)}} for n in range(2)]
    client.put_item(TableName=table_name, Item=keys[0])
    client.transact_write_items(
        TransactItems=[
            {
                "Put": {
                    "TableName": table_name,
                    "Item": {"pk": {"S": "t"}, "sk": {"N": "1"}},
                }
            },
            {
                "Update": {
                    "TableName": table_name,
                    "Key": keys[0],
                    "UpdateExpression": "SET v = :v",
                    "ExpressionAttributeValues": {":v": {"S": "x"}},
                }
            },
        ]
    )
    got = client.transact_get_items(
        TransactItems=[{"Get": {"TableName": table_name, "Key": keys[0]}}]
    )

    assert got["Responses"][0]["Item"]["v"] == {"S": "x"}


def test_failed_transaction_names_its_reasons(
    moto_client: Any, moto_table: str
) -> None:
    client, table_name = moto_client, moto_table
    key = {"pk": {"S": "t"}, "sk": {"N": "1"}}
    client.put_item(TableName=table_name, Item=key)

    with pytest.raises(client.exceptions.TransactionCanceledException) as caught:
        client.transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": table_name,
                        "Item": {"pk": {"S": "t"}, "sk": {"N": "2"}},
                    }
                },
                {
                    "ConditionCheck": {
                        "TableName": table_name,
                        "Key": key,
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
            ]
        )

    codes = [r["Code"] for r in caught.value.response["CancellationReasons"]]
    assert codes == ["None", "ConditionalCheckFailed"]
    assert "Item" not in client.get_item(
        TableName=table_name, Key={"pk": {"S": "t"}, "sk": {"N": "2"}}
    )


def test_table_operations(client: Any, server: Server) -> None:
    name = create(client, range_key=False)
    described = client.describe_table(TableName=name)["Table"]
    listed = (
        client.get_paginator("list_tables")
        .paginate(PaginationConfig={"PageSize": 1})
        .build_full_result()
    )
    updated = client.update_table(
        TableName=name,
        ProvisionedThroughput={"ReadCapacityUnits": 6, "WriteCapacityUnits": 6},
    )
    client.get_waiter("table_exists").wait(
        TableName=name, WaiterConfig={"Delay": 0.05, "MaxAttempts": 100}
    )
    client.delete_table(TableName=name)
    client.get_waiter("table_not_exists").wait(
        TableName=name, WaiterConfig={"Delay": 0.05, "MaxAttempts": 100}
    )

    assert described["TableName"] == name and described["TableStatus"] == "ACTIVE"
    assert name in listed["TableNames"]
    assert updated["TableDescription"]["TableName"] == name
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.describe_table(TableName=name)


def test_ttl_and_partiql_on_moto(moto: Server) -> None:
    client = services.client("dynamodb", **client_args(moto))
    name = create(client)
    try:
        set_ttl = client.update_time_to_live(
            TableName=name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires"},
        )
        ttl = client.describe_time_to_live(TableName=name)
        # moto answers 500 to a parameterised INSERT; a literal one works
        client.execute_statement(
            Statement=f"INSERT INTO \"{name}\" VALUE {{'pk': 'q', 'sk': 1}}"
        )
        selected = client.execute_statement(
            Statement=f'SELECT * FROM "{name}" WHERE pk = ?', Parameters=[{"S": "q"}]
        )
    finally:
        client.delete_table(TableName=name)
        client.close()

    assert set_ttl["TimeToLiveSpecification"]["Enabled"] is True
    assert ttl["TimeToLiveDescription"]["AttributeName"] == "expires"
    assert selected["Items"] == [{"pk": {"S": "q"}, "sk": {"N": "1"}}]


def test_moto_refuses_a_wrong_secret(moto: Server) -> None:
    args = client_args(moto)
    args["aws_secret_access_key"] = "not-the-secret"
    client = services.client("dynamodb", **args)
    try:
        with pytest.raises(services.ClientError) as caught:
            client.list_tables()
    finally:
        client.close()

    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] in (400, 403)
    assert "not-the-secret" not in str(caught.value)


def test_table_with_python_values(client: Any, table_name: str) -> None:
    table = client.Table(table_name)
    item = {"pk": "u", "sk": 1, "n": Decimal("2.5"), "tags": {"a", "b"}, "raw": b"\x01"}

    table.put_item(Item=item)
    with pytest.raises(client.exceptions.ConditionalCheckFailedException):
        table.put_item(Item=item, ConditionExpression=Attr("pk").not_exists())
    new = table.update_item(
        Key={"pk": "u", "sk": 1},
        Update=Set("n", Attr("n") + 1).add("tags", {"c"}).remove("raw"),
        ReturnValues="ALL_NEW",
    )["Attributes"]
    with table.batch_writer(overwrite_by_pkeys=["pk", "sk"]) as writer:
        for n in range(2, 40):
            writer.put_item(Item={"pk": "u", "sk": n, "even": n % 2 == 0})
    evens = list(
        table.query_items(
            KeyConditionExpression=Key("pk").eq("u") & Key("sk").between(2, 39),
            FilterExpression=Attr("even").eq(True),
            Limit=4,
        )
    )
    fetched = table.batch_get([{"pk": "u", "sk": n} for n in range(1, 45)])

    assert new == {"pk": "u", "sk": 1, "n": Decimal("3.5"), "tags": {"a", "b", "c"}}
    assert [i["sk"] for i in evens] == list(range(2, 40, 2))
    assert len(fetched) == 39


def test_batch_writer_across_many_batches(client: Any, table_name: str) -> None:
    table = client.Table(table_name)

    with table.batch_writer() as writer:
        for n in range(130):
            writer.put_item(Item={"pk": "w", "sk": n})
        writer.delete_item(Key={"pk": "w", "sk": 0})

    items = list(table.query_items(KeyConditionExpression=Key("pk").eq("w")))
    assert [i["sk"] for i in items] == list(range(1, 130))


def test_batch_get_against_a_missing_table_names_the_keys(client: Any) -> None:
    table = client.Table("no-such-table-" + uuid.uuid4().hex[:6])

    with pytest.raises(UnprocessedItemsError) as caught:
        table.batch_get([{"pk": "a"}])

    assert caught.value.unprocessed == {table.name: [{"pk": "a"}]}
    assert isinstance(
        caught.value.__cause__, client.exceptions.ResourceNotFoundException
    )


@pytest.mark.anyio
async def test_async_client_and_table(server: Server) -> None:
    async with services.async_client("dynamodb", **client_args(server)) as client:
        name = f"t{uuid.uuid4().hex[:12]}"
        await client.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        await client.get_waiter("table_exists").wait(
            TableName=name, WaiterConfig={"Delay": 0.05, "MaxAttempts": 100}
        )
        table = client.Table(name)
        async with table.batch_writer() as writer:
            for n in range(30):
                await writer.put_item(Item={"pk": f"k{n}", "n": n})
        items = [i async for i in table.scan_items(Limit=7)]
        with pytest.raises(client.exceptions.ConditionalCheckFailedException):
            await table.put_item(
                Item={"pk": "k1"}, ConditionExpression=Attr("pk").not_exists()
            )
        await client.delete_table(TableName=name)

    assert sorted(i["n"] for i in items) == list(range(30))
