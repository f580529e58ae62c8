"""The chain's network sources against stand-ins on 127.0.0.1: container
credentials, EC2 instance metadata and STS (a stub answering the documented
XML, and moto in server mode). botocore pointed at the same stand-ins is the
oracle for what a source yields."""

from __future__ import annotations

import datetime as _dt
import json
import os
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import boto3
import botocore.session
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotoCredentials
from freezegun import freeze_time

from sigv4 import NoCredentialsError
from sigv4 import _providers as providers
from sigv4.chain import CredentialChain
from sigv4.errors import (
    ContainerEndpointError,
    CredentialSourceError,
    StsError,
)
from tests.conftest import missing
from tests.sigv4.chain_stubs import (
    Route,
    Seen,
    Stub,
    clean_environment,
    closed_port,
    free_port,
    stub_server,
)

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
TOKEN = "FwoGZXIvYXdzEXAMPLESESSIONTOKEN"
AUTH_TOKEN = "container-auth-EXAMPLETOKEN"
WEB_TOKEN = "eyJhbGciOiJSUzI1NiJ9.EXAMPLE.WEBIDENTITY"
ROLE = "arn:aws:iam::123456789012:role/demo"
EXPIRY = "2099-01-01T00:00:00Z"
BASE_PROFILE = (
    f"[profile base]\naws_access_key_id = AKIDBASE\naws_secret_access_key = {SECRET}\n"
)
IMDS_ROLES = "/latest/meta-data/iam/security-credentials/"


@pytest.fixture(autouse=True)
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    clean_environment(monkeypatch, tmp_path)
    return monkeypatch


def answer_json(document: object, status: int = 200) -> Route:
    def route(seen: Seen) -> tuple[int, dict[str, str], bytes]:
        return (
            status,
            {"Content-Type": "application/json"},
            json.dumps(document).encode(),
        )

    return route


def container_document(key_id: str) -> dict[str, str]:
    # https://docs.aws.amazon.com/sdkref/latest/guide/feature-container-credentials.html
    return {
        "AccessKeyId": key_id,
        "SecretAccessKey": SECRET,
        "Token": TOKEN,
        "Expiration": EXPIRY,
    }


def imds_document(key_id: str) -> dict[str, str]:
    # the shape documented in the EC2 user guide, "Retrieve security credentials
    # from instance metadata"
    return {
        "Code": "Success",
        "LastUpdated": "2098-12-31T23:00:00Z",
        "Type": "AWS-HMAC",
        "AccessKeyId": key_id,
        "SecretAccessKey": SECRET,
        "Token": TOKEN,
        "Expiration": EXPIRY,
    }


def sts_xml(action: str, key_id: str, expiry: str = EXPIRY) -> bytes:
    # https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html
    return f"""<{action}Response xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <{action}Result>
    <AssumedRoleUser>
      <Arn>arn:aws:sts::123456789012:assumed-role/demo/s</Arn>
      <AssumedRoleId>AROA3XFRBF535PLBIFPI4:s</AssumedRoleId>
    </AssumedRoleUser>
    <Credentials>
      <AccessKeyId>{key_id}</AccessKeyId>
      <SecretAccessKey>{SECRET}</SecretAccessKey>
      <SessionToken>{TOKEN}</SessionToken>
      <Expiration>{expiry}</Expiration>
    </Credentials>
  </{action}Result>
  <ResponseMetadata><RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId>
  </ResponseMetadata>
</{action}Response>""".encode()


def sts_route(seen: Seen) -> tuple[int, dict[str, str], bytes]:
    form = dict(urllib.parse.parse_qsl(seen.body.decode()))
    action = form["Action"]
    key_id = "ASIAWEB" if action == "AssumeRoleWithWebIdentity" else "ASIAROLE"
    return 200, {"Content-Type": "text/xml"}, sts_xml(action, key_id)


def form_of(seen: Seen) -> dict[str, str]:
    return dict(urllib.parse.parse_qsl(seen.body.decode()))


