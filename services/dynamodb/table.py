"""`Table`: one DynamoDB table with Python values in and out, as boto3's.

::

    table = services.resource("dynamodb").Table("users")   # or client.Table(...)
    table.put_item(Item={"pk": "u#1", "n": 3, "tags": {"a"}})
    table.get_item(Key={"pk": "u#1"})["Item"]               # n comes back Decimal
    table.update_item(Key={"pk": "u#1"}, Update=Set("n", Attr("n") + 1))
    for item in table.query_items(KeyConditionExpression=Key("pk").eq("u#1")):
        ...

The methods take the client's parameters, minus ``TableName``, with Python
values wherever the client takes attribute values (``Item``, ``Key``,
``ExclusiveStartKey``, ``ExpressionAttributeValues``) and give back results
the same way (``Item``, ``Items``, ``Attributes``, ``LastEvaluatedKey``).
Expressions may be text, or built with `services.dynamodb.conditions`: a
`Condition` for ``KeyConditionExpression`` / ``FilterExpression`` /
``ConditionExpression``, an `Update` for ``UpdateExpression`` (or ``Update=``),
a list of paths for ``ProjectionExpression``. The legacy parameters
(``Expected``, ``AttributeUpdates``, ``KeyConditions``, ``QueryFilter``,
``ScanFilter``, ``AttributesToGet``) pass through untouched, in low-level form.

Batches: `batch_writer` buffers 25 puts and deletes per BatchWriteItem
(with ``overwrite_by_pkeys``, a later request for the same key replaces an
earlier one; keys are compared by value, so ``1`` and ``Decimal("1.0")``
are one key, as in boto3), resends whatever comes back unprocessed with
jittered exponential backoff, flushes on leaving the ``with`` block, and
never drops an item. `batch_get` reads any number of keys, 100 per
BatchGetItem, each distinct key once, the same way. Both keep going while
calls make progress; `max_attempts` calls in a row without progress (a
throttled call counts as one) end the batch. Whatever ends it (that, an
error answer, a closed client, missing credentials, an answer that cannot be
read) raises `UnprocessedItemsError` naming every request or key not known
to be done; an interrupt (KeyboardInterrupt, a cancelled task) puts the
writer's unsent requests back in its buffer instead. Errors from DynamoDB
keep boto3's shape (an error's ``Item`` stays in low-level form, as in
boto3).

Description: ``table.meta.client`` is the client; ``table.meta.data`` and
boto3's attributes (``key_schema``, ``table_status``, ``item_count``...) come
from DescribeTable. A `Table` reads it on first use (``load()``/``reload()``
to read it again); an `AsyncTable` after ``await table.load()``, since an
attribute cannot await.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Hashable,
    Iterable,
    Iterator,
)
from decimal import Decimal
from types import TracebackType
from typing import Any, NamedTuple

from ..errors import ClientError, ParamValidationError, ResponseParseError
from .conditions import Placeholders
from .errors import TableNotLoadedError, UnprocessedItemsError
from .types import deserialize_item, serialize, serialize_item
from .waiters import AsyncWaiter, Waiter, waiter_spec

__all__ = [
    "AsyncBatchWriter",
    "AsyncTable",
    "BatchWriter",
    "Table",
    "TableMeta",
    "TableNotLoadedError",
]

WRITE_BATCH = 25
READ_BATCH = 100
BATCH_ATTEMPTS = 10
BACKOFF_BASE = 0.05
BACKOFF_CAP = 5.0

_EXPRESSIONS = (
    "KeyConditionExpression",
    "FilterExpression",
    "ConditionExpression",
    "UpdateExpression",
    "Update",
    "ProjectionExpression",
    "ExpressionAttributeNames",
    "ExpressionAttributeValues",
)


# parameters and results


def to_request(
    table_name: str, params: dict[str, Any], *, floats: bool = False
) -> dict[str, Any]:
    """A Table call's parameters as the client's: values marshalled, expressions
    built, ``TableName`` added."""
    if "TableName" in params:
        raise ParamValidationError(
            "a Table call names its table already; drop TableName"
        )
    out = dict(params)
    out["TableName"] = table_name
    for name in ("Item", "Key", "ExclusiveStartKey"):
        if name in out:
            out[name] = serialize_item(out[name], floats=floats)
    if any(name in out for name in _EXPRESSIONS):
        _expressions(out, floats)
    return out


def _expressions(out: dict[str, Any], floats: bool) -> None:
    places = Placeholders(
        out.pop("ExpressionAttributeNames", None),
        out.pop("ExpressionAttributeValues", None),
    )
    if "KeyConditionExpression" in out:
        out["KeyConditionExpression"] = places.key_condition(
            out["KeyConditionExpression"]
        )
    for name in ("FilterExpression", "ConditionExpression"):
        if name in out:
            out[name] = places.condition(out[name])
    if "Update" in out:
        if "UpdateExpression" in out:
            raise ParamValidationError("give Update or UpdateExpression, not both")
        out["UpdateExpression"] = out.pop("Update")
    if "UpdateExpression" in out:
        out["UpdateExpression"] = places.update(out["UpdateExpression"])
    if "ProjectionExpression" in out:
        out["ProjectionExpression"] = places.projection(out["ProjectionExpression"])
    if places.names:
        out["ExpressionAttributeNames"] = places.names
    if places.values:
        out["ExpressionAttributeValues"] = {
            name: serialize(value, floats=floats)
            for name, value in places.values.items()
        }


def from_result(result: dict[str, Any]) -> dict[str, Any]:
    """A client result with its attribute values as Python values (a new dict)."""
    result = dict(result)
    for name in ("Item", "Attributes", "LastEvaluatedKey"):
        if name in result:
            result[name] = deserialize_item(result[name])
    if "Items" in result:
        result["Items"] = [deserialize_item(item) for item in result["Items"]]
    metrics = result.get("ItemCollectionMetrics")
    if metrics and "ItemCollectionKey" in metrics:
        metrics = dict(metrics)
        metrics["ItemCollectionKey"] = deserialize_item(metrics["ItemCollectionKey"])
        result["ItemCollectionMetrics"] = metrics
    return result


def backoff(attempt: int, rand: Callable[[], float] = random.random) -> float:
    """Seconds before resending unprocessed work: full jitter, capped."""
    return float(rand() * min(BACKOFF_CAP, BACKOFF_BASE * 2**attempt))


# comparing attribute values by value
#
# Two spellings of one number ("1", "1.0", "1E+0") are one DynamoDB value, and
# so are bytes and a bytearray holding the same octets. A key is compared,
# de-duplicated and matched against an answer through its mark: a hashable
# that is equal for equal values, never through its text.


def _mark(value: Any) -> Hashable:
    """An attribute value as a hashable that is equal for equal values."""
    ((kind, inner),) = value.items()
    if kind == "N":
        return kind, _number(inner)
    if kind == "B":
        return kind, _octets(inner)
    if kind == "NS":
        return kind, frozenset(_number(member) for member in inner)
    if kind == "BS":
        return kind, frozenset(_octets(member) for member in inner)
    if kind == "SS":
        return kind, frozenset(inner)
    if kind == "L":
        return kind, tuple(_mark(member) for member in inner)
    if kind == "M":
        return kind, _item_mark(inner)
    if (kind == "S" and type(inner) is str) or (
        kind in ("BOOL", "NULL") and type(inner) is bool
    ):
        return kind, inner
    raise TypeError(f"not an attribute value: {kind!r}")


def _number(text: Any) -> Decimal:
    if type(text) is not str:
        raise TypeError("a number travels as a string")
    return Decimal(text)


def _octets(blob: Any) -> bytes:
    if isinstance(blob, str):  # text given as binary: sent as its UTF-8
        return blob.encode("utf-8")
    if not isinstance(blob, bytes | bytearray):
        raise TypeError("binary travels as bytes")
    return bytes(blob)


def _item_mark(item: Any) -> frozenset[tuple[str, Hashable]]:
    return frozenset((name, _mark(value)) for name, value in item.items())


def _write_mark(request: Any) -> Hashable:
    ((kind, body),) = request.items()
    member = {"PutRequest": "Item", "DeleteRequest": "Key"}[kind]
    return kind, _item_mark(body[member])


# errors a batch gives up with


def _unread(
    table: str, keys: list[dict[str, Any]], cause: BaseException | None
) -> UnprocessedItemsError:
    why = f" ({cause})" if cause is not None else ""
    return UnprocessedItemsError(
        f"{len(keys)} key(s) of {table} were not read{why}", {table: keys}
    )


def _unwritten(
    table: str, requests: list[dict[str, Any]], cause: BaseException | None
) -> UnprocessedItemsError:
    why = f" ({cause})" if cause is not None else ""
    return UnprocessedItemsError(
        f"{len(requests)} write(s) to {table} were not done{why}", {table: requests}
    )


# one batch's work, resent until done
#
# A call can end three ways. It raises: nothing it carried is known to be
# done, so all of it is left (a throttled call is tried again; any other error
# ends the batch). It answers with work it did not do (UnprocessedItems,
# UnprocessedKeys): that much is left, matched by value to what was sent. Or
# its answer cannot be read, or names work that was never sent: then nothing
# it carried is accounted for, and the batch ends. What is left is resent
# after a jittered backoff as long as calls make progress; `max_attempts`
# calls in a row that make none end the batch, and the error names every
# request or key left, whatever ended it.

# a whole call refused for capacity, after the client's own retries
_THROTTLED = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
    }
)


class _Entry(NamedTuple):
    """One put, delete or key: as the caller gave it, as sent, its key's mark."""

    native: dict[str, Any]
    wire: dict[str, Any]
    key: Hashable = None


