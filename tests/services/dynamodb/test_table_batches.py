"""Batch writer and batch_get: failures, de-duplication, retries.

The promise under test (issue 5): no item is ever dropped. Whatever goes
wrong, every put ends up written exactly once, or the typed error
(`UnprocessedItemsError`, a `services.ServiceError`) names it; and every key
is read, or the error names it. Where boto3 has a behaviour (its
``batch_writer``'s de-duplication and its resending), boto3 is the oracle,
driven through botocore's Stubber so it never leaves the process.
"""

from __future__ import annotations

import base64
import json
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from botocore.stub import Stubber

import services
from services.dynamodb.client import AsyncDynamoDBClient, DynamoDBClient
from services.dynamodb.errors import UnprocessedItemsError
from services.dynamodb.resource import DynamoDBResource
from services.dynamodb.table import AsyncTable, Table
from services.errors import ClientClosedError, ParamValidationError

from .conftest import ENDPOINT, SECRET, TOKEN, Fake, answer, failure, transport


class Interrupt(BaseException):
    """Stands for KeyboardInterrupt or a cancellation: not an Exception."""


@pytest.fixture
def table(client: Any, fake: Fake) -> Table:
    return Table(client, "tbl", sleep=fake.sleeps.append)


def _pk(value: dict[str, Any]) -> str:
    return str(value["pk"]["S"])


class Server:
    """A DynamoDB table as its store: does `per_call` requests of each call.

    Like DynamoDB it refuses a batch that names one key twice (compared as
    values: numbers as numbers), and counts every write and read per key.
    `faults` maps a call number (1-based) to the answer given instead.
    """

    def __init__(self, per_call: int = 25) -> None:
        self.per_call = per_call
        self.items: dict[str, dict[str, Any]] = {}
        self.writes: Counter[str] = Counter()
        self.reads: Counter[str] = Counter()
        self.faults: dict[int, Callable[[httpx.Request], httpx.Response]] = {}
        self.calls = 0

    def __call__(
        self, op: str, params: dict[str, Any], request: httpx.Request
    ) -> httpx.Response:
        self.calls += 1
        if self.calls in self.faults:
            return self.faults[self.calls](request)
        if op == "BatchWriteItem":
            return self._write(params["RequestItems"]["tbl"])
        return self._read(params["RequestItems"]["tbl"])

    def _write(self, requests: list[dict[str, Any]]) -> httpx.Response:
        assert len(requests) <= 25
        keys = [
            _value_key(r.get("PutRequest", {}).get("Item") or r["DeleteRequest"]["Key"])
            for r in requests
        ]
        if len(set(keys)) < len(keys):
            return failure(
                "ValidationException", "Provided list of item keys contains duplicates"
            )
        done, left = requests[: self.per_call], requests[self.per_call :]
        for write in done:
            if "PutRequest" in write:
                key = _pk(write["PutRequest"]["Item"])
                self.items[key] = write["PutRequest"]["Item"]
            else:
                key = _pk(write["DeleteRequest"]["Key"])
                self.items.pop(key, None)
            self.writes[key] += 1
        return answer({"UnprocessedItems": {"tbl": left} if left else {}})

    def _read(self, entry: dict[str, Any]) -> httpx.Response:
        keys = entry["Keys"]
        assert len(keys) <= 100
        if len({_value_key(k) for k in keys}) < len(keys):
            return failure(
                "ValidationException", "Provided list of item keys contains duplicates"
            )
        done, left = keys[: self.per_call], keys[self.per_call :]
        found = []
        for key in done:
            self.reads[_pk(key)] += 1
            if _pk(key) in self.items:
                found.append(self.items[_pk(key)])
        unprocessed = {"tbl": {**entry, "Keys": left}} if left else {}
        return answer({"Responses": {"tbl": found}, "UnprocessedKeys": unprocessed})


def _value_key(key: dict[str, Any]) -> tuple[Any, ...]:
    # the test's own notion of "the same key": sorted names, numbers as Decimal
    def value(attribute: dict[str, Any]) -> Any:
        ((kind, inner),) = attribute.items()
        return (kind, Decimal(inner) if kind == "N" else inner)

    names = sorted(n for n in ("pk", "sk") if n in key)
    return tuple((n, value(key[n])) for n in names)