def botocore_credentials() -> tuple[str, str, str | None] | None:
    found = botocore.session.Session().get_credentials()
    if found is None:
        return None
    frozen = found.get_frozen_credentials()
    return frozen.access_key, frozen.secret_key, frozen.token


def triple(chain: CredentialChain) -> tuple[str, str, str | None]:
    c = chain.resolve()
    return c.access_key_id, c.secret_access_key, c.session_token


# -- container ------------------------------------------------------------------


def test_container_full_uri_with_token_matches_botocore(
    env: pytest.MonkeyPatch,
) -> None:
    routes = {("GET", "/creds"): answer_json(container_document("ASIACONT"))}
    with stub_server(routes) as stub:
        env.setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", f"{stub.url}/creds")
        env.setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", AUTH_TOKEN)

        chain = CredentialChain()
        found = chain.resolve()
        theirs = botocore_credentials()

    assert (found.access_key_id, found.secret_access_key, found.session_token) == (
        "ASIACONT",
        SECRET,
        TOKEN,
    )
    assert found.expiration == _dt.datetime(2099, 1, 1, tzinfo=_dt.timezone.utc)
    assert theirs == ("ASIACONT", SECRET, TOKEN)
    assert chain.source == "container"
    assert all(s.headers["authorization"] == AUTH_TOKEN for s in stub.seen)


def test_container_token_file_wins(env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("from-the-file\n")
    routes = {("GET", "/creds"): answer_json(container_document("ASIACONT"))}
    with stub_server(routes) as stub:
        env.setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", f"{stub.url}/creds")
        env.setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", AUTH_TOKEN)
        env.setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", str(token_file))
        CredentialChain().resolve()

    assert stub.seen[0].headers["authorization"] == "from-the-file"


def test_container_relative_uri_is_joined_to_the_ecs_host(
    env: pytest.MonkeyPatch,
) -> None:
    routes = {
        ("GET", "/v2/credentials/abc"): answer_json(container_document("ASIAREL"))
    }
    with stub_server(routes) as stub:
        # The real host, 169.254.170.2, stands in for the stub's address here.
        env.setattr(providers, "CONTAINER_HOST", f"127.0.0.1:{stub.port}")
        env.setenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/abc")
        env.setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://10.1.2.3/ignored")

        assert CredentialChain().resolve().access_key_id == "ASIAREL"


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.1/creds",
        "http://169.254.169.254/creds",
        "http://192.168.1.1:8080/",
        "ftp://127.0.0.1/creds",
        "not a url",
    ],
)
def test_container_full_uri_not_allowed(env: pytest.MonkeyPatch, url: str) -> None:
    def no_http(*args: object) -> None:
        raise AssertionError("a refused container URL must not be called")

    # Even if the check regressed, nothing may leave 127.0.0.1.
    env.setattr(providers, "_http", no_http)
    env.setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", url)

    with pytest.raises(ContainerEndpointError):
        CredentialChain().resolve()


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/creds",
        "http://127.5.6.7:9/creds",
        "http://[::1]:8080/creds",
        "http://localhost/creds",
        "http://169.254.170.2/v1/credentials",
        "http://169.254.170.23/v1/credentials",
        "http://[fd00:ec2::23]/v1/credentials",
        "https://credentials.example.com/creds",
    ],
)
def test_container_full_uri_allowed(url: str) -> None:
    providers.check_container_url(url)


def test_container_token_with_line_break_is_refused(env: pytest.MonkeyPatch) -> None:
    env.setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:1/creds")
    env.setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "a\r\nX-Evil: 1")

    with pytest.raises(CredentialSourceError, match="line break"):
        CredentialChain().resolve()


def test_container_server_error_is_retried_a_bounded_number_of_times(
    env: pytest.MonkeyPatch,
) -> None:
    routes = {("GET", "/creds"): answer_json({"message": "busy"}, status=500)}
    with stub_server(routes) as stub:
        env.setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", f"{stub.url}/creds")

        with pytest.raises(CredentialSourceError, match="HTTP 500"):
            CredentialChain().resolve()

    assert stub.hits("GET", "/creds") == providers.CONTAINER_ATTEMPTS


