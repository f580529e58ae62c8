"""HTTP event views, on fixtures written from the event shapes AWS documents."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from runtime.events import (
    BodyError,
    EventError,
    EventKind,
    HttpRequest,
    UnknownEventError,
    event_kind,
    request,
)

FIXTURES = Path(__file__).parent / "fixtures"


def load(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return event


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("rest_v1", EventKind.REST_V1),
        ("rest_v1_cognito_base64", EventKind.REST_V1),
        ("rest_v1_lambda_authorizer", EventKind.REST_V1),
        ("http_v2", EventKind.HTTP_V2),
        ("http_v2_base64_lambda_authorizer", EventKind.HTTP_V2),
        ("function_url", EventKind.FUNCTION_URL),
        ("alb", EventKind.ALB),
        ("alb_multi_value", EventKind.ALB_MULTI_VALUE),
    ],
)
def test_event_kind_detects_each_fixture(name: str, kind: EventKind) -> None:
    assert event_kind(load(name)) is kind
    assert request(load(name)).kind is kind


@pytest.mark.parametrize(
    "event",
    [
        {},
        {"Records": [{"eventSource": "aws:s3"}]},
        {"requestContext": {}},
        {"httpMethod": "GET"},
        {"version": "2.0", "rawPath": "/", "requestContext": "nope"},
    ],
    ids=["empty", "s3", "context-only", "no-context", "context-not-object"],
)
def test_event_kind_rejects_other_events(event: dict[str, Any]) -> None:
    with pytest.raises(UnknownEventError):
        event_kind(event)


def test_event_kind_rejects_non_objects() -> None:
    with pytest.raises(UnknownEventError, match="JSON object"):
        event_kind(["not", "an", "event"])  # type: ignore[arg-type]


def test_unknown_event_error_is_an_event_error_and_value_error() -> None:
    assert issubclass(UnknownEventError, EventError)
    assert issubclass(BodyError, EventError)
    assert issubclass(EventError, ValueError)


# ---------------------------------------------------------------- REST v1


def test_rest_v1_request_line_and_headers() -> None:
    req = request(load("rest_v1"))
    assert req.method == "GET"
    assert req.path == "/my/path"
    assert req.raw_path == "/my/path"
    assert req.headers["header1"] == "value1"
    assert req.headers["HEADER2"] == "value2"
    assert req.headers.get_all("header2") == ["value1", "value2"]
    assert req.headers.get_all("absent") == []
    assert "Header1" in req.headers
    assert "absent" not in req.headers


def test_rest_v1_query_parameters_single_and_multi() -> None:
    req = request(load("rest_v1"))
    assert req.query["parameter1"] == "value2"
    assert req.query.get_all("parameter1") == ["value1", "value2"]
    assert req.query["parameter2"] == "a b"
    assert dict(req.query) == {"parameter1": "value2", "parameter2": "a b"}


def test_rest_v1_cookies_from_the_cookie_header() -> None:
    req = request(load("rest_v1"))
    assert req.cookies == {"theme": "dark", "session": "abc123"}


def test_rest_v1_text_body() -> None:
    req = request(load("rest_v1"))
    assert req.is_base64_encoded is False
    assert req.text == "Hello from Lambda!"
    assert req.body == b"Hello from Lambda!"


def test_rest_v1_nulls_read_as_empty() -> None:
    req = request(load("rest_v1"))
    assert req.path_parameters == {}
    assert req.stage_variables == {}
    assert req.request_context.claims == {}


def test_rest_v1_request_context() -> None:
    ctx = request(load("rest_v1")).request_context
    assert ctx.request_id == "id="
    assert ctx.source_ip == "192.0.2.1"
    assert ctx.user_agent == "user-agent"
    assert ctx.stage == "$default"
    assert ctx.domain_name == "id.execute-api.us-east-1.amazonaws.com"
    assert ctx.api_id == "id"
    assert ctx.account_id == "123456789012"
    assert ctx.time_epoch_ms == 1583349317135


def test_rest_v1_base64_body_is_bytes() -> None:
    req = request(load("rest_v1_cognito_base64"))
    assert req.is_base64_encoded is True
    assert req.body == b"\x00\x01\x02\xff"
    with pytest.raises(BodyError, match="UTF-8"):
        _ = req.text


def test_rest_v1_cognito_claims_path_parameters_stage_variables() -> None:
    req = request(load("rest_v1_cognito_base64"))
    assert req.method == "PUT"
    assert req.path_parameters == {"petId": "42"}
    assert req.stage_variables == {"table": "pets-prod"}
    assert req.query == {}
    assert req.request_context.claims["cognito:username"] == "alice"
    assert req.request_context.claims["email"] == "alice@example.com"
    assert req.request_context.stage == "prod"
    assert req.request_context.authorizer_context == {}


def test_rest_v1_lambda_authorizer_context() -> None:
    req = request(load("rest_v1_lambda_authorizer"))
    assert req.method == "DELETE"
    assert req.path_parameters == {"proxy": "orders/7"}
    assert req.headers == {}
    assert req.body == b""
    assert req.text == ""
    ctx = req.request_context
    assert ctx.authorizer_context["principalId"] == "user|a1b2c3"
    assert ctx.authorizer_context["tenant"] == "acme"
    assert ctx.claims == {}
    assert ctx.source_ip == "203.0.113.9"


# ---------------------------------------------------------------- HTTP v2


def test_http_v2_request_line() -> None:
    req = request(load("http_v2"))
    assert req.method == "POST"
    assert req.path == "/my/path/a b"
    assert req.raw_path == "/my/path/a%20b"
    assert req.path_parameters == {"id": "a b"}
    assert req.stage_variables == {
        "stageVariable1": "value1",
        "stageVariable2": "value2",
    }


def test_http_v2_headers_joined_and_split() -> None:
    req = request(load("http_v2"))
    # 2.0 joins repeats with commas; the single view keeps that, get_all splits
    assert req.headers["Header2"] == "value1,value2"
    assert req.headers.get_all("header2") == ["value1", "value2"]
    assert req.headers["content-type"] == "application/json"


def test_http_v2_query_from_raw_query_string() -> None:
    req = request(load("http_v2"))
    assert req.query["parameter1"] == "value1,value2"
    assert req.query.get_all("parameter1") == ["value1", "value2"]
    assert req.query.get_all("parameter2") == ["x+y"]


def test_http_v2_cookies_list() -> None:
    req = request(load("http_v2"))
    assert req.cookies == {"cookie1": "one", "cookie2": "two"}


def test_http_v2_json_body() -> None:
    req = request(load("http_v2"))
    assert req.json() == {"number": 3}


def test_http_v2_jwt_claims_and_scopes() -> None:
    ctx = request(load("http_v2")).request_context
    assert ctx.claims == {"sub": "user-1", "email": "bob@example.com"}
    assert ctx.scopes == ["orders:read", "orders:write"]
    assert ctx.request_id == "id"
    assert ctx.source_ip == "192.0.2.1"
    assert ctx.user_agent == "agent"
    assert ctx.time_epoch_ms == 1583348638390


def test_http_v2_lambda_authorizer_and_base64_body() -> None:
    req = request(load("http_v2_base64_lambda_authorizer"))
    assert req.method == "PUT"
    assert req.body == b"\x89PNG\r\n\x1a\n"
    assert req.request_context.authorizer_context == {"userId": "u-77", "plan": "pro"}
    assert req.request_context.claims == {}
    assert req.request_context.scopes == []
    assert req.query == {}
    assert req.cookies == {}
    assert req.path_parameters == {}


# ---------------------------------------------------------------- URL, ALB


def test_function_url_iam_and_base64_json_body() -> None:
    req = request(load("function_url"))
    assert req.method == "POST"
    assert req.json() == {"number": 1.5}
    assert req.cookies == {"cookie1": "c1", "cookie2": "c2"}
    assert req.query.get_all("parameter1") == ["value1", "value2"]
    ctx = req.request_context
    assert ctx.iam["userArn"] == "arn:aws:iam::111122223333:user/example-user"
    assert ctx.source_ip == "203.0.113.42"
    assert ctx.api_id == "abcdefghijklmnopqrstuvwxyz012345"


def test_alb_single_value_query_is_decoded() -> None:
    req = request(load("alb"))
    assert req.method == "GET"
    assert req.path == "/lambda"
    # the balancer does not decode parameters; the view does
    assert req.query["q"] == "café au lait"
    assert req.query["query"] == "1234ABCD"
    assert req.headers["Host"] == "lambda-alb-123578498.us-east-2.elb.amazonaws.com"
    assert req.cookies == {"lang": "en", "id": "99"}
    assert req.body == b""
    assert req.request_context.request_id is None
    assert req.request_context.source_ip is None
    assert req.request_context.target_group_arn is not None
    assert req.request_context.target_group_arn.endswith("/49e9d65c45c6791a")


def test_alb_multi_value_headers_query_and_body() -> None:
    req = request(load("alb_multi_value"))
    assert req.method == "POST"
    assert req.path == "/lambda/a b"
    assert req.raw_path == "/lambda/a%20b"
    assert req.query.get_all("myKey") == ["val1", "val2"]
    assert req.query["myKey"] == "val2"
    assert req.query["name"] == "Jürgen"
    assert req.headers.get_all("X-Custom") == ["one", "two"]
    assert req.headers["x-custom"] == "two"
    assert req.cookies == {"lang": "en", "id": "99", "theme": "light"}
    assert req.json() == {"number": "3"}


# ---------------------------------------------------------------- errors, laziness


def _v2(body: str | None, *, b64: bool = False) -> dict[str, Any]:
    event = load("http_v2")
    event["body"] = body
    event["isBase64Encoded"] = b64
    return event


@pytest.mark.parametrize(
    ("body", "b64", "message"),
    [
        ("{not json", False, "not valid JSON"),
        ("", False, "empty"),
        (None, False, "empty"),
        ("!!!", True, "not valid base64"),
        ("//79", True, "not UTF-8"),
    ],
    ids=["bad-json", "empty", "absent", "bad-base64", "not-utf8"],
)
def test_json_raises_a_typed_error(body: str | None, b64: bool, message: str) -> None:
    with pytest.raises(BodyError, match=message):
        request(_v2(body, b64=b64)).json()


def test_body_that_is_not_a_string_is_a_body_error() -> None:
    with pytest.raises(BodyError, match="not a string"):
        _ = request(_v2({"already": "parsed"})).body  # type: ignore[arg-type]


def test_missing_method_is_an_event_error() -> None:
    event = load("rest_v1")
    del event["httpMethod"]
    req = HttpRequest(event, EventKind.REST_V1)
    with pytest.raises(EventError, match="method"):
        _ = req.method


def test_views_parse_lazily_and_once() -> None:
    # a broken body does not stop the other fields from being read
    req = request(_v2("!!!", b64=True))
    assert req.method == "POST"
    assert req.headers is req.headers
    with pytest.raises(BodyError):
        _ = req.body


def test_repr_hides_headers_cookies_and_body() -> None:
    req = request(load("http_v2_base64_lambda_authorizer"))
    _ = req.headers
    shown = repr(req) + repr(req.headers) + repr(req.request_context) + repr(req.query)
    assert "secret-token-value" not in shown
    assert "iVBORw0KGgo" not in shown
    assert "PUT /upload" in repr(req)


def test_json_too_deeply_nested_is_a_body_error() -> None:
    event = load("http_v2")
    event["body"], event["isBase64Encoded"] = "[" * 100000, False
    with pytest.raises(BodyError, match="nested"):
        request(event).json()


def test_lone_surrogate_body_is_a_body_error() -> None:
    event = load("http_v2")
    event["body"], event["isBase64Encoded"] = '{"a": "\ud800"}', False
    with pytest.raises(BodyError):
        request(event).body  # noqa: B018