class _Job:
    """The work left of one batch; `failed` and `answered` say what comes next.

    Each returns the seconds to wait before the next call, or None to give
    up with `cause`; the batch is done when `pending` is empty.
    """

    operation = ""

    def __init__(self, table: str, pending: list[_Entry], max_attempts: int) -> None:
        self.table = table
        self.pending = pending
        self.max_attempts = max_attempts
        self.misses = 0  # calls in a row that made no progress
        self.cause: BaseException | None = None
        # the most calls a batch can take: each call either shrinks `pending`
        # or is a miss, and `max_attempts` misses in a row end it
        self.limit = (len(pending) + 1) * self.max_attempts

    def request(self) -> dict[str, Any]:
        raise NotImplementedError

    def left(self, result: dict[str, Any]) -> list[_Entry]:
        """The entries `result` did not do; LookupError, TypeError or
        ValueError when it cannot be read or names work never sent."""
        raise NotImplementedError

    def failed(self, error: Exception) -> float | None:
        self.cause = error
        if isinstance(error, ClientError) and error.code in _THROTTLED:
            return self._next(len(self.pending))
        return None

    def answered(self, result: Any) -> float | None:
        before = len(self.pending)
        try:
            left = self.left(result)
        except (
            LookupError,
            TypeError,
            ValueError,
            AttributeError,
            ArithmeticError,
        ) as error:
            self.cause = ResponseParseError(
                f"{self.operation}'s answer cannot be read ({error})"
            )
            self.cause.__cause__ = error
            return None
        self.pending, self.cause = left, None
        return self._next(before)

    def _next(self, before: int) -> float | None:
        self.misses = 0 if len(self.pending) < before else self.misses + 1
        if self.misses >= self.max_attempts:
            return None
        return backoff(self.misses)

    def _match(
        self, sent: list[_Entry], unprocessed: list[Any], mark: Any
    ) -> list[_Entry]:
        """The entries of `sent` that `unprocessed` names, matched by value."""
        by_mark: dict[Hashable, list[_Entry]] = {}
        for entry in sent:
            by_mark.setdefault(mark(entry.wire), []).append(entry)
        left = []
        for other in unprocessed:
            same = by_mark.get(mark(other))
            if not same:
                raise ValueError(f"it names {_what(other)} that was not sent")
            left.append(same.pop(0))
        return left