def test_container_bad_answer_never_echoes_it(env: pytest.MonkeyPatch) -> None:
    def route(seen: Seen) -> tuple[int, dict[str, str], bytes]:
        return 200, {}, f"{{'AccessKeyId': 'A', 'SecretAccessKey': '{SECRET}'".encode()

    with stub_server({("GET", "/creds"): route}) as stub:
        env.setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", f"{stub.url}/creds")

        with pytest.raises(CredentialSourceError, match="malformed JSON") as caught:
            CredentialChain().resolve()
    assert SECRET not in str(caught.value)


def test_container_unreachable_is_an_error(env: pytest.MonkeyPatch) -> None:
    url = f"http://127.0.0.1:{closed_port()}/creds"
    env.setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", url)

    with pytest.raises(CredentialSourceError, match="did not answer"):
        CredentialChain().resolve()


# -- EC2 instance metadata --------------------------------------------------------


def imds_routes(
    role: str = "demo-role", token_status: int = 200
) -> dict[tuple[str, str], Route]:
    session = "IMDS-SESSION-TOKEN-EXAMPLE"

    def put_token(seen: Seen) -> tuple[int, dict[str, str], bytes]:
        if token_status != 200:
            return token_status, {}, b""
        if seen.headers.get("x-aws-ec2-metadata-token-ttl-seconds") is None:
            return 400, {}, b""
        return 200, {}, session.encode()

    def guarded(body: bytes) -> Route:
        def route(seen: Seen) -> tuple[int, dict[str, str], bytes]:
            given = seen.headers.get("x-aws-ec2-metadata-token")
            if token_status == 200 and given != session:
                return 401, {}, b""
            return 200, {}, body

        return route

    return {
        ("PUT", "/latest/api/token"): put_token,
        ("GET", IMDS_ROLES): guarded(role.encode()),
        ("GET", IMDS_ROLES + role): guarded(
            json.dumps(imds_document("ASIAIMDS")).encode()
        ),
    }


def use_imds(env: pytest.MonkeyPatch, stub: Stub) -> None:
    env.delenv("AWS_EC2_METADATA_DISABLED")
    env.setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", stub.url)


def test_imds_v2_matches_botocore(env: pytest.MonkeyPatch) -> None:
    with stub_server(imds_routes()) as stub:
        use_imds(env, stub)
        chain = CredentialChain()
        found = chain.resolve()
        theirs = botocore_credentials()

    assert (found.access_key_id, found.secret_access_key, found.session_token) == (
        "ASIAIMDS",
        SECRET,
        TOKEN,
    )
    assert theirs == ("ASIAIMDS", SECRET, TOKEN)
    assert chain.source == "instance metadata"
    put = stub.seen[0]
    assert (put.method, put.path) == ("PUT", "/latest/api/token")
    assert put.headers["x-aws-ec2-metadata-token-ttl-seconds"] == "21600"


@pytest.mark.parametrize("status", [403, 404, 405])
def test_imds_falls_back_to_v1(env: pytest.MonkeyPatch, status: int) -> None:
    with stub_server(imds_routes(token_status=status)) as stub:
        use_imds(env, stub)
        found = CredentialChain().resolve()

    assert found.access_key_id == "ASIAIMDS"
    gets = [s for s in stub.seen if s.method == "GET"]
    assert gets and all("x-aws-ec2-metadata-token" not in s.headers for s in gets)


def test_imds_v1_disabled_gives_nothing(env: pytest.MonkeyPatch) -> None:
    with stub_server(imds_routes(token_status=405)) as stub:
        use_imds(env, stub)
        env.setenv("AWS_EC2_METADATA_V1_DISABLED", "true")

        with pytest.raises(NoCredentialsError):
            CredentialChain().resolve()
    assert stub.hits("GET", IMDS_ROLES) == 0


def test_imds_disabled_sends_nothing(env: pytest.MonkeyPatch) -> None:
    with stub_server(imds_routes()) as stub:
        env.setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", stub.url)
        env.setenv("AWS_EC2_METADATA_DISABLED", "true")

        with pytest.raises(NoCredentialsError):
            CredentialChain().resolve()
    assert stub.seen == []


