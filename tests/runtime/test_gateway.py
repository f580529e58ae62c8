"""The local API Gateway's translation, against the rules AWS documents.

Expected events and responses are written from the API Gateway developer
guide ("HTTP API payload format version 2.0", "Lambda proxy integration input
format", "Lambda function response for format 2.0"), not from the code.
"""

from __future__ import annotations

import base64
import datetime
import json
from typing import Any

import pytest

from runtime.events import EventKind, request
from runtime.gateway import failure_to_http, http_to_event, result_to_http

HEADERS = [
    ("Host", "localhost:3000"),
    ("User-Agent", "curl/8.5.0"),
    ("Accept", "text/html"),
    ("accept", "application/json"),
    ("Cookie", "a=1; b=2"),
    ("Cookie", "c=3"),
    ("Content-Type", "application/json"),
]
# The guide's example epoch; its example `time` says 12/Mar, but the epoch is
# 4 March 2020 19:03:58 UTC (see test_request_time_matches_the_epoch).
EPOCH_MS = 1583348638390
REQUEST_TIME = "04/Mar/2020:19:03:58 +0000"


def v2(**kwargs: Any) -> dict[str, Any]:
    return http_to_event(
        "post",
        "/my/path%20x?p1=v1&p1=v2&p2=a%2Bb&empty=",
        HEADERS,
        b'{"number": 3}',
        request_id="req-1",
        time_epoch_ms=EPOCH_MS,
        **kwargs,
    )


def v1(**kwargs: Any) -> dict[str, Any]:
    return http_to_event(
        "post",
        "/my/path%20x?p1=v1&p1=v2&p2=a%2Bb",
        HEADERS,
        b'{"number": 3}',
        version="1.0",
        request_id="req-1",
        time_epoch_ms=EPOCH_MS,
        **kwargs,
    )


# ---------------------------------------------------------------- v2 events


def test_v2_event_top_level() -> None:
    event = v2()
    assert event["version"] == "2.0"
    assert event["routeKey"] == "$default"
    assert event["rawPath"] == "/my/path%20x"
    assert event["rawQueryString"] == "p1=v1&p1=v2&p2=a%2Bb&empty="
    assert event["body"] == '{"number": 3}'
    assert event["isBase64Encoded"] is False
    assert "multiValueHeaders" not in event
    assert "multiValueQueryStringParameters" not in event


def test_v2_cookies_split_out_of_headers() -> None:
    event = v2()
    assert event["cookies"] == ["a=1", "b=2", "c=3"]
    assert "cookie" not in event["headers"]


def test_v2_headers_lower_case_and_joined_with_commas() -> None:
    headers = v2()["headers"]
    assert headers["accept"] == "text/html,application/json"
    assert headers["host"] == "localhost:3000"
    assert headers["content-type"] == "application/json"
    assert headers["x-forwarded-for"] == "127.0.0.1"
    assert headers["x-forwarded-proto"] == "http"
    assert all(name == name.lower() for name in headers)


def test_v2_query_parameters_decoded_and_joined() -> None:
    assert v2()["queryStringParameters"] == {
        "p1": "v1,v2",
        "p2": "a+b",
        "empty": "",
    }


def test_v2_request_context() -> None:
    ctx = v2(source_ip="10.0.0.9", stage="$default")["requestContext"]
    assert ctx["http"] == {
        "method": "POST",
        "path": "/my/path x",
        "protocol": "HTTP/1.1",
        "sourceIp": "10.0.0.9",
        "userAgent": "curl/8.5.0",
    }
    assert ctx["requestId"] == "req-1"
    assert ctx["routeKey"] == "$default"
    assert ctx["stage"] == "$default"
    assert ctx["time"] == REQUEST_TIME
    assert ctx["timeEpoch"] == EPOCH_MS
    assert ctx["domainName"] == "localhost:3000"
    assert ctx["domainPrefix"] == "localhost:3000"
    assert ctx["accountId"] == "123456789012"


def test_v2_no_query_no_cookies_no_body_leaves_fields_out() -> None:
    event = http_to_event("GET", "/", [("Host", "h")], b"")
    assert event["rawQueryString"] == ""
    assert "queryStringParameters" not in event
    assert "cookies" not in event
    assert "body" not in event
    assert event["isBase64Encoded"] is False
    assert len(event["requestContext"]["requestId"]) > 0
    assert event["requestContext"]["http"]["userAgent"] == ""


