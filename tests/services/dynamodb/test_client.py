"""The low-level client against a scripted DynamoDB (httpx.MockTransport).

Expected shapes come from the DynamoDB API reference (JSON 1.0 protocol,
``__type`` errors, ``x-amz-crc32``) and from botocore's service model.
"""

from __future__ import annotations

import base64
import gzip
import json
import sys
import uuid
import zlib
from collections.abc import Callable, Iterator
from typing import Any

import botocore.session
import httpx
import pytest
from botocore.retries.standard import _SERVICE_MAX_ATTEMPTS

import services
from services.dynamodb.client import OPERATIONS, DynamoDBClient
from services.dynamodb.errors import WaiterError
from services.dynamodb.protocol import CRC32MismatchError
from services.errors import ClientError, EndpointConnectionError, ParamValidationError

from .conftest import SECRET, TOKEN, Fake, answer, failure

KEY = {"pk": {"S": "a"}}
# attempts per call by default: botocore's standard retry mode gives DynamoDB 4
ATTEMPTS = _SERVICE_MAX_ATTEMPTS["dynamodb"]


def test_operations_take_the_parameters_botocore_models() -> None:
    model = botocore.session.get_session().get_service_model("dynamodb")
    for snake, op in OPERATIONS.items():
        shape = model.operation_model(op.name).input_shape
        assert op.required == set(shape.required_members), snake
        assert op.allowed == set(shape.members), snake
        assert botocore.xform_name(op.name) == snake


def test_request_is_json_1_0_with_target_and_signature(client: Any, fake: Fake) -> None:
    fake.handler = lambda op, params, request: answer({"Item": KEY})

    client.get_item(TableName="tbl", Key=KEY, ConsistentRead=True)

    request = fake.requests[0]
    assert request.method == "POST" and request.url.path == "/"
    assert request.headers["x-amz-target"] == "DynamoDB_20120810.GetItem"
    assert request.headers["content-type"] == "application/x-amz-json-1.0"
    assert request.headers["x-amz-security-token"] == TOKEN
    auth = request.headers["authorization"]
    assert auth.startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
    assert "/eu-west-1/dynamodb/aws4_request" in auth
    assert json.loads(request.content) == {
        "TableName": "tbl",
        "Key": KEY,
        "ConsistentRead": True,
    }


def test_results_are_botos_dicts_with_metadata(client: Any, fake: Fake) -> None:
    fake.handler = lambda op, params, request: answer({"Item": KEY})

    result = client.get_item(TableName="tbl", Key=KEY)

    assert result["Item"] == KEY
    meta = result["ResponseMetadata"]
    assert meta["RequestId"] == "REQ123" and meta["HTTPStatusCode"] == 200
    assert meta["RetryAttempts"] == 0


def test_binary_goes_as_base64_and_comes_back_as_bytes(client: Any, fake: Fake) -> None:
    blob = bytes(range(256))
    encoded = base64.b64encode(blob).decode()
    fake.handler = lambda op, params, request: answer(
        {
            "Item": {
                "b": {"B": encoded},
                "bs": {"BS": [encoded]},
                "m": {"M": {"B": {"B": encoded}}},
            }
        }
    )

    result = client.put_item(
        TableName="tbl", Item={"b": {"B": blob}, "bs": {"BS": [blob]}}
    )
    item = client.get_item(TableName="tbl", Key=KEY)["Item"]

    assert fake.calls[0][1]["Item"] == {"b": {"B": encoded}, "bs": {"BS": [encoded]}}
    assert item == {
        "b": {"B": blob},
        "bs": {"BS": [blob]},
        "m": {"M": {"B": {"B": blob}}},
    }
    assert "ResponseMetadata" in result


