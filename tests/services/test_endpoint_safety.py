"""Endpoint URLs and Config values: refused when built, never sent to real AWS.

boto3 is the oracle where it behaves sensibly (empty environment variables,
path prefixes, `ValueError` for an unusable endpoint); where it does not (an
explicit empty endpoint quietly means AWS for some callers, user info turned
into Basic auth), the rule is ours and the test says why. No test sends a
request anywhere but an httpx.MockTransport: clients that would aim at AWS
are only built, with a transport that fails the test if it is ever used.
"""

from __future__ import annotations

import logging
import math
import socket
from collections.abc import Iterator
from typing import Any

import boto3
import botocore.config
import httpx
import pytest
import urllib3
from botocore.awsrequest import AWSResponse

import services
from services.dynamodb.client import AsyncDynamoDBClient, DynamoDBClient
from services.errors import (
    InvalidEndpointError,
    NoEndpointError,
    ParamValidationError,
    ServiceError,
)
from services.s3.client import S3Client

KEYS = {
    "aws_access_key_id": "AKIDEXAMPLE",
    "aws_secret_access_key": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
}
PASSWORD = "Pa55w0rdSECRETvalue"
LOCAL = "http://127.0.0.1:9"
ENV_NAMES = ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_S3")


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No endpoint or profile from the machine; fake keys for boto3."""
    for name in (*ENV_NAMES, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/config")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", KEYS["aws_access_key_id"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", KEYS["aws_secret_access_key"])
    yield


def _refuse(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"a request was sent to {request.url}")


def _answering(seen: list[httpx.Request]) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(
            200,
            headers={"content-type": "application/x-amz-json-1.0"},
            content=b'{"TableNames": []}',
        )

    return httpx.MockTransport(handle)


def _boto3(service: str, **kwargs: Any) -> Any:
    return boto3.client(
        service,
        region_name="us-east-1",
        config=botocore.config.Config(retries={"total_max_attempts": 1}),
        **kwargs,
    )


def _boto3_url(service: str, endpoint_url: str, call: Any, **config: Any) -> str:
    """The URL botocore would send for `call`; nothing leaves the process."""
    client = boto3.client(
        service,
        region_name="us-east-1",
        endpoint_url=endpoint_url,
        config=botocore.config.Config(**config),
    )
    seen: list[str] = []

    def before_send(request: Any, **_: Any) -> AWSResponse:
        seen.append(request.url)
        raise RuntimeError("stop: never sent")

    client.meta.events.register(f"before-send.{service}.*", before_send)
    with pytest.raises(RuntimeError, match="never sent"):
        call(client)
    return seen[0]


# -- 1. empty endpoints ------------------------------------------------------------


EMPTY = ["", " ", "\t", " \n "]


@pytest.mark.parametrize("value", EMPTY, ids=repr)
def test_explicit_empty_endpoint_is_refused_like_boto3(value: str) -> None:
    with pytest.raises(ValueError, match="Invalid endpoint"):
        _boto3("dynamodb", endpoint_url=value)
    with pytest.raises(
        InvalidEndpointError, match="endpoint_url is empty or only whitespace"
    ):
        services.client("dynamodb", endpoint_url=value, region_name="us-east-1")
    with pytest.raises(ServiceError):
        services.client("s3", endpoint_url=value, region_name="us-east-1")


@pytest.mark.parametrize("value", EMPTY, ids=repr)
def test_explicit_empty_endpoint_is_refused_by_the_async_client(value: str) -> None:
    with pytest.raises(InvalidEndpointError) as caught:
        services.async_client("dynamodb", endpoint_url=value, region_name="us-east-1")
    assert isinstance(caught.value, ValueError)
    assert isinstance(caught.value, NoEndpointError)


def test_no_endpoint_url_still_means_the_service_endpoint() -> None:
    client = DynamoDBClient(
        region_name="us-east-1", _transport=httpx.MockTransport(_refuse), **KEYS
    )
    assert client.meta.endpoint_url == _boto3("dynamodb").meta.endpoint_url
    client.close()


ENV_CASES = [
    {"AWS_ENDPOINT_URL": ""},
    {"AWS_ENDPOINT_URL_DYNAMODB": ""},
    {"AWS_ENDPOINT_URL_S3": ""},
    {"AWS_ENDPOINT_URL_DYNAMODB": "", "AWS_ENDPOINT_URL": LOCAL},
    {"AWS_ENDPOINT_URL_S3": "", "AWS_ENDPOINT_URL": LOCAL},
    {"AWS_ENDPOINT_URL_DYNAMODB": LOCAL + "/d", "AWS_ENDPOINT_URL": LOCAL},
    {"AWS_ENDPOINT_URL": LOCAL, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "TRUE"},
]


@pytest.mark.parametrize("env", ENV_CASES, ids=str)
@pytest.mark.parametrize("service", ["dynamodb", "s3"])
def test_empty_endpoint_variables_count_as_unset_as_in_botocore(
    env: dict[str, str], service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    expected = _boto3(service).meta.endpoint_url.rstrip("/")
    cls = DynamoDBClient if service == "dynamodb" else S3Client
    client = cls(
        region_name="us-east-1", _transport=httpx.MockTransport(_refuse), **KEYS
    )
    assert client.meta.endpoint_url == expected
    client.close()


@pytest.mark.parametrize("name", ["AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB"])
def test_blank_endpoint_variable_is_refused_like_botocore(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(name, "  ")
    with pytest.raises(ValueError, match="Invalid endpoint"):
        _boto3("dynamodb")
    with pytest.raises(
        InvalidEndpointError, match=f"{name} is empty or only whitespace"
    ):
        services.client("dynamodb", region_name="us-east-1")


# -- 2. user info ------------------------------------------------------------------


USERINFO = [
    f"http://user:{PASSWORD}@127.0.0.1:9",
    f"http://{PASSWORD}@127.0.0.1:9",
    f"http://user:{PASSWORD}@127.0.0.1:9/prefix",
    f"ftp://user:{PASSWORD}@127.0.0.1:9",
    f"http://user:{PASSWORD}@127.0.0.1:9/\r\nX: y",
    f"http://user:{PASSWORD}@127.0.0.1:9?x=1",
    f"http://user:{PASSWORD}@127.0.0.1:99999",
    f"http://user:{PASSWORD}@",
    f"http://user:{PASSWORD}@127.0.0.1:9/a b",
]


def _leaks(error: BaseException) -> bool:
    texts = [str(error), repr(error), *map(repr, error.args)]
    cause = error.__cause__ or error.__context__
    if cause is not None:
        texts += [str(cause), repr(cause)]
    return any(PASSWORD in text for text in texts)


@pytest.mark.parametrize("url", USERINFO, ids=range(len(USERINFO)))
def test_endpoint_with_user_info_is_refused_without_the_password(
    url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with pytest.raises(InvalidEndpointError) as caught:
        services.client("dynamodb", endpoint_url=url, region_name="us-east-1")
    assert not _leaks(caught.value)
    assert PASSWORD not in caplog.text
    with pytest.raises(InvalidEndpointError) as async_caught:
        services.async_client("dynamodb", endpoint_url=url, region_name="us-east-1")
    assert not _leaks(async_caught.value)


def test_user_info_message_says_what_is_wrong() -> None:
    with pytest.raises(InvalidEndpointError, match="user name or password"):
        services.client("s3", endpoint_url=USERINFO[0], region_name="us-east-1")


def test_user_info_in_the_environment_is_refused_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", USERINFO[0])
    with pytest.raises(InvalidEndpointError) as caught:
        services.client("dynamodb", region_name="us-east-1")
    assert "AWS_ENDPOINT_URL_DYNAMODB" in str(caught.value)
    assert not _leaks(caught.value)


def test_at_sign_in_the_path_is_not_user_info() -> None:
    seen: list[httpx.Request] = []
    with DynamoDBClient(
        region_name="us-east-1",
        endpoint_url=LOCAL + "/team@x",
        _transport=_answering(seen),
        **KEYS,
    ) as client:
        client.list_tables()
    assert "authorization" in seen[0].headers
    assert seen[0].headers["authorization"].startswith("AWS4-HMAC-SHA256 ")


# -- 3. paths, queries and fragments ------------------------------------------------


PREFIXES = ["", "/", "/prefix", "/prefix/", "/a/b", "/a/b/"]


@pytest.mark.parametrize("suffix", PREFIXES)
def test_dynamodb_path_prefix_is_sent_as_boto3_sends_it(suffix: str) -> None:
    endpoint = LOCAL + suffix
    expected = _boto3_url("dynamodb", endpoint, lambda c: c.list_tables())
    seen: list[httpx.Request] = []
    with DynamoDBClient(
        region_name="us-east-1",
        endpoint_url=endpoint,
        _transport=_answering(seen),
        **KEYS,
    ) as client:
        client.list_tables()
    assert str(seen[0].url) == expected


@pytest.mark.anyio
@pytest.mark.parametrize("suffix", ["/prefix", "/prefix/"])
async def test_async_dynamodb_path_prefix_is_sent_as_boto3_sends_it(
    suffix: str,
) -> None:
    endpoint = LOCAL + suffix
    expected = _boto3_url("dynamodb", endpoint, lambda c: c.list_tables())
    seen: list[httpx.Request] = []

    async def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(
            200,
            headers={"content-type": "application/x-amz-json-1.0"},
            content=b'{"TableNames": []}',
        )

    async with AsyncDynamoDBClient(
        region_name="us-east-1",
        endpoint_url=endpoint,
        _transport=httpx.MockTransport(handle),
        **KEYS,
    ) as client:
        await client.list_tables()
    assert str(seen[0].url) == expected


@pytest.mark.parametrize("style", ["path", "virtual"])
@pytest.mark.parametrize("suffix", ["", "/prefix", "/prefix/"])
def test_s3_object_path_prefix_is_sent_as_boto3_sends_it(
    style: str, suffix: str
) -> None:
    # a host name, not an IP: botocore falls back to path-style for an IP
    endpoint = "http://localhost:9" + suffix
    expected = _boto3_url(
        "s3",
        endpoint,
        lambda c: c.get_object(Bucket="bkt", Key="k/x"),
        s3={"addressing_style": style},
    )
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=b"body")

    with S3Client(
        region_name="us-east-1",
        endpoint_url=endpoint,
        config=services.Config(addressing_style=style),
        _transport=httpx.MockTransport(handle),
        **KEYS,
    ) as client:
        client.get_object(Bucket="bkt", Key="k/x")["Body"].read()
    assert str(seen[0].url) == expected


@pytest.mark.parametrize(
    "suffix", ["?x=1", "?", "/prefix?x=1", "#frag", "#", "/p#f"], ids=repr
)
def test_query_or_fragment_in_an_endpoint_is_refused(suffix: str) -> None:
    # boto3 keeps a query for DynamoDB, fails S3 calls on it, and sends or drops
    # a fragment depending on the service: no one sensible meaning to copy
    with pytest.raises(InvalidEndpointError, match="query or fragment"):
        services.client("dynamodb", endpoint_url=LOCAL + suffix, region_name="eu-1")


# -- 4. malformed endpoints ---------------------------------------------------------


BOTO3_REFUSES = [
    "127.0.0.1:9",
    "http://",
    "http://127.0.0.1:9/\r\nX: y",
    "http://my_service:8000",
]
MALFORMED = [
    *BOTO3_REFUSES,
    "ftp://127.0.0.1:9",
    "file:///etc/passwd",
    " http://127.0.0.1:9",
    "http://127.0.0.1:9 ",
    "http://127.0.0.1:9/a b",
    "http://127.0.0.1:9/a\x00",
    "http://127.0.0.1:9/a\x7f",
    "http://127.0.0.1:9/\u00e9",
    "http://127.0.0.1:99999",
    "http://127.0.0.1:0",
    "http://127.0.0.1:port",
    "http://:9",
    "http:///prefix",
    "http://[::1",
    "http://[not-an-ip]:9",
    "http://a\\b:9",
    "http://127.0.0.1:9/a%20b",
]


@pytest.mark.parametrize("url", BOTO3_REFUSES, ids=repr)
def test_boto3_refuses_these_endpoints_too(url: str) -> None:
    with pytest.raises(ValueError, match="Invalid endpoint"):
        _boto3("dynamodb", endpoint_url=url)


@pytest.mark.parametrize("url", MALFORMED, ids=repr)
def test_malformed_endpoint_is_refused_when_the_client_is_built(url: str) -> None:
    with pytest.raises(InvalidEndpointError) as caught:
        services.client("dynamodb", endpoint_url=url, region_name="us-east-1")
    assert isinstance(caught.value, ValueError)
    assert "endpoint_url" in str(caught.value)
    with pytest.raises(InvalidEndpointError):
        services.async_client("s3", endpoint_url=url, region_name="us-east-1")


def test_malformed_endpoint_message_shows_control_characters_escaped() -> None:
    with pytest.raises(InvalidEndpointError) as caught:
        services.client("dynamodb", endpoint_url=LOCAL + "/\r\nX: y", region_name="r")
    assert "\r" not in str(caught.value) and "\n" not in str(caught.value)
    assert "\\r\\n" in str(caught.value)


@pytest.mark.parametrize(
    "url",
    [
        "HTTP://127.0.0.1:9",
        "http://[::1]:9",
        "https://localhost",
        "http://127.0.0.1:9/p-a_t.h~!$&'()*+,;=:@/",
    ],
)
def test_well_formed_endpoints_are_accepted_and_sent_as_boto3_sends_them(
    url: str,
) -> None:
    expected = _boto3_url("dynamodb", url, lambda c: c.list_tables())
    seen: list[httpx.Request] = []
    with DynamoDBClient(
        region_name="us-east-1", endpoint_url=url, _transport=_answering(seen), **KEYS
    ) as client:
        client.list_tables()
    assert str(seen[0].url) == expected


# -- 4. Config values ---------------------------------------------------------------


def _urllib3_refuses(value: Any) -> bool:
    try:
        urllib3.util.Timeout(connect=value)
    except ValueError:
        return True
    return False


def _socket_refuses(value: float) -> bool:
    with socket.socket() as sock:
        try:
            sock.settimeout(value)
        except (ValueError, OverflowError):
            return True
    return False


BAD_TIMEOUTS = [-1, 0, 0.0, -0.5, True, False, "5"]


@pytest.mark.parametrize("name", ["connect_timeout", "read_timeout"])
@pytest.mark.parametrize("value", BAD_TIMEOUTS, ids=repr)
def test_timeout_refused_where_botocore_urllib3_refuses(name: str, value: Any) -> None:
    # botocore hands its timeouts to urllib3, which refuses these at call time
    assert _urllib3_refuses(value)
    with pytest.raises(ParamValidationError, match=name):
        services.Config(**{name: value})


@pytest.mark.parametrize("name", ["connect_timeout", "read_timeout"])
@pytest.mark.parametrize("value", [math.nan, math.inf], ids=repr)
def test_timeout_refused_where_a_socket_refuses(name: str, value: float) -> None:
    assert _socket_refuses(value)
    with pytest.raises(ParamValidationError, match=name):
        services.Config(**{name: value})


@pytest.mark.parametrize("name", ["connect_timeout", "read_timeout"])
def test_timeout_accepted_where_urllib3_accepts(name: str) -> None:
    for value in (1e-9, 1, 2.5, 3600):
        assert not _urllib3_refuses(value)
        config = services.Config(**{name: value})
        assert getattr(config, name) == value


@pytest.mark.parametrize("value", [0, -1, 1.5, True, "10"], ids=repr)
def test_max_pool_connections_must_be_a_whole_number_of_at_least_one(
    value: Any,
) -> None:
    with pytest.raises(ParamValidationError, match="max_pool_connections"):
        services.Config(max_pool_connections=value)


@pytest.mark.parametrize("value", [0, -1, 1.5, True, "3"], ids=repr)
def test_max_attempts_must_be_a_whole_number_of_at_least_one(value: Any) -> None:
    with pytest.raises(ParamValidationError, match="max_attempts"):
        services.Config(max_attempts=value)


@pytest.mark.parametrize("value", [-0.1, math.nan, math.inf, True, "1"], ids=repr)
def test_retry_base_must_be_a_finite_number_of_at_least_zero(value: Any) -> None:
    with pytest.raises(ParamValidationError, match="retry_base"):
        services.Config(retry_base=value)


def test_valid_config_values_reach_the_client() -> None:
    config = services.Config(
        connect_timeout=1.5, read_timeout=2, max_pool_connections=4, retry_base=0
    )
    with DynamoDBClient(
        region_name="us-east-1",
        endpoint_url=LOCAL,
        config=config,
        _transport=httpx.MockTransport(_refuse),
        **KEYS,
    ) as client:
        settings = client.meta.config
    assert (settings.connect_timeout, settings.read_timeout) == (1.5, 2.0)
    assert (settings.max_pool_connections, settings.retry_base) == (4, 0.0)


@pytest.mark.parametrize(
    "region", ["us east 1", "us-east-1/../x", "\u00fc", "-us", "us-", "a" * 64, "a.b"]
)
def test_region_refused_where_boto3_refuses_it(
    region: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ValueError, match="region_name"):
        _boto3_region(region)
    with pytest.raises(ParamValidationError, match="is not a region name"):
        services.client("dynamodb", endpoint_url=LOCAL, region_name=region)
    config = services.Config(region_name=region)
    with pytest.raises(ParamValidationError, match="is not a region name"):
        services.client("s3", endpoint_url=LOCAL, config=config)
    monkeypatch.setenv("AWS_REGION", region)
    with pytest.raises(ParamValidationError, match="is not a region name"):
        services.async_client("dynamodb", endpoint_url=LOCAL)


@pytest.mark.parametrize("region", ["us-east-1", "US-EAST-1", "local", "a" * 63])
def test_region_accepted_where_boto3_accepts_it(region: str) -> None:
    assert _boto3_region(region).meta.region_name == region
    with DynamoDBClient(
        region_name=region,
        endpoint_url=LOCAL,
        _transport=httpx.MockTransport(_refuse),
        **KEYS,
    ) as client:
        assert client.meta.region_name == region


def _boto3_region(region: str) -> Any:
    return boto3.client("dynamodb", region_name=region, endpoint_url=LOCAL)


@pytest.mark.parametrize(
    ("given", "error"),
    [
        ({"endpoint_url": 5}, InvalidEndpointError),
        ({"endpoint_url": b"http://127.0.0.1:9"}, InvalidEndpointError),
        ({"region_name": 5}, ParamValidationError),
    ],
)
def test_wrong_types_are_refused_by_name(
    given: dict[str, Any], error: type[Exception]
) -> None:
    args: dict[str, Any] = {
        "region_name": "us-east-1",
        "endpoint_url": "http://127.0.0.1:9",
        **KEYS,
        **given,
    }
    with pytest.raises(Exception):  # noqa: B017 - boto3 raises various types
        boto3.client("dynamodb", **args)
    with pytest.raises(error, match=next(iter(given))):
        services.client("dynamodb", **args)


def test_an_empty_region_is_refused_not_replaced(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # boto3 keeps an empty region as given (no fall back to the environment)
    # and fails on it when it builds the AWS endpoint; with a custom endpoint
    # it would sign for region "". lambdalite refuses it either way.
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    with pytest.raises(ValueError, match="Invalid endpoint"):
        boto3.client("dynamodb", region_name="", **KEYS)
    custom = boto3.client(
        "dynamodb", region_name="", endpoint_url="http://127.0.0.1:9", **KEYS
    )
    assert custom.meta.region_name == ""
    for endpoint in (None, "http://127.0.0.1:9"):
        with pytest.raises(ParamValidationError, match="region"):
            services.client("dynamodb", region_name="", endpoint_url=endpoint, **KEYS)