@pytest.mark.parametrize(
    ("content_type", "body", "is_b64"),
    [
        ("application/octet-stream", b"\x00\x01\x02\xff", True),
        (None, b"plain", True),
        ("text/plain; charset=utf-8", b"caf\xc3\xa9", False),
        ("text/plain", b"\xff\xfe", True),
        ("application/vnd.api+json", b"{}", False),
        ("application/x-www-form-urlencoded", b"a=1", False),
        ("image/png", b"\x89PNG", True),
    ],
)
@pytest.mark.parametrize("version", ["1.0", "2.0"])
def test_non_text_bodies_are_base64(
    content_type: str | None, body: bytes, is_b64: bool, version: str
) -> None:
    headers = [("Content-Type", content_type)] if content_type else []
    event = http_to_event("PUT", "/", headers, body, version=version)
    assert event["isBase64Encoded"] is is_b64
    sent = base64.b64decode(event["body"]) if is_b64 else event["body"].encode()
    assert sent == body


def test_v2_existing_forwarded_for_is_extended() -> None:
    event = http_to_event(
        "GET", "/", [("X-Forwarded-For", "198.51.100.1")], b"", source_ip="10.1.1.1"
    )
    assert event["headers"]["x-forwarded-for"] == "198.51.100.1, 10.1.1.1"


def test_stage_variables_are_passed() -> None:
    assert v2(stage_variables={"a": "1"})["stageVariables"] == {"a": "1"}
    assert v1(stage_variables={"a": "1"})["stageVariables"] == {"a": "1"}


def test_request_time_matches_the_epoch() -> None:
    when = datetime.datetime.fromtimestamp(EPOCH_MS / 1000, datetime.timezone.utc)
    assert when.strftime("%d/%b/%Y:%H:%M:%S +0000") == REQUEST_TIME


# ---------------------------------------------------------------- v1 events


def test_v1_event_top_level() -> None:
    event = v1()
    assert event["httpMethod"] == "POST"
    assert event["path"] == "/my/path x"
    assert event["resource"] == "/{proxy+}"
    assert event["pathParameters"] == {"proxy": "my/path x"}
    assert event["stageVariables"] is None
    assert event["body"] == '{"number": 3}'
    assert event["isBase64Encoded"] is False


def test_v1_headers_single_and_multi_value_keep_case() -> None:
    event = v1()
    # names compare case-insensitively; the first spelling sent is kept
    assert event["headers"]["Accept"] == "application/json"
    assert event["multiValueHeaders"]["Accept"] == ["text/html", "application/json"]
    assert "accept" not in event["headers"]
    assert event["multiValueHeaders"]["Cookie"] == ["a=1; b=2", "c=3"]
    assert event["headers"]["Cookie"] == "c=3"
    assert event["multiValueHeaders"]["X-Forwarded-For"] == ["127.0.0.1"]


def test_v1_query_single_is_the_last_value() -> None:
    event = v1()
    assert event["queryStringParameters"] == {"p1": "v2", "p2": "a+b"}
    assert event["multiValueQueryStringParameters"] == {
        "p1": ["v1", "v2"],
        "p2": ["a+b"],
    }


def test_v1_request_context() -> None:
    ctx = v1(stage="prod", source_ip="10.0.0.9")["requestContext"]
    assert ctx["httpMethod"] == "POST"
    assert ctx["identity"]["sourceIp"] == "10.0.0.9"
    assert ctx["identity"]["userAgent"] == "curl/8.5.0"
    assert ctx["path"] == "/prod/my/path x"
    assert ctx["stage"] == "prod"
    assert ctx["requestId"] == "req-1"
    assert ctx["requestTime"] == REQUEST_TIME
    assert ctx["requestTimeEpoch"] == EPOCH_MS
    assert ctx["resourcePath"] == "/{proxy+}"
    assert ctx["protocol"] == "HTTP/1.1"


def test_v1_empty_request_has_nulls() -> None:
    event = http_to_event("GET", "/", [], b"", version="1.0")
    assert event["resource"] == "/"
    assert event["pathParameters"] is None
    assert event["queryStringParameters"] is None
    assert event["multiValueQueryStringParameters"] is None
    assert event["body"] is None
    assert event["isBase64Encoded"] is False


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("GET", "/", [], b""), "payload format"),
        (("GET", "no-slash", [], b""), "must start with '/'"),
        (("GE T", "/", [], b""), "HTTP method"),
        (("", "/", [], b""), "HTTP method"),
    ],
)
def test_bad_requests_are_value_errors(args: tuple[Any, ...], message: str) -> None:
    version = "3.0" if message == "payload format" else "2.0"
    with pytest.raises(ValueError, match=message):
        http_to_event(*args, version=version)


