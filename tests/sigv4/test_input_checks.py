"""The signer's inputs are checked before anything is signed or sent (issue 2).

A region, service, access key id or session token that could not travel in a
header is refused with a typed error naming the argument, never its value.
"""

from __future__ import annotations

import pytest

import sigv4
from sigv4.errors import AuthParamsInURLError, CredentialsError, InvalidScopeError

KEY_ID = "AKIDCHECKEXAMPLE"
SECRET = "checkSECRETkey/+example"
TOKEN = "checkSESSIONtoken=="
URL = "https://examplebucket.s3.amazonaws.com/a/b?x=1"


@pytest.mark.parametrize(
    ("key_id", "token", "field"),
    [
        (f"{KEY_ID}\r\nX: y", None, "access key id"),
        (f"{KEY_ID} ", None, "access key id"),
        (f"{KEY_ID}\u00e9", None, "access key id"),
        (KEY_ID, f"{TOKEN}\nX: y", "session token"),
        (KEY_ID, f"{TOKEN}\r", "session token"),
        (KEY_ID, f"{TOKEN}\u00e9", "session token"),
        (KEY_ID, f"{TOKEN}\t", "session token"),
        (KEY_ID, f"a {TOKEN}", "session token"),
    ],
)
def test_credentials_refuse_unsendable_fields_without_echo(
    key_id: str, token: str | None, field: str
) -> None:
    with pytest.raises(CredentialsError, match=field) as caught:
        sigv4.Credentials(key_id, SECRET, token)

    assert KEY_ID not in str(caught.value)
    assert TOKEN not in str(caught.value)
    assert SECRET not in str(caught.value)


def test_credentials_accept_aws_shaped_fields() -> None:
    # STS session tokens are base64: letters, digits, "+", "/" and "="
    token = "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQ+abc=="
    creds = sigv4.Credentials("ASIAEXAMPLE123", SECRET, token)

    assert creds.session_token == token


@pytest.mark.parametrize(
    ("region", "service", "argument"),
    [
        ("", "s3", "region"),
        ("us-east-1\r\nX: y", "s3", "region"),
        ("us east 1", "s3", "region"),
        ("us-east-1/x", "s3", "region"),
        ("us-east-1\x00", "s3", "region"),
        ("us-east-1", "", "service"),
        ("us-east-1", "s3\n", "service"),
        ("us-east-1", "s3/x", "service"),
        ("us-east-1", "s\u00e93", "service"),
    ],
)
@pytest.mark.parametrize("how", ["sign", "presign"])
def test_sign_refuses_bad_region_or_service_naming_it(
    region: str, service: str, argument: str, how: str
) -> None:
    creds = sigv4.Credentials(KEY_ID, SECRET, TOKEN)
    signer = sigv4.sign if how == "sign" else sigv4.presign

    with pytest.raises(InvalidScopeError, match=argument) as caught:
        signer("GET", URL, credentials=creds, region=region, service=service)

    assert caught.value.argument == argument
    assert isinstance(caught.value, sigv4.SigningError)
    message = str(caught.value)
    assert TOKEN not in message and SECRET not in message and KEY_ID not in message
    if region:
        assert region not in message


@pytest.mark.parametrize(
    "name",
    [
        "X-Amz-Algorithm",
        "X-Amz-Credential",
        "X-Amz-Date",
        "X-Amz-Expires",
        "X-Amz-Security-Token",
        "X-Amz-Signature",
        "X-Amz-SignedHeaders",
        "x-amz-signature",
    ],
)
def test_presign_refuses_url_with_signing_parameter(name: str) -> None:
    creds = sigv4.Credentials(KEY_ID, SECRET, TOKEN)

    with pytest.raises(AuthParamsInURLError, match=name) as caught:
        sigv4.presign(
            "GET",
            f"{URL}&{name}={TOKEN}",
            credentials=creds,
            region="us-east-1",
            service="s3",
        )

    assert TOKEN not in str(caught.value)


def test_presign_keeps_other_amz_parameters() -> None:
    """Only the signing parameters are refused; x-amz-* operation ones are fine."""
    from botocore.auth import S3SigV4QueryAuth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials as BotocoreCredentials
    from freezegun import freeze_time

    url = f"{URL}&x-amz-checksum-mode=ENABLED"
    with freeze_time("2015-08-30T12:36:00Z"):
        ours = sigv4.presign(
            "GET",
            url,
            credentials=sigv4.Credentials(KEY_ID, SECRET),
            region="us-east-1",
            service="s3",
        )
        request = AWSRequest("GET", url)
        S3SigV4QueryAuth(
            BotocoreCredentials(KEY_ID, SECRET), "s3", "us-east-1", 3600
        ).add_auth(request)
    theirs = request.url.rpartition("X-Amz-Signature=")[2]
    assert ours.signature == theirs


# -- header values that cannot travel as given (issue 2) -----------------------


@pytest.mark.parametrize(
    "value",
    ["a\r\nInjected: 1", "a\nb", "a\rb", "a\x00b", "a\x01b", "a\x0bb", "a\x7fb"],
    ids=["crlf", "lf", "cr", "nul", "soh", "vt", "del"],
)
@pytest.mark.parametrize("how", ["sign", "presign"])
def test_signer_refuses_control_characters_naming_the_header(
    how: str, value: str
) -> None:
    # RFC 9110 5.5: a field value is visible characters, space and tab only;
    # folding would sign and send something other than what was asked
    signer = sigv4.sign if how == "sign" else sigv4.presign
    with pytest.raises(sigv4.errors.MalformedHeaderError, match="X-Amz-Meta-A") as c:
        signer(
            "PUT",
            URL,
            {"X-Amz-Meta-A": f"{TOKEN}{value}"},
            credentials=sigv4.Credentials(KEY_ID, SECRET),
            region="us-east-1",
            service="s3",
        )
    assert TOKEN not in str(c.value) and TOKEN not in repr(c.value)


@pytest.mark.parametrize("value", ["a\tb", "caf\u00e9", "a\u2028b", "  padded  "])
def test_signer_accepts_tab_and_non_ascii_text(value: str) -> None:
    signed = sigv4.sign(
        "PUT",
        URL,
        {"X-Amz-Meta-A": value},
        credentials=sigv4.Credentials(KEY_ID, SECRET),
        region="us-east-1",
        service="s3",
    )
    assert ("X-Amz-Meta-A", value) in signed.headers


@pytest.mark.parametrize("name", ["X-A\x00", "X\x01A", "X-A\x7f"])
def test_signer_refuses_control_characters_in_names(name: str) -> None:
    with pytest.raises(sigv4.errors.MalformedHeaderError, match="header name"):
        sigv4.sign(
            "GET",
            URL,
            {name: "v"},
            credentials=sigv4.Credentials(KEY_ID, SECRET),
            region="us-east-1",
            service="s3",
        )