def test_table_timestamps_become_datetimes_as_in_boto3(client: Any, fake: Fake) -> None:
    fake.handler = lambda op, params, request: answer(
        {
            "Table": {
                "TableName": "tbl",
                "CreationDateTime": 1700000000.5,
                "ItemCount": 3,
            }
        }
    )

    table = client.describe_table(TableName="tbl")["Table"]

    assert table["CreationDateTime"].timestamp() == 1700000000.5
    assert table["CreationDateTime"].tzinfo is not None
    assert table["ItemCount"] == 3


def test_unknown_and_missing_parameters_are_named(client: Any) -> None:
    with pytest.raises(ParamValidationError, match="missing required parameter Key"):
        client.get_item(TableName="tbl")
    with pytest.raises(ParamValidationError, match="unknown parameter Keys"):
        client.get_item(TableName="tbl", Key=KEY, Keys=1)
    with pytest.raises(
        ParamValidationError, match=r"Item\.n must be an attribute value"
    ):
        from decimal import Decimal

        client.put_item(TableName="tbl", Item={"n": Decimal(1)})


# errors

ONE_ACTION = [
    {"ConditionCheck": {"TableName": "tbl", "Key": KEY, "ConditionExpression": "a"}}
]


@pytest.mark.parametrize(
    "code",
    [
        "ResourceNotFoundException",
        "ValidationException",
        "ItemCollectionSizeLimitExceededException",
        "TransactionConflictException",
        "ConditionalCheckFailedException",
    ],
)
def test_errors_are_typed_by_their_code(client: Any, fake: Fake, code: str) -> None:
    fake.handler = lambda op, params, request: failure(code, "what went wrong")

    with pytest.raises(ClientError) as caught:
        client.get_item(TableName="tbl", Key=KEY)

    error = caught.value
    assert isinstance(error, getattr(client.exceptions, code))
    assert isinstance(error, client.exceptions.ClientError)
    assert error.response["Error"] == {"Code": code, "Message": "what went wrong"}
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert error.operation_name == "GetItem"
    assert fake.ops() == ["GetItem"]  # a 4xx is the caller's to fix: no retry


def test_failed_condition_carries_the_item(client: Any, fake: Fake) -> None:
    old = {"pk": {"S": "a"}, "n": {"N": "1"}}
    fake.handler = lambda op, params, request: failure(
        "ConditionalCheckFailedException", "The conditional request failed", Item=old
    )

    with pytest.raises(client.exceptions.ConditionalCheckFailedException) as caught:
        client.put_item(
            TableName="tbl",
            Item=old,
            ConditionExpression="attribute_not_exists(pk)",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )

    assert caught.value.response["Item"] == old
    assert caught.value.response["Error"]["Message"] == "The conditional request failed"


def test_cancelled_transaction_carries_its_reasons(client: Any, fake: Fake) -> None:
    reasons = [{"Code": "None"}, {"Code": "ConditionalCheckFailed", "Message": "no"}]
    fake.handler = lambda op, params, request: failure(
        "TransactionCanceledException",
        "Transaction cancelled",
        CancellationReasons=reasons,
    )

    with pytest.raises(client.exceptions.TransactionCanceledException) as caught:
        client.transact_write_items(TransactItems=ONE_ACTION)

    assert caught.value.response["CancellationReasons"] == reasons


def test_error_without_type_is_named_after_its_status(client: Any, fake: Fake) -> None:
    fake.handler = lambda op, params, request: httpx.Response(413, content=b"too big")

    with pytest.raises(ClientError) as caught:
        client.get_item(TableName="tbl", Key=KEY)

    assert caught.value.response["Error"]["Code"] == "413"


@pytest.mark.parametrize(
    "code",
    [
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
    ],
)
def test_throttling_is_retried_from_a_25ms_base(
    client: Any, fake: Fake, code: str
) -> None:
    replies = [failure(code), failure(code), answer({"Item": KEY})]
    fake.handler = lambda op, params, request: replies.pop(0)

    result = client.get_item(TableName="tbl", Key=KEY)

    assert result["Item"] == KEY and result["ResponseMetadata"]["RetryAttempts"] == 2
    assert len(fake.sleeps) == 2
    assert 0 <= fake.sleeps[0] < 0.025 and 0 <= fake.sleeps[1] < 0.05


