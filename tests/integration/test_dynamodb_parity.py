"""Parity: the same calls through boto3 and lambdalite against the same server.

boto3 is the oracle here: for each call, lambdalite's result dict (or error
response) must equal boto3's, ResponseMetadata aside. Reads run on the same
data; writes are repeated so both clients see the same state (a second put
with ReturnValues=ALL_OLD returns what the first wrote, whoever wrote it).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import boto3
import pytest
from boto3.dynamodb import conditions as boto_conditions

import services
from services.dynamodb import conditions as ours

from .servers import Server
from .test_dynamodb_client import client_args

pytestmark = pytest.mark.integration


@pytest.fixture(params=["dynalite", "moto"])
def server(request: pytest.FixtureRequest) -> Server:
    found: Server = request.getfixturevalue(request.param)
    return found


class Pair:
    """boto3's client and ours on one server, and a table made for the test."""

    def __init__(self, server: Server) -> None:
        args = client_args(server)
        self.server = server
        self.boto = boto3.client("dynamodb", **args)
        self.ours = services.client("dynamodb", **args)
        self.boto_resource = boto3.resource("dynamodb", **args)
        self.ours_resource = services.resource("dynamodb", **args)
        self.table = f"p{uuid.uuid4().hex[:12]}"

    def same(self, operation: str, **params: Any) -> Any:
        """Call `operation` through both; assert equal results; return ours."""
        theirs = _outcome(getattr(self.boto, operation), params)
        mine = _outcome(getattr(self.ours, operation), params)
        if operation == "batch_get_item":  # the server's order is its own
            theirs, mine = _sorted_responses(theirs), _sorted_responses(mine)
        if operation == "describe_table" and isinstance(mine, dict):
            # dynalite sends TableThroughputModeSummary, which botocore's model
            # lacks and so drops; lambdalite passes unmodeled members through
            mine["Table"].pop("TableThroughputModeSummary", None)
        assert mine == theirs, operation
        return mine

    def close(self) -> None:
        self.ours.close()
        self.ours_resource.meta.client.close()


def _outcome(call: Callable[..., dict[str, Any]], params: dict[str, Any]) -> Any:
    try:
        result = call(**params)
    except Exception as error:  # both libraries' ClientError carry .response
        response = getattr(error, "response", None)
        if response is None:
            raise
        return ("error", _strip(response))
    return _strip(result)


def _sorted_responses(result: Any) -> Any:
    for table, items in result.get("Responses", {}).items():
        result["Responses"][table] = sorted(items, key=repr)
    return result


def _strip(result: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in result.items() if k != "ResponseMetadata"}


