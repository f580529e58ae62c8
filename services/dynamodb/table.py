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

Batches: `batch_writer` buffers 25 puts and deletes per BatchWriteItem,
resends whatever comes back unprocessed with jittered exponential backoff,
flushes on leaving the ``with`` block, and never drops an item: when its
attempts run out it raises `UnprocessedItemsError` naming every request not
written. `batch_get` reads any number of keys, 100 per BatchGetItem, the same
way. Errors from DynamoDB keep boto3's shape (an error's ``Item`` stays in
low-level form, as in boto3).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from types import TracebackType
from typing import Any

from ..errors import ClientError, EndpointError, ParamValidationError
from .conditions import Placeholders
from .errors import UnprocessedItemsError
from .types import deserialize_item, serialize, serialize_item

__all__ = ["AsyncBatchWriter", "AsyncTable", "BatchWriter", "Table"]

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


def _key_of(request: dict[str, Any], names: tuple[str, ...]) -> tuple[Any, ...]:
    body = request.get("PutRequest", {}).get("Item") or request["DeleteRequest"]["Key"]
    try:
        return tuple(repr(serialize(body[name])) for name in names)
    except KeyError as error:
        raise ParamValidationError(
            f"overwrite_by_pkeys names {error.args[0]!r}, which this request lacks"
        ) from None


def _wire(request: dict[str, Any], floats: bool) -> dict[str, Any]:
    if "PutRequest" in request:
        item = serialize_item(request["PutRequest"]["Item"], floats=floats)
        return {"PutRequest": {"Item": item}}
    key = serialize_item(request["DeleteRequest"]["Key"], floats=floats)
    return {"DeleteRequest": {"Key": key}}


class _Pending:
    """Write requests in flight: native and wire forms, matched by wire key."""

    def __init__(self, requests: list[dict[str, Any]], floats: bool) -> None:
        self.native = requests
        self.wire = [_wire(r, floats) for r in requests]

    def keep_unprocessed(self, unprocessed: list[dict[str, Any]]) -> None:
        wanted = [repr(u) for u in unprocessed]
        kept_native, kept_wire = [], []
        for native, wire in zip(self.native, self.wire, strict=True):
            if repr(wire) in wanted:
                wanted.remove(repr(wire))
                kept_native.append(native)
                kept_wire.append(wire)
        # anything unmatched (a server that rewrote a request) is resent as given
        self.native = kept_native + [
            _native_guess(u) for u in unprocessed if repr(u) in wanted
        ]
        self.wire = kept_wire + [u for u in unprocessed if repr(u) in wanted]


def _native_guess(wire: dict[str, Any]) -> dict[str, Any]:
    if "PutRequest" in wire:
        return {"PutRequest": {"Item": deserialize_item(wire["PutRequest"]["Item"])}}
    return {"DeleteRequest": {"Key": deserialize_item(wire["DeleteRequest"]["Key"])}}