def test_throttling_gives_up_after_max_attempts(client: Any, fake: Fake) -> None:
    fake.handler = lambda op, params, request: failure(
        "ThrottlingException", "slow down"
    )

    with pytest.raises(client.exceptions.ThrottlingException) as caught:
        client.get_item(TableName="tbl", Key=KEY)

    assert len(fake.calls) == ATTEMPTS
    assert caught.value.response["ResponseMetadata"]["MaxAttemptsReached"] is True


def test_server_errors_are_retried(client: Any, fake: Fake) -> None:
    replies = [
        failure("InternalServerError", status=500),
        httpx.Response(503, content=b""),
        answer({}),
    ]
    fake.handler = lambda op, params, request: replies.pop(0)

    assert (
        client.put_item(TableName="tbl", Item=KEY)["ResponseMetadata"]["RetryAttempts"]
        == 2
    )


def test_connection_resets_are_retried(client: Any, fake: Fake) -> None:
    calls = []

    def handler(op: str, params: Any, request: httpx.Request) -> httpx.Response:
        calls.append(op)
        if len(calls) < 3:
            raise httpx.RemoteProtocolError("Server disconnected", request=request)
        return answer({"Item": KEY})

    fake.handler = handler

    assert client.get_item(TableName="tbl", Key=KEY)["Item"] == KEY
    assert len(calls) == 3