@pytest.mark.parametrize(
    ("version", "kind"), [("2.0", EventKind.HTTP_V2), ("1.0", EventKind.REST_V1)]
)
def test_events_read_back_through_the_views(version: str, kind: EventKind) -> None:
    event = v2() if version == "2.0" else v1()
    req = request(json.loads(json.dumps(event)))
    assert req.kind is kind
    assert req.method == "POST"
    assert req.path == "/my/path x"
    assert req.json() == {"number": 3}
    assert req.query.get_all("p1") == ["v1", "v2"]
    assert req.cookies == {"a": "1", "b": "2", "c": "3"}
    assert req.headers.get_all("accept") == ["text/html", "application/json"]
    assert req.request_context.request_id == "req-1"
    assert req.request_context.source_ip == "127.0.0.1"


# ---------------------------------------------------------------- v2 results


JSON = ("Content-Type", "application/json")


@pytest.mark.parametrize(
    ("result", "body"),
    [
        ({"message": "hi"}, {"message": "hi"}),
        ([1, 2], [1, 2]),
        ("Hello from Lambda!", "Hello from Lambda!"),
        (42, 42),
        (None, None),
        ({"body": "x", "headers": {}}, {"body": "x", "headers": {}}),
    ],
    ids=["object", "list", "string", "number", "null", "no-status"],
)
def test_v2_result_without_status_code_is_a_json_200(result: Any, body: Any) -> None:
    status, headers, sent = result_to_http(result, version="2.0")
    assert status == 200
    assert headers == [JSON]
    assert json.loads(sent) == body


def test_v2_raw_payload_without_status_code_is_sent_as_is() -> None:
    payload = b'{"b": 1,   "a": 2}'
    assert result_to_http(payload, version="2.0") == (200, [JSON], payload)


def test_v2_response_object() -> None:
    result = {
        "statusCode": 201,
        "headers": {"X-A": "1", "Content-Type": "text/html", "Content-Length": "99"},
        "cookies": ["a=1; Secure", "b=2"],
        "body": "<p>hi</p>",
        "isBase64Encoded": False,
    }
    status, headers, body = result_to_http(result, version="2.0")
    assert status == 201
    assert headers == [
        ("X-A", "1"),
        ("Content-Type", "text/html"),
        ("Set-Cookie", "a=1; Secure"),
        ("Set-Cookie", "b=2"),
    ]
    assert body == b"<p>hi</p>"


def test_v2_base64_body_is_decoded() -> None:
    result = {"statusCode": 200, "body": "AAEC/w==", "isBase64Encoded": True}
    status, _, body = result_to_http(result, version="2.0")
    assert (status, body) == (200, b"\x00\x01\x02\xff")


def test_v2_response_from_raw_bytes() -> None:
    payload = json.dumps({"statusCode": 404, "body": "gone"}).encode()
    status, _, body = result_to_http(payload, version="2.0")
    assert (status, body) == (404, b"gone")


V2_ERROR = (500, [JSON], b'{"message": "Internal Server Error"}')


@pytest.mark.parametrize(
    "result",
    [
        {"statusCode": "abc"},
        {"statusCode": 700},
        {"statusCode": True},
        {"statusCode": 200, "body": {"not": "a string"}},
        {"statusCode": 200, "cookies": "a=1"},
        {"statusCode": 200, "headers": ["X-A", "1"]},
        {"statusCode": 200, "body": "!!", "isBase64Encoded": True},
        b"not json",
    ],
    ids=[
        "status-text",
        "status-range",
        "status-bool",
        "body-object",
        "cookies-string",
        "headers-list",
        "bad-base64",
        "raw-not-json",
    ],
)
def test_v2_malformed_result_is_a_500(result: Any) -> None:
    assert result_to_http(result, version="2.0") == V2_ERROR


# ---------------------------------------------------------------- v1 results


V1_ERROR = (502, [JSON], b'{"message": "Internal server error"}')


def test_v1_response_object_merges_multi_value_headers() -> None:
    result = {
        "statusCode": 200,
        "headers": {"X-A": "single", "X-B": "b"},
        "multiValueHeaders": {"X-A": ["m1", "m2"], "Set-Cookie": ["a=1", "b=2"]},
        "body": "ok",
        "isBase64Encoded": False,
    }
    status, headers, body = result_to_http(result, version="1.0")
    assert status == 200
    assert headers == [
        ("X-B", "b"),
        ("X-A", "m1"),
        ("X-A", "m2"),
        ("Set-Cookie", "a=1"),
        ("Set-Cookie", "b=2"),
        JSON,
    ]
    assert body == b"ok"


def test_v1_base64_and_empty_bodies() -> None:
    result = {"statusCode": 200, "body": "AAEC/w==", "isBase64Encoded": True}
    assert result_to_http(result, version="1.0")[2] == b"\x00\x01\x02\xff"
    assert result_to_http({"statusCode": 204}, version="1.0")[:1] == (204,)
    assert result_to_http({"statusCode": 204}, version="1.0")[2] == b""


