"""Response builders: the shapes API Gateway, function URLs and ALB document."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from runtime.events import EventKind, UnknownEventError, request
from runtime.responses import ResponseError, json_response, response

FIXTURES = Path(__file__).parent / "fixtures"


def load(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return event


def test_rest_v1_shape_with_repeated_headers_and_cookies() -> None:
    got = response(
        load("rest_v1"),
        201,
        body="created",
        headers={"X-One": "1", "Vary": ["Accept", "Origin"]},
        cookies=["a=1; Path=/", "b=2; Secure"],
    )
    assert got == {
        "statusCode": 201,
        "headers": {"X-One": "1"},
        "multiValueHeaders": {
            "Vary": ["Accept", "Origin"],
            "Set-Cookie": ["a=1; Path=/", "b=2; Secure"],
        },
        "body": "created",
        "isBase64Encoded": False,
    }


def test_rest_v1_single_cookie_stays_in_headers() -> None:
    got = response(EventKind.REST_V1, cookies=["a=1"])
    assert got["headers"] == {"Set-Cookie": "a=1"}
    assert "multiValueHeaders" not in got


def test_http_v2_shape_cookies_field_and_joined_headers() -> None:
    got = response(
        load("http_v2"),
        200,
        body="hi",
        headers={"Vary": ["Accept", "Origin"], "Set-Cookie": "c=3"},
        cookies=["a=1", "b=2"],
        content_type="text/plain",
    )
    assert got == {
        "statusCode": 200,
        "headers": {"Vary": "Accept,Origin", "Content-Type": "text/plain"},
        "cookies": ["a=1", "b=2", "c=3"],
        "body": "hi",
        "isBase64Encoded": False,
    }


def test_function_url_uses_the_v2_shape() -> None:
    got = response(load("function_url"), 204)
    assert got == {
        "statusCode": 204,
        "headers": {},
        "body": "",
        "isBase64Encoded": False,
    }


def test_alb_single_value_shape_with_status_description() -> None:
    got = response(load("alb"), 404, body="nope", headers={"X-A": "1"})
    assert got == {
        "statusCode": 404,
        "statusDescription": "404 Not Found",
        "headers": {"X-A": "1"},
        "body": "nope",
        "isBase64Encoded": False,
    }


def test_alb_single_value_refuses_repeated_headers() -> None:
    with pytest.raises(ResponseError, match="multi-value"):
        response(load("alb"), cookies=["a=1", "b=2"])


def test_alb_multi_value_shape() -> None:
    got = response(
        load("alb_multi_value"), 200, body="ok", headers={"X-A": "1"}, cookies=["a=1"]
    )
    assert got == {
        "statusCode": 200,
        "statusDescription": "200 OK",
        "multiValueHeaders": {"X-A": ["1"], "Set-Cookie": ["a=1"]},
        "body": "ok",
        "isBase64Encoded": False,
    }


@pytest.mark.parametrize("kind", list(EventKind), ids=lambda k: k.value)
def test_bytes_body_is_base64_encoded(kind: EventKind) -> None:
    got = response(kind, body=b"\x00\x01\x02\xff")
    assert got["body"] == "AAEC/w=="
    assert got["isBase64Encoded"] is True


@pytest.mark.parametrize("kind", list(EventKind), ids=lambda k: k.value)
def test_json_response_sets_content_type(kind: EventKind) -> None:
    got = json_response(kind, {"result": 9})
    assert json.loads(got["body"]) == {"result": 9}
    assert got["isBase64Encoded"] is False
    if kind is EventKind.ALB_MULTI_VALUE:
        assert got["multiValueHeaders"]["Content-Type"] == ["application/json"]
    else:
        assert got["headers"]["Content-Type"] == "application/json"


def test_json_response_content_type_overrides_a_given_one() -> None:
    got = json_response(
        EventKind.HTTP_V2,
        [1],
        headers={"content-type": "text/plain"},
        content_type="application/problem+json",
    )
    assert got["headers"] == {"Content-Type": "application/problem+json"}


def test_accepts_a_request_view() -> None:
    got = response(request(load("alb")), 200)
    assert got["statusDescription"] == "200 OK"


@pytest.mark.parametrize("status", [99, 600, -1, 0])
def test_status_out_of_range_is_an_error(status: int) -> None:
    with pytest.raises(ResponseError, match="between 100 and 599"):
        response(EventKind.HTTP_V2, status)


@pytest.mark.parametrize("status", [True, "200", 200.0, None])
def test_status_of_the_wrong_type_is_an_error(status: Any) -> None:
    with pytest.raises(ResponseError, match="must be an int"):
        response(EventKind.HTTP_V2, status)


def test_body_of_the_wrong_type_is_an_error() -> None:
    with pytest.raises(ResponseError, match="body must be str or bytes"):
        response(EventKind.HTTP_V2, body={"a": 1})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({"X-A": "1\r\nX-Injected: 2"}, "line break"),
        ({"Bad Name": "1"}, "header name"),
        ({"X-A": 5}, "not a string"),
        ({"": "x"}, "header name"),
    ],
    ids=["crlf", "space-in-name", "int-value", "empty-name"],
)
def test_bad_headers_are_errors(headers: dict[str, Any], message: str) -> None:
    with pytest.raises(ResponseError, match=message):
        response(EventKind.REST_V1, headers=headers)


def test_bad_cookie_is_an_error() -> None:
    with pytest.raises(ResponseError, match="cookie"):
        response(EventKind.HTTP_V2, cookies=[""])


def test_unencodable_json_is_an_error() -> None:
    with pytest.raises(ResponseError, match="JSON"):
        json_response(EventKind.HTTP_V2, {"x": object()})
    with pytest.raises(ResponseError, match="JSON"):
        json_response(EventKind.HTTP_V2, {"x": float("nan")})


def test_unknown_event_is_refused() -> None:
    with pytest.raises(UnknownEventError):
        response({"Records": []})


def test_response_error_is_a_value_error() -> None:
    assert issubclass(ResponseError, ValueError)