def test_connection_resets_give_up_with_a_typed_error(client: Any, fake: Fake) -> None:
    def handler(op: str, params: Any, request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    fake.handler = handler

    with pytest.raises(EndpointConnectionError, match=r"127\.0\.0\.1"):
        client.get_item(TableName="tbl", Key=KEY)
    assert len(fake.calls) == ATTEMPTS


def test_crc32_mismatch_is_retried(client: Any, fake: Fake) -> None:
    replies = [
        answer({"Item": {"pk": {"S": "damaged"}}}, crc=12345),
        answer({"Item": KEY}),
    ]
    fake.handler = lambda op, params, request: replies.pop(0)

    assert client.get_item(TableName="tbl", Key=KEY)["Item"] == KEY
    assert len(fake.calls) == 2


def test_crc32_mismatch_every_time_is_an_error(client: Any, fake: Fake) -> None:
    fake.handler = lambda op, params, request: answer({"Item": KEY}, crc=1)

    with pytest.raises(CRC32MismatchError, match="x-amz-crc32"):
        client.get_item(TableName="tbl", Key=KEY)
    assert len(fake.calls) == ATTEMPTS


def test_crc32_is_checked_on_the_compressed_bytes(client: Any, fake: Fake) -> None:
    raw = json.dumps({"Item": KEY}).encode()
    packed = gzip.compress(raw)

    def handler(op: str, params: Any, request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200,
            headers={
                "content-encoding": "gzip",
                "x-amz-crc32": str(zlib.crc32(packed)),
                "content-type": "application/x-amz-json-1.0",
            },
            content=packed,
        )

    fake.handler = handler

    assert client.get_item(TableName="tbl", Key=KEY)["Item"] == KEY
    assert len(fake.calls) == 1


def test_transact_write_fills_a_uuid4_token_unless_given(
    client: Any, fake: Fake
) -> None:
    client.transact_write_items(TransactItems=ONE_ACTION)
    client.transact_write_items(TransactItems=ONE_ACTION, ClientRequestToken="mine")

    made = fake.calls[0][1]["ClientRequestToken"]
    assert uuid.UUID(made).version == 4
    assert fake.calls[1][1]["ClientRequestToken"] == "mine"


def test_transact_write_token_is_kept_across_retries(client: Any, fake: Fake) -> None:
    replies = [failure("InternalServerError", status=500), answer({})]
    fake.handler = lambda op, params, request: replies.pop(0)

    client.transact_write_items(TransactItems=ONE_ACTION)

    tokens = {params["ClientRequestToken"] for _, params in fake.calls}
    assert len(fake.calls) == 2 and len(tokens) == 1


def test_secrets_stay_out_of_reprs_and_errors(client: Any, fake: Fake) -> None:
    fake.handler = lambda op, params, request: failure("ValidationException")

    with pytest.raises(ClientError) as caught:
        client.get_item(TableName="tbl", Key=KEY)

    shown = [
        repr(client),
        str(caught.value),
        repr(caught.value),
        repr(caught.value.response),
    ]
    auth = fake.requests[0].headers["authorization"]
    signature = auth.rsplit("Signature=", 1)[1]
    for text in shown:
        assert SECRET not in text and TOKEN not in text and signature not in text


# paginators


def test_paginator_goes_on_past_empty_filtered_pages(client: Any, fake: Fake) -> None:
    pages = [
        {
            "Items": [],
            "Count": 0,
            "ScannedCount": 5,
            "LastEvaluatedKey": {"pk": {"S": "5"}},
        },
        {
            "Items": [],
            "Count": 0,
            "ScannedCount": 5,
            "LastEvaluatedKey": {"pk": {"S": "9"}},
        },
        {"Items": [KEY], "Count": 1, "ScannedCount": 2},
    ]
    fake.handler = lambda op, params, request: answer(pages.pop(0))

    got = list(
        client.get_paginator("scan").paginate(TableName="tbl", FilterExpression="x")
    )

    assert [p["Count"] for p in got] == [0, 0, 1]
    starts = [params.get("ExclusiveStartKey") for _, params in fake.calls]
    assert starts == [None, {"pk": {"S": "5"}}, {"pk": {"S": "9"}}]


def test_paginator_full_result_and_page_size(client: Any, fake: Fake) -> None:
    pages = [
        {"Items": [KEY], "Count": 1, "ScannedCount": 1, "LastEvaluatedKey": KEY},
        {"Items": [KEY, KEY], "Count": 2, "ScannedCount": 3},
    ]
    fake.handler = lambda op, params, request: answer(pages.pop(0))

    full = (
        client.get_paginator("query")
        .paginate(TableName="tbl", PaginationConfig={"PageSize": 2})
        .build_full_result()
    )

    assert full == {"Items": [KEY, KEY, KEY], "Count": 3, "ScannedCount": 4}
    assert all(params["Limit"] == 2 for _, params in fake.calls)


def test_paginator_numbers_are_taken_as_boto3_takes_them(
    client: Any, fake: Fake
) -> None:
    # botocore's paginator passes MaxItems and PageSize through int()
    fake.handler = lambda op, params, request: answer(
        {
            "Items": [KEY, KEY],
            "Count": 2,
            "LastEvaluatedKey": {"pk": {"S": str(len(fake.calls))}},
        }
    )
    config = {"MaxItems": "3", "PageSize": "2"}

    pages = list(
        client.get_paginator("scan").paginate(TableName="tbl", PaginationConfig=config)
    )

    assert [len(p["Items"]) for p in pages] == [2, 1]
    assert all(params["Limit"] == 2 for _, params in fake.calls)


@pytest.mark.parametrize("config", [{"MaxItems": "five"}, {"PageSize": [2]}])
def test_paginator_numbers_that_are_not_numbers_are_refused(
    client: Any, fake: Fake, config: dict[str, Any]
) -> None:
    with pytest.raises(ParamValidationError, match=next(iter(config))):
        list(
            client.get_paginator("query").paginate(
                TableName="tbl", PaginationConfig=config
            )
        )
    assert fake.calls == []


def test_list_tables_paginator_follows_the_table_name(client: Any, fake: Fake) -> None:
    pages = [
        {"TableNames": ["aaa", "bbb"], "LastEvaluatedTableName": "bbb"},
        {"TableNames": []},
    ]
    fake.handler = lambda op, params, request: answer(pages.pop(0))

    full = client.get_paginator("list_tables").paginate().build_full_result()

    assert full == {"TableNames": ["aaa", "bbb"]}
    assert fake.calls[1][1] == {"ExclusiveStartTableName": "bbb"}


def test_paginator_refuses_a_server_that_does_not_advance(
    client: Any, fake: Fake
) -> None:
    fake.handler = lambda op, params, request: answer(
        {"Items": [], "LastEvaluatedKey": KEY}
    )

    with pytest.raises(services.errors.ResponseParseError, match="looping"):
        list(client.get_paginator("scan").paginate(TableName="tbl"))
    assert len(fake.calls) == 2


def test_paginator_max_items_and_unsupported_token(client: Any, fake: Fake) -> None:
    fake.handler = lambda op, params, request: answer(
        {
            "Items": [KEY, KEY],
            "Count": 2,
            "LastEvaluatedKey": {"pk": {"S": str(len(fake.calls))}},
        }
    )

    pages = list(
        client.get_paginator("scan").paginate(
            TableName="tbl", PaginationConfig={"MaxItems": 3}
        )
    )

    assert [len(p["Items"]) for p in pages] == [2, 1]
    with pytest.raises(ParamValidationError, match="StartingToken"):
        client.get_paginator("scan").paginate(
            TableName="tbl", PaginationConfig={"StartingToken": "x"}
        )
    with pytest.raises(ParamValidationError, match="cannot be paginated"):
        client.get_paginator("get_item")
    assert client.can_paginate("query") and not client.can_paginate("get_item")


def _scripted_pages() -> list[dict[str, Any]]:
    items = [{"pk": {"S": f"i{n}"}, "b": {"B": b"\x00\xff"}} for n in range(6)]
    return [
        {
            "Items": items[n : n + 2],
            "Count": 2,
            "ScannedCount": 2,
            **({"LastEvaluatedKey": {"pk": {"B": bytes([n])}}} if n < 4 else {}),
        }
        for n in (0, 2, 4)
    ]


def _by_start(pages: list[dict[str, Any]]) -> Callable[[dict[str, Any]], Any]:
    starts: dict[Any, dict[str, Any]] = {None: pages[0]}
    for n, page in enumerate(pages[:-1]):
        starts[json.dumps(page["LastEvaluatedKey"]["pk"]["B"])] = pages[n + 1]
    return lambda params: starts[
        json.dumps(params.get("ExclusiveStartKey", {}).get("pk", {}).get("B"))
        if "ExclusiveStartKey" in params
        else None
    ]


def boto3_scan(config: dict[str, Any]) -> dict[str, Any]:
    """boto3's build_full_result over the scripted pages (nothing is sent)."""
    import boto3
    import botocore.awsrequest

    pages = _scripted_pages()
    page_for = _by_start(json.loads(json.dumps(pages, default=_b64)))

    class Raw:
        def __init__(self, body: bytes) -> None:
            self.body = body

        def stream(self, **_: Any) -> Iterator[bytes]:
            yield self.body

    def reply(request: Any, **_: Any) -> Any:
        body = json.dumps(page_for(json.loads(request.body))).encode()
        headers = {"x-amz-crc32": str(zlib.crc32(body))}
        return botocore.awsrequest.AWSResponse(request.url, 200, headers, Raw(body))

    low = boto3.client(
        "dynamodb",
        region_name="eu-west-1",
        endpoint_url="http://127.0.0.1:9",
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="SECRET",
    )
    low.meta.events.register("before-send", reply)
    full: dict[str, Any] = (
        low.get_paginator("scan")
        .paginate(TableName="tbl", PaginationConfig=config)
        .build_full_result()
    )
    return full


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


@pytest.mark.parametrize("max_items", [1, 3, 4, 6])
def test_max_items_next_token_matches_boto3_and_resumes_across(
    client: Any, fake: Fake, max_items: int
) -> None:
    pages = _scripted_pages()
    page_for = _by_start(json.loads(json.dumps(pages, default=_b64)))
    fake.handler = lambda op, params, request: answer(page_for(params))
    expected = boto3_scan({"MaxItems": max_items})

    full = (
        client.get_paginator("scan")
        .paginate(TableName="tbl", PaginationConfig={"MaxItems": max_items})
        .build_full_result()
    )

    assert full["Items"] == expected["Items"]
    assert full.get("NextToken") == expected.get("NextToken")
    # counts as boto3 sums them: the server's, not cut down to MaxItems
    assert full.get("Count") == expected.get("Count")
    assert full.get("ScannedCount") == expected.get("ScannedCount")
    if "NextToken" not in expected:
        return
    # a boto3 token resumes here, and ours resumes in boto3, at the same item
    rest = (
        client.get_paginator("scan")
        .paginate(
            TableName="tbl", PaginationConfig={"StartingToken": expected["NextToken"]}
        )
        .build_full_result()
    )
    boto_rest = boto3_scan({"StartingToken": full["NextToken"]})
    assert rest["Items"] == boto_rest["Items"]
    assert full["Items"] + rest["Items"] == [
        item for page in pages for item in page["Items"]
    ]


# waiters


def test_table_exists_waiter_polls_until_active(
    client: Any, fake: Fake, monkeypatch: Any
) -> None:
    slept: list[float] = []
    monkeypatch.setattr("time.sleep", slept.append)
    replies = [
        failure("ResourceNotFoundException"),
        answer({"Table": {"TableStatus": "CREATING"}}),
        answer({"Table": {"TableStatus": "ACTIVE"}}),
    ]
    fake.handler = lambda op, params, request: replies.pop(0)

    client.get_waiter("table_exists").wait(TableName="tbl", WaiterConfig={"Delay": 7})

    assert fake.ops() == ["DescribeTable"] * 3
    assert fake.sleeps == []  # the executor did not retry: the waiter slept
    assert slept == [7.0, 7.0]


def test_waiters_are_bounded(client: Any, fake: Fake, monkeypatch: Any) -> None:
    slept: list[float] = []
    monkeypatch.setattr("time.sleep", slept.append)
    fake.handler = lambda op, params, request: answer(
        {"Table": {"TableStatus": "ACTIVE"}}
    )

    with pytest.raises(WaiterError, match="after 4 attempts") as caught:
        client.get_waiter("table_not_exists").wait(
            TableName="tbl", WaiterConfig={"Delay": 0.5, "MaxAttempts": 4}
        )

    assert slept == [0.5, 0.5, 0.5] and len(fake.calls) == 4
    assert caught.value.last_response["Table"]["TableStatus"] == "ACTIVE"


def test_table_not_exists_waiter_ends_on_not_found(client: Any, fake: Fake) -> None:
    fake.handler = lambda op, params, request: failure("ResourceNotFoundException")

    client.get_waiter("table_not_exists").wait(TableName="tbl")

    assert len(fake.calls) == 1


def test_waiter_fails_on_other_errors(client: Any, fake: Fake) -> None:
    fake.handler = lambda op, params, request: failure("AccessDeniedException")

    with pytest.raises(WaiterError, match="DescribeTable failed"):
        client.get_waiter("table_exists").wait(TableName="tbl")


# entry points and async


def test_entry_points_build_the_dynamodb_client() -> None:
    made = services.client(
        "dynamodb",
        region_name="us-west-2",
        endpoint_url="http://127.0.0.1:9",
        aws_access_key_id="AKID",
        aws_secret_access_key="secret",
    )
    try:
        assert isinstance(made, DynamoDBClient)
        assert made.meta.region_name == "us-west-2"
        table = services.resource(
            "dynamodb",
            region_name="us-west-2",
            endpoint_url="http://127.0.0.1:9",
            aws_access_key_id="AKID",
            aws_secret_access_key="secret",
        ).Table("tbl")
        assert table.name == "tbl"
    finally:
        made.close()


@pytest.mark.anyio
async def test_async_client_speaks_the_same_protocol(aclient: Any, fake: Fake) -> None:
    replies = [failure("ThrottlingException"), answer({"Item": KEY})]
    fake.handler = lambda op, params, request: replies.pop(0)

    result = await aclient.get_item(TableName="tbl", Key=KEY)

    assert result["Item"] == KEY and len(fake.calls) == 2
    assert fake.requests[1].headers["x-amz-target"] == "DynamoDB_20120810.GetItem"


@pytest.mark.anyio
async def test_async_errors_crc_and_paginator(aclient: Any, fake: Fake) -> None:
    replies = [
        answer({"Items": [], "LastEvaluatedKey": KEY}, crc=3),
        answer({"Items": [], "LastEvaluatedKey": KEY}),
        answer({"Items": [KEY]}),
        failure("ResourceNotFoundException"),
    ]
    fake.handler = lambda op, params, request: replies.pop(0)

    pages = [p async for p in aclient.get_paginator("query").paginate(TableName="tbl")]
    with pytest.raises(aclient.exceptions.ResourceNotFoundException):
        await aclient.describe_table(TableName="tbl")

    assert [p["Items"] for p in pages] == [[], [KEY]]


def test_importing_the_value_modules_does_not_load_httpx() -> None:
    import subprocess

    code = (
        "import sys, services.dynamodb.types, services.dynamodb.conditions;"
        "print('httpx' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"


def test_modeled_error_members_are_botocores() -> None:
    from services.dynamodb.protocol import MODELED_ERRORS

    model = botocore.session.get_session().get_service_model("dynamodb")
    expected = {shape.name: tuple(shape.members) for shape in model.error_shapes}
    assert expected == MODELED_ERRORS


def test_unmodeled_errors_carry_no_extra_members(client: Any, fake: Fake) -> None:
    fake.handler = lambda op, params, request: failure("ValidationException", "bad")

    with pytest.raises(client.exceptions.ValidationException) as caught:
        client.get_item(TableName="tbl", Key=KEY)

    assert set(caught.value.response) == {"Error", "ResponseMetadata"}


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (500, b""),
        (503, b"<html><body>Service Unavailable</body></html>"),
        (502, b"  <html>bad gateway page"),
        (500, b"plain text trouble"),
        (400, b""),
        (400, b"not json at all"),
        (413, b"<html>too large</html>"),
    ],
)
def test_error_answers_that_are_not_json_read_as_botocore_reads_them(
    client: DynamoDBClient, fake: Fake, status: int, body: bytes
) -> None:
    from botocore.parsers import create_parser

    fake.handler = lambda op, params, request: httpx.Response(status, content=body)
    with pytest.raises(ClientError) as caught:
        client.get_item(TableName="tbl", Key=KEY)

    model = botocore.session.get_session().get_service_model("dynamodb")
    expected = create_parser("json").parse(
        {"status_code": status, "headers": {}, "body": body},
        model.operation_model("GetItem").output_shape,
    )["Error"]
    assert caught.value.response["Error"]["Code"] == expected["Code"]
    assert caught.value.response["Error"]["Message"] == expected["Message"]


def test_a_waiter_that_meets_an_error_says_which(
    client: DynamoDBClient, fake: Fake
) -> None:
    fake.handler = lambda op, params, request: failure(
        "AccessDeniedException", "User is not authorized to perform DescribeTable"
    )
    with pytest.raises(WaiterError, match=r"AccessDeniedException.*not authorized"):
        client.get_waiter("table_exists").wait(TableName="tbl")