def _wire_put(name: str) -> dict[str, Any]:
    return {"PutRequest": {"Item": {"pk": {"S": name}}}}


def _left(error: UnprocessedItemsError) -> list[str]:
    return [r["PutRequest"]["Item"]["pk"] for r in error.unprocessed["tbl"]]


def _puts(n: int) -> list[str]:
    return [f"k{i:03}" for i in range(n)]


def _write_all(table: Table, names: list[str]) -> None:
    with table.batch_writer() as writer:
        for name in names:
            writer.put_item(Item={"pk": name})


def _not_json(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, content=b"not json")


def _raises(request: httpx.Request) -> httpx.Response:
    raise RuntimeError("a bug somewhere below the writer")


_WRITE_FAULTS: dict[str, Callable[[httpx.Request], httpx.Response]] = {
    "answer not json": _not_json,
    "UnprocessedItems garbage": lambda r: answer(
        {"UnprocessedItems": {"tbl": "garbage"}}
    ),
    "UnprocessedItems not a map": lambda r: answer({"UnprocessedItems": "garbage"}),
    "unprocessed bad number": lambda r: answer(
        {"UnprocessedItems": {"tbl": [{"PutRequest": {"Item": {"pk": {"N": "x"}}}}]}}
    ),
    "unprocessed never sent": lambda r: answer(
        {
            "UnprocessedItems": {
                "tbl": [{"PutRequest": {"Item": {"pk": {"S": "never-sent"}}}}]
            }
        }
    ),
    "unprocessed other table": lambda r: answer(
        {
            "UnprocessedItems": {
                "other": [{"DeleteRequest": {"Key": {"pk": {"S": "x"}}}}]
            }
        }
    ),
    "transport bug": _raises,
}


# every failure path: written exactly once, or named


@pytest.mark.parametrize("fault", list(_WRITE_FAULTS))
def test_batch_writer_names_the_chunk_a_failed_call_carried(
    table: Table, fake: Fake, fault: str
) -> None:
    server = Server()
    server.faults[2] = _WRITE_FAULTS[fault]
    fake.handler = server
    names = _puts(60)

    with pytest.raises(UnprocessedItemsError) as caught:
        _write_all(table, names)

    # put 50 sent the second chunk, which failed; 51..60 were never handed over
    assert isinstance(caught.value, services.ServiceError)
    assert _left(caught.value) == names[25:50]
    assert server.writes == Counter(names[:25])
    assert caught.value.__cause__ is not None
    for shown in (str(caught.value), repr(caught.value)):
        assert SECRET not in shown and TOKEN not in shown


def test_batch_writer_on_a_closed_client_names_every_item(
    table: Table, client: DynamoDBClient, fake: Fake
) -> None:
    client.close()
    names = _puts(30)

    with pytest.raises(UnprocessedItemsError) as caught:
        _write_all(table, names)

    assert _left(caught.value) == names[:25]
    assert isinstance(caught.value.__cause__, ClientClosedError)
    assert fake.calls == []