def test_imds_unreachable_is_not_on_ec2(env: pytest.MonkeyPatch) -> None:
    env.delenv("AWS_EC2_METADATA_DISABLED")
    env.setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", f"http://127.0.0.1:{closed_port()}")
    env.setenv("AWS_METADATA_SERVICE_NUM_ATTEMPTS", "3")

    started = time.monotonic()
    with pytest.raises(NoCredentialsError, match="instance metadata"):
        CredentialChain().resolve()
    assert time.monotonic() - started < 3


def test_imds_attempts_are_bounded(env: pytest.MonkeyPatch) -> None:
    routes = {("PUT", "/latest/api/token"): answer_json({}, status=503)}
    with stub_server(routes) as stub:
        use_imds(env, stub)
        env.setenv("AWS_METADATA_SERVICE_NUM_ATTEMPTS", "3")

        with pytest.raises(NoCredentialsError):
            CredentialChain().resolve()
    assert stub.hits("PUT", "/latest/api/token") == 3


def test_imds_no_role_gives_nothing(env: pytest.MonkeyPatch) -> None:
    routes = imds_routes()
    del routes[("GET", IMDS_ROLES)]
    with stub_server(routes) as stub:
        use_imds(env, stub)

        with pytest.raises(NoCredentialsError):
            CredentialChain().resolve()


def test_imds_failure_code_is_an_error(env: pytest.MonkeyPatch) -> None:
    routes = imds_routes()
    failed = {**imds_document("ASIAIMDS"), "Code": "AssumeRoleUnauthorizedAccess"}
    routes[("GET", IMDS_ROLES + "demo-role")] = answer_json(failed)
    with stub_server(routes) as stub:
        use_imds(env, stub)

        with pytest.raises(CredentialSourceError, match="AssumeRoleUnauthorized"):
            CredentialChain().resolve()


# -- STS: web identity and roles, against a stub ------------------------------------


