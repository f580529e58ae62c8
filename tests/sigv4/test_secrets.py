"""No secret key, session token, signing key or signature in a repr, message or log.

Each object sigv4 hands out is built with known secrets, then its repr, every
exception message and every log record emitted at DEBUG while signing,
presigning, presigning a POST and verifying are searched for them. The
canonical request is logged, redacted.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
from collections.abc import Iterator

import pytest

import sigv4
from sigv4 import errors

SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
TOKEN = "IQoJb3JpZ2luX2VjEXAMPLETOKEN/abc+def=="
NOW = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.timezone.utc)
EXPIRES = NOW + dt.timedelta(hours=1)
CREDS = sigv4.Credentials("AKIDEXAMPLE", SECRET, TOKEN, expiration=EXPIRES)
REGION = "eu-west-1"


def signing_key_hex(service: str) -> str:
    """The derived signing key, computed here with hmac from the spec's steps."""
    key = ("AWS4" + SECRET).encode()
    for part in ("20260301", REGION, service, "aws4_request"):
        key = hmac.digest(key, part.encode(), hashlib.sha256)
    return key.hex()


def forbidden(*signatures: str) -> list[str]:
    return [
        SECRET,
        TOKEN,
        signing_key_hex("s3"),
        signing_key_hex("dynamodb"),
        *signatures,
    ]


def assert_hidden(text: str, *signatures: str) -> None:
    for secret in forbidden(*signatures):
        assert secret not in text


def signed() -> sigv4.SignedRequest:
    return sigv4.sign(
        "PUT",
        "https://bucket.example.com/key?acl",
        {"Cookie": "session=1", "Content-Type": "text/plain"},
        b"body",
        credentials=CREDS,
        region=REGION,
        service="s3",
        timestamp=NOW,
    )


def presigned() -> sigv4.PresignedURL:
    return sigv4.presign(
        "GET",
        "https://bucket.example.com/key",
        credentials=CREDS,
        region=REGION,
        service="s3",
        timestamp=NOW,
    )


def post() -> sigv4.PresignedPost:
    return sigv4.presign_post(
        "https://127.0.0.1:9000/bucket",
        "bucket",
        "key",
        credentials=CREDS,
        region=REGION,
        timestamp=NOW,
    )


# -- reprs -----------------------------------------------------------------------


def test_credentials_repr_hides_secret_and_token() -> None:
    text = repr(CREDS)
    assert "AKIDEXAMPLE" in text
    assert_hidden(text)
    assert_hidden(str(CREDS))


def test_signed_request_repr_hides_signature() -> None:
    request = signed()
    assert_hidden(repr(request), request.signature)


def test_presigned_url_repr_hides_signature_and_token() -> None:
    url = presigned()
    assert url.signature in url.url  # the URL itself carries it: it is the point
    assert_hidden(repr(url), url.signature)


def test_presigned_post_repr_hides_signature_policy_and_token() -> None:
    form = post()
    signature = form.fields["x-amz-signature"]
    assert_hidden(repr(form), signature, form.fields["policy"])


def test_verified_repr_holds_no_secret() -> None:
    request = signed()
    result = sigv4.verify(
        "PUT",
        request.url,
        request.headers,
        b"body",
        secrets={"AKIDEXAMPLE": CREDS},
        region=REGION,
        service="s3",
        now=NOW,
    )
    assert_hidden(repr(result), request.signature)


# -- exception messages ------------------------------------------------------------


def verification_errors() -> Iterator[tuple[str, errors.VerificationError]]:
    """One raised error of each verification kind, and the signature at stake."""
    request = signed()
    good = {"AKIDEXAMPLE": CREDS}
    wrong = {"AKIDEXAMPLE": sigv4.Credentials("AKIDEXAMPLE", "x", TOKEN)}
    cases = [
        ("PUT", request.headers, b"body", good, NOW + dt.timedelta(hours=1)),
        ("PUT", request.headers, b"tampered", good, NOW),
        ("POST", request.headers, b"body", good, NOW),
        ("PUT", request.headers, b"body", wrong, NOW),
        ("PUT", request.headers, b"body", {"AKIDEXAMPLE": SECRET}, NOW),
        ("PUT", request.headers, b"body", {}, NOW),
        ("PUT", [], b"body", good, NOW),
    ]
    for method, headers, body, secrets, now in cases:
        with pytest.raises(errors.VerificationError) as caught:
            sigv4.verify(
                method,
                request.url,
                headers,
                body,
                secrets=secrets,
                region=REGION,
                service="s3",
                now=now,
            )
        yield request.signature, caught.value
    url = presigned()
    for now, region in ((NOW + dt.timedelta(days=1), REGION), (NOW, "us-east-1")):
        with pytest.raises(errors.VerificationError) as caught:
            sigv4.verify(
                "GET",
                url.url,
                {},
                None,
                secrets=good,
                region=region,
                service="s3",
                now=now,
            )
        yield url.signature, caught.value


def test_verification_messages_hold_no_secret() -> None:
    kinds = set()
    for signature, error in verification_errors():
        kinds.add(type(error))
        assert_hidden(str(error), signature)
        assert_hidden(repr(error), signature)
    assert len(kinds) >= 6


def test_signing_error_messages_hold_no_secret() -> None:
    raised: list[Exception] = []
    for expires in (0, 604801):
        with pytest.raises(errors.InvalidExpiryError) as caught:
            sigv4.presign(
                "GET",
                "https://h.example.com/",
                credentials=CREDS,
                region=REGION,
                service="s3",
                expires=expires,
                timestamp=NOW,
            )
        raised.append(caught.value)
    with pytest.raises(errors.InvalidExpiryError) as caught:
        sigv4.presign(
            "GET",
            "https://h.example.com/",
            credentials=CREDS,
            region=REGION,
            service="s3",
            timestamp=NOW + dt.timedelta(days=1),
        )
    raised.append(caught.value)
    with pytest.raises(errors.MalformedHeaderError) as caught:
        sigv4.sign(
            "GET",
            "https://h.example.com/",
            {"Bad Name": TOKEN},
            credentials=CREDS,
            region=REGION,
            service="s3",
        )
    raised.append(caught.value)
    with pytest.raises(errors.CredentialsError) as caught:
        sigv4.Credentials("", SECRET, TOKEN)
    raised.append(caught.value)
    for error in raised:
        assert_hidden(str(error))
        assert_hidden(repr(error))


# -- logs ------------------------------------------------------------------------


def test_debug_logs_hold_redacted_canonical_request_only(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)

    request = signed()
    url = presigned()
    form = post()
    sigv4.verify(
        "PUT",
        request.url,
        request.headers,
        b"body",
        secrets={"AKIDEXAMPLE": CREDS},
        region=REGION,
        service="s3",
        now=NOW,
    )
    with pytest.raises(errors.SignatureMismatchError):
        sigv4.verify(
            "GET",
            url.url,
            {},
            None,
            secrets={"AKIDEXAMPLE": sigv4.Credentials("AKIDEXAMPLE", "x", TOKEN)},
            region=REGION,
            service="s3",
            now=NOW,
        )

    lines = [record.getMessage() for record in caplog.records]
    assert any("canonical request" in line for line in lines)
    assert any("x-amz-security-token:***" in line for line in lines)
    assert any("X-Amz-Security-Token=***" in line for line in lines)
    assert any("X-Amz-Credential=***" in line for line in lines)
    for line in lines:
        assert_hidden(
            line, request.signature, url.signature, form.fields["x-amz-signature"]
        )
        assert "session=1" not in line  # the cookie
