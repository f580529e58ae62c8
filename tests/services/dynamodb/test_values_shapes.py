"""Values of the wrong shape get a typed error, never a bare Python one.

For what a caller passes, boto3 is the oracle: each input is first shown to
make boto3 refuse it before sending; then lambdalite must refuse it with one
of its own errors (a `services.ServiceError`), and send nothing. For what a
server answers, the truth is DynamoDB's documented attribute value shapes.
"""

from __future__ import annotations

from typing import Any

import boto3
import botocore.exceptions
import pytest
from boto3.dynamodb.types import TypeDeserializer

from services import ParamValidationError, ServiceError
from services.dynamodb.errors import UnsupportedTypeError
from services.dynamodb.table import Table
from services.dynamodb.types import deserialize, deserialize_item, serialize_item

from .conftest import ENDPOINT, Fake, answer


def boto3_table_refuses(method: str, params: dict[str, Any]) -> bool:
    resource = boto3.resource(
        "dynamodb",
        region_name="eu-west-1",
        endpoint_url=ENDPOINT,
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="SECRET",
    )

    def fail(request: Any, **_: Any) -> Any:
        raise AssertionError("boto3 tried to send the request")

    resource.meta.client.meta.events.register("before-send", fail)
    try:
        getattr(resource.Table("tbl"), method)(**params)
    except botocore.exceptions.ParamValidationError:
        return True
    return False


NOT_ITEMS = [
    ("get_item", {"Key": "p"}, "str"),
    ("get_item", {"Key": ["pk", "a"]}, "list"),
    ("put_item", {"Item": [1]}, "list"),
    ("put_item", {"Item": [("pk", "a")]}, "list"),
    ("delete_item", {"Key": 5}, "int"),
]


@pytest.mark.parametrize(("method", "params", "named"), NOT_ITEMS)
def test_an_item_or_key_that_is_not_a_mapping_is_a_typed_error(
    client: Any, fake: Fake, method: str, params: dict[str, Any], named: str
) -> None:
    assert boto3_table_refuses(method, params)

    with pytest.raises(UnsupportedTypeError, match=f"dict .* not {named}"):
        getattr(Table(client, "tbl"), method)(**params)
    assert fake.calls == []


def test_serialize_item_refuses_a_non_mapping() -> None:
    with pytest.raises(UnsupportedTypeError, match="not list"):
        serialize_item([1])  # type: ignore[arg-type]
    with pytest.raises(UnsupportedTypeError, match="not str"):
        serialize_item("pk", floats=True)  # type: ignore[arg-type]


NOT_NAMES = [
    ("put_item", {"Item": {"pk": "a", None: 1}}, "NoneType"),
    ("put_item", {"Item": {"pk": "a", True: 1}}, "bool"),
    ("put_item", {"Item": {"pk": "a", 1.5: 1}}, "float"),
    ("put_item", {"Item": {"pk": "a", b"k": 1}}, "bytes"),
    ("put_item", {"Item": {"pk": "a", "m": {None: 1}}}, "NoneType"),
    ("put_item", {"Item": {"pk": "a", "l": [{7: 1}]}}, "int"),
    ("get_item", {"Key": {None: "a"}}, "NoneType"),
]


@pytest.mark.parametrize(("method", "params", "named"), NOT_NAMES)
def test_attribute_names_that_are_not_str_are_refused(
    client: Any, fake: Fake, method: str, params: dict[str, Any], named: str
) -> None:
    # JSON would send None, True and 1.5 as the names "null", "true", "1.5"
    assert boto3_table_refuses(method, params)

    with pytest.raises(UnsupportedTypeError, match=f"strings, not {named}"):
        getattr(Table(client, "tbl"), method)(**params)
    assert fake.calls == []


def test_str_subclass_names_are_names() -> None:
    class Name(str):
        pass

    assert serialize_item({Name("a"): 1}) == {"a": {"N": "1"}}


# a BOOL answered with something other than true or false


def test_boto3_hands_back_whatever_a_bool_holds() -> None:
    # pinned: the difference we keep from boto3 on purpose
    assert TypeDeserializer().deserialize({"BOOL": "false"}) == "false"


@pytest.mark.parametrize("held", ["false", "true", 0, 1, None, [], {}])
def test_a_bool_that_is_not_a_json_boolean_is_unreadable(held: Any) -> None:
    with pytest.raises(UnsupportedTypeError, match="BOOL"):
        deserialize({"BOOL": held})
    with pytest.raises(UnsupportedTypeError, match="attribute b:"):
        deserialize_item({"ok": {"BOOL": True}, "b": {"BOOL": held}})
    with pytest.raises(UnsupportedTypeError, match=r"attribute l\[1\]:"):
        deserialize_item({"l": {"L": [{"BOOL": False}, {"BOOL": held}]}})
    with pytest.raises(UnsupportedTypeError, match=r"attribute m\.b:"):
        deserialize_item({"m": {"M": {"b": {"BOOL": held}}}})


def test_real_bools_read_as_bools() -> None:
    item = deserialize_item(
        {"t": {"BOOL": True}, "f": {"BOOL": False}, "l": {"L": [{"BOOL": False}]}}
    )

    assert item == {"t": True, "f": False, "l": [False]}
    assert deserialize({"BOOL": False}) is False


def test_table_read_of_a_string_bool_is_a_typed_error(client: Any, fake: Fake) -> None:
    fake.handler = lambda op, params, request: answer(
        {"Item": {"pk": {"S": "a"}, "flag": {"BOOL": "false"}}}
    )

    with pytest.raises(ServiceError, match="attribute flag"):
        Table(client, "tbl").get_item(Key={"pk": "a"})


@pytest.mark.parametrize(
    ("names", "named"),
    [
        ({None: "a"}, "key None"),
        ({True: "a"}, "key True"),
        ({"#a": 1}, r"ExpressionAttributeNames\.#a"),
    ],
)
def test_table_name_placeholders_must_be_str(
    client: Any, fake: Fake, names: dict[Any, Any], named: str
) -> None:
    params = {
        "Key": {"pk": "a"},
        "ProjectionExpression": "#a",
        "ExpressionAttributeNames": names,
    }
    assert boto3_table_refuses("get_item", params)

    with pytest.raises(ParamValidationError, match=named):
        Table(client, "tbl").get_item(**params)
    assert fake.calls == []