def test_web_identity_from_environment(env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    token_file = tmp_path / "web-token"
    token_file.write_text(WEB_TOKEN)
    with stub_server({("POST", "/"): sts_route}) as stub:
        env.setenv("AWS_ENDPOINT_URL_STS", stub.url)
        env.setenv("AWS_WEB_IDENTITY_TOKEN_FILE", str(token_file))
        env.setenv("AWS_ROLE_ARN", ROLE)
        env.setenv("AWS_ROLE_SESSION_NAME", "my-session")

        chain = CredentialChain()
        found = chain.resolve()

    assert found.access_key_id == "ASIAWEB"
    assert found.session_token == TOKEN
    assert chain.source == "web identity"
    sent = stub.seen[0]
    assert form_of(sent) == {
        "Action": "AssumeRoleWithWebIdentity",
        "Version": "2011-06-15",
        "RoleArn": ROLE,
        "RoleSessionName": "my-session",
        "WebIdentityToken": WEB_TOKEN,
    }
    assert "authorization" not in sent.headers


def test_web_identity_needs_both_settings(
    env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    env.setenv("AWS_WEB_IDENTITY_TOKEN_FILE", str(tmp_path / "t"))

    with pytest.raises(CredentialSourceError, match="AWS_ROLE_ARN"):
        CredentialChain().resolve()


def test_web_identity_missing_token_file(
    env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    env.setenv("AWS_WEB_IDENTITY_TOKEN_FILE", str(tmp_path / "absent"))
    env.setenv("AWS_ROLE_ARN", ROLE)

    with pytest.raises(CredentialSourceError, match="cannot read"):
        CredentialChain().resolve()


def test_web_identity_in_profile(env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    token_file = tmp_path / "web-token"
    token_file.write_text(WEB_TOKEN)
    config = tmp_path / "config"
    config.write_text(
        f"[profile w]\nrole_arn = {ROLE}\nweb_identity_token_file = {token_file}\n"
        "role_session_name = from-profile\n"
    )
    with stub_server({("POST", "/"): sts_route}) as stub:
        env.setenv("AWS_ENDPOINT_URL", stub.url)
        env.setenv("AWS_CONFIG_FILE", str(config))
        env.setenv("AWS_PROFILE", "w")

        assert CredentialChain().resolve().access_key_id == "ASIAWEB"
    assert form_of(stub.seen[0])["RoleSessionName"] == "from-profile"


def test_assume_role_is_signed_like_botocore_signs_it(
    env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "config"
    config.write_text(
        f"[profile r]\nrole_arn = {ROLE}\nsource_profile = base\n"
        "external_id = ext-123\nrole_session_name = s1\nregion = eu-west-1\n"
        + BASE_PROFILE
    )
    with (
        stub_server({("POST", "/"): sts_route}) as stub,
        freeze_time("2026-03-04T05:06:07Z"),
    ):
        env.setenv("AWS_ENDPOINT_URL_STS", stub.url)
        env.setenv("AWS_CONFIG_FILE", str(config))
        env.setenv("AWS_PROFILE", "r")
        found = CredentialChain().resolve()

        # what botocore signs for the same request at the same moment
        sent = stub.seen[0]
        theirs = AWSRequest(
            method="POST",
            url=stub.url + "/",
            data=sent.body,
            headers={"Content-Type": sent.headers["content-type"]},
        )
        SigV4Auth(BotoCredentials("AKIDBASE", SECRET), "sts", "eu-west-1").add_auth(
            theirs
        )

    assert found.access_key_id == "ASIAROLE"
    assert form_of(sent) == {
        "Action": "AssumeRole",
        "Version": "2011-06-15",
        "RoleArn": ROLE,
        "RoleSessionName": "s1",
        "ExternalId": "ext-123",
    }
    assert sent.headers["authorization"] == theirs.headers["Authorization"]


def test_role_chain_signs_each_hop_with_the_previous_credentials(
    env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    hops: list[str] = []

    def route(seen: Seen) -> tuple[int, dict[str, str], bytes]:
        hops.append(seen.headers["authorization"].split("Credential=")[1].split("/")[0])
        key_id = f"ASIAHOP{len(hops)}"
        return 200, {}, sts_xml("AssumeRole", key_id)

    config = tmp_path / "config"
    config.write_text(
        f"[profile top]\nrole_arn = {ROLE}-top\nsource_profile = middle\n"
        f"[profile middle]\nrole_arn = {ROLE}-middle\nsource_profile = base\n"
        + BASE_PROFILE
    )
    with stub_server({("POST", "/"): route}) as stub:
        env.setenv("AWS_ENDPOINT_URL_STS", stub.url)
        env.setenv("AWS_CONFIG_FILE", str(config))
        env.setenv("AWS_PROFILE", "top")
        found = CredentialChain().resolve()

    assert hops == ["AKIDBASE", "ASIAHOP1"]
    assert found.access_key_id == "ASIAHOP2"
    assert [form_of(s)["RoleArn"] for s in stub.seen] == [
        f"{ROLE}-middle",
        f"{ROLE}-top",
    ]


def test_role_profile_naming_itself_uses_its_own_keys(
    env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "config"
    config.write_text(
        f"[profile me]\nrole_arn = {ROLE}\nsource_profile = me\n"
        f"aws_access_key_id = AKIDSELF\naws_secret_access_key = {SECRET}\n"
    )
    with stub_server({("POST", "/"): sts_route}) as stub:
        env.setenv("AWS_ENDPOINT_URL_STS", stub.url)
        env.setenv("AWS_CONFIG_FILE", str(config))
        env.setenv("AWS_PROFILE", "me")

        assert CredentialChain().resolve().access_key_id == "ASIAROLE"
    assert "Credential=AKIDSELF/" in stub.seen[0].headers["authorization"]


def test_role_with_credential_source_environment(
    env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "config"
    config.write_text(
        f"[profile r]\nrole_arn = {ROLE}\ncredential_source = Environment\n"
    )
    with stub_server({("POST", "/"): sts_route}) as stub:
        env.setenv("AWS_ENDPOINT_URL_STS", stub.url)
        env.setenv("AWS_CONFIG_FILE", str(config))
        env.setenv("AWS_ACCESS_KEY_ID", "AKIDENVSRC")
        env.setenv("AWS_SECRET_ACCESS_KEY", SECRET)

        assert CredentialChain(profile="r").resolve().access_key_id == "ASIAROLE"
    assert "Credential=AKIDENVSRC/" in stub.seen[0].headers["authorization"]


def test_role_with_credential_source_container(
    env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "config"
    config.write_text(
        f"[profile r]\nrole_arn = {ROLE}\ncredential_source = EcsContainer\n"
    )
    routes: dict[tuple[str, str], Route] = {
        ("POST", "/"): sts_route,
        ("GET", "/creds"): answer_json(container_document("ASIACONTSRC")),
    }
    with stub_server(routes) as stub:
        env.setenv("AWS_ENDPOINT_URL_STS", stub.url)
        env.setenv("AWS_CONFIG_FILE", str(config))
        env.setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", f"{stub.url}/creds")

        assert CredentialChain(profile="r").resolve().access_key_id == "ASIAROLE"
    post = next(s for s in stub.seen if s.method == "POST")
    assert "Credential=ASIACONTSRC/" in post.headers["authorization"]
    assert post.headers["x-amz-security-token"] == TOKEN


def test_sts_error_is_typed_with_its_code(
    env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def refuse(seen: Seen) -> tuple[int, dict[str, str], bytes]:
        return (
            403,
            {},
            (
                b'<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
                b"<Error><Type>Sender</Type><Code>AccessDenied</Code>"
                b"<Message>not allowed to assume</Message></Error>"
                b"<RequestId>r-1</RequestId></ErrorResponse>"
            ),
        )

    config = tmp_path / "config"
    config.write_text(
        f"[profile r]\nrole_arn = {ROLE}\nsource_profile = base\n" + BASE_PROFILE
    )
    with stub_server({("POST", "/"): refuse}) as stub:
        env.setenv("AWS_ENDPOINT_URL_STS", stub.url)
        env.setenv("AWS_CONFIG_FILE", str(config))

        with pytest.raises(StsError, match="AccessDenied: not allowed") as caught:
            CredentialChain(profile="r").resolve()
    assert caught.value.code == "AccessDenied"


@pytest.mark.parametrize(
    "body",
    [b"<<<not xml", b"<AssumeRoleResponse><AssumeRoleResult/></AssumeRoleResponse>"],
)
def test_sts_bad_answer_is_typed(
    env: pytest.MonkeyPatch, tmp_path: Path, body: bytes
) -> None:
    config = tmp_path / "config"
    config.write_text(
        f"[profile r]\nrole_arn = {ROLE}\ncredential_source = Environment\n"
    )
    with stub_server({("POST", "/"): lambda seen: (200, {}, body)}) as stub:
        env.setenv("AWS_ENDPOINT_URL_STS", stub.url)
        env.setenv("AWS_CONFIG_FILE", str(config))
        env.setenv("AWS_ACCESS_KEY_ID", "AKIDENVSRC")
        env.setenv("AWS_SECRET_ACCESS_KEY", SECRET)

        with pytest.raises(StsError):
            CredentialChain(profile="r").resolve()


def test_sts_unreachable_is_typed(env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    token_file = tmp_path / "web-token"
    token_file.write_text(WEB_TOKEN)
    env.setenv("AWS_ENDPOINT_URL_STS", f"http://127.0.0.1:{closed_port()}")
    env.setenv("AWS_WEB_IDENTITY_TOKEN_FILE", str(token_file))
    env.setenv("AWS_ROLE_ARN", ROLE)

    with pytest.raises(StsError, match="cannot reach STS") as caught:
        CredentialChain().resolve()
    assert WEB_TOKEN not in str(caught.value)


# -- the order of the whole chain ---------------------------------------------------


def test_chain_order_of_every_source(env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    token_file = tmp_path / "web-token"
    token_file.write_text(WEB_TOKEN)
    credentials = tmp_path / "credentials"
    credentials.write_text(
        "[default]\naws_access_key_id = AKIDPROFILE\n"
        f"aws_secret_access_key = {SECRET}\n"
    )
    routes: dict[tuple[str, str], Route] = {
        ("POST", "/"): sts_route,
        ("GET", "/creds"): answer_json(container_document("ASIACONT")),
        **imds_routes(),
    }
    with stub_server(routes) as stub:
        env.setenv("AWS_ACCESS_KEY_ID", "AKIDENV")
        env.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
        env.setenv("AWS_ENDPOINT_URL_STS", stub.url)
        env.setenv("AWS_WEB_IDENTITY_TOKEN_FILE", str(token_file))
        env.setenv("AWS_ROLE_ARN", ROLE)
        env.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
        env.setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", f"{stub.url}/creds")
        use_imds(env, stub)

        order = []
        for remove in (
            ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"),
            ("AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN"),
            ("AWS_SHARED_CREDENTIALS_FILE",),
            ("AWS_CONTAINER_CREDENTIALS_FULL_URI",),
            ("AWS_EC2_METADATA_SERVICE_ENDPOINT",),
        ):
            chain = CredentialChain()
            order.append((chain.resolve().access_key_id, chain.source))
            for name in remove:
                env.delenv(name)
            if remove == ("AWS_SHARED_CREDENTIALS_FILE",):
                env.setenv(name, str(tmp_path / "none"))
            if remove == ("AWS_EC2_METADATA_SERVICE_ENDPOINT",):
                env.setenv("AWS_EC2_METADATA_DISABLED", "true")
        with pytest.raises(NoCredentialsError):
            CredentialChain().resolve()

    assert order == [
        ("AKIDENV", "environment"),
        ("ASIAWEB", "web identity"),
        ("AKIDPROFILE", "profile 'default'"),
        ("ASIACONT", "container"),
        ("ASIAIMDS", "instance metadata"),
    ]


# -- STS for real: moto in server mode ------------------------------------------------


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    command = shutil.which("moto_server")
    if command is None:
        missing("moto_server is not installed (pip install 'moto[server]')")
    assert command is not None
    port = free_port()
    process = subprocess.Popen(
        [command, "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(f"{url}/moto-api/", timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    missing("moto_server did not start within 20 s")
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def caller_arn(moto_url: str, chain: CredentialChain) -> str:
    c = chain.resolve()
    sts = boto3.client(
        "sts",
        endpoint_url=moto_url,
        region_name="us-east-1",
        aws_access_key_id=c.access_key_id,
        aws_secret_access_key=c.secret_access_key,
        aws_session_token=c.session_token,
    )
    return str(sts.get_caller_identity()["Arn"])


def test_moto_assume_role_from_profile(
    env: pytest.MonkeyPatch, tmp_path: Path, moto_url: str
) -> None:
    config = tmp_path / "config"
    config.write_text(
        "[profile r]\nrole_arn = arn:aws:iam::123456789012:role/moto-role\n"
        "source_profile = base\nrole_session_name = moto-session\n" + BASE_PROFILE
    )
    env.setenv("AWS_ENDPOINT_URL_STS", moto_url)
    env.setenv("AWS_CONFIG_FILE", str(config))
    chain = CredentialChain(profile="r")

    found = chain.resolve()

    assert found.session_token and found.expiration is not None
    assert caller_arn(moto_url, chain).endswith(":assumed-role/moto-role/moto-session")


def test_moto_assume_role_with_web_identity(
    env: pytest.MonkeyPatch, tmp_path: Path, moto_url: str
) -> None:
    token_file = tmp_path / "web-token"
    token_file.write_text(WEB_TOKEN)
    env.setenv("AWS_ENDPOINT_URL_STS", moto_url)
    env.setenv("AWS_WEB_IDENTITY_TOKEN_FILE", str(token_file))
    env.setenv("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/web-role")
    env.setenv("AWS_ROLE_SESSION_NAME", "web-session")
    chain = CredentialChain()

    found = chain.resolve()

    assert found.session_token and found.expiration is not None
    assert caller_arn(moto_url, chain).endswith(":assumed-role/web-role/web-session")
    assert os.environ["AWS_ENDPOINT_URL_STS"].startswith("http://127.0.0.1:")