def _what(wire: Any) -> str:
    # a description of an answer's stray entry without its values
    if isinstance(wire, dict):
        return f"a request with {', '.join(map(str, wire))}"[:80]
    return f"a {type(wire).__name__}"


def _table_part(result: Any, member: str, table: str) -> Any:
    """`result[member][table]`, refusing entries for any other table."""
    if not isinstance(result, dict):
        raise TypeError(f"an answer is an object, not a {type(result).__name__}")
    part = result.get(member) or {}
    if not isinstance(part, dict):
        raise TypeError(f"{member} is an object, not a {type(part).__name__}")
    for name, value in part.items():
        if name != table and value:
            raise ValueError(f"{member} names table {name!r}, which was not asked")
    return part.get(table)


class _Writes(_Job):
    operation = "BatchWriteItem"

    def request(self) -> dict[str, Any]:
        return {"RequestItems": {self.table: [e.wire for e in self.pending]}}

    def left(self, result: dict[str, Any]) -> list[_Entry]:
        unprocessed = _table_part(result, "UnprocessedItems", self.table) or []
        if not isinstance(unprocessed, list):
            raise TypeError("UnprocessedItems holds a list per table")
        if not unprocessed:
            return []
        return self._match(self.pending, unprocessed, _write_mark)


class _Reads(_Job):
    operation = "BatchGetItem"

    def __init__(
        self,
        table: str,
        entry: dict[str, Any],
        pending: list[_Entry],
        max_attempts: int,
    ) -> None:
        super().__init__(table, pending, max_attempts)
        self.entry = entry
        self.found: list[dict[str, Any]] = []

    def request(self) -> dict[str, Any]:
        keys = [e.wire for e in self.pending]
        return {"RequestItems": {self.table: {**self.entry, "Keys": keys}}}

    def left(self, result: dict[str, Any]) -> list[_Entry]:
        items = _table_part(result, "Responses", self.table) or []
        if not isinstance(items, list):
            raise TypeError("Responses holds a list per table")
        found = [deserialize_item(item) for item in items]
        unprocessed = _table_part(result, "UnprocessedKeys", self.table) or {}
        keys = unprocessed.get("Keys") or []
        if not isinstance(keys, list):
            raise TypeError("UnprocessedKeys holds a list of keys per table")
        left = self._match(self.pending, keys, _item_mark) if keys else []
        if len(found) + len(left) > len(self.pending):
            raise ValueError("it holds more items than keys were asked")
        self.found.extend(found)
        return left


