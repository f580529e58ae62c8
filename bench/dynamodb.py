"""DynamoDB: lambdalite against boto3, in one run.

1. Marshalling a realistic ~20-attribute item to attribute values and back,
   against boto3's TypeSerializer / TypeDeserializer (target: >= 3x).
2. Cold start: fresh processes that import the library, build a DynamoDB
   client and complete one small get_item against a local stub server
   (target: <= 0.4x boto3's time, <= 0.5x its peak memory).
3. Small get_item and put_item calls per second against the same stub
   (target: >= 3x boto3).

The stub is a tiny asyncio HTTP/1.1 server in its own process on 127.0.0.1,
answering canned DynamoDB JSON (with x-amz-crc32) so the client's own cost
dominates. It prints a table, then as the last line one JSON object with
every ratio (ours over boto3's for speed, boto3's over ours for time and
memory... each named for what it says; see the keys).

Run: ``python bench/dynamodb.py`` (``--quick`` for fewer repetitions).
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import timeit
import zlib
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
REGION = "us-east-1"

ITEM: dict[str, Any] = {
    "pk": "user#12345",
    "sk": "profile#2024",
    "name": "Ada Lovelace",
    "email": "ada@example.com",
    "age": 36,
    "score": Decimal("1234.5678"),
    "balance": Decimal("-42.10"),
    "active": True,
    "deleted": False,
    "nickname": None,
    "tags": {"math", "poetry", "engines"},
    "avatar": b"\x89PNG\r\n\x1a\n" + bytes(range(64)),
    "address": {
        "street": "12 St James's Square",
        "city": "London",
        "zip": "SW1Y 4JH",
        "geo": {"lat": Decimal("51.5074"), "lon": Decimal("-0.1340")},
    },
    "history": ["signup", 3, {"event": "login", "at": 1700000000}, True],
    "visits": 1024,
    "ratio": Decimal("0.75"),
    "country": "GB",
    "lang": "en",
    "plan": "pro",
    "version": 7,
}


# the stub server ---------------------------------------------------------------

GET_BODY = json.dumps(
    {"Item": {"pk": {"S": "user#1"}, "n": {"N": "7"}, "name": {"S": "Ada"}}}
).encode()
PUT_BODY = b"{}"


def _answer(body: bytes) -> bytes:
    head = (
        "HTTP/1.1 200 OK\r\n"
        "Content-Type: application/x-amz-json-1.0\r\n"
        "x-amzn-RequestId: BENCHREQUEST0000000000000000000000000000000000000000\r\n"
        f"x-amz-crc32: {zlib.crc32(body)}\r\n"
        f"Content-Length: {len(body)}\r\n"
        "\r\n"
    )
    return head.encode() + body


ANSWERS = {b"GetItem": _answer(GET_BODY), b"PutItem": _answer(PUT_BODY)}


class _Stub(asyncio.Protocol):
    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end].lower()
            length = 0
            at = head.find(b"content-length:")
            if at >= 0:
                stop = head.find(b"\r\n", at)
                length = int(head[at + 15 : stop if stop > 0 else None])
            total = end + 4 + length
            if len(self.buffer) < total:
                return
            raw_head = self.buffer[:end]
            self.buffer = self.buffer[total:]
            op = b"GetItem" if b"getitem" in raw_head.lower() else b"PutItem"
            self.transport.write(ANSWERS[op])


def serve() -> None:
    """Run the stub until stdin closes; print the port first."""

    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(_Stub, HOST, 0)
        print(server.sockets[0].getsockname()[1], flush=True)
        await loop.run_in_executor(None, sys.stdin.read)
        server.close()

    asyncio.run(main())


class StubProcess:
    """The stub in a child process; stopped when stdin closes."""

    def __enter__(self) -> str:
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--serve"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        assert self.process.stdout is not None
        port = int(self.process.stdout.readline())
        return f"http://{HOST}:{port}"

    def __exit__(self, *exc: Any) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)


# 1. marshalling ------------------------------------------------------------------


def best(call: Any, number: int, repeat: int) -> float:
    """Seconds per call: the best of `repeat` runs of `number` calls."""
    return min(timeit.repeat(call, number=number, repeat=repeat)) / number


def marshalling(rounds: int) -> dict[str, float]:
    """Best time per call of each side, measured in alternating rounds (the
    best of many short runs shrugs off what other processes do meanwhile)."""
    from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

    from services.dynamodb.types import deserialize, serialize

    boto_ser, boto_de = TypeSerializer(), TypeDeserializer()
    wire = boto_ser.serialize(ITEM)
    assert serialize(ITEM) == wire
    assert deserialize(wire) == boto_de.deserialize(wire)
    calls = {
        "serialize_boto3": lambda: boto_ser.serialize(ITEM),
        "serialize_ours": lambda: serialize(ITEM),
        "deserialize_boto3": lambda: boto_de.deserialize(wire),
        "deserialize_ours": lambda: deserialize(wire),
    }
    found = {name: float("inf") for name in calls}
    for _ in range(rounds):
        for name, call in calls.items():
            found[name] = min(found[name], best(call, 200, 1))
    return found


# 2. cold start ---------------------------------------------------------------------

COLD = {
    "lambdalite": (
        "import services\n"
        "c = services.client('dynamodb', endpoint_url={url!r}, region_name='{region}',"
        " aws_access_key_id='AKIDBENCH', aws_secret_access_key='benchsecret')\n"
    ),
    "boto3": (
        "import boto3\n"
        "c = boto3.client('dynamodb', endpoint_url={url!r}, region_name='{region}',"
        " aws_access_key_id='AKIDBENCH', aws_secret_access_key='benchsecret')\n"
    ),
}
COLD_CALL = "assert c.get_item(TableName='t', Key={'pk': {'S': 'user#1'}})['Item']\n"
# Importing httpx alone, the way services imports it (no client, no call): the
# floor under lambdalite's cold-start memory while httpx is its HTTP client.
FLOOR = ("httpx import alone", "import services._http\n")


# Peak memory comes from wait4's ru_maxrss, which on Linux also counts the
# memory of the process that forked the child, up to its exec. So the children
# are spawned by a small driver process (the interpreter and nothing else),
# never by this one, which has boto3 loaded.
DRIVER = """
import json, os, sys, time
jobs = json.loads(sys.argv[1])
out = []
for name, code in jobs:
    start = time.perf_counter()
    pid = os.posix_spawn(sys.executable, [sys.executable, "-c", code], os.environ)
    _, status, usage = os.wait4(pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(name + " cold-start process failed")
    out.append([name, elapsed, usage.ru_maxrss / 1024])
print(json.dumps(out))
"""


def cold_start(url: str, runs: int) -> dict[str, dict[str, float]]:
    """Median wall time (s) and peak RSS (MiB) of fresh processes, per library."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "BOTO"))}
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    env["PYTHONPATH"] = str(ROOT)
    # Both libraries start from bytecode, as an installed package or a Lambda
    # bundle does (boto3's site-packages are compiled): an untimed first run
    # of each writes what is missing even where PYTHONDONTWRITEBYTECODE is set.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    jobs = [
        job
        for _ in range(runs + 1)
        for job in [  # alternate, so drift hits each alike
            *(
                (name, template.format(url=url, region=REGION) + COLD_CALL)
                for name, template in COLD.items()
            ),
            FLOOR,
        ]
    ]
    driver = subprocess.run(
        [sys.executable, "-c", DRIVER, json.dumps(jobs)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    samples: dict[str, dict[str, list[float]]] = {
        name: {"seconds": [], "mib": []} for name in [*COLD, FLOOR[0]]
    }
    for name, seconds, mib in json.loads(driver.stdout)[len(COLD) + 1 :]:
        samples[name]["seconds"].append(seconds)
        samples[name]["mib"].append(mib)
    return {
        name: {k: statistics.median(v) for k, v in sample.items()}
        for name, sample in samples.items()
    }


# 3. calls per second ----------------------------------------------------------------


def calls_per_second(url: str, calls: int) -> dict[str, float]:
    import boto3

    import services

    args = {
        "endpoint_url": url,
        "region_name": REGION,
        "aws_access_key_id": "AKIDBENCH",
        "aws_secret_access_key": "benchsecret",
    }
    clients = {"lambdalite": services.client("dynamodb", **args)}
    clients["boto3"] = boto3.client("dynamodb", **args)
    key = {"pk": {"S": "user#1"}}
    item = {"pk": {"S": "user#1"}, "n": {"N": "7"}, "name": {"S": "Ada"}}
    rates: dict[str, float] = {}
    for name, client in clients.items():
        get = lambda c=client: c.get_item(TableName="t", Key=key)  # noqa: E731
        put = lambda c=client: c.put_item(TableName="t", Item=item)  # noqa: E731
        for _ in range(100):  # warm: connections, caches
            get()
            put()
        rates[f"get_{name}"] = 1 / best(get, calls, 3)
        rates[f"put_{name}"] = 1 / best(put, calls, 3)
    clients["lambdalite"].close()
    return rates


# the run -------------------------------------------------------------------------


def main() -> None:
    quick = "--quick" in sys.argv
    sys.path.insert(0, str(ROOT))
    marsh = marshalling(rounds=10 if quick else 40)
    with StubProcess() as url:
        cold = cold_start(url, runs=3 if quick else 7)
        rates = calls_per_second(url, calls=300 if quick else 1500)

    ratios = {
        "serialize_speedup": marsh["serialize_boto3"] / marsh["serialize_ours"],
        "deserialize_speedup": marsh["deserialize_boto3"] / marsh["deserialize_ours"],
        "cold_start_time_ratio": cold["lambdalite"]["seconds"]
        / cold["boto3"]["seconds"],
        "cold_start_memory_ratio": cold["lambdalite"]["mib"] / cold["boto3"]["mib"],
        "httpx_import_memory_ratio": cold[FLOOR[0]]["mib"] / cold["boto3"]["mib"],
        "get_item_calls_ratio": rates["get_lambdalite"] / rates["get_boto3"],
        "put_item_calls_ratio": rates["put_lambdalite"] / rates["put_boto3"],
    }
    rows = [
        (
            "serialize ~20-attr item",
            "us",
            marsh["serialize_ours"] * 1e6,
            marsh["serialize_boto3"] * 1e6,
            ratios["serialize_speedup"],
            ">= 3x",
        ),
        (
            "deserialize ~20-attr item",
            "us",
            marsh["deserialize_ours"] * 1e6,
            marsh["deserialize_boto3"] * 1e6,
            ratios["deserialize_speedup"],
            ">= 3x",
        ),
        (
            "cold start: import+client+get_item",
            "ms",
            cold["lambdalite"]["seconds"] * 1e3,
            cold["boto3"]["seconds"] * 1e3,
            ratios["cold_start_time_ratio"],
            "<= 0.4",
        ),
        (
            "cold start peak memory",
            "MiB",
            cold["lambdalite"]["mib"],
            cold["boto3"]["mib"],
            ratios["cold_start_memory_ratio"],
            "<= 0.5",
        ),
        (
            "  of which importing httpx alone",
            "MiB",
            cold[FLOOR[0]]["mib"],
            cold["boto3"]["mib"],
            ratios["httpx_import_memory_ratio"],
            "(floor)",
        ),
        (
            "get_item calls",
            "/s",
            rates["get_lambdalite"],
            rates["get_boto3"],
            ratios["get_item_calls_ratio"],
            ">= 3x",
        ),
        (
            "put_item calls",
            "/s",
            rates["put_lambdalite"],
            rates["put_boto3"],
            ratios["put_item_calls_ratio"],
            ">= 3x",
        ),
    ]
    print(
        f"{'measure':36} {'unit':>4} {'lambdalite':>11} {'boto3':>11} "
        f"{'ratio':>7}  target"
    )
    for name, unit, ours, theirs, ratio, target in rows:
        print(f"{name:36} {unit:>4} {ours:11.1f} {theirs:11.1f} {ratio:7.2f}  {target}")
    print(json.dumps({k: round(v, 3) for k, v in ratios.items()}))


if __name__ == "__main__":
    if "--serve" in sys.argv:
        serve()
    else:
        main()