@pytest.mark.parametrize(
    "result",
    [
        {"message": "hi"},
        "Hello",
        [1],
        None,
        {"statusCode": 200, "body": {"a": 1}},
        {"statusCode": 200, "cookies": ["a=1"]},
        {"statusCode": 200, "multiValueHeaders": {"X-A": "not-a-list"}},
        b"not json",
    ],
    ids=[
        "no-status",
        "string",
        "list",
        "null",
        "body-object",
        "unknown-key",
        "multi-not-list",
        "raw-not-json",
    ],
)
def test_v1_malformed_result_is_a_502(result: Any) -> None:
    assert result_to_http(result, version="1.0") == V1_ERROR


def test_failures_per_version() -> None:
    assert failure_to_http(version="1.0") == V1_ERROR
    assert failure_to_http(version="2.0") == V2_ERROR
    assert failure_to_http(version="1.0", timed_out=True)[0] == 504
    assert failure_to_http(version="2.0", timed_out=True)[0] == 503


def test_result_to_http_rejects_unknown_versions() -> None:
    with pytest.raises(ValueError, match="payload format"):
        result_to_http({}, version="3.0")


# ---------------------------------------------------------------- injection


@pytest.mark.parametrize("version", ["1.0", "2.0"])
@pytest.mark.parametrize(
    "result",
    [
        {"statusCode": 200, "headers": {"X-A": "1\r\nSet-Cookie: evil=1"}},
        {"statusCode": 200, "headers": {"X-A": "1\nX-B: 2"}},
        {"statusCode": 200, "headers": {"X-A": "1\rX-B: 2"}},
        {"statusCode": 200, "headers": {"X-A": "a\x00b"}},
        {"statusCode": 200, "headers": {"X-A\r\nX-B": "1"}},
        {"statusCode": 200, "headers": {"X A": "1"}},
        {"statusCode": 200, "headers": {"": "1"}},
        {"statusCode": 200, "headers": {"X-A": "\ud800"}},
        {"statusCode": 200, "headers": {"X-A": "a\x0bb"}},
        {"statusCode": 200, "headers": {"X-A": "a\x7fb"}},
        {"statusCode": 200, "headers": {"X-A": "a\x1bb"}},
    ],
    ids=[
        "crlf", "lf", "cr", "nul", "name-crlf", "name-space", "name-empty", "lone",
        "vt", "del", "esc",
    ],
)  # fmt: skip
def test_header_injection_is_a_malformed_result(version: str, result: Any) -> None:
    # RFC 9110 5.5: a field value is visible characters, space and tab (and
    # obs-text); no ASCII control; a name is a token
    error = V1_ERROR if version == "1.0" else V2_ERROR
    assert result_to_http(result, version=version) == error


def test_v1_multi_value_header_injection_is_a_502() -> None:
    result = {"statusCode": 200, "multiValueHeaders": {"X-A": ["ok", "1\r\nX-B: 2"]}}
    assert result_to_http(result, version="1.0") == V1_ERROR


@pytest.mark.parametrize("cookie", ["a=1\r\nX-B: 2", "a=1\nb", "a=\x00"])
def test_v2_cookie_injection_is_a_500(cookie: str) -> None:
    result = {"statusCode": 200, "cookies": [cookie]}
    assert result_to_http(result, version="2.0") == V2_ERROR


def test_malformed_result_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    result = {"statusCode": 200, "headers": {"X-A": "1\r\nX-B: 2"}}
    with caplog.at_level("WARNING", logger="runtime.gateway"):
        result_to_http(result, version="2.0")
    assert any("malformed" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(("version", "error"), [("1.0", V1_ERROR), ("2.0", V2_ERROR)])
def test_lone_surrogate_body_is_a_malformed_result(version: str, error: Any) -> None:
    result = {"statusCode": 200, "body": "\ud800"}
    assert result_to_http(result, version=version) == error
    # as the loop sends it: JSON escapes the surrogate
    assert result_to_http(json.dumps(result).encode(), version=version) == error


def test_non_ascii_header_values_go_out_as_utf8() -> None:
    result = {"statusCode": 200, "headers": {"X-Name": "é€"}}
    assert ("X-Name", "é€") in result_to_http(result, version="2.0")[1]


@pytest.mark.parametrize("value", ["a\tb", "caf\u00e9", "a\u0085b", "a\u2028b"])
def test_tab_and_unicode_line_separators_stay_in_header_values(value: str) -> None:
    # U+0085 and U+2028 go out as UTF-8 bytes (C2 85, E2 80 A8): neither
    # holds CR or LF, so HTTP/1.1 framing cannot break on them
    result = {"statusCode": 200, "headers": {"X-A": value}}
    status, headers, _ = result_to_http(result, version="2.0")
    assert status == 200 and ("X-A", value) in headers
