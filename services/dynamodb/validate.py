"""Parameter checks for the low-level DynamoDB client, before anything is sent.

The types, minimum lengths and attribute-value shapes come from the DynamoDB
API reference (the same facts botocore's service model holds). Only what a
caller commonly gets wrong is checked: top-level scalars by type, the lists and
maps with a minimum length, every attribute value in keys, items and
expression values, and that every map key (attribute name, placeholder, table
name) and every ``ExpressionAttributeNames`` value is a str: JSON would
quietly turn ``None``, ``True`` or ``1.5`` into the names ``"null"``,
``"true"`` and ``"1.5"``. Everything else is left to DynamoDB's ValidationException.
The checks are plain type tests on a fast path that builds no strings (a few
microseconds for a 20-attribute item); only a failure walks again to name the
attribute path.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NoReturn

from ..errors import ParamValidationError

__all__ = ["check", "unencodable"]

# parameter -> python type, for scalars at the top level of any operation
_BOOLS = frozenset({"ConsistentRead", "ScanIndexForward"})
_INTS = frozenset({"Limit", "Segment", "TotalSegments"})
_STRS = frozenset(
    {
        "TableName",
        "IndexName",
        "KeyConditionExpression",
        "FilterExpression",
        "ProjectionExpression",
        "ConditionExpression",
        "UpdateExpression",
        "ReturnValues",
        "ReturnConsumedCapacity",
        "ReturnItemCollectionMetrics",
        "ReturnValuesOnConditionCheckFailure",
        "Select",
        "ClientRequestToken",
        "Statement",
        "NextToken",
        "ExclusiveStartTableName",
    }
)
# minimum lengths (strings in characters, lists and maps in entries)
_MIN = {
    "TableName": 1,
    "IndexName": 3,
    "Limit": 1,
    "TotalSegments": 1,
    "Segment": 0,
    "TransactItems": 1,
    "RequestItems": 1,
    "ClientRequestToken": 1,
    "Statement": 1,
    "Parameters": 1,
    "NextToken": 1,
    "ExclusiveStartTableName": 3,
    "AttributesToGet": 1,
    "KeySchema": 1,
}
# parameters that are a map of attribute name -> attribute value
_ITEM_MAPS = ("Key", "Item", "ExclusiveStartKey", "ExpressionAttributeValues")
_NAMES = "ExpressionAttributeNames"
# the legacy parameters: maps keyed by attribute name (their values unchecked)
_LEGACY = ("AttributeUpdates", "Expected", "KeyConditions", "QueryFilter", "ScanFilter")
_ACTIONS = ("Get", "Put", "Delete", "Update", "ConditionCheck")

_SCALARS = {"S": str, "N": str, "BOOL": bool, "NULL": bool}
_BLOB = (bytes, bytearray, str)


def check(params: Mapping[str, Any]) -> bool:
    """Raise ParamValidationError naming the first mistyped parameter.

    True when some binary value (``B`` or a ``BS`` member) is a str: as
    boto3, such a value is text, sent as its UTF-8 bytes (see
    `protocol.text_blobs`).
    """
    text = False
    for name, value in params.items():
        if name in _STRS:
            if not isinstance(value, str):
                _wrong(name, value, "a string")
        elif name in _BOOLS:
            if not isinstance(value, bool):
                _wrong(name, value, "a boolean")
        elif name in _INTS and (isinstance(value, bool) or not isinstance(value, int)):
            _wrong(name, value, "an integer")
        low = _MIN.get(name)
        if low is not None and isinstance(value, int | str | list | tuple | Mapping):
            size = value if isinstance(value, int) else len(value)
            if size < low:
                raise ParamValidationError(f"{name} must be at least {low} long")
    for name in _ITEM_MAPS:
        values = params.get(name)
        if values is not None:
            text = item(name, values) or text
    names = params.get(_NAMES)
    if names is not None:
        _names(_NAMES, names)
    for name in _LEGACY:
        values = params.get(name)
        if values is not None:
            _keys(name, values)
    transact = params.get("TransactItems")
    if transact is not None:
        text = _transact(transact) or text
    requests = params.get("RequestItems")
    if requests is not None:
        text = _requests(requests) or text
    parameters = params.get("Parameters")
    if parameters is not None:
        for index, value in enumerate(_list("Parameters", parameters)):
            text = attribute_value(f"Parameters[{index}]", value) or text
    return text


def _valid(value: Any) -> bool:
    # the fast path: True for a plainly valid value, no strings built; False
    # sends the caller down the slow path, which names what is wrong
    if type(value) is not dict or len(value) != 1:
        return False
    for kind, inner in value.items():
        if kind == "S" or kind == "N":
            return type(inner) is str
        if kind == "M":
            return type(inner) is dict and _valid_map(inner)
        if kind == "L":
            return type(inner) is list and all(map(_valid, inner))
        if kind == "BOOL" or kind == "NULL":
            return type(inner) is bool
        if kind == "B":
            return type(inner) is bytes  # a str takes the slow path
        if kind == "SS" or kind == "NS":
            return type(inner) is list and all(type(m) is str for m in inner)
    return False


def _valid_map(values: dict[Any, Any]) -> bool:
    for name, value in values.items():
        if type(name) is not str or not _valid(value):
            return False
    return True


def item(where: str, values: Any) -> bool:
    """Check a map of attribute names to attribute values; True: text blobs."""
    if type(values) is dict and _valid_map(values):
        return False
    if not isinstance(values, Mapping):
        _wrong(where, values, "a dict of attribute values")
    text = False
    for name, value in _keys(where, values).items():
        text = attribute_value(f"{where}.{name}", value) or text
    return text


def _keys(where: str, values: Any) -> Mapping[str, Any]:
    # a map whose keys are names: each key a str, as DynamoDB's model has it
    if not isinstance(values, Mapping):
        _wrong(where, values, "a dict")
    for name in values:
        if not isinstance(name, str):
            _wrong(f"{where} key {name!r:.40}", name, "a string")
    return values


def _names(where: str, names: Any) -> None:
    # ExpressionAttributeNames: placeholder -> attribute name, both str
    if type(names) is dict and all(
        type(k) is str and type(v) is str for k, v in names.items()
    ):
        return
    for placeholder, name in _keys(where, names).items():
        if not isinstance(name, str):
            _wrong(f"{where}.{placeholder}", name, "a string")


def attribute_value(where: str, value: Any) -> bool:
    """Check one attribute value such as ``{"S": "x"}`` or ``{"N": "1"}``.

    True when a binary value in it is a str (text, to be UTF-8 encoded).
    """
    if _valid(value):
        return False
    if not isinstance(value, Mapping) or len(value) != 1:
        _wrong(
            where,
            value,
            'an attribute value with one type key, like {"S": "x"} '
            "(Table takes Python values)",
        )
    ((kind, inner),) = value.items()
    expected = _SCALARS.get(kind)
    if expected is not None:
        if not isinstance(inner, expected):
            _wrong(f"{where}.{kind}", inner, f"a {expected.__name__}")
    elif kind == "B":
        if not isinstance(inner, _BLOB):
            _wrong(f"{where}.B", inner, "bytes")
        return isinstance(inner, str)
    elif kind in ("SS", "NS"):
        for index, member in enumerate(_list(f"{where}.{kind}", inner)):
            if not isinstance(member, str):
                _wrong(f"{where}.{kind}[{index}]", member, "a string")
    elif kind == "BS":
        members = _list(f"{where}.BS", inner)
        for index, member in enumerate(members):
            if not isinstance(member, _BLOB):
                _wrong(f"{where}.BS[{index}]", member, "bytes")
        return any(isinstance(member, str) for member in members)
    elif kind == "M":
        return item(f"{where}.M", inner)
    elif kind == "L":
        text = False
        for index, member in enumerate(_list(f"{where}.L", inner)):
            text = attribute_value(f"{where}.L[{index}]", member) or text
        return text
    else:
        raise ParamValidationError(
            f"{where} has unknown attribute value type {kind!r}; "
            "valid types are S, N, B, SS, NS, BS, M, L, NULL, BOOL"
        )
    return False


def _transact(actions: Any) -> bool:
    text = False
    for index, action in enumerate(_list("TransactItems", actions)):
        where = f"TransactItems[{index}]"
        if not isinstance(action, Mapping) or len(action) != 1:
            _wrong(where, action, f"a dict with one of {', '.join(_ACTIONS)}")
        ((kind, body),) = action.items()
        if kind not in _ACTIONS or not isinstance(body, Mapping):
            _wrong(where, action, f"a dict with one of {', '.join(_ACTIONS)}")
        for name in _ITEM_MAPS:
            values = body.get(name)
            if values is not None:
                text = item(f"{where}.{kind}.{name}", values) or text
        names = body.get(_NAMES)
        if names is not None:
            _names(f"{where}.{kind}.{_NAMES}", names)
    return text


def _requests(requests: Any) -> bool:
    # botocore's model: at least one table, each with at least one request
    # (its maxima, 100 keys and 25 writes, are left to DynamoDB, as boto3 does)
    text = False
    for table, request in _keys("RequestItems", requests).items():
        where = f"RequestItems.{table}"
        if not table:
            raise ParamValidationError("RequestItems has an empty table name")
        if isinstance(request, Mapping):  # batch_get_item
            keys = _least(f"{where}.Keys", request.get("Keys"))
            for index, key in enumerate(keys):
                text = item(f"{where}.Keys[{index}]", key) or text
            names = request.get(_NAMES)
            if names is not None:
                _names(f"{where}.{_NAMES}", names)
            continue
        for index, write in enumerate(_least(where, request)):  # batch_write_item
            if not isinstance(write, Mapping):
                _wrong(f"{where}[{index}]", write, "a PutRequest or DeleteRequest")
            put = write.get("PutRequest")
            delete = write.get("DeleteRequest")
            if isinstance(put, Mapping) and "Item" in put:
                text = item(f"{where}[{index}].PutRequest.Item", put["Item"]) or text
            elif isinstance(delete, Mapping) and "Key" in delete:
                key = delete["Key"]
                text = item(f"{where}[{index}].DeleteRequest.Key", key) or text
            else:
                _wrong(f"{where}[{index}]", write, "a PutRequest or DeleteRequest")
    return text


def _list(where: str, value: Any) -> list[Any] | tuple[Any, ...]:
    if not isinstance(value, list | tuple):
        _wrong(where, value, "a list")
    return value


def _least(where: str, value: Any) -> list[Any] | tuple[Any, ...]:
    # a list that must hold at least one entry
    members = _list(where, value)
    if not members:
        raise ParamValidationError(f"{where} must be at least 1 long")
    return members


def unencodable(params: Any) -> str | None:
    """The path of the first str (a name or a value) that is not valid Unicode.

    For the error path only: a lone surrogate cannot be sent as UTF-8, and
    the JSON encoder's message gives a position in the body, not a name. The
    path is printable: its own surrogates are shown as escapes.
    """
    found = _unencodable(params, "")
    if found is None:
        return None
    return found.encode("utf-8", "backslashreplace").decode("utf-8")


def _unencodable(value: Any, where: str) -> str | None:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return where or "a parameter"
        return None
    if isinstance(value, Mapping):
        for name, inner in value.items():
            path = f"{where}.{name}" if where else str(name)
            found = _unencodable(name, f"{path} (the name)")
            if found is None:
                found = _unencodable(inner, path)
            if found is not None:
                return found
    elif isinstance(value, list | tuple):
        for index, inner in enumerate(value):
            found = _unencodable(inner, f"{where}[{index}]")
            if found is not None:
                return found
    return None


def _wrong(where: str, value: Any, expected: str) -> NoReturn:
    raise ParamValidationError(
        f"{where} must be {expected}, not {type(value).__name__}"
    )