def test_batch_writer_without_credentials_names_every_item(
    fake: Fake, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("HOME", str(tmp_path))
    made = DynamoDBClient(
        region_name="eu-west-1", endpoint_url=ENDPOINT, _transport=transport(fake)
    )
    names = _puts(30)

    with pytest.raises(UnprocessedItemsError, match="credentials") as caught:
        _write_all(Table(made, "tbl"), names)
    made.close()

    assert _left(caught.value) == names[:25]
    assert fake.calls == []


def test_batch_writer_keeps_its_items_when_interrupted(
    table: Table, fake: Fake
) -> None:
    def interrupt(request: httpx.Request) -> httpx.Response:
        raise Interrupt()

    server = Server()
    server.faults[2] = interrupt
    fake.handler = server
    names = _puts(60)
    writer = table.batch_writer()

    with pytest.raises(Interrupt):
        for name in names:
            writer.put_item(Item={"pk": name})
    writer.flush()

    # the interrupted call's chunk went back in the buffer and was sent again
    assert server.writes == Counter(names[:50])


def test_batch_writer_keeps_what_is_left_when_its_backoff_is_interrupted(
    client: DynamoDBClient, fake: Fake
) -> None:
    server = Server(per_call=5)
    fake.handler = server

    def sleep(seconds: float) -> None:
        raise Interrupt()

    names = _puts(25)
    writer = Table(client, "tbl", sleep=sleep).batch_writer()
    with pytest.raises(Interrupt):
        for name in names:
            writer.put_item(Item={"pk": name})
    server.per_call = 25
    writer.flush()

    assert server.writes == Counter(names)


@pytest.mark.anyio
@pytest.mark.parametrize(
    "fault", ["answer not json", "UnprocessedItems garbage", "transport bug"]
)
async def test_async_batch_writer_names_the_chunk_a_failed_call_carried(
    aclient: AsyncDynamoDBClient, fake: Fake, fault: str
) -> None:
    server = Server()
    server.faults[2] = _WRITE_FAULTS[fault]
    fake.handler = server
    names = _puts(60)
    table = AsyncTable(aclient, "tbl")

    with pytest.raises(UnprocessedItemsError) as caught:
        async with table.batch_writer() as writer:
            for name in names:
                await writer.put_item(Item={"pk": name})

    assert _left(caught.value) == names[25:50]
    assert server.writes == Counter(names[:25])


@pytest.mark.anyio
async def test_async_batch_writer_on_a_closed_client_names_every_item(
    aclient: AsyncDynamoDBClient, fake: Fake
) -> None:
    await aclient.close()
    names = _puts(30)

    with pytest.raises(UnprocessedItemsError) as caught:
        async with AsyncTable(aclient, "tbl").batch_writer() as writer:
            for name in names:
                await writer.put_item(Item={"pk": name})

    assert _left(caught.value) == names[:25]
    assert isinstance(caught.value.__cause__, ClientClosedError)


@pytest.mark.anyio
async def test_async_batch_writer_puts_back_what_a_cancelled_backoff_left(
    aclient: AsyncDynamoDBClient, fake: Fake
) -> None:
    server = Server(per_call=5)
    fake.handler = server

    async def sleep(seconds: float) -> None:
        raise Interrupt()

    names = _puts(25)
    writer = AsyncTable(aclient, "tbl", sleep=sleep).batch_writer()
    with pytest.raises(Interrupt):
        for name in names:
            await writer.put_item(Item={"pk": name})
    server.per_call = 25
    await writer.flush()

    assert server.writes == Counter(names)


_READ_FAULTS: dict[str, Callable[[httpx.Request], httpx.Response]] = {
    "answer not json": _not_json,
    "Responses garbage": lambda r: answer({"Responses": {"tbl": "garbage"}}),
    "bad item": lambda r: answer({"Responses": {"tbl": [{"n": {"N": "x"}}]}}),
    "UnprocessedKeys garbage": lambda r: answer({"UnprocessedKeys": {"tbl": "x"}}),
    "unprocessed never asked": lambda r: answer(
        {"UnprocessedKeys": {"tbl": {"Keys": [{"pk": {"S": "never-asked"}}]}}}
    ),
    "transport bug": _raises,
}


@pytest.mark.parametrize("fault", list(_READ_FAULTS))
def test_batch_get_names_every_key_not_read(
    table: Table, fake: Fake, fault: str
) -> None:
    server = Server(per_call=100)
    server.items = {n: {"pk": {"S": n}} for n in _puts(150)}
    server.faults[2] = _READ_FAULTS[fault]
    fake.handler = server
    keys = [{"pk": n} for n in _puts(150)]

    with pytest.raises(UnprocessedItemsError) as caught:
        table.batch_get(keys)

    assert caught.value.unprocessed == {"tbl": keys[100:]}
    assert server.reads == Counter(_puts(100))


def test_batch_get_on_a_closed_client_names_every_key(
    table: Table, client: DynamoDBClient
) -> None:
    client.close()
    keys = [{"pk": n} for n in _puts(150)]

    with pytest.raises(UnprocessedItemsError) as caught:
        table.batch_get(keys)

    assert caught.value.unprocessed == {"tbl": keys}
    assert isinstance(caught.value.__cause__, ClientClosedError)


@pytest.mark.anyio
@pytest.mark.parametrize("fault", ["answer not json", "Responses garbage"])
async def test_async_batch_get_names_every_key_not_read(
    aclient: AsyncDynamoDBClient, fake: Fake, fault: str
) -> None:
    server = Server(per_call=100)
    server.faults[1] = _READ_FAULTS[fault]
    fake.handler = server
    keys = [{"pk": n} for n in _puts(150)]

    with pytest.raises(UnprocessedItemsError) as caught:
        await AsyncTable(aclient, "tbl").batch_get(keys)

    assert caught.value.unprocessed == {"tbl": keys}


# de-duplication by value, as boto3's batch_writer does it


def _as_json(value: Any) -> Any:
    """`value` as it reads back from JSON, binary as base64 (as on the wire)."""

    def blob(member: Any) -> str:
        return base64.b64encode(bytes(member)).decode()

    return json.loads(json.dumps(value, default=blob))


def _boto3_sent(
    requests: list[tuple[str, dict[str, Any]]], overwrite_by_pkeys: list[str]
) -> list[dict[str, Any]]:
    """What boto3's batch_writer sends for `requests` (never leaving the process)."""
    resource = boto3.resource(
        "dynamodb",
        region_name="eu-west-1",
        endpoint_url=ENDPOINT,
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="not-a-secret",
    )
    sent: list[dict[str, Any]] = []

    def capture(params: dict[str, Any], **kwargs: Any) -> None:
        # after boto3's own handler has marshalled the values; as JSON text
        sent.extend(_as_json(params)["RequestItems"]["tbl"])

    client = resource.meta.client
    client.meta.events.register("before-parameter-build.dynamodb", capture)
    with Stubber(client) as stubber:
        stubber.add_response("batch_write_item", {"UnprocessedItems": {}})
        with resource.Table("tbl").batch_writer(overwrite_by_pkeys) as writer:
            for kind, body in requests:
                if kind == "put":
                    writer.put_item(Item=body)
                else:
                    writer.delete_item(Key=body)
    return sent


_SAME_KEYS = {
    "1 and 1.0": (
        ["pk", "sk"],
        {"pk": "a", "sk": 1},
        {"pk": "a", "sk": Decimal("1.0")},
    ),
    "10 and 1E+1": (
        ["pk", "sk"],
        {"pk": "a", "sk": 10},
        {"sk": Decimal("1E+1"), "pk": "a"},
    ),
    "bytes and bytearray": (["pk"], {"pk": b"k"}, {"pk": bytearray(b"k")}),
    "str and bytes differ": (["pk"], {"pk": "k"}, {"pk": b"k"}),
    "1 and 2 differ": (["pk", "sk"], {"pk": "a", "sk": 1}, {"pk": "a", "sk": 2}),
}


@pytest.mark.parametrize("case", list(_SAME_KEYS))
def test_batch_writer_dedupes_by_value_as_boto3_does(
    table: Table, fake: Fake, case: str
) -> None:
    keys, first, second = _SAME_KEYS[case]
    requests = [
        ("put", {**first, "v": "first"}),
        ("put", {"pk": "other", "sk": 0}),
        ("put", {**second, "v": "second"}),
        ("delete", dict(first)),
    ]
    fake.handler = lambda op, params, request: answer({})

    with table.batch_writer(overwrite_by_pkeys=keys) as writer:
        for kind, body in requests:
            if kind == "put":
                writer.put_item(Item=body)
            else:
                writer.delete_item(Key=body)

    ours = [r for _, params in fake.calls for r in params["RequestItems"]["tbl"]]
    assert ours == _boto3_sent(requests, keys)


def test_batch_writer_dedupes_floats_on_a_floats_table(
    client: DynamoDBClient, fake: Fake
) -> None:
    fake.handler = lambda op, params, request: answer({})
    table = DynamoDBResource(client, floats=True).Table("tbl")

    with table.batch_writer(overwrite_by_pkeys=["pk", "sk"]) as writer:
        writer.put_item(Item={"pk": "h", "sk": 0.5, "v": 1})
        writer.put_item(Item={"pk": "h", "sk": Decimal("0.50"), "v": 2})
        writer.put_item(Item={"pk": "h", "sk": 0.25, "v": 3})

    sent = fake.calls[0][1]["RequestItems"]["tbl"]
    assert sent == [
        {
            "PutRequest": {
                "Item": {"pk": {"S": "h"}, "sk": {"N": "0.50"}, "v": {"N": "2"}}
            }
        },
        {
            "PutRequest": {
                "Item": {"pk": {"S": "h"}, "sk": {"N": "0.25"}, "v": {"N": "3"}}
            }
        },
    ]


def test_batch_writer_refuses_a_missing_key_attribute(table: Table) -> None:
    writer = table.batch_writer(overwrite_by_pkeys=["pk", "sk"])
    with pytest.raises(ParamValidationError, match="'sk'"):
        writer.put_item(Item={"pk": "a"})


def test_batch_get_reads_a_key_given_twice_once(table: Table, fake: Fake) -> None:
    server = Server()
    server.items = {"a": {"pk": {"S": "a"}, "sk": {"N": "1"}, "v": {"S": "x"}}}
    fake.handler = server
    keys: list[dict[str, Any]] = [
        {"pk": "a", "sk": 1},
        {"sk": 1, "pk": "a"},
        {"pk": "a", "sk": Decimal("1.0")},
        {"pk": "b", "sk": 1},
    ]

    items = table.batch_get(keys)

    assert items == [{"pk": "a", "sk": 1, "v": "x"}]
    assert fake.calls[0][1]["RequestItems"]["tbl"]["Keys"] == [
        {"pk": {"S": "a"}, "sk": {"N": "1"}},
        {"pk": {"S": "b"}, "sk": {"N": "1"}},
    ]


# retries: progress resets the count; a throttled call is retried


def _boto3_calls_at(per_call: int, count: int) -> int:
    """How many calls boto3's batch_writer takes when `per_call` are done each."""
    resource = boto3.resource(
        "dynamodb",
        region_name="eu-west-1",
        endpoint_url=ENDPOINT,
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="not-a-secret",
    )
    client = resource.meta.client
    names = _puts(count)
    calls = 0
    with Stubber(client) as stubber:
        for done in range(per_call, count + per_call, per_call):
            rest = [{"PutRequest": {"Item": {"pk": {"S": n}}}} for n in names[done:]]
            stubber.add_response(
                "batch_write_item", {"UnprocessedItems": {"tbl": rest} if rest else {}}
            )
            calls += 1
        with resource.Table("tbl").batch_writer() as writer:
            for name in names:
                writer.put_item(Item={"pk": name})
        stubber.assert_no_pending_responses()
    return calls


def test_batch_writer_keeps_going_while_calls_make_progress(
    table: Table, fake: Fake
) -> None:
    server = Server(per_call=2)
    fake.handler = server

    _write_all(table, _puts(25))

    assert server.writes == Counter(_puts(25))
    assert len(fake.calls) == _boto3_calls_at(2, 25) == 13


def test_batch_writer_counts_only_calls_in_a_row_without_progress(
    table: Table, fake: Fake
) -> None:
    server = Server(per_call=1)
    stalls = iter([0, 0, 1, 0, 0, 1] * 10)

    def handler(op: str, params: Any, request: httpx.Request) -> httpx.Response:
        server.per_call = next(stalls)
        return server(op, params, request)

    fake.handler = handler
    writer = table.batch_writer(max_attempts=3)

    with writer:
        for name in _puts(5):
            writer.put_item(Item={"pk": name})

    assert server.writes == Counter(_puts(5))
    assert len(fake.calls) == 15


@pytest.mark.parametrize(
    "code",
    [
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
    ],
)
def test_batch_writer_backs_off_a_throttled_call(
    table: Table, fake: Fake, code: str
) -> None:
    server = Server()
    for n in range(1, 8):  # more than the client's own 3 attempts, twice
        server.faults[n] = lambda request: failure(code, "slow down")
    fake.handler = server

    _write_all(table, _puts(25))

    assert server.writes == Counter(_puts(25))
    assert server.calls == 8


def test_batch_writer_gives_up_on_endless_throttling(
    table: Table, client: DynamoDBClient, fake: Fake
) -> None:
    fake.handler = lambda op, params, request: failure("ThrottlingException")
    with pytest.raises(client.exceptions.ThrottlingException):
        client.batch_write_item(RequestItems={"tbl": [_wire_put("x")]})
    per_client_call = len(fake.calls)  # the client's own attempts
    fake.calls.clear()
    writer = table.batch_writer(max_attempts=4)

    with (
        pytest.raises(UnprocessedItemsError, match="ThrottlingException") as caught,
        writer,
    ):
        for name in _puts(25):
            writer.put_item(Item={"pk": name})

    assert _left(caught.value) == _puts(25)
    assert len(fake.calls) == 4 * per_client_call


def test_batch_writer_does_not_retry_a_refused_call(table: Table, fake: Fake) -> None:
    fake.handler = lambda op, params, request: failure("ValidationException", "no")

    with pytest.raises(UnprocessedItemsError, match="no"):
        _write_all(table, _puts(3))

    assert len(fake.calls) == 1


def test_batch_get_keeps_going_while_calls_make_progress(
    table: Table, fake: Fake
) -> None:
    server = Server(per_call=3)
    server.items = {n: {"pk": {"S": n}} for n in _puts(100)}
    fake.handler = server

    items = table.batch_get([{"pk": n} for n in _puts(100)])

    assert sorted(i["pk"] for i in items) == _puts(100)
    assert server.reads == Counter(_puts(100))


def test_batch_get_backs_off_a_throttled_call(table: Table, fake: Fake) -> None:
    server = Server()
    server.items = {n: {"pk": {"S": n}} for n in _puts(10)}
    for n in range(1, 5):
        server.faults[n] = lambda request: failure(
            "ProvisionedThroughputExceededException"
        )
    fake.handler = server

    items = table.batch_get([{"pk": n} for n in _puts(10)])

    assert sorted(i["pk"] for i in items) == _puts(10)
    assert server.calls == 5


@pytest.mark.anyio
async def test_async_batches_back_off_a_throttled_call(
    aclient: AsyncDynamoDBClient, fake: Fake
) -> None:
    server = Server(per_call=2)
    for n in (1, 2, 3, 4, 9, 10, 11, 12):
        server.faults[n] = lambda request: failure("RequestLimitExceeded")
    fake.handler = server
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    table = AsyncTable(aclient, "tbl", sleep=sleep)
    async with table.batch_writer() as writer:
        for name in _puts(10):
            await writer.put_item(Item={"pk": name})
    items = await table.batch_get([{"pk": n} for n in _puts(10)])

    assert sorted(i["pk"] for i in items) == _puts(10)
    assert all(0 <= w <= 5 for w in waits) and waits


@pytest.mark.parametrize("bad", [0, -1, 1.5, "3"])
def test_batch_attempts_must_be_a_positive_int(table: Table, bad: Any) -> None:
    with pytest.raises(ParamValidationError, match="max_attempts"):
        table.batch_writer(max_attempts=bad)
    with pytest.raises(ParamValidationError, match="max_attempts"):
        table.batch_get([{"pk": "a"}], max_attempts=bad)


@pytest.mark.anyio
async def test_a_cancelled_async_writer_starts_no_new_call_and_keeps_its_items() -> (
    None
):
    import asyncio
    import time

    calls: list[list[str]] = []
    slow = [True]

    async def handler(request: httpx.Request) -> httpx.Response:
        sent = json.loads(request.content)["RequestItems"]["tbl"]
        calls.append([r["PutRequest"]["Item"]["pk"]["S"] for r in sent])
        if slow[0]:
            await asyncio.sleep(5)
        return answer({"UnprocessedItems": {}})

    client = AsyncDynamoDBClient(
        region_name="eu-west-1",
        endpoint_url=ENDPOINT,
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key=SECRET,
        _transport=httpx.MockTransport(handler),
    )
    writer = AsyncTable(client, "tbl").batch_writer()

    async def job() -> None:
        async with writer:
            for name in _puts(30):
                await writer.put_item(Item={"pk": name})

    started = time.monotonic()
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(job(), 0.2)
    assert time.monotonic() - started < 2  # not held up by a second slow call
    assert len(calls) == 1

    # cancelled in the 25th put_item, while its chunk was out: those 25 are
    # back in the buffer, and one flush sends each once
    slow[0] = False
    await writer.flush()
    assert sorted(name for call in calls[1:] for name in call) == _puts(25)
    await client.close()
