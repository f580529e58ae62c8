"""Every v4 case of the public AWS signing test suite, header and query signing.

Each case asserts the canonical request, the string to sign and the signature
given by the suite. The request target in request.txt is the path as sent.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

import sigv4
from tests.conftest import missing, vectors_dir

V4 = vectors_dir() / "v4"
CASES = sorted(p.name for p in V4.iterdir()) if V4.is_dir() else []


def parse_request(text: str) -> tuple[str, str, list[tuple[str, str]], bytes]:
    head, _, body = text.partition("\n\n")
    lines = head.split("\n")
    request_line = lines[0]
    method = request_line[: request_line.index(" ")]
    target = request_line[request_line.index(" ") + 1 : request_line.rindex(" ")]
    headers: list[tuple[str, str]] = []
    for line in lines[1:]:
        if not line.strip():
            continue
        if line[:1] in (" ", "\t") and headers:
            name, value = headers[-1]
            # an obs-fold: a recipient replaces it with a space before use
            # (RFC 9112 5.2), and the signer refuses a value holding a newline
            headers[-1] = (name, value + " " + line.lstrip(" \t"))
        else:
            name, _, value = line.partition(":")
            headers.append((name, value))
    return method, target, headers, body.encode()


def load(case: str) -> dict[str, Any]:
    folder = V4 / case
    context = json.loads((folder / "context.json").read_text())
    method, target, headers, body = parse_request((folder / "request.txt").read_text())
    host = next(v for n, v in headers if n.lower() == "host")
    creds = context["credentials"]
    return {
        "folder": folder,
        "context": context,
        "method": method,
        "url": f"https://{host}{target}",
        "headers": headers,
        "body": body,
        "credentials": sigv4.Credentials(
            creds["access_key_id"], creds["secret_access_key"], creds.get("token")
        ),
        "timestamp": dt.datetime.fromisoformat(
            context["timestamp"].replace("Z", "+00:00")
        ),
    }


def expected(folder: Path, name: str) -> str:
    return (folder / name).read_text()


@pytest.fixture(autouse=True)
def _suite_present() -> None:
    if not V4.is_dir():
        missing(f"the AWS signing test suite is not at {V4}")


@pytest.mark.parametrize("case", CASES or ["suite-missing"])
def test_header_signing_matches_suite(case: str) -> None:
    c = load(case)
    ctx = c["context"]
    signed = sigv4.sign(
        c["method"],
        c["url"],
        c["headers"],
        c["body"],
        credentials=c["credentials"],
        region=ctx["region"],
        service=ctx["service"],
        timestamp=c["timestamp"],
        normalize_path=ctx["normalize"],
        sign_payload_header=ctx["sign_body"],
        sign_session_token=not ctx.get("omit_session_token", False),
    )
    folder = c["folder"]
    assert signed.canonical_request == expected(folder, "header-canonical-request.txt")
    assert signed.string_to_sign == expected(folder, "header-string-to-sign.txt")
    assert signed.signature == expected(folder, "header-signature.txt")
    signed_request = expected(folder, "header-signed-request.txt")
    assert f"Authorization:{signed.authorization}" in signed_request


@pytest.mark.parametrize("case", CASES or ["suite-missing"])
def test_query_signing_matches_suite(case: str) -> None:
    c = load(case)
    ctx = c["context"]
    presigned = sigv4.presign(
        c["method"],
        c["url"],
        c["headers"],
        c["body"],
        credentials=c["credentials"],
        region=ctx["region"],
        service=ctx["service"],
        timestamp=c["timestamp"],
        expires=ctx["expiration_in_seconds"],
        normalize_path=ctx["normalize"],
        sign_session_token=not ctx.get("omit_session_token", False),
    )
    folder = c["folder"]
    assert presigned.canonical_request == expected(
        folder, "query-canonical-request.txt"
    )
    assert presigned.string_to_sign == expected(folder, "query-string-to-sign.txt")
    assert presigned.signature == expected(folder, "query-signature.txt")
    assert f"X-Amz-Signature={presigned.signature}" in presigned.url