def _run(
    job: _Job, call: Callable[..., dict[str, Any]], sleep: Callable[[float], Any]
) -> bool:
    """Send `job`'s work until it is done (True) or given up (False)."""
    for _ in range(job.limit):
        try:
            result = call(**job.request())
        except Exception as error:
            wait = job.failed(error)
        else:
            wait = job.answered(result)
        if not job.pending:
            return True
        if wait is None:
            return False
        sleep(wait)
    return False


async def _arun(
    job: _Job,
    call: Callable[..., Awaitable[dict[str, Any]]],
    sleep: Callable[[float], Awaitable[Any]],
) -> bool:
    """The async twin of `_run`."""
    for _ in range(job.limit):
        try:
            result = await call(**job.request())
        except Exception as error:
            wait = job.failed(error)
        else:
            wait = job.answered(result)
        if not job.pending:
            return True
        if wait is None:
            return False
        await sleep(wait)
    return False


def _attempts(max_attempts: int) -> int:
    if type(max_attempts) is not int or max_attempts < 1:
        raise ParamValidationError(
            f"max_attempts is an int of at least 1, not {max_attempts!r}"
        )
    return max_attempts


def _read_entry(name: str, params: dict[str, Any], floats: bool) -> dict[str, Any]:
    allowed = {"ConsistentRead", "ProjectionExpression", "ExpressionAttributeNames"}
    unknown = set(params) - allowed
    if unknown:
        raise ParamValidationError(
            f"batch_get takes {', '.join(sorted(allowed))}, "
            f"not {', '.join(sorted(unknown))}"
        )
    entry = to_request(name, params, floats=floats)
    del entry["TableName"]
    return entry


def _unique_keys(keys: Iterable[dict[str, Any]], floats: bool) -> list[_Entry]:
    """`keys` marshalled, each value once: DynamoDB refuses a key asked twice."""
    seen: set[Hashable] = set()
    unique = []
    for key in keys:
        if not isinstance(key, dict):
            raise ParamValidationError(f"a key is a dict, not {type(key).__name__}")
        wire = serialize_item(key, floats=floats)
        mark = _item_mark(wire)
        if mark not in seen:
            seen.add(mark)
            unique.append(_Entry(key, wire))
    return unique


def _wire(request: dict[str, Any], floats: bool) -> dict[str, Any]:
    if "PutRequest" in request:
        item = serialize_item(request["PutRequest"]["Item"], floats=floats)
        return {"PutRequest": {"Item": item}}
    key = serialize_item(request["DeleteRequest"]["Key"], floats=floats)
    return {"DeleteRequest": {"Key": key}}


