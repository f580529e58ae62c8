"""Backoff bases per error kind, as botocore's standard retry mode documents
them: 1 s after a throttling error, 50 ms after any other (DynamoDB: 25 ms
after any error, the issue's choice for throttling too), 4 attempts for
DynamoDB and 3 for the rest."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

import services
from services.dynamodb.client import DynamoDBClient
from services.s3.client import S3Client

KEYS = {"aws_access_key_id": "AKIDEXAMPLE", "aws_secret_access_key": "SECRETEXAMPLE"}


def _s3(answers: list[httpx.Response], **config: Any) -> tuple[S3Client, list[float]]:
    client = S3Client(
        region_name="us-east-1",
        config=services.Config(**config),
        _transport=httpx.MockTransport(lambda request: answers.pop(0)),
        **KEYS,
    )
    sleeps: list[float] = []
    client._executor.sleep = sleeps.append
    return client, sleeps


def _s3_error(status: int, code: str) -> httpx.Response:
    body = f"<Error><Code>{code}</Code><Message>m</Message></Error>"
    return httpx.Response(status, content=body.encode())


OK = httpx.Response(200, content=b"")


@pytest.fixture
def top_of_the_jitter(monkeypatch: pytest.MonkeyPatch) -> None:
    # full jitter draws from [0, base * 2**(i-1)): pin the draw near the top
    monkeypatch.setattr("services.retry.random.random", lambda: 0.999)


@pytest.mark.usefixtures("top_of_the_jitter")
def test_s3_throttling_backs_off_from_one_second() -> None:
    s3, sleeps = _s3([_s3_error(503, "SlowDown"), OK])
    s3.put_object(Bucket="b", Key="k", Body=b"x")
    assert sleeps == [pytest.approx(0.999)]


@pytest.mark.usefixtures("top_of_the_jitter")
def test_s3_server_errors_back_off_from_fifty_milliseconds() -> None:
    s3, sleeps = _s3([_s3_error(500, "InternalError"), _s3_error(500, "x"), OK])
    s3.put_object(Bucket="b", Key="k", Body=b"x")
    assert sleeps == [pytest.approx(0.04995), pytest.approx(0.0999)]


@pytest.mark.usefixtures("top_of_the_jitter")
def test_a_configured_base_applies_to_every_retry() -> None:
    s3, sleeps = _s3(
        [_s3_error(503, "SlowDown"), _s3_error(500, "x"), OK], retry_base=0.2
    )
    s3.put_object(Bucket="b", Key="k", Body=b"x")
    assert sleeps == [pytest.approx(0.1998), pytest.approx(0.3996)]


@pytest.mark.usefixtures("top_of_the_jitter")
def test_dynamodb_retries_four_times_from_25_milliseconds() -> None:
    def throttled(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            400,
            json={"__type": "x#ProvisionedThroughputExceededException", "message": "m"},
        )

    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return throttled(request)

    client = DynamoDBClient(
        region_name="us-east-1",
        endpoint_url="http://127.0.0.1:9",
        _transport=httpx.MockTransport(handler),
        **KEYS,
    )
    sleeps: list[float] = []
    client._executor.sleep = sleeps.append
    with pytest.raises(client.exceptions.ProvisionedThroughputExceededException):
        client.get_item(TableName="t", Key={"pk": {"S": "a"}})
    assert len(calls) == 4
    assert sleeps == [pytest.approx(0.025 * 0.999 * 2**i) for i in range(3)]