class _Keys:
    """Keys to read: native and wire forms, matched by wire key."""

    def __init__(self, keys: list[dict[str, Any]], floats: bool) -> None:
        self.wire = [serialize_item(k, floats=floats) for k in keys]
        self.native = {repr(w): k for w, k in zip(self.wire, keys, strict=True)}

    def unread(self, wire_keys: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        return [self.native.get(repr(w)) or deserialize_item(w) for w in wire_keys]


def _unique_keys(keys: Iterable[dict[str, Any]], floats: bool) -> list[dict[str, Any]]:
    seen: set[str] = set()
    unique = []
    for key in keys:
        mark = repr(serialize_item(key, floats=floats))
        if mark not in seen:
            seen.add(mark)
            unique.append(key)
    return unique


# the sync Table


class Table:
    """One table, Python values in and out; see the module docstring."""

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

    def batch_writer(
        self,
        overwrite_by_pkeys: list[str] | None = None,
        *,
        max_attempts: int = BATCH_ATTEMPTS,
    ) -> BatchWriter:
        """A buffer of puts and deletes sent 25 at a time; use it with ``with``."""
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
        ``ProjectionExpression``, ``ExpressionAttributeNames``). Unprocessed
        keys are asked for again; `UnprocessedItemsError` names those still
        unread after `max_attempts`. Duplicate keys are read once.
        """
        unique = _unique_keys(keys, self.floats)
        found: list[dict[str, Any]] = []
        for start in range(0, len(unique), READ_BATCH):
            chunk = unique[start : start + READ_BATCH]
            try:
                found.extend(self._read(chunk, params, max_attempts))
            except UnprocessedItemsError as error:
                rest = unique[start + READ_BATCH :]
                raise _with_rest(error, self.name, rest) from error.__cause__
        return found

    def _read(
        self, chunk: list[dict[str, Any]], params: dict[str, Any], max_attempts: int
    ) -> list[dict[str, Any]]:
        keys = _Keys(chunk, self.floats)
        entry = _read_entry(self.name, params, self.floats)
        wanted = keys.wire
        found: list[dict[str, Any]] = []
        for attempt in range(max_attempts):
            request = {"RequestItems": {self.name: {**entry, "Keys": wanted}}}
            try:
                result = self.client.batch_get_item(**request)
            except (ClientError, EndpointError) as error:
                raise _unread(self.name, keys.unread(wanted), error) from error
            found.extend(
                deserialize_item(i)
                for i in result.get("Responses", {}).get(self.name, [])
            )
            wanted = (
                result.get("UnprocessedKeys", {}).get(self.name, {}).get("Keys", [])
            )
            if not wanted:
                return found
            if attempt + 1 < max_attempts:
                self._sleep(backoff(attempt))
        raise _unread(self.name, keys.unread(wanted), None)


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


def _unread(
    table: str, keys: list[dict[str, Any]], cause: BaseException | None
) -> UnprocessedItemsError:
    why = f" ({cause})" if cause is not None else ""
    return UnprocessedItemsError(
        f"{len(keys)} key(s) of {table} were not read{why}", {table: keys}
    )


def _with_rest(
    error: UnprocessedItemsError, table: str, rest: list[dict[str, Any]]
) -> UnprocessedItemsError:
    """`error` widened to the keys of the chunks never sent."""
    keys = error.unprocessed[table] + rest
    cause = error.__cause__
    return _unread(table, keys, cause)


def _unwritten(
    table: str, requests: list[dict[str, Any]], cause: BaseException | None
) -> UnprocessedItemsError:
    why = f" ({cause})" if cause is not None else ""
    return UnprocessedItemsError(
        f"{len(requests)} write(s) to {table} were not done{why}", {table: requests}
    )


class _Buffer:
    """The write buffer shared by the sync and async batch writers."""

    def __init__(self, overwrite_by_pkeys: list[str] | None) -> None:
        self.keys = tuple(overwrite_by_pkeys or ())
        self.requests: list[dict[str, Any]] = []

    def add(self, request: dict[str, Any]) -> None:
        if self.keys:
            mark = _key_of(request, self.keys)
            self.requests = [r for r in self.requests if _key_of(r, self.keys) != mark]
        self.requests.append(request)

    def take(self) -> list[dict[str, Any]]:
        chunk = self.requests[:WRITE_BATCH]
        del self.requests[:WRITE_BATCH]
        return chunk


def _put(item: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise ParamValidationError(f"Item must be a dict, not {type(item).__name__}")
    return {"PutRequest": {"Item": item}}


def _delete(key: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(key, dict):
        raise ParamValidationError(f"Key must be a dict, not {type(key).__name__}")
    return {"DeleteRequest": {"Key": key}}


class BatchWriter:
    """Puts and deletes, sent 25 per BatchWriteItem; flushed on leaving ``with``."""

    def __init__(
        self,
        table: Table,
        overwrite_by_pkeys: list[str] | None = None,
        *,
        max_attempts: int = BATCH_ATTEMPTS,
    ) -> None:
        self._table = table
        self._buffer = _Buffer(overwrite_by_pkeys)
        self._max_attempts = max_attempts

    def put_item(self, Item: dict[str, Any]) -> None:
        """Queue a put of `Item`."""
        self._buffer.add(self._checked(_put(Item)))
        self._flush_full()

    def delete_item(self, Key: dict[str, Any]) -> None:
        """Queue a delete of `Key`."""
        self._buffer.add(self._checked(_delete(Key)))
        self._flush_full()

    def _checked(self, request: dict[str, Any]) -> dict[str, Any]:
        # marshalled now, so a bad value (a float, say) raises here and is
        # never buffered: it cannot sink the good items sent with it
        _wire(request, self._table.floats)
        return request

    def _flush_full(self) -> None:
        if len(self._buffer.requests) >= WRITE_BATCH:
            self._send(self._buffer.take())

    def flush(self) -> None:
        """Send everything buffered now."""
        while self._buffer.requests:
            self._send(self._buffer.take())

    def _send(self, chunk: list[dict[str, Any]]) -> None:
        table = self._table
        pending = _Pending(chunk, table.floats)
        for attempt in range(self._max_attempts):
            request = {"RequestItems": {table.name: pending.wire}}
            try:
                result = table.client.batch_write_item(**request)
            except (ClientError, EndpointError) as error:
                raise self._give_up(pending, error) from error
            unprocessed = result.get("UnprocessedItems", {}).get(table.name, [])
            if not unprocessed:
                return
            pending.keep_unprocessed(unprocessed)
            if attempt + 1 < self._max_attempts:
                table._sleep(backoff(attempt))
        raise self._give_up(pending, None)

    def _give_up(
        self, pending: _Pending, cause: BaseException | None
    ) -> UnprocessedItemsError:
        left = pending.native + self._buffer.requests
        self._buffer.requests = []
        return _unwritten(self._table.name, left, cause)

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


class AsyncTable:
    """The async twin of `Table`: the same methods, awaited."""

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
        unique = _unique_keys(keys, self.floats)
        found: list[dict[str, Any]] = []
        for start in range(0, len(unique), READ_BATCH):
            chunk = unique[start : start + READ_BATCH]
            try:
                found.extend(await self._read(chunk, params, max_attempts))
            except UnprocessedItemsError as error:
                rest = unique[start + READ_BATCH :]
                raise _with_rest(error, self.name, rest) from error.__cause__
        return found

    async def _read(
        self, chunk: list[dict[str, Any]], params: dict[str, Any], max_attempts: int
    ) -> list[dict[str, Any]]:
        keys = _Keys(chunk, self.floats)
        entry = _read_entry(self.name, params, self.floats)
        wanted = keys.wire
        found: list[dict[str, Any]] = []
        for attempt in range(max_attempts):
            request = {"RequestItems": {self.name: {**entry, "Keys": wanted}}}
            try:
                result = await self.client.batch_get_item(**request)
            except (ClientError, EndpointError) as error:
                raise _unread(self.name, keys.unread(wanted), error) from error
            found.extend(
                deserialize_item(i)
                for i in result.get("Responses", {}).get(self.name, [])
            )
            wanted = (
                result.get("UnprocessedKeys", {}).get(self.name, {}).get("Keys", [])
            )
            if not wanted:
                return found
            if attempt + 1 < max_attempts:
                await self._sleep(backoff(attempt))
        raise _unread(self.name, keys.unread(wanted), None)


class AsyncBatchWriter:
    """The async twin of `BatchWriter`: ``async with table.batch_writer() as b``."""

    def __init__(
        self,
        table: AsyncTable,
        overwrite_by_pkeys: list[str] | None = None,
        *,
        max_attempts: int = BATCH_ATTEMPTS,
    ) -> None:
        self._table = table
        self._buffer = _Buffer(overwrite_by_pkeys)
        self._max_attempts = max_attempts

    async def put_item(self, Item: dict[str, Any]) -> None:
        """Queue a put of `Item`."""
        self._buffer.add(self._checked(_put(Item)))
        await self._flush_full()

    async def delete_item(self, Key: dict[str, Any]) -> None:
        """Queue a delete of `Key`."""
        self._buffer.add(self._checked(_delete(Key)))
        await self._flush_full()

    def _checked(self, request: dict[str, Any]) -> dict[str, Any]:
        # as BatchWriter: a bad item raises on adding, never at flush
        _wire(request, self._table.floats)
        return request

    async def _flush_full(self) -> None:
        if len(self._buffer.requests) >= WRITE_BATCH:
            await self._send(self._buffer.take())

    async def flush(self) -> None:
        """Send everything buffered now."""
        while self._buffer.requests:
            await self._send(self._buffer.take())

    async def _send(self, chunk: list[dict[str, Any]]) -> None:
        table = self._table
        pending = _Pending(chunk, table.floats)
        for attempt in range(self._max_attempts):
            request = {"RequestItems": {table.name: pending.wire}}
            try:
                result = await table.client.batch_write_item(**request)
            except (ClientError, EndpointError) as error:
                raise self._give_up(pending, error) from error
            unprocessed = result.get("UnprocessedItems", {}).get(table.name, [])
            if not unprocessed:
                return
            pending.keep_unprocessed(unprocessed)
            if attempt + 1 < self._max_attempts:
                await table._sleep(backoff(attempt))
        raise self._give_up(pending, None)

    def _give_up(
        self, pending: _Pending, cause: BaseException | None
    ) -> UnprocessedItemsError:
        left = pending.native + self._buffer.requests
        self._buffer.requests = []
        return _unwritten(self._table.name, left, cause)

    async def __aenter__(self) -> AsyncBatchWriter:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.flush()
