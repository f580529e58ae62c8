"""Table, batch writer and batch_get against a scripted DynamoDB.

The scripted server keeps a store and leaves part of each batch unprocessed,
several times over; every item must end up written (or read) exactly once,
or a typed error must name the ones that were not.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import httpx
import pytest
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from services.dynamodb.conditions import Attr, Key, Set
from services.dynamodb.errors import UnprocessedItemsError, UnsupportedTypeError
from services.dynamodb.table import AsyncTable, Table

from .conftest import Fake, answer, failure

boto_ser = TypeSerializer()
boto_de = TypeDeserializer()


@pytest.fixture
def table(client: Any, fake: Fake) -> Table:
    return Table(client, "tbl", sleep=fake.sleeps.append)


def test_put_item_marshals_like_boto3(table: Table, fake: Fake) -> None:
    item = {
        "pk": "a",
        "n": 3,
        "d": Decimal("1.5"),
        "s": {"x"},
        "b": b"\x01",
        "m": {"l": [None, True]},
    }

    table.put_item(Item=item, ConditionExpression=Attr("pk").not_exists())

    sent = fake.calls[0][1]
    assert sent["TableName"] == "tbl"
    expected = {k: boto_ser.serialize(v) for k, v in item.items()}
    expected["b"] = {"B": "AQ=="}
    assert sent["Item"] == expected
    assert sent["ConditionExpression"] == "attribute_not_exists(#n0)"
    assert sent["ExpressionAttributeNames"] == {"#n0": "pk"}
    assert "ExpressionAttributeValues" not in sent


def test_get_item_gives_python_values(table: Table, fake: Fake) -> None:
    wire = {"pk": {"S": "a"}, "n": {"N": "3"}, "ns": {"NS": ["1", "2.5"]}}
    fake.handler = lambda op, params, request: answer({"Item": wire})

    item = table.get_item(Key={"pk": "a"}, ProjectionExpression=["pk", "n", "ns"])[
        "Item"
    ]

    assert item == boto_de.deserialize({"M": wire})
    assert fake.calls[0][1]["Key"] == {"pk": {"S": "a"}}
    assert fake.calls[0][1]["ProjectionExpression"] == "#n0, #n1, #n2"


def test_update_item_with_the_builder(table: Table, fake: Fake) -> None:
    fake.handler = lambda op, params, request: answer({"Attributes": {"n": {"N": "4"}}})

    result = table.update_item(
        Key={"pk": "a"},
        Update=Set("n", Attr("n") + 1).remove("tmp"),
        ConditionExpression=Attr("n").lt(10),
        ReturnValues="UPDATED_NEW",
    )

    sent = fake.calls[0][1]
    assert sent["UpdateExpression"] == "SET #n0 = #n0 + :v1 REMOVE #n1"
    assert sent["ConditionExpression"] == "#n0 < :v0"
    assert sent["ExpressionAttributeNames"] == {"#n0": "n", "#n1": "tmp"}
    assert sent["ExpressionAttributeValues"] == {":v0": {"N": "10"}, ":v1": {"N": "1"}}
    assert result["Attributes"] == {"n": Decimal(4)}


def test_text_expressions_and_own_placeholders_merge(table: Table, fake: Fake) -> None:
    fake.handler = lambda op, params, request: answer({"Items": [], "Count": 0})

    table.query(
        KeyConditionExpression=Key("pk").eq("a"),
        FilterExpression="#mine > :mine",
        ExpressionAttributeNames={"#mine": "score"},
        ExpressionAttributeValues={":mine": 5},
    )

    sent = fake.calls[0][1]
    assert sent["KeyConditionExpression"] == "#n0 = :v0"
    assert sent["FilterExpression"] == "#mine > :mine"
    assert sent["ExpressionAttributeNames"] == {"#mine": "score", "#n0": "pk"}
    assert sent["ExpressionAttributeValues"] == {":mine": {"N": "5"}, ":v0": {"S": "a"}}


def test_query_items_walks_every_page(table: Table, fake: Fake) -> None:
    pages = [
        {
            "Items": [{"pk": {"S": "a"}, "n": {"N": "1"}}],
            "LastEvaluatedKey": {"pk": {"S": "a"}},
        },
        {"Items": [], "LastEvaluatedKey": {"pk": {"S": "b"}}},
        {"Items": [{"pk": {"S": "c"}, "n": {"N": "3"}}]},
    ]
    fake.handler = lambda op, params, request: answer(pages.pop(0))

    items = list(table.query_items(KeyConditionExpression=Key("pk").eq("a")))

    assert items == [{"pk": "a", "n": 1}, {"pk": "c", "n": 3}]
    assert fake.calls[1][1]["ExclusiveStartKey"] == {"pk": {"S": "a"}}
    assert fake.calls[2][1]["KeyConditionExpression"] == "#n0 = :v0"


def test_scan_segment_and_last_key_come_back_native(table: Table, fake: Fake) -> None:
    fake.handler = lambda op, params, request: answer(
        {"Items": [], "LastEvaluatedKey": {"pk": {"S": "z"}}}
    )

    page = table.scan(Segment=1, TotalSegments=4, ExclusiveStartKey={"pk": "y"})

    assert page["LastEvaluatedKey"] == {"pk": "z"}
    assert fake.calls[0][1]["Segment"] == 1
    assert fake.calls[0][1]["ExclusiveStartKey"] == {"pk": {"S": "y"}}


# a DynamoDB that leaves work unprocessed


class Store:
    """Processes at most `per_call` requests of each batch; counts every write."""

    def __init__(self, per_call: int) -> None:
        self.per_call = per_call
        self.items: dict[str, dict[str, Any]] = {}
        self.writes: dict[str, int] = {}
        self.reads: dict[str, int] = {}

    def __call__(
        self, op: str, params: dict[str, Any], request: httpx.Request
    ) -> httpx.Response:
        if op == "BatchWriteItem":
            requests = params["RequestItems"]["tbl"]
            assert len(requests) <= 25
            done, left = requests[: self.per_call], requests[self.per_call :]
            for write in done:
                if "PutRequest" in write:
                    item = write["PutRequest"]["Item"]
                    key = item["pk"]["S"]
                    self.items[key] = item
                else:
                    key = write["DeleteRequest"]["Key"]["pk"]["S"]
                    self.items.pop(key, None)
                self.writes[key] = self.writes.get(key, 0) + 1
            unprocessed = {"tbl": left} if left else {}
            return answer({"UnprocessedItems": unprocessed})
        if op == "BatchGetItem":
            entry = params["RequestItems"]["tbl"]
            keys = entry["Keys"]
            assert len(keys) <= 100
            done, left = keys[: self.per_call], keys[self.per_call :]
            found = []
            for key in done:
                name = key["pk"]["S"]
                self.reads[name] = self.reads.get(name, 0) + 1
                if name in self.items:
                    found.append(self.items[name])
            unprocessed = {"tbl": {**entry, "Keys": left}} if left else {}
            return answer({"Responses": {"tbl": found}, "UnprocessedKeys": unprocessed})
        raise AssertionError(op)


def test_batch_writer_writes_every_item_exactly_once(table: Table, fake: Fake) -> None:
    store = Store(per_call=7)
    fake.handler = store

    with table.batch_writer() as writer:
        for n in range(60):
            writer.put_item(Item={"pk": f"k{n}", "n": n})

    assert store.writes == {f"k{n}": 1 for n in range(60)}
    assert store.items["k59"] == {"pk": {"S": "k59"}, "n": {"N": "59"}}
    assert len(fake.sleeps) > 5 and all(0 <= s <= 5 for s in fake.sleeps)


def test_batch_writer_refuses_a_bad_item_on_adding_and_keeps_the_rest(
    table: Table, fake: Fake
) -> None:
    store = Store(per_call=25)
    fake.handler = store

    # boto3's serializer refuses a float; ours must too, on put_item itself
    with pytest.raises(TypeError):
        boto_ser.serialize(1.5)
    with (
        pytest.raises(UnsupportedTypeError, match="float"),
        table.batch_writer() as writer,
    ):
        writer.put_item(Item={"pk": "g1"})
        with pytest.raises(UnsupportedTypeError, match="float"):
            writer.put_item(Item={"pk": "bad", "x": 1.5})
        writer.delete_item(Key={"pk": "g0"})
        writer.put_item(Item={"pk": "g2"})
        writer.delete_item(Key={"pk": 2.5})  # uncaught: leaves the block

    assert store.writes == {"g1": 1, "g0": 1, "g2": 1}
    assert "bad" not in store.items
    sent = [r for _, params in fake.calls for r in params["RequestItems"]["tbl"]]
    assert {"DeleteRequest": {"Key": {"pk": {"S": "g0"}}}} in sent
    assert len(sent) == 3


@pytest.mark.anyio
async def test_async_batch_writer_refuses_a_bad_item_on_adding(
    aclient: Any, fake: Fake
) -> None:
    store = Store(per_call=25)
    fake.handler = store
    table = AsyncTable(aclient, "tbl")

    async with table.batch_writer() as writer:
        await writer.put_item(Item={"pk": "g1"})
        with pytest.raises(UnsupportedTypeError, match="float"):
            await writer.put_item(Item={"pk": "bad", "x": 1.5})
        with pytest.raises(UnsupportedTypeError, match="float"):
            await writer.delete_item(Key={"pk": 2.5})
        await writer.put_item(Item={"pk": "g2"})

    assert store.writes == {"g1": 1, "g2": 1}


def test_batch_writer_dedupes_by_key_when_asked(table: Table, fake: Fake) -> None:
    store = Store(per_call=25)
    fake.handler = store

    with table.batch_writer(overwrite_by_pkeys=["pk"]) as writer:
        writer.put_item(Item={"pk": "a", "v": 1})
        writer.put_item(Item={"pk": "b", "v": 1})
        writer.put_item(Item={"pk": "a", "v": 2})
        writer.delete_item(Key={"pk": "b"})

    assert len(fake.calls) == 1
    sent = fake.calls[0][1]["RequestItems"]["tbl"]
    assert sent == [
        {"PutRequest": {"Item": {"pk": {"S": "a"}, "v": {"N": "2"}}}},
        {"DeleteRequest": {"Key": {"pk": {"S": "b"}}}},
    ]


def test_batch_writer_gives_up_naming_every_unwritten_item(
    table: Table, fake: Fake
) -> None:
    # 3 requests done per call for 4 calls, then none: the writer keeps going
    # while calls make progress, and stops after 4 calls in a row without
    store = Store(per_call=3)
    calls: list[int] = []

    def handler(op: str, params: Any, request: httpx.Request) -> httpx.Response:
        calls.append(1)
        store.per_call = 3 if len(calls) <= 4 else 0
        return store(op, params, request)

    fake.handler = handler
    writer = table.batch_writer(max_attempts=4)

    with pytest.raises(UnprocessedItemsError, match="8 write") as caught, writer:
        for n in range(20):
            writer.put_item(Item={"pk": f"k{n}"})

    left = caught.value.unprocessed["tbl"]
    assert [r["PutRequest"]["Item"] for r in left] == [
        {"pk": f"k{n}"} for n in range(12, 20)
    ]
    assert store.writes == {f"k{n}": 1 for n in range(12)}
    assert len(fake.calls) == 8 and len(fake.sleeps) == 7


def test_batch_writer_turns_a_service_error_into_unwritten_items(
    table: Table, fake: Fake
) -> None:
    store = Store(per_call=25)
    calls: list[int] = []

    def handler(op: str, params: Any, request: httpx.Request) -> httpx.Response:
        calls.append(1)
        if len(calls) == 2:
            return failure("ValidationException", "item too large")
        return store(op, params, request)

    fake.handler = handler

    writer = table.batch_writer()
    with pytest.raises(UnprocessedItemsError, match="item too large") as caught, writer:
        for n in range(60):
            writer.put_item(Item={"pk": f"k{n}"})

    # what the writer was handed before the error: k0..k49
    left = {r["PutRequest"]["Item"]["pk"] for r in caught.value.unprocessed["tbl"]}
    assert left == {f"k{n}" for n in range(25, 50)}
    assert store.writes == {f"k{n}": 1 for n in range(25)}
    assert not set(store.writes) & left
    assert isinstance(caught.value.__cause__, Exception)


def test_batch_writer_survives_throttling_and_resets(table: Table, fake: Fake) -> None:
    store = Store(per_call=10)
    script = iter(
        ["throttle", "reset", "ok", "throttle", "ok", "ok", "ok", "ok", "ok", "ok"]
    )

    def handler(op: str, params: Any, request: httpx.Request) -> httpx.Response:
        step = next(script, "ok")
        if step == "throttle":
            return failure("ProvisionedThroughputExceededException")
        if step == "reset":
            raise httpx.ReadError("connection reset by peer", request=request)
        return store(op, params, request)

    fake.handler = handler

    with table.batch_writer() as writer:
        for n in range(40):
            writer.put_item(Item={"pk": f"k{n}"})

    assert store.writes == {f"k{n}": 1 for n in range(40)}


def test_batch_get_reads_every_key_once_across_chunks(table: Table, fake: Fake) -> None:
    store = Store(per_call=30)
    store.items = {
        f"k{n}": {"pk": {"S": f"k{n}"}, "n": {"N": str(n)}} for n in range(250)
    }
    fake.handler = store
    keys = [{"pk": f"k{n}"} for n in range(260)] + [
        {"pk": "k1"}
    ]  # 10 absent, 1 repeated

    items = table.batch_get(keys, ConsistentRead=True)

    assert sorted(i["n"] for i in items) == list(range(250))
    assert store.reads == {f"k{n}": 1 for n in range(260)}
    assert all(len(p["RequestItems"]["tbl"]["Keys"]) <= 100 for _, p in fake.calls)
    assert all(
        p["RequestItems"]["tbl"]["ConsistentRead"] is True for _, p in fake.calls
    )


def test_batch_get_gives_up_naming_unread_keys(table: Table, fake: Fake) -> None:
    store = Store(per_call=0)
    fake.handler = store
    keys = [{"pk": f"k{n}"} for n in range(150)]

    with pytest.raises(UnprocessedItemsError, match="150 key") as caught:
        table.batch_get(keys, max_attempts=3)

    assert caught.value.unprocessed["tbl"] == keys
    assert len(fake.calls) == 3


@pytest.mark.anyio
async def test_async_table_batch_writer_and_get(aclient: Any, fake: Fake) -> None:
    store = Store(per_call=4)
    fake.handler = store

    async def sleep(seconds: float) -> None:
        fake.sleeps.append(seconds)

    table = AsyncTable(aclient, "tbl", sleep=sleep)
    async with table.batch_writer() as writer:
        for n in range(30):
            await writer.put_item(Item={"pk": f"k{n}", "n": n})
    items = await table.batch_get([{"pk": f"k{n}"} for n in range(30)])

    assert store.writes == {f"k{n}": 1 for n in range(30)}
    assert sorted(i["n"] for i in items) == list(range(30))


@pytest.mark.anyio
async def test_async_table_items_and_update(aclient: Any, fake: Fake) -> None:
    pages = [
        {"Items": [], "LastEvaluatedKey": {"pk": {"S": "a"}}},
        {"Items": [{"pk": {"S": "b"}}]},
        {"Attributes": {"n": {"N": "2"}}},
    ]
    fake.handler = lambda op, params, request: answer(pages.pop(0))
    table = aclient.Table("tbl")

    items = [i async for i in table.scan_items(FilterExpression=Attr("n").gt(1))]
    result = await table.update_item(
        Key={"pk": "b"}, Update=Set("n", 2), ReturnValues="ALL_NEW"
    )

    assert items == [{"pk": "b"}]
    assert result["Attributes"] == {"n": Decimal(2)}
    assert json.loads(fake.requests[2].content)["UpdateExpression"] == "SET #n0 = :v0"


def test_floats_opt_in_on_a_table(client: Any, fake: Fake) -> None:
    table = Table(client, "tbl", floats=True)

    table.put_item(Item={"pk": "a", "f": 0.1, "l": [2.5]})
    with pytest.raises(TypeError, match="floats=True"):
        Table(client, "tbl").put_item(Item={"pk": "a", "f": 0.1})

    assert fake.calls[0][1]["Item"] == {
        "pk": {"S": "a"},
        "f": {"N": "0.1"},
        "l": {"L": [{"N": "2.5"}]},
    }
    assert len(fake.calls) == 1