@pytest.fixture
def pair(server: Server) -> Iterator[Pair]:
    made = Pair(server)
    made.boto.create_table(
        TableName=made.table,
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "N"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    made.boto.get_waiter("table_exists").wait(
        TableName=made.table, WaiterConfig={"Delay": 1, "MaxAttempts": 30}
    )
    yield made
    made.boto.delete_table(TableName=made.table)
    made.close()


def item(n: int, pk: str = "p") -> dict[str, Any]:
    return {
        "pk": {"S": pk},
        "sk": {"N": str(n)},
        "b": {"B": bytes([n % 256, 0, 255])},
        "bs": {"BS": [b"\x01", bytes([n % 256 + 2 if n % 256 < 250 else 3])]},
        "m": {"M": {"x": {"N": "1.50"}, "l": {"L": [{"S": "s"}, {"NULL": True}]}}},
        "flag": {"BOOL": n % 3 == 0},
    }


def test_client_results_match_boto3(pair: Pair) -> None:
    name = pair.table
    for n in range(12):
        pair.ours.put_item(TableName=name, Item=item(n))
    key = {"pk": {"S": "p"}, "sk": {"N": "1"}}

    pair.same("get_item", TableName=name, Key=key)
    pair.same("get_item", TableName=name, Key=key, ProjectionExpression="b, m.l[0]")
    pair.same("get_item", TableName=name, Key={"pk": {"S": "none"}, "sk": {"N": "1"}})
    pair.same("put_item", TableName=name, Item=item(1), ReturnValues="ALL_OLD")
    pair.same(
        "update_item",
        TableName=name,
        Key=key,
        UpdateExpression="SET v = :v",
        ExpressionAttributeValues={":v": {"SS": ["a", "b"]}},
        ReturnValues="ALL_NEW",
    )
    pair.same(
        "query",
        TableName=name,
        KeyConditionExpression="pk = :p AND sk > :s",
        FilterExpression="flag = :f",
        ExpressionAttributeValues={
            ":p": {"S": "p"},
            ":s": {"N": "2"},
            ":f": {"BOOL": True},
        },
        Limit=4,
    )
    pair.same("scan", TableName=name, Limit=5, ExclusiveStartKey=key)
    pair.same("scan", TableName=name, Segment=0, TotalSegments=2)
    keys = [{"pk": {"S": "p"}, "sk": {"N": str(n)}} for n in range(3)]
    pair.same("batch_get_item", RequestItems={name: {"Keys": keys}})
    pair.same(
        "batch_write_item",
        RequestItems={name: [{"PutRequest": {"Item": item(20)}}]},
    )
    pair.same("delete_item", TableName=name, Key={"pk": {"S": "x"}, "sk": {"N": "0"}})
    pair.same("describe_table", TableName=name)


def test_errors_match_boto3(pair: Pair) -> None:
    name = pair.table
    pair.ours.put_item(TableName=name, Item=item(1))

    failed = pair.same(
        "put_item",
        TableName=name,
        Item=item(1),
        ConditionExpression="attribute_not_exists(pk)",
        ReturnValuesOnConditionCheckFailure="ALL_OLD",
    )
    pair.same("describe_table", TableName=name + "-missing")
    pair.same("get_item", TableName=name, Key={"pk": {"S": "p"}})
    pair.same("query", TableName=name, KeyConditionExpression="nope = :x")

    assert failed[0] == "error"
    assert failed[1]["Error"]["Code"] == "ConditionalCheckFailedException"


def test_moto_only_operations_match_boto3(moto: Server) -> None:
    # dynalite has no transactions, TTL or PartiQL
    made = Pair(moto)
    name = made.table
    made.ours.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    try:
        made.ours.put_item(TableName=name, Item={"pk": {"S": "a"}, "n": {"N": "1"}})
        made.same(
            "transact_get_items",
            TransactItems=[{"Get": {"TableName": name, "Key": {"pk": {"S": "a"}}}}],
        )
        cancelled = made.same(
            "transact_write_items",
            TransactItems=[
                {
                    "ConditionCheck": {
                        "TableName": name,
                        "Key": {"pk": {"S": "a"}},
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                }
            ],
        )
        made.same("describe_time_to_live", TableName=name)
        made.same(
            "execute_statement",
            Statement=f'SELECT * FROM "{name}" WHERE pk = ?',
            Parameters=[{"S": "a"}],
        )
    finally:
        made.ours.delete_table(TableName=name)
        made.close()

    assert cancelled[1]["CancellationReasons"][0]["Code"] == "ConditionalCheckFailed"


def _text_blob_item(pk: str, sk: int) -> dict[str, Any]:
    return {
        "pk": {"S": pk},
        "sk": {"N": str(sk)},
        "b": {"B": "abcd"},
        "u": {"B": "h\u00e9 \u2603"},
        "bs": {"BS": ["abcd", b"raw", "\u00e9"]},
        "m": {"M": {"x": {"B": "in a map"}, "l": {"L": [{"B": "in a list"}]}}},
    }


def test_str_binary_values_are_text_as_in_boto3(pair: Pair) -> None:
    # boto3 sends a str B (or BS member) as its UTF-8 bytes; so must we,
    # in items, expression values, batch writes and transactions alike
    name = pair.table
    pair.boto.put_item(TableName=name, Item=_text_blob_item("boto3", 1))
    pair.ours.put_item(TableName=name, Item=_text_blob_item("ours", 1))
    for client, pk in ((pair.boto, "boto3"), (pair.ours, "ours")):
        client.batch_write_item(
            RequestItems={name: [{"PutRequest": {"Item": _text_blob_item(pk, 2)}}]}
        )
        client.update_item(
            TableName=name,
            Key={"pk": {"S": pk}, "sk": {"N": "1"}},
            UpdateExpression="SET v = :v",
            ExpressionAttributeValues={":v": {"B": "set by update"}},
        )

    for sk in (1, 2):
        read = {
            pk: pair.boto.get_item(
                TableName=name, Key={"pk": {"S": pk}, "sk": {"N": str(sk)}}
            )["Item"]
            for pk in ("boto3", "ours")
        }
        for found in read.values():
            found.pop("pk")
        assert read["ours"] == read["boto3"]
        assert read["ours"]["b"] == {"B": b"abcd"}
    mine = pair.ours.get_item(
        TableName=name, Key={"pk": {"S": "ours"}, "sk": {"N": "1"}}
    )
    assert mine["Item"]["u"] == {"B": "h\u00e9 \u2603".encode()}
    assert mine["Item"]["v"] == {"B": b"set by update"}


def test_list_tables_matches_boto3(pair: Pair) -> None:
    pair.same("list_tables")
    pair.same("list_tables", Limit=1)


def test_table_results_match_boto3(pair: Pair) -> None:
    theirs = pair.boto_resource.Table(pair.table)
    mine = pair.ours_resource.Table(pair.table)
    values = {
        "pk": "t",
        "sk": 1,
        "n": Decimal("12.50"),
        "tags": {"a", "b"},
        "raw": b"\x00\x01",
        "doc": {"list": [1, "two", None, True, {"deep": Decimal("-0.5")}]},
    }
    mine.put_item(Item=values)
    for n in range(2, 9):
        mine.put_item(Item={"pk": "t", "sk": n, "even": n % 2 == 0})

    def same(
        call: str, ours_params: dict[str, Any], boto_params: dict[str, Any]
    ) -> None:
        expected = _outcome(getattr(theirs, call), boto_params)
        got = _outcome(getattr(mine, call), ours_params)
        assert got == expected, call

    key = {"pk": "t", "sk": 1}
    same("get_item", {"Key": key}, {"Key": key})
    same(
        "put_item",
        {"Item": values, "ReturnValues": "ALL_OLD"},
        {"Item": values, "ReturnValues": "ALL_OLD"},
    )
    same(
        "query",
        {
            "KeyConditionExpression": ours.Key("pk").eq("t") & ours.Key("sk").gte(2),
            "FilterExpression": ours.Attr("even").eq(True),
            "Limit": 3,
        },
        {
            "KeyConditionExpression": boto_conditions.Key("pk").eq("t")
            & boto_conditions.Key("sk").gte(2),
            "FilterExpression": boto_conditions.Attr("even").eq(True),
            "Limit": 3,
        },
    )
    same(
        "scan",
        {"FilterExpression": ours.Attr("doc.list[1]").eq("two")},
        {"FilterExpression": boto_conditions.Attr("doc.list[1]").eq("two")},
    )
    same(
        "update_item",
        {
            "Key": key,
            "Update": ours.Set("n", Decimal(3)).remove("raw"),
            "ReturnValues": "ALL_NEW",
        },
        {
            "Key": key,
            "UpdateExpression": "SET #n = :n REMOVE #r",
            "ExpressionAttributeNames": {"#n": "n", "#r": "raw"},
            "ExpressionAttributeValues": {":n": Decimal(3)},
            "ReturnValues": "ALL_NEW",
        },
    )
    same(
        "delete_item",
        {
            "Key": {"pk": "t", "sk": 2},
            "ConditionExpression": ours.Attr("even").eq(False),
        },
        {
            "Key": {"pk": "t", "sk": 2},
            "ConditionExpression": boto_conditions.Attr("even").eq(False),
        },
    )


def test_batch_writer_matches_boto3(pair: Pair) -> None:
    theirs = pair.boto_resource.Table(pair.table)
    mine = pair.ours_resource.Table(pair.table)

    with theirs.batch_writer() as writer:
        for n in range(40):
            writer.put_item(Item={"pk": "boto", "sk": n, "v": f"x{n}"})
    with mine.batch_writer() as writer:
        for n in range(40):
            writer.put_item(Item={"pk": "ours", "sk": n, "v": f"x{n}"})

    def rows(pk: str) -> list[tuple[Any, Any]]:
        found = mine.query_items(KeyConditionExpression=ours.Key("pk").eq(pk))
        return [(i["sk"], i["v"]) for i in found]

    assert rows("ours") == rows("boto") and len(rows("ours")) == 40


def _boto3_attribute_names(table: Any) -> list[str]:
    shape = table.meta.client.meta.service_model.shape_for("TableDescription")
    return sorted(table.meta.resource_model.get_attributes(shape))


def test_table_description_matches_boto3(pair: Pair) -> None:
    theirs = pair.boto_resource.Table(pair.table)
    mine = pair.ours_resource.Table(pair.table)
    mine.put_item(Item={"pk": "d", "sk": 1})

    names = _boto3_attribute_names(theirs)
    expected = {name: getattr(theirs, name) for name in names}
    got = {name: getattr(mine, name) for name in names}

    assert got == expected
    assert got["key_schema"] and got["table_status"] == "ACTIVE"
    mine.reload()
    theirs.reload()
    assert mine.item_count == theirs.item_count
    assert mine.meta.data is not None and mine.meta.data["TableName"] == pair.table


def test_table_meta_client_exceptions_and_waiters_as_in_boto3(pair: Pair) -> None:
    theirs = pair.boto_resource.Table(pair.table)
    mine = pair.ours_resource.Table(pair.table)
    mine.put_item(Item={"pk": "c", "sk": 1})
    config = {"Delay": 0, "MaxAttempts": 5}

    for table, condition in (
        (theirs, boto_conditions.Attr("pk").not_exists()),
        (mine, ours.Attr("pk").not_exists()),
    ):
        table.wait_until_exists(WaiterConfig=config)
        with pytest.raises(
            table.meta.client.exceptions.ConditionalCheckFailedException
        ):
            table.put_item(Item={"pk": "c", "sk": 1}, ConditionExpression=condition)

    missing_theirs = pair.boto_resource.Table(pair.table + "-gone")
    missing_mine = pair.ours_resource.Table(pair.table + "-gone")
    missing_theirs.wait_until_not_exists(WaiterConfig=config)
    missing_mine.wait_until_not_exists(WaiterConfig=config)


@pytest.mark.anyio
async def test_async_table_description_matches_boto3(pair: Pair) -> None:
    theirs = pair.boto_resource.Table(pair.table)
    names = _boto3_attribute_names(theirs)
    expected = {name: getattr(theirs, name) for name in names}

    async with services.async_client("dynamodb", **client_args(pair.server)) as client:
        mine = client.Table(pair.table)
        await mine.wait_until_exists(WaiterConfig={"Delay": 0, "MaxAttempts": 5})
        await mine.load()
        got = {name: getattr(mine, name) for name in names}

    assert got == expected


def test_batch_get_reads_a_key_spelled_twice_once(pair: Pair) -> None:
    mine = pair.ours_resource.Table(pair.table)
    mine.put_item(Item={"pk": "dup", "sk": 1, "v": "x"})
    spellings: list[dict[str, Any]] = [
        {"pk": "dup", "sk": 1},
        {"sk": 1, "pk": "dup"},
        {"pk": "dup", "sk": Decimal("1.0")},
        {"pk": "dup", "sk": Decimal("1E+0")},
    ]

    # DynamoDB refuses one key asked twice in one call, however it is spelled;
    # dynalite models that (moto lets it through)
    if pair.server.name == "dynalite":
        with pytest.raises(pair.boto.exceptions.ClientError) as refused:
            pair.boto.batch_get_item(
                RequestItems={
                    pair.table: {
                        "Keys": [
                            {"pk": {"S": "dup"}, "sk": {"N": "1"}},
                            {"pk": {"S": "dup"}, "sk": {"N": "1.0"}},
                        ]
                    }
                }
            )
        assert refused.value.response["Error"]["Code"] == "ValidationException"

    assert mine.batch_get(spellings) == [{"pk": "dup", "sk": 1, "v": "x"}]


def test_batch_writer_dedupes_by_value_like_boto3_on_a_server(pair: Pair) -> None:
    theirs = pair.boto_resource.Table(pair.table)
    mine = pair.ours_resource.Table(pair.table)

    for table, pk in ((theirs, "boto"), (mine, "ours")):
        with table.batch_writer(overwrite_by_pkeys=["pk", "sk"]) as writer:
            writer.put_item(Item={"pk": pk, "sk": 10, "v": "first"})
            writer.put_item(Item={"pk": pk, "sk": Decimal("1E+1"), "v": "second"})
            writer.put_item(Item={"pk": pk, "sk": 2, "v": "kept"})

    def rows(pk: str) -> list[tuple[Any, Any]]:
        found = mine.query_items(KeyConditionExpression=ours.Key("pk").eq(pk))
        return [(i["sk"], i["v"]) for i in found]

    assert rows("ours") == rows("boto") == [(2, "kept"), (10, "second")]
