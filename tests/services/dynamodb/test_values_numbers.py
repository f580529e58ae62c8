"""Numbers read back exactly, and numbers refused on write with a typed error.

boto3 cannot read a number DynamoDB itself hands back: a stored ``1E+38``
comes back as 39 digits, and boto3's context refuses the trailing zeros as
rounding (boto3 issues #2500, #4693). The truth here is the real servers'
answers and the exact value of the text, not boto3.
"""

from __future__ import annotations

import decimal
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

import services
from services.dynamodb.errors import InvalidNumberError
from services.dynamodb.table import Table
from services.dynamodb.types import deserialize, deserialize_item, serialize
from tests.integration.servers import Server

from .conftest import Fake, answer

boto_ser = TypeSerializer()
boto_de = TypeDeserializer()

# 39 digits, one of them significant: how DynamoDB answers a stored 1E+38
WIDE = "1" + "0" * 38


def test_boto3_cannot_read_the_numbers_dynamodb_answers() -> None:
    # the bug we part from boto3 over, pinned so the difference stays known
    with pytest.raises(decimal.Rounded):
        boto_de.deserialize({"N": WIDE})


@pytest.mark.parametrize(
    "text",
    [
        WIDE,
        "-" + WIDE,
        "1" + "0" * 60,
        "12345678901234567890123456789012345678" + "0" * 40,
        "1.500000000000000000000000000000000000000000",
        "9999999999999999999999999999999999999900000000000",
        "0E-200",
    ],
)
def test_exact_numbers_past_38_digits_are_read(text: str) -> None:
    got = deserialize({"N": text})

    assert got == Decimal(text) and type(got) is Decimal
    # and it can be written back, unchanged in value
    assert Decimal(serialize(got)["N"]) == Decimal(text)
    assert Decimal(boto_ser.serialize(got)["N"]) == Decimal(text)


@pytest.mark.parametrize(
    "text",
    [
        "1" * 39,  # 39 significant digits: reading would round
        "1" + "0" * 37 + "1" + "0" * 5,
        "1" + "0" * 127,  # 1E+127: past 9.99...E+125 and boto3's context
        "1" + "0" * 200,
        "1" + "0" * 40 + "E-206",  # 1E-166: below 1E-130 and boto3's context
        "abc",
        "1_000",
        " 5",
    ],
)
def test_numbers_that_would_lose_digits_or_are_out_of_range_are_refused(
    text: str,
) -> None:
    with pytest.raises(InvalidNumberError, match="not a DynamoDB number"):
        deserialize({"N": text})


def test_wide_numbers_are_read_in_lists_maps_and_sets() -> None:
    item = {
        "n": {"N": WIDE},
        "l": {"L": [{"N": WIDE}, {"S": "x"}]},
        "m": {"M": {"n": {"N": WIDE}}},
        "ns": {"NS": [WIDE, "2"]},
    }
    big = Decimal(WIDE)

    assert deserialize_item(item) == {
        "n": big,
        "l": [big, "x"],
        "m": {"n": big},
        "ns": {big, Decimal(2)},
    }
    assert deserialize({"M": item})["ns"] == {big, Decimal(2)}


def test_one_wide_number_does_not_break_a_page(client: Any, fake: Fake) -> None:
    items = [{"pk": {"S": str(i)}, "v": {"N": str(i)}} for i in range(5)]
    items[2]["v"] = {"N": WIDE}
    fake.handler = lambda op, params, request: answer(
        {"Items": items, "Count": 5, "ScannedCount": 5}
    )

    page = Table(client, "tbl").scan()["Items"]

    assert [row["v"] for row in page] == [0, 1, Decimal("1E+38"), 3, 4]


@pytest.mark.parametrize(
    "value",
    [10**4301, -(10**5000), {10**4400}, [1, 10**4400]],
    ids=["int", "negative", "set", "list"],
)
def test_ints_past_pythons_str_limit_get_the_number_error(value: Any) -> None:
    # Python refuses str() of an int past 4300 digits with a bare ValueError
    with pytest.raises(decimal.DecimalException):
        boto_ser.serialize(value)
    with pytest.raises(InvalidNumberError, match="digits"):
        serialize(value)
    with pytest.raises(InvalidNumberError):
        serialize({"n": value})


def test_writes_still_refuse_what_boto3_refuses() -> None:
    # only reading is forgiving: a Decimal that needs rounding is not stored
    for value in (Decimal(WIDE), 10**38, Decimal("1." + "0" * 40)):
        with pytest.raises(decimal.Rounded):
            boto_ser.serialize(value)
        with pytest.raises(InvalidNumberError):
            serialize(value)


# against the real servers: what they answer for a stored 1E+38


@pytest.fixture(params=["dynalite", "moto"])
def server(request: pytest.FixtureRequest) -> Server:
    found: Server = request.getfixturevalue(request.param)
    return found


@pytest.fixture
def live(server: Server) -> Iterator[Any]:
    creds = server.credentials
    client = services.client(
        "dynamodb",
        region_name=server.region,
        endpoint_url=server.endpoint,
        aws_access_key_id=creds.access_key_id,
        aws_secret_access_key=creds.secret_access_key,
        aws_session_token=creds.session_token,
    )
    name = f"t{uuid.uuid4().hex[:12]}"
    client.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    client.get_waiter("table_exists").wait(
        TableName=name, WaiterConfig={"Delay": 0.05, "MaxAttempts": 100}
    )
    yield client.Table(name)
    client.delete_table(TableName=name)
    client.close()


@pytest.mark.integration
@pytest.mark.parametrize(
    "stored", [Decimal("1E+38"), Decimal("-1.2E+60"), Decimal("1E+125")], ids=str
)
def test_a_stored_number_reads_back_and_writes_again(
    server: Server, live: Any, stored: Any
) -> None:
    live.put_item(Item={"pk": "x", "v": stored})
    raw = live.client.get_item(TableName=live.name, Key={"pk": {"S": "x"}})

    got = live.get_item(Key={"pk": "x"})["Item"]["v"]
    live.put_item(Item={"pk": "x", "v": got})  # read, modify, write

    text = raw["Item"]["v"]["N"]
    assert Decimal(text) == stored  # the server's own text, exact
    if server.name == "dynalite":  # it answers as DynamoDB does: all digits
        assert len(text.lstrip("-")) > 38
    assert got == stored
    assert live.get_item(Key={"pk": "x"})["Item"]["v"] == stored
    assert [row["v"] for row in live.scan()["Items"]] == [stored]
