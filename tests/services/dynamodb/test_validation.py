"""DynamoDB parameters refused before sending, with boto3 as the oracle.

Each bad input is first shown to make boto3 (botocore's model and validator)
raise ParamValidationError without sending; then lambdalite must do the same
and name the parameter.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import boto3
import botocore.exceptions
import pytest

from services import ParamValidationError
from services.dynamodb.table import Table

from .conftest import ENDPOINT, Fake

KEY = {"pk": {"S": "a"}}
PUT = {"Put": {"TableName": "tbl", "Item": {"pk": {"N": 1}}}}
PUT_OK = {"Put": {"TableName": "tbl", "Item": KEY}}
WRITE = {"PutRequest": {"Item": KEY}}
GET = {"TableName": "tbl", "Key": KEY, "ProjectionExpression": "#a"}
CHECK = {"TableName": "tbl", "Key": KEY, "ConditionExpression": "attribute_exists(#a)"}
NULL = {"ComparisonOperator": "NULL"}
NAMES = "ExpressionAttributeNames"
VALUES = "ExpressionAttributeValues"
TOKEN = "ClientRequestToken"

BAD = [
    ("get_item", {"TableName": "tbl", "Key": {"pk": "a"}}, "Key.pk"),
    ("get_item", {"TableName": "tbl", "Key": {"pk": {"N": 1}}}, "Key.pk.N"),
    ("get_item", {"TableName": "tbl", "Key": {"pk": {"S": 1}}}, "Key.pk.S"),
    ("get_item", {"TableName": "tbl", "Key": "pk"}, "Key"),
    ("get_item", {"TableName": "tbl", "Key": KEY, "ConsistentRead": "yes"}, "Consis"),
    ("get_item", {"TableName": "", "Key": KEY}, "TableName"),
    ("put_item", {"TableName": "tbl", "Item": {"a": {"SS": "x"}}}, "Item.a.SS"),
    ("put_item", {"TableName": "tbl", "Item": {"a": {"NS": [1]}}}, "Item.a.NS[0]"),
    ("put_item", {"TableName": "tbl", "Item": {"a": {"BOOL": "true"}}}, "Item.a.BOOL"),
    ("put_item", {"TableName": "tbl", "Item": {"a": {"M": {"b": {"N": 2}}}}}, "M.b.N"),
    ("put_item", {"TableName": "tbl", "Item": {"a": {"L": [{"X": "1"}]}}}, "L[0]"),
    ("put_item", {"TableName": "tbl", "Item": {"a": {"B": 5}}}, "Item.a.B"),
    ("query", {"TableName": "tbl", "Limit": "10"}, "Limit"),
    ("query", {"TableName": "tbl", "Limit": 0}, "Limit"),
    ("query", {"TableName": "tbl", "ScanIndexForward": 1}, "ScanIndexForward"),
    ("scan", {"TableName": "tbl", "Segment": "0", "TotalSegments": 2}, "Segment"),
    (
        "query",
        {"TableName": "tbl", "ExpressionAttributeValues": {":v": 3}},
        "ExpressionAttributeValues.:v",
    ),
    ("transact_write_items", {"TransactItems": []}, "TransactItems"),
    ("transact_write_items", {"TransactItems": [PUT]}, "TransactItems[0].Put.Item"),
    ("transact_get_items", {"TransactItems": []}, "TransactItems"),
    (
        "batch_get_item",
        {"RequestItems": {"tbl": {"Keys": [{"pk": {"N": 1}}]}}},
        "RequestItems.tbl.Keys[0].pk.N",
    ),
    (
        "batch_write_item",
        {"RequestItems": {"tbl": [{"PutRequest": {"Item": {"pk": {"S": 1}}}}]}},
        "PutRequest.Item.pk.S",
    ),
    ("execute_statement", {"Statement": ""}, "Statement"),
    ("get_item", {"TableName": "tbl", "Key": None}, "Key"),
    ("get_item", {"TableName": None, "Key": KEY}, "TableName"),
    ("put_item", {"TableName": "tbl", "Item": None}, "Item"),
    ("transact_write_items", {"TransactItems": None}, "TransactItems"),
    # map keys that are not str: JSON would send "null", "true", "1.5"
    ("put_item", {"TableName": "tbl", "Item": {None: {"S": "x"}}}, "NoneType"),
    ("put_item", {"TableName": "tbl", "Item": {True: {"S": "x"}}}, "Item key"),
    ("put_item", {"TableName": "tbl", "Item": {1.5: {"S": "x"}}}, "float"),
    ("put_item", {"TableName": "tbl", "Item": {b"a": {"S": "x"}}}, "bytes"),
    (
        "put_item",
        {"TableName": "tbl", "Item": {"a": {"M": {None: KEY["pk"]}}}},
        "M key",
    ),
    ("get_item", {"TableName": "tbl", "Key": {None: {"S": "x"}}}, "Key key None"),
    ("get_item", {**GET, NAMES: {None: "a"}}, "ExpressionAttributeNames key"),
    ("get_item", {**GET, NAMES: {b"#a": "a"}}, "ExpressionAttributeNames key"),
    ("get_item", {**GET, NAMES: {"#a": 1}}, "ExpressionAttributeNames.#a"),
    ("get_item", {**GET, NAMES: {"#a": None}}, "ExpressionAttributeNames.#a"),
    ("get_item", {**GET, NAMES: ["#a"]}, "ExpressionAttributeNames"),
    ("query", {"TableName": "tbl", VALUES: {None: {"S": "x"}}}, VALUES),
    ("scan", {"TableName": "tbl", "ScanFilter": {None: NULL}}, "ScanFilter key"),
    (
        "transact_write_items",
        {"TransactItems": [{"ConditionCheck": {**CHECK, NAMES: {"#a": 1}}}]},
        "TransactItems[0].ConditionCheck.ExpressionAttributeNames.#a",
    ),
    (
        "transact_get_items",
        {"TransactItems": [{"Get": {**GET, NAMES: {7: "a"}}}]},
        "TransactItems[0].Get.ExpressionAttributeNames key 7",
    ),
    (
        "batch_get_item",
        {"RequestItems": {"tbl": {"Keys": [KEY], NAMES: {"#a": 1}}}},
        "RequestItems.tbl.ExpressionAttributeNames.#a",
    ),
    ("batch_write_item", {"RequestItems": {None: [WRITE]}}, "RequestItems key"),
    ("batch_get_item", {"RequestItems": {None: {"Keys": [KEY]}}}, "RequestItems"),
    # botocore's model: each table at least one request, each key list one key
    ("batch_write_item", {"RequestItems": {"tbl": []}}, "RequestItems.tbl"),
    ("batch_get_item", {"RequestItems": {"tbl": {"Keys": []}}}, "tbl.Keys"),
    ("batch_write_item", {"RequestItems": {"": [WRITE]}}, "RequestItems"),
    # an empty token is not an absent one: boto3 refuses it (min length 1)
    ("transact_write_items", {"TransactItems": [PUT_OK], TOKEN: ""}, TOKEN),
    ("transact_write_items", {"TransactItems": [PUT_OK], TOKEN: None}, TOKEN),
]
IDS = [f"{method}-{index}" for index, (method, _, _) in enumerate(BAD)]


def boto3_refuses(method: str, params: dict[str, Any]) -> bool:
    client = boto3.client(
        "dynamodb",
        region_name="eu-west-1",
        endpoint_url=ENDPOINT,
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="SECRET",
    )

    def fail(request: Any, **_: Any) -> Any:
        raise AssertionError("boto3 tried to send the request")

    client.meta.events.register("before-send", fail)
    try:
        getattr(client, method)(**params)
    except botocore.exceptions.ParamValidationError:
        return True
    return False


@pytest.mark.parametrize(("method", "params", "named"), BAD, ids=IDS)
def test_bad_parameters_are_refused_like_boto3(
    client: Any, fake: Fake, method: str, params: dict[str, Any], named: str
) -> None:
    assert boto3_refuses(method, params)
    with pytest.raises(ParamValidationError) as caught:
        getattr(client, method)(**params)
    assert named in str(caught.value)
    assert fake.calls == []


# botocore lets these through (a type error in endpoint resolution, no min
# check on maps, bool taken as an int); DynamoDB answers ValidationException.
STRICTER = [
    ("get_item", {"TableName": 5, "Key": KEY}, "TableName"),
    ("batch_get_item", {"RequestItems": {}}, "RequestItems"),
    ("list_tables", {"Limit": True}, "Limit"),
    # boto3 fails here with a jmespath TypeError in endpoint resolution
    ("batch_write_item", {"RequestItems": None}, "RequestItems"),
]


@pytest.mark.parametrize(("method", "params", "named"), STRICTER)
def test_what_dynamodb_would_refuse_is_refused_before_sending(
    client: Any, fake: Fake, method: str, params: dict[str, Any], named: str
) -> None:
    with pytest.raises(ParamValidationError, match=named):
        getattr(client, method)(**params)
    assert fake.calls == []


@pytest.mark.anyio
async def test_async_client_validates_too(aclient: Any, fake: Fake) -> None:
    with pytest.raises(ParamValidationError, match=r"Key\.pk\.N"):
        await aclient.get_item(TableName="tbl", Key={"pk": {"N": 1}})
    assert fake.calls == []


GOOD = {
    "S": {"S": "x"},
    "N": {"N": "1.5"},
    "B": {"B": b"\x00\xff"},
    "SS": {"SS": ["a", "b"]},
    "NS": {"NS": ["1", "2"]},
    "BS": {"BS": [b"a", bytearray(b"b")]},
    "M": {"M": {"in": {"L": [{"NULL": True}, {"BOOL": False}]}}},
}


def test_every_attribute_type_is_accepted(client: Any, fake: Fake) -> None:
    client.put_item(TableName="tbl", Item=GOOD, ReturnValues="NONE")
    assert fake.calls[0][1]["Item"]["S"] == {"S": "x"}


TEXT_BLOBS = {
    "B": {"B": "abcd"},
    "unicode": {"B": "h\u00e9 \u2603"},
    "BS": {"BS": ["abcd", b"raw", "\u00e9"]},
    "nested": {"M": {"x": {"B": "in a map"}, "l": {"L": [{"B": "in a list"}]}}},
}


def boto3_body(method: str, params: dict[str, Any]) -> dict[str, Any]:
    """The JSON body boto3 would send, caught before it leaves the process."""
    client = boto3.client(
        "dynamodb",
        region_name="eu-west-1",
        endpoint_url=ENDPOINT,
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="SECRET",
    )
    sent: list[dict[str, Any]] = []

    def capture(request: Any, **_: Any) -> Any:
        sent.append(json.loads(request.body))
        raise _Caught()

    client.meta.events.register("before-send", capture)
    with pytest.raises(_Caught):
        getattr(client, method)(**params)
    return sent[0]


class _Caught(Exception):
    pass


@pytest.mark.parametrize("value", list(TEXT_BLOBS.values()), ids=list(TEXT_BLOBS))
def test_str_binary_values_go_as_boto3_sends_them(
    client: Any, fake: Fake, value: dict[str, Any]
) -> None:
    item = {"pk": {"S": "a"}, "v": value}
    params = {"TableName": "tbl", "Item": item}
    legacy = {
        "TableName": "tbl",
        "Key": KEY,
        "AttributeUpdates": {"v": {"Value": value, "Action": "PUT"}},
    }
    writes = {"RequestItems": {"tbl": [{"PutRequest": {"Item": item}}]}}
    before = copy.deepcopy(item)

    client.put_item(**params)
    client.update_item(**legacy)
    client.batch_write_item(**writes)

    assert fake.calls[0][1] == boto3_body("put_item", params)
    assert fake.calls[1][1] == boto3_body("update_item", legacy)
    assert fake.calls[2][1] == boto3_body("batch_write_item", writes)
    assert item == before  # the caller's parameters are not rewritten


def test_str_binary_value_that_is_not_unicode_is_refused(
    client: Any, fake: Fake
) -> None:
    with pytest.raises(ParamValidationError, match="binary"):
        client.put_item(TableName="tbl", Item={"pk": {"B": "\ud800"}})
    assert fake.calls == []


@pytest.mark.parametrize(
    ("item", "named"),
    [
        ({"pk": {"S": "a"}, "v": {"S": "x\ud800"}}, "Item.v.S "),
        ({"pk": {"S": "a"}, "m": {"M": {"l": {"L": [{"SS": ["\udfff"]}]}}}}, "SS[0]"),
        ({"pk": {"S": "a"}, "\ud800": {"S": "x"}}, r"Item.\ud800 (the name)"),
    ],
)
def test_a_lone_surrogate_is_refused_by_name(
    client: Any, fake: Fake, item: dict[str, Any], named: str
) -> None:
    # a lone surrogate has no UTF-8 form (the body DynamoDB reads is UTF-8)
    with pytest.raises(UnicodeEncodeError):
        json.dumps(item, ensure_ascii=False).encode("utf-8")
    with pytest.raises(ParamValidationError, match="lone surrogate") as caught:
        client.put_item(TableName="tbl", Item=item)
    assert named in str(caught.value)
    assert "position" not in str(caught.value)
    assert fake.calls == []


def test_a_lone_surrogate_in_a_table_item_is_named(client: Any, fake: Fake) -> None:
    with pytest.raises(ParamValidationError, match=r"Item\.m\.M\.v\.S "):
        Table(client, "tbl").put_item(Item={"pk": "a", "m": {"v": "\ud800"}})
    assert fake.calls == []
