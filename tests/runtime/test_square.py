"""The square-number example, behind every kind of HTTP event source."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from examples.square import handler
from runtime.gateway import http_to_event, result_to_http

VERSIONS = ["1.0", "2.0"]


def call(
    body: bytes, *, method: str = "POST", version: str = "2.0"
) -> tuple[int, dict[str, str], Any]:
    """One request through the local API Gateway's translation and the handler."""
    event = http_to_event(
        method, "/", [("Content-Type", "application/json")], body, version=version
    )
    result = json.loads(json.dumps(handler(event, None)))
    status, headers, sent = result_to_http(result, version=version)
    return status, {k.lower(): v for k, v in headers}, json.loads(sent)


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize(
    ("number", "square"),
    [
        ("3", 9),
        ("-4", 16),
        ("0", 0),
        ("1.5", 2.25),
        ("3.0", 9.0),
        ("-0.5", 0.25),
        ("1e3", 1e6),
        ("12345678901234567890", 152415787532388367501905199875019052100),
    ],
)
def test_square_answers_the_square(number: str, square: Any, version: str) -> None:
    status, headers, body = call(b'{"number": %s}' % number.encode(), version=version)
    assert status == 200
    assert headers["content-type"] == "application/json"
    assert body == {"result": square}
    assert type(body["result"]) is type(square)


def test_square_keeps_ints_exact_and_floats_float() -> None:
    assert call(b'{"number": 3}')[2]["result"] == 9
    raw = handler(http_to_event("POST", "/", [], b'{"number": 3}'), None)
    assert json.loads(raw["body"]) == {"result": 9}
    assert raw["body"] == '{"result":9}'
    raw = handler(http_to_event("POST", "/", [], b'{"number": 3.0}'), None)
    assert raw["body"] == '{"result":9.0}'


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize(
    "body",
    [
        b"{}",
        b'{"value": 3}',
        b'{"number": "3"}',
        b'{"number": true}',
        b'{"number": false}',
        b'{"number": null}',
        b'{"number": [3]}',
        b'{"number": NaN}',
        b'{"number": Infinity}',
        b'{"number": 1e200}',
        b"[3]",
        b"3",
        b"not json",
        b"",
        b"\xff\xfe",
    ],
)
def test_square_answers_400_with_a_json_error(body: bytes, version: str) -> None:
    status, headers, answer = call(body, version=version)
    assert status == 400
    assert headers["content-type"] == "application/json"
    assert isinstance(answer["error"], str) and answer["error"]


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
def test_square_answers_405_to_other_methods(method: str, version: str) -> None:
    status, headers, answer = call(b"", method=method, version=version)
    assert status == 405
    assert headers["allow"] == "POST"
    assert "POST" in answer["error"]


def test_square_behind_an_alb_with_multi_value_headers() -> None:
    event = {
        "requestContext": {"elb": {"targetGroupArn": "arn:aws:elb:tg"}},
        "httpMethod": "POST",
        "path": "/",
        "multiValueQueryStringParameters": {},
        "multiValueHeaders": {"content-type": ["application/json"]},
        "body": base64.b64encode(b'{"number": 7}').decode(),
        "isBase64Encoded": True,
    }
    result = handler(event, None)
    assert result["statusCode"] == 200
    assert result["statusDescription"] == "200 OK"
    assert result["multiValueHeaders"]["Content-Type"] == ["application/json"]
    assert json.loads(result["body"]) == {"result": 49}


def test_square_of_a_huge_int_is_a_400_not_a_crash() -> None:
    huge = b'{"number": ' + b"9" * 4000 + b"}"
    status, _, answer = call(huge)
    assert status == 400
    assert "too large" in answer["error"]


@pytest.mark.parametrize("version", VERSIONS)
def test_square_deeply_nested_json_is_400(version: str) -> None:
    status, _, sent = call(b"[" * 100000, version=version)
    assert status == 400
    assert "error" in sent
