"""A scripted DynamoDB for the unit tests: a respx router behind MockTransport.

Only ``POST /`` on the endpoint is routed; anything else the client sent
would fail the test with respx's "not mocked" error.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import respx

from services.dynamodb.client import AsyncDynamoDBClient, DynamoDBClient

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
TOKEN = "FwoGZXIvYXdzEXAMPLESESSIONTOKEN"
ENDPOINT = "http://127.0.0.1:9"

Handler = Callable[[str, dict[str, Any], httpx.Request], httpx.Response]


def answer(
    body: Any = None, *, status: int = 200, crc: int | None = None, **headers: str
) -> httpx.Response:
    """A DynamoDB answer: JSON body, request id, and its x-amz-crc32."""
    raw = json.dumps(body if body is not None else {}).encode()
    sent = {
        "content-type": "application/x-amz-json-1.0",
        "x-amzn-requestid": "REQ123",
        "x-amz-crc32": str(zlib.crc32(raw) if crc is None else crc),
    }
    sent.update(headers)
    return httpx.Response(status, headers=sent, content=raw)


def failure(
    code: str, message: str = "it failed", status: int = 400, **extra: Any
) -> httpx.Response:
    """An error answer with DynamoDB's namespaced __type."""
    return answer(
        {
            "__type": f"com.amazonaws.dynamodb.v20120810#{code}",
            "message": message,
            **extra,
        },
        status=status,
    )


class Fake:
    """Routes each request to `handler(operation, params, request)`; records calls."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.requests: list[httpx.Request] = []
        self.handler: Handler = lambda op, params, request: answer({})
        self.sleeps: list[float] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        op = request.headers["x-amz-target"].split(".", 1)[1]
        params = json.loads(request.content)
        self.calls.append((op, params))
        self.requests.append(request)
        return self.handler(op, params, request)

    def ops(self) -> list[str]:
        return [op for op, _ in self.calls]


@pytest.fixture
def fake() -> Fake:
    return Fake()


def _client_args() -> dict[str, Any]:
    return {
        "region_name": "eu-west-1",
        "endpoint_url": ENDPOINT,
        "aws_access_key_id": "AKIDEXAMPLE",
        "aws_secret_access_key": SECRET,
        "aws_session_token": TOKEN,
    }


def transport(fake: Fake) -> httpx.MockTransport:
    """respx routes POST {ENDPOINT}/ to the fake; nothing else is answered."""
    router = respx.Router(assert_all_called=False)
    router.post(f"{ENDPOINT}/").mock(side_effect=fake)
    return httpx.MockTransport(router.handler)


@pytest.fixture
def client(fake: Fake) -> Iterator[DynamoDBClient]:
    made = DynamoDBClient(_transport=transport(fake), **_client_args())
    made._executor.sleep = fake.sleeps.append
    yield made
    made.close()


@pytest.fixture
async def aclient(fake: Fake) -> Any:
    made = AsyncDynamoDBClient(_transport=transport(fake), **_client_args())

    async def sleep(seconds: float) -> None:
        fake.sleeps.append(seconds)

    made._executor.sleep = sleep
    yield made
    await made.close()