class _Buffer:
    """The write buffer shared by the sync and async batch writers."""

    def __init__(self, overwrite_by_pkeys: list[str] | None, floats: bool) -> None:
        self.keys = tuple(overwrite_by_pkeys or ())
        self.floats = floats
        self.entries: list[_Entry] = []

    def add(self, request: dict[str, Any]) -> None:
        # marshalled now, so a bad value (a float, say) raises here and is
        # never buffered: it cannot sink the good items sent with it
        wire = _wire(request, self.floats)
        if not self.keys:
            self.entries.append(_Entry(request, wire))
            return
        key = self._key(wire)
        self.entries = [e for e in self.entries if e.key != key]
        self.entries.append(_Entry(request, wire, key))

    def _key(self, wire: dict[str, Any]) -> Hashable:
        if "PutRequest" in wire:
            body = wire["PutRequest"]["Item"]
        else:
            body = wire["DeleteRequest"]["Key"]
        try:
            return tuple(_mark(body[name]) for name in self.keys)
        except KeyError as error:
            raise ParamValidationError(
                f"overwrite_by_pkeys names {error.args[0]!r}, which this request lacks"
            ) from None

    def take(self) -> list[_Entry]:
        chunk = self.entries[:WRITE_BATCH]
        del self.entries[:WRITE_BATCH]
        return chunk

    def put_back(self, entries: list[_Entry]) -> None:
        """Unsent `entries` back at the front (a newer write of a key wins)."""
        newer = {e.key for e in self.entries if e.key is not None}
        self.entries[:0] = [e for e in entries if e.key is None or e.key not in newer]

    def give_up(self, job: _Job, table: str) -> UnprocessedItemsError:
        """The error naming `job`'s work left and all still buffered (emptied)."""
        left = [e.native for e in job.pending + self.entries]
        self.entries = []
        return _unwritten(table, left, job.cause)


