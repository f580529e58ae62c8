"""The signing subcommands: moto with signature checking on accepts what
`lambdalite send` signs; presign and canonical agree with botocore; errors are
one line; no secret, token or signature is ever printed where it should not."""

from __future__ import annotations

import http.server
import logging
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest
from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotocoreCredentials
from freezegun import freeze_time

from runtime.cli import main
from sigv4.cli import infer_service_region
from tests.integration.servers import Server

SECRET = "cliSECRETkey/+example"
TOKEN = "cliSESSIONtoken=="
KEY_ID = "AKIDCLIEXAMPLE"
# nothing listens on the discard port of the loopback address
LOCAL = "http://127.0.0.1:9/"
LOCAL_SCOPE = ["--service", "s3", "--region", "us-east-1"]


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Credentials in the environment only; no files, no metadata endpoints."""
    for name in [
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_ROLE_ARN",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    ]:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-creds"))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_SESSION_TOKEN", TOKEN)


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = main(argv)
    out, err = capsys.readouterr()
    return status, out, err


# -- a local server ----------------------------------------------------------


class Echo(http.server.BaseHTTPRequestHandler):
    """Answers 200 with a fixed body; /redirect answers 307 to /target."""

    seen: ClassVar[list[tuple[str, str, dict[str, str], bytes]]] = []

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        self.seen.append((self.command, self.path, dict(self.headers), body))
        if self.path.startswith("/redirect"):
            self.send_response(307)
            self.send_header("Location", "/target")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        answer = b"hello from echo"
        self.send_response(200)
        self.send_header("Content-Length", str(len(answer)))
        self.send_header("X-Echo", "yes")
        self.end_headers()
        self.wfile.write(answer)

    do_GET = do_PUT = do_POST = _handle

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def echo() -> Iterator[str]:
    Echo.seen = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# -- service and region from the host ------------------------------------------


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("s3.amazonaws.com", ("s3", "us-east-1")),
        ("bucket.s3.amazonaws.com", ("s3", "us-east-1")),
        ("s3.us-west-2.amazonaws.com", ("s3", "us-west-2")),
        ("bucket.s3.eu-central-1.amazonaws.com", ("s3", "eu-central-1")),
        ("s3-us-west-2.amazonaws.com", ("s3", "us-west-2")),
        ("s3-external-1.amazonaws.com", ("s3", "us-east-1")),
        ("s3.dualstack.ap-south-1.amazonaws.com", ("s3", "ap-south-1")),
        ("dynamodb.eu-west-1.amazonaws.com", ("dynamodb", "eu-west-1")),
        ("sts.amazonaws.com", ("sts", "us-east-1")),
        ("sts.us-gov-west-1.amazonaws.com", ("sts", "us-gov-west-1")),
        ("iam.amazonaws.com", ("iam", "us-east-1")),
        ("abc123.execute-api.us-east-1.amazonaws.com", ("execute-api", "us-east-1")),
        ("lambda.cn-north-1.amazonaws.com.cn", ("lambda", "cn-north-1")),
        ("xyz.lambda-url.eu-west-3.on.aws", ("lambda", "eu-west-3")),
        ("dynamodb-fips.us-east-1.amazonaws.com", ("dynamodb", "us-east-1")),
        ("sts-fips.us-west-2.amazonaws.com", ("sts", "us-west-2")),
        ("s3-fips.us-gov-west-1.amazonaws.com", ("s3", "us-gov-west-1")),
        ("ap.s3-accesspoint.eu-west-1.amazonaws.com", ("s3", "eu-west-1")),
        ("example.com", (None, None)),
        ("127.0.0.1", (None, None)),
    ],
)
def test_infer_service_region(host: str, expected: tuple[str, str]) -> None:
    assert infer_service_region(host) == expected


# -- send against moto -----------------------------------------------------------


@pytest.mark.integration
def test_send_is_accepted_by_moto(
    moto: Server,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", moto.credentials.access_key_id)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", moto.credentials.secret_access_key)
    monkeypatch.delenv("AWS_SESSION_TOKEN")
    bucket = f"cli-{uuid.uuid4().hex[:12]}"
    scope = ["--service", "s3", "--region", moto.region]
    body = tmp_path / "body.bin"
    body.write_bytes("from a file \x00 \u00e9".encode())

    status, _, err = run(
        ["send", "-X", "PUT", f"{moto.endpoint}/{bucket}", *scope], capsys
    )
    assert (status, err) == (0, "")
    key = f"{moto.endpoint}/{bucket}/dir/a b+c.txt"
    status, _, err = run(
        ["send", "-X", "PUT", key, "-d", f"@{body}", "-H", "Content-Type: x/y", *scope],
        capsys,
    )
    assert (status, err) == (0, "")

    status, out, err = run(["send", "-i", key, *scope], capsys)

    assert (status, err) == (0, "")
    assert out.startswith("HTTP/1.1 200 OK\n")
    assert "content-type: x/y" in out.lower()
    assert out.endswith("\n\nfrom a file \x00 \u00e9")


@pytest.mark.integration
def test_send_with_wrong_secret_is_refused_by_moto(
    moto: Server,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", moto.credentials.access_key_id)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wrong-secret")
    monkeypatch.delenv("AWS_SESSION_TOKEN")

    status, out, _ = run(
        ["send", f"{moto.endpoint}/", "--service", "s3", "--region", moto.region],
        capsys,
    )

    assert status == 1
    assert "SignatureDoesNotMatch" in out


@pytest.mark.integration
def test_send_unsigned_payload_and_stdin_accepted_by_moto(
    moto: Server,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", moto.credentials.access_key_id)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", moto.credentials.secret_access_key)
    monkeypatch.delenv("AWS_SESSION_TOKEN")
    monkeypatch.setenv("AWS_REGION", moto.region)  # region from the environment
    bucket = f"cli-{uuid.uuid4().hex[:12]}"
    assert (
        run(
            ["send", "-X", "PUT", f"{moto.endpoint}/{bucket}", "--service", "s3"],
            capsys,
        )[0]
        == 0
    )

    class Stdin:
        buffer = __import__("io").BytesIO(b"piped in")

    monkeypatch.setattr(sys, "stdin", Stdin)
    url = f"{moto.endpoint}/{bucket}/piped"
    status, _, err = run(
        ["send", "-X", "PUT", url, "-d", "@-", "--unsigned-payload", "--service", "s3"],
        capsys,
    )
    assert (status, err) == (0, "")
    assert run(["send", url, "--service", "s3"], capsys)[1] == "piped in"


# -- send against a local echo server --------------------------------------------


def test_send_verbose_shows_redacted_signing_only(
    echo: str, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    status, out, err = run(
        [
            "send",
            "-v",
            "-i",
            f"{echo}/redirect?x=1",
            "--service",
            "s3",
            "--region",
            "us-east-1",
            "-d",
            "payload",
        ],
        capsys,
    )

    assert status == 0
    assert out.endswith("hello from echo")
    assert "x-echo: yes" in out
    assert "* canonical request:" in err
    assert "x-amz-security-token:***" in err
    assert "> authorization: ***" in err
    (_, _, first, _), (_, path, second, body) = Echo.seen
    assert path == "/target" and body == b"payload"
    signatures = [h["Authorization"].rsplit("=", 1)[1] for h in (first, second)]
    assert "canonical request" in caplog.text  # the signer's DEBUG lines
    for secret in [SECRET, TOKEN, *signatures]:
        assert secret not in out
        assert secret not in err
        assert secret not in caplog.text


def test_send_redirect_is_resigned(
    echo: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with freeze_time("2024-05-01 10:00:00"):
        status, _, _ = run(
            [
                "send",
                "-X",
                "PUT",
                f"{echo}/redirect",
                "-d",
                "x",
                "--service",
                "s3",
                "--region",
                "us-east-1",
            ],
            capsys,
        )

        assert status == 0
        (_, _, first, _), (method, path, second, body) = Echo.seen
        assert (method, path, body) == ("PUT", "/target", b"x")
        expected = AWSRequest(
            method="PUT",
            url=f"{echo}/target",
            headers={
                k: v
                for k, v in second.items()
                if k.lower()
                not in {
                    "authorization",
                    "x-amz-date",
                    "x-amz-security-token",
                    "user-agent",
                    "accept-encoding",
                    "connection",
                }
            },
            data=b"x",
        )
        S3SigV4Auth(
            BotocoreCredentials(KEY_ID, SECRET, TOKEN), "s3", "us-east-1"
        ).add_auth(expected)
    assert second["Authorization"] == expected.headers["Authorization"]
    assert second["Authorization"] != first["Authorization"]


# -- presign and canonical -------------------------------------------------------


@freeze_time("2024-05-01 10:00:00")
def test_presign_matches_botocore(capsys: pytest.CaptureFixture[str]) -> None:
    url = "https://bucket.s3.us-west-2.amazonaws.com/some/key.txt"

    status, out, err = run(["presign", url, "--expires", "900"], capsys)

    expected = AWSRequest(method="GET", url=url)
    S3SigV4QueryAuth(
        BotocoreCredentials(KEY_ID, SECRET, TOKEN), "s3", "us-west-2", expires=900
    ).add_auth(expected)
    got = dict(p.split("=", 1) for p in out.strip().split("?", 1)[1].split("&"))
    want = dict(p.split("=", 1) for p in expected.url.split("?", 1)[1].split("&"))
    assert (status, err) == (0, "")
    assert out.strip().split("?")[0] == url
    assert got == want


@freeze_time("2024-05-01 10:00:00")
def test_canonical_matches_botocore_without_secrets(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = "https://s3.us-west-2.amazonaws.com/bucket/a%20b?list-type=2&prefix=x"

    status, out, err = run(
        ["canonical", "-X", "PUT", url, "-H", "X-Amz-Meta-A:  b  c", "-d", "body"],
        capsys,
    )

    request = AWSRequest(
        method="PUT",
        url=url,
        headers={
            "Accept": "*/*",
            "Content-Length": "4",
            "Host": "s3.us-west-2.amazonaws.com",
            "X-Amz-Meta-A": "b  c",
        },
        data=b"body",
    )
    oracle = S3SigV4Auth(BotocoreCredentials(KEY_ID, SECRET, TOKEN), "s3", "us-west-2")
    oracle.add_auth(request)
    signature = request.headers["Authorization"].rsplit("=", 1)[1]
    del request.headers["Authorization"]  # as it was when botocore signed
    canonical = oracle.canonical_request(request)
    masked = canonical.replace(
        f"x-amz-security-token:{TOKEN}", "x-amz-security-token:***"
    )

    assert (status, err) == (0, "")
    assert f"canonical request:\n{masked}\n" in out
    assert oracle.string_to_sign(request, canonical) in out
    for secret in [SECRET, TOKEN, signature]:
        assert secret not in out


# -- errors ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["send", LOCAL], "cannot tell the service from '127.0.0.1'"),
        (["send", LOCAL, "--service", "s3"], "cannot tell the region"),
        (["send", "ftp://x/", "--service", "s3"], "is not an http or https URL"),
        (["send", LOCAL, *LOCAL_SCOPE, "-H", "NoColon"], "must look like"),
        (["send", LOCAL, *LOCAL_SCOPE, "-d", "@/no/such/file"], "cannot read"),
        (["presign", "https://s3.amazonaws.com/b/k", "--expires", "604801"], "604800"),
        (["send", LOCAL, *LOCAL_SCOPE], "the request failed"),
    ],
)
def test_user_errors_are_one_line(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = run(argv, capsys)

    assert status == 1
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("lambdalite: error: ")
    assert message in err


def test_missing_credentials_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name)

    status, _, err = run(["presign", "https://s3.amazonaws.com/b/k"], capsys)

    assert status == 1
    assert err.startswith("lambdalite: error: ") and err.count("\n") == 1


def test_console_script_prints_no_traceback(tmp_path: Path) -> None:
    answer = subprocess.run(
        [sys.executable, "-m", "runtime.cli", "send", LOCAL],
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert answer.returncode == 1
    assert "Traceback" not in answer.stderr
    assert answer.stderr.startswith("lambdalite: error: ")


def test_profile_gives_credentials_and_region(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "credentials").write_text(
        "[dev]\naws_access_key_id = AKIDPROFILE\naws_secret_access_key = profsecret\n"
    )
    (tmp_path / "config").write_text("[profile dev]\nregion = eu-west-3\n")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))

    status, out, err = run(
        ["presign", f"{LOCAL}b/k", "--service", "s3", "--profile", "dev"], capsys
    )

    assert (status, err) == (0, "")
    assert "X-Amz-Credential=AKIDPROFILE%2F" in out
    assert "%2Feu-west-3%2Fs3%2Faws4_request" in out
    assert "profsecret" not in out
    assert "X-Amz-Security-Token" not in out  # the environment's token is not used


# -- nothing secret in an error (issue 2) -------------------------------------------


def one_line_error(status: int, out: str, err: str) -> None:
    assert status == 1
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("lambdalite: error: ")
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("token", "field"),
    [
        (f"{TOKEN}\nX-Injected: yes", "session token"),
        (f"{TOKEN}\r\n", "session token"),
        (f"{TOKEN}\u00e9", "session token"),
        (f"{TOKEN} tail", "session token"),
    ],
    ids=["lf", "crlf", "non-ascii", "space"],
)
def test_send_unsendable_session_token_is_named_not_echoed(
    echo: str,
    token: str,
    field: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("AWS_SESSION_TOKEN", token)

    status, out, err = run(["send", f"{echo}/x", *LOCAL_SCOPE], capsys)

    one_line_error(status, out, err)
    assert field in err
    assert TOKEN not in err
    assert Echo.seen == []


def test_send_unsendable_access_key_id_is_named_not_echoed(
    echo: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", f"{KEY_ID}\r\nX-Injected: yes")

    status, out, err = run(["send", f"{echo}/x", *LOCAL_SCOPE], capsys)

    one_line_error(status, out, err)
    assert "access key id" in err
    assert KEY_ID not in err and "Signature=" not in err
    assert Echo.seen == []


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--region", "us-east-1\r\nX-Injected: yes"),
        ("--region", "us east 1"),
        ("--region", "us-east-1/x"),
        ("--service", "s3\n"),
        ("--service", "s3/x"),
    ],
)
def test_send_bad_region_or_service_is_named_not_echoed(
    echo: str, option: str, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    scope = {"--service": "s3", "--region": "us-east-1", option: value}
    argv = ["send", f"{echo}/x", *[x for pair in scope.items() for x in pair]]

    status, out, err = run(argv, capsys)

    one_line_error(status, out, err)
    assert option.lstrip("-") in err
    assert "Signature=" not in err and TOKEN not in err and KEY_ID not in err
    assert Echo.seen == []


def test_send_transport_error_text_is_never_printed(
    echo: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """h11 quotes an illegal header value in its error: only the class is shown."""
    import httpx

    def refuse(self: httpx.Client, request: httpx.Request, **_: object) -> None:
        raise httpx.LocalProtocolError(
            f"Illegal header value {request.headers['authorization']!r} {TOKEN}"
        )

    monkeypatch.setattr(httpx.Client, "send", refuse)

    status, out, err = run(["send", f"{echo}/x", *LOCAL_SCOPE], capsys)

    one_line_error(status, out, err)
    assert "LocalProtocolError" in err
    assert TOKEN not in err and "Signature=" not in err and KEY_ID not in err


def test_send_header_without_colon_is_not_echoed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["send", LOCAL, *LOCAL_SCOPE, "-H", f"X-Amz-Security-Token {TOKEN}"]

    status, out, err = run(argv, capsys)

    one_line_error(status, out, err)
    assert "header number 1" in err and TOKEN not in err


@pytest.mark.parametrize(
    "argv",
    [
        ["send", LOCAL, *LOCAL_SCOPE, "--timeout", "-1"],
        ["send", LOCAL, *LOCAL_SCOPE, "--timeout", "0"],
        ["send", LOCAL, *LOCAL_SCOPE, "--timeout", "nan"],
        ["send", LOCAL, *LOCAL_SCOPE, "--timeout", "inf"],
        ["send", LOCAL, *LOCAL_SCOPE, "-X", ""],
        ["send", LOCAL, *LOCAL_SCOPE, "-X", "GET /x HTTP/1.1\r\n"],
        ["presign", LOCAL, *LOCAL_SCOPE, "-X", ""],
    ],
    ids=[
        "timeout-negative",
        "timeout-zero",
        "timeout-nan",
        "timeout-inf",
        "method-empty",
        "method-not-a-token",
        "presign-method-empty",
    ],
)
def test_bad_option_values_are_argparse_errors(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as caught:
        main(argv)

    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert "error: argument" in err and "Traceback" not in err


@pytest.mark.parametrize(
    "param",
    [
        "X-Amz-Security-Token=old",
        "X-Amz-Signature=" + "0" * 64,
        "X-Amz-Credential=AKID%2F20150830%2Fus-east-1%2Fs3%2Faws4_request",
        "X-Amz-Date=20150830T123600Z",
        "X-Amz-Expires=60",
        "X-Amz-SignedHeaders=host",
        "X-Amz-Algorithm=AWS4-HMAC-SHA256",
        "x-amz-signature=abc",
    ],
)
def test_presign_refuses_url_already_signed(
    param: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["presign", f"{LOCAL}b/k?a=1&{param}", *LOCAL_SCOPE]

    status, out, err = run(argv, capsys)

    one_line_error(status, out, err)
    assert f"signing parameter {param.partition('=')[0]}" in err


def test_send_dot_segments_go_literally_and_show_in_verbose(
    echo: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["send", "-v", f"{echo}/b/a/%2E/c/%2E%2E/d?x=1", *LOCAL_SCOPE]

    status, _, err = run(argv, capsys)

    assert status == 0
    assert Echo.seen[0][1] == "/b/a/./c/../d?x=1"
    assert "> GET /b/a/./c/../d?x=1" in err


@pytest.mark.parametrize(
    "header",
    [
        f"X-A: {TOKEN}\r\nInjected: 1",
        f"X-A: {TOKEN}\nInjected: 1",
        f"X-A: {TOKEN}\x01",
        f"X-A: {TOKEN}\x00",
        f"X-A: {TOKEN}\x7f",
    ],
    ids=["crlf", "lf", "soh", "nul", "del"],
)
def test_send_header_with_control_characters_is_refused_not_echoed(
    echo: str, header: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = run(["send", f"{echo}/x", *LOCAL_SCOPE, "-H", header], capsys)

    one_line_error(status, out, err)
    assert "X-A" in err and "header number 1" in err
    assert TOKEN not in err and "Injected" not in err
    assert Echo.seen == []


@pytest.mark.parametrize(
    "name", ["Authorization", "X-Amz-Security-Token", "X-Amz-Date", "x-amz-date"]
)
@pytest.mark.parametrize("command", ["send", "canonical"])
def test_send_header_the_signer_sets_is_refused_not_echoed(
    echo: str, command: str, name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [command, f"{echo}/x", *LOCAL_SCOPE, "-H", f"{name}: {TOKEN}"]

    status, out, err = run(argv, capsys)

    one_line_error(status, out, err)
    assert name in err and TOKEN not in err
    assert Echo.seen == []