def _put(item: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise ParamValidationError(f"Item must be a dict, not {type(item).__name__}")
    return {"PutRequest": {"Item": item}}


def _delete(key: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(key, dict):
        raise ParamValidationError(f"Key must be a dict, not {type(key).__name__}")
    return {"DeleteRequest": {"Key": key}}


# the table's description, as boto3's Table attributes


class TableMeta:
    """``table.meta``, as boto3's: the low-level `client`, and `data`, the
    DescribeTable ``Table`` the attributes read (None until loaded)."""

    __slots__ = ("client", "data")

    def __init__(self, client: Any) -> None:
        self.client = client
        self.data: dict[str, Any] | None = None

    def __repr__(self) -> str:
        return f"TableMeta(loaded={self.data is not None})"


class _Described:
    """A table attribute read from its description (None when DynamoDB has none)."""

    def __init__(self, member: str) -> None:
        self.member = member
        self.__doc__ = f"DescribeTable's ``{member}``."

    def __get__(self, table: Any, owner: type | None = None) -> Any:
        if table is None:
            return self
        data = table.meta.data
        if data is None:
            data = table._description()
        return data.get(self.member)


class _Description:
    """boto3's Table attributes read from DescribeTable's ``Table``."""

    archival_summary = _Described("ArchivalSummary")
    attribute_definitions = _Described("AttributeDefinitions")
    billing_mode_summary = _Described("BillingModeSummary")
    creation_date_time = _Described("CreationDateTime")
    deletion_protection_enabled = _Described("DeletionProtectionEnabled")
    disassociation_protection_enabled = _Described("DisassociationProtectionEnabled")
    global_secondary_indexes = _Described("GlobalSecondaryIndexes")
    global_table_settings_replication_mode = _Described(
        "GlobalTableSettingsReplicationMode"
    )
    global_table_version = _Described("GlobalTableVersion")
    global_table_witnesses = _Described("GlobalTableWitnesses")
    item_count = _Described("ItemCount")
    key_schema = _Described("KeySchema")
    latest_stream_arn = _Described("LatestStreamArn")
    latest_stream_label = _Described("LatestStreamLabel")
    local_secondary_indexes = _Described("LocalSecondaryIndexes")
    multi_region_consistency = _Described("MultiRegionConsistency")
    on_demand_throughput = _Described("OnDemandThroughput")
    provisioned_throughput = _Described("ProvisionedThroughput")
    replicas = _Described("Replicas")
    restore_summary = _Described("RestoreSummary")
    sse_description = _Described("SSEDescription")
    stream_specification = _Described("StreamSpecification")
    table_arn = _Described("TableArn")
    table_class_summary = _Described("TableClassSummary")
    table_id = _Described("TableId")
    table_size_bytes = _Described("TableSizeBytes")
    table_status = _Described("TableStatus")
    vector_indexes = _Described("VectorIndexes")
    warm_throughput = _Described("WarmThroughput")


# the sync Table


class Table(_Description):
    """One table, Python values in and out; see the module docstring.

    ``table.meta.client`` is the client it calls. Its description
    (``key_schema``, ``table_status``, ``item_count``... boto3's attribute
    names) is read with DescribeTable on first use and kept; ``reload()``
    reads it afresh.
    """

    def __init__(
        self,
        client: Any,
        name: str,
        *,
        floats: bool = False,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = client
        self.name = name
        self.floats = floats
        self.meta = TableMeta(client)
        self._sleep = sleep

    @property
    def table_name(self) -> str:
        """The table's name (boto3's attribute)."""
        return self.name

    def __repr__(self) -> str:
        return f"Table({self.name!r})"

    def _call(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        request = to_request(self.name, params, floats=self.floats)
        return from_result(getattr(self.client, operation)(**request))

    def put_item(self, **params: Any) -> dict[str, Any]:
        """PutItem with a Python ``Item``."""
        return self._call("put_item", params)

    def get_item(self, **params: Any) -> dict[str, Any]:
        """GetItem by a Python ``Key``; ``Item`` absent when there is none."""
        return self._call("get_item", params)

    def update_item(self, **params: Any) -> dict[str, Any]:
        """UpdateItem; ``Update=`` (or ``UpdateExpression=``) may be an `Update`."""
        return self._call("update_item", params)

    def delete_item(self, **params: Any) -> dict[str, Any]:
        """DeleteItem by a Python ``Key``."""
        return self._call("delete_item", params)

    def query(self, **params: Any) -> dict[str, Any]:
        """One page of Query; ``LastEvaluatedKey`` says where the next starts."""
        return self._call("query", params)

    def scan(self, **params: Any) -> dict[str, Any]:
        """One page of Scan (``Segment``/``TotalSegments`` for a parallel scan)."""
        return self._call("scan", params)

    def query_items(self, **params: Any) -> Iterator[dict[str, Any]]:
        """Every item Query finds, across all pages."""
        return self._items("query", params)

    def scan_items(self, **params: Any) -> Iterator[dict[str, Any]]:
        """Every item Scan finds (in one segment, if given), across all pages."""
        return self._items("scan", params)

    def _items(
        self, operation: str, params: dict[str, Any]
    ) -> Iterator[dict[str, Any]]:
        request = to_request(self.name, params, floats=self.floats)
        pages = self.client.get_paginator(operation).paginate(**request)
        for page in pages:
            yield from from_result(page)["Items"]

    # the table's description

    def load(self) -> None:
        """Read the table's description (DescribeTable) into ``meta.data``."""
        self.meta.data = self.client.describe_table(TableName=self.name)["Table"]

    def reload(self) -> None:
        """Read the table's description again."""
        self.load()

    def _description(self) -> dict[str, Any]:
        self.load()
        assert self.meta.data is not None
        return self.meta.data

    def wait_until_exists(self, **params: Any) -> None:
        """Poll until the table is ACTIVE (``WaiterConfig`` as for the waiter)."""
        waiter = Waiter(self.client, waiter_spec("table_exists"), self._sleep)
        waiter.wait(TableName=self.name, **params)

    def wait_until_not_exists(self, **params: Any) -> None:
        """Poll until the table is gone."""
        waiter = Waiter(self.client, waiter_spec("table_not_exists"), self._sleep)
        waiter.wait(TableName=self.name, **params)

    # batches

    def batch_writer(
        self,
        overwrite_by_pkeys: list[str] | None = None,
        *,
        max_attempts: int = BATCH_ATTEMPTS,
    ) -> BatchWriter:
        """A buffer of puts and deletes sent 25 at a time; use it with ``with``.

        `overwrite_by_pkeys` names the key attributes by which a later
        request replaces a buffered one; `max_attempts` is how many calls in
        a row may bring no progress before the batch gives up.
        """
        return BatchWriter(self, overwrite_by_pkeys, max_attempts=max_attempts)

    def batch_get(
        self,
        keys: Iterable[dict[str, Any]],
        *,
        max_attempts: int = BATCH_ATTEMPTS,
        **params: Any,
    ) -> list[dict[str, Any]]:
        """The items at `keys` (absent ones left out), read 100 keys at a time.

        `params` go into each request's table entry (``ConsistentRead``,
        ``ProjectionExpression``, ``ExpressionAttributeNames``). A key given
        more than once (in any spelling of its values) is read once, and its
        item is in the result once. Unprocessed keys are asked for again;
        `UnprocessedItemsError` names every key left unread when
        `max_attempts` calls in a row bring no progress, or a call fails.
        """
        _attempts(max_attempts)
        entry = _read_entry(self.name, params, self.floats)
        unique = _unique_keys(keys, self.floats)
        found: list[dict[str, Any]] = []
        for start in range(0, len(unique), READ_BATCH):
            chunk = unique[start : start + READ_BATCH]
            job = _Reads(self.name, entry, chunk, max_attempts)
            if not _run(job, self.client.batch_get_item, self._sleep):
                left = job.pending + unique[start + READ_BATCH :]
                keys_left = [e.native for e in left]
                raise _unread(self.name, keys_left, job.cause) from job.cause
            found.extend(job.found)
        return found


class BatchWriter:
    """Puts and deletes, sent 25 per BatchWriteItem; flushed on leaving ``with``.

    A write that fails leaves the batch with `UnprocessedItemsError` naming
    every request not known to be written (the buffer is emptied into it);
    an interrupt (KeyboardInterrupt) puts the unsent requests back.
    """

    def __init__(
        self,
        table: Table,
        overwrite_by_pkeys: list[str] | None = None,
        *,
        max_attempts: int = BATCH_ATTEMPTS,
    ) -> None:
        self._table = table
        self._buffer = _Buffer(overwrite_by_pkeys, table.floats)
        self._max_attempts = _attempts(max_attempts)

    def put_item(self, Item: dict[str, Any]) -> None:
        """Queue a put of `Item`."""
        self._buffer.add(_put(Item))
        self._flush_full()

    def delete_item(self, Key: dict[str, Any]) -> None:
        """Queue a delete of `Key`."""
        self._buffer.add(_delete(Key))
        self._flush_full()

    def _flush_full(self) -> None:
        if len(self._buffer.entries) >= WRITE_BATCH:
            self._send(self._buffer.take())

    def flush(self) -> None:
        """Send everything buffered now."""
        while self._buffer.entries:
            self._send(self._buffer.take())

    def _send(self, chunk: list[_Entry]) -> None:
        table = self._table
        job = _Writes(table.name, chunk, self._max_attempts)
        try:
            done = _run(job, table.client.batch_write_item, table._sleep)
        except BaseException:
            self._buffer.put_back(job.pending)
            raise
        if not done:
            raise self._buffer.give_up(job, table.name) from job.cause

    def __enter__(self) -> BatchWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.flush()


# the async Table


class AsyncTable(_Description):
    """The async twin of `Table`: the same methods, awaited.

    Its description attributes (``key_schema``, ``table_status``...) are
    there after ``await table.load()``; read before it, they raise
    `TableNotLoadedError` (an AttributeError), since an attribute cannot
    wait for DescribeTable.
    """

    def __init__(
        self,
        client: Any,
        name: str,
        *,
        floats: bool = False,
        sleep: Callable[[float], Awaitable[Any]] | None = None,
    ) -> None:
        self.client = client
        self.name = name
        self.floats = floats
        self.meta = TableMeta(client)
        self._sleep = sleep or asyncio.sleep

    @property
    def table_name(self) -> str:
        """The table's name (boto3's attribute)."""
        return self.name

    def __repr__(self) -> str:
        return f"AsyncTable({self.name!r})"

    async def _call(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        request = to_request(self.name, params, floats=self.floats)
        return from_result(await getattr(self.client, operation)(**request))

    async def put_item(self, **params: Any) -> dict[str, Any]:
        """PutItem with a Python ``Item``."""
        return await self._call("put_item", params)

    async def get_item(self, **params: Any) -> dict[str, Any]:
        """GetItem by a Python ``Key``; ``Item`` absent when there is none."""
        return await self._call("get_item", params)

    async def update_item(self, **params: Any) -> dict[str, Any]:
        """UpdateItem; ``Update=`` (or ``UpdateExpression=``) may be an `Update`."""
        return await self._call("update_item", params)

    async def delete_item(self, **params: Any) -> dict[str, Any]:
        """DeleteItem by a Python ``Key``."""
        return await self._call("delete_item", params)

    async def query(self, **params: Any) -> dict[str, Any]:
        """One page of Query."""
        return await self._call("query", params)

    async def scan(self, **params: Any) -> dict[str, Any]:
        """One page of Scan."""
        return await self._call("scan", params)

    def query_items(self, **params: Any) -> AsyncIterator[dict[str, Any]]:
        """Every item Query finds, across all pages (``async for``)."""
        return self._items("query", params)

    def scan_items(self, **params: Any) -> AsyncIterator[dict[str, Any]]:
        """Every item Scan finds, across all pages (``async for``)."""
        return self._items("scan", params)

    async def _items(
        self, operation: str, params: dict[str, Any]
    ) -> AsyncIterator[dict[str, Any]]:
        request = to_request(self.name, params, floats=self.floats)
        pages = self.client.get_paginator(operation).paginate(**request)
        async for page in pages:
            for item in from_result(page)["Items"]:
                yield item

    # the table's description

    async def load(self) -> None:
        """Read the table's description (DescribeTable) into ``meta.data``."""
        described = await self.client.describe_table(TableName=self.name)
        self.meta.data = described["Table"]

    async def reload(self) -> None:
        """Read the table's description again."""
        await self.load()

    def _description(self) -> dict[str, Any]:
        raise TableNotLoadedError(
            f"{self!r} has no description yet: await its load() first"
        )

    async def wait_until_exists(self, **params: Any) -> None:
        """Poll until the table is ACTIVE (``WaiterConfig`` as for the waiter)."""
        waiter = AsyncWaiter(self.client, waiter_spec("table_exists"), self._sleep)
        await waiter.wait(TableName=self.name, **params)

    async def wait_until_not_exists(self, **params: Any) -> None:
        """Poll until the table is gone."""
        spec = waiter_spec("table_not_exists")
        await AsyncWaiter(self.client, spec, self._sleep).wait(
            TableName=self.name, **params
        )

    # batches

    def batch_writer(
        self,
        overwrite_by_pkeys: list[str] | None = None,
        *,
        max_attempts: int = BATCH_ATTEMPTS,
    ) -> AsyncBatchWriter:
        """A buffer of puts and deletes; use it with ``async with``."""
        return AsyncBatchWriter(self, overwrite_by_pkeys, max_attempts=max_attempts)

    async def batch_get(
        self,
        keys: Iterable[dict[str, Any]],
        *,
        max_attempts: int = BATCH_ATTEMPTS,
        **params: Any,
    ) -> list[dict[str, Any]]:
        """The items at `keys`, read 100 keys at a time (see `Table.batch_get`)."""
        _attempts(max_attempts)
        entry = _read_entry(self.name, params, self.floats)
        unique = _unique_keys(keys, self.floats)
        found: list[dict[str, Any]] = []
        for start in range(0, len(unique), READ_BATCH):
            chunk = unique[start : start + READ_BATCH]
            job = _Reads(self.name, entry, chunk, max_attempts)
            if not await _arun(job, self.client.batch_get_item, self._sleep):
                left = job.pending + unique[start + READ_BATCH :]
                keys_left = [e.native for e in left]
                raise _unread(self.name, keys_left, job.cause) from job.cause
            found.extend(job.found)
        return found


class AsyncBatchWriter:
    """The async twin of `BatchWriter`: ``async with table.batch_writer() as b``.

    A cancelled flush puts the unsent requests back in the buffer, and
    leaving the ``async with`` block cancelled sends nothing more: they stay
    buffered until `flush()` is awaited again.
    """

    def __init__(
        self,
        table: AsyncTable,
        overwrite_by_pkeys: list[str] | None = None,
        *,
        max_attempts: int = BATCH_ATTEMPTS,
    ) -> None:
        self._table = table
        self._buffer = _Buffer(overwrite_by_pkeys, table.floats)
        self._max_attempts = _attempts(max_attempts)

    async def put_item(self, Item: dict[str, Any]) -> None:
        """Queue a put of `Item`."""
        self._buffer.add(_put(Item))
        await self._flush_full()

    async def delete_item(self, Key: dict[str, Any]) -> None:
        """Queue a delete of `Key`."""
        self._buffer.add(_delete(Key))
        await self._flush_full()

    async def _flush_full(self) -> None:
        if len(self._buffer.entries) >= WRITE_BATCH:
            await self._send(self._buffer.take())

    async def flush(self) -> None:
        """Send everything buffered now."""
        while self._buffer.entries:
            await self._send(self._buffer.take())

    async def _send(self, chunk: list[_Entry]) -> None:
        table = self._table
        job = _Writes(table.name, chunk, self._max_attempts)
        try:
            done = await _arun(job, table.client.batch_write_item, table._sleep)
        except BaseException:
            self._buffer.put_back(job.pending)
            raise
        if not done:
            raise self._buffer.give_up(job, table.name) from job.cause

    async def __aenter__(self) -> AsyncBatchWriter:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        import asyncio  # loaded already: this runs in an event loop

        if exc_type is not None and issubclass(exc_type, asyncio.CancelledError):
            # a cancelled task starts no new call: what is unsent stays in
            # the buffer, for a later `flush()`
            return
        await self.flush()
