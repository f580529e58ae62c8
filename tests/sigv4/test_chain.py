"""The credential chain without the network: explicit, environment, shared
files, credential_process, region. botocore resolving the same environment is
the oracle where it applies."""

from __future__ import annotations

import datetime as _dt
import json
import logging
import subprocess
import sys
import textwrap
from pathlib import Path

import botocore.session
import pytest

from sigv4 import Credentials, CredentialsError, NoCredentialsError, NoRegionError
from sigv4.chain import CredentialChain, default_credentials, resolve_region
from sigv4.errors import (
    ConfigFileError,
    CredentialProcessError,
    CredentialSourceError,
    ProfileError,
    RoleChainCycleError,
)
from tests.sigv4.chain_stubs import clean_environment

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
TOKEN = "FwoGZXIvYXdzEXAMPLESESSIONTOKEN"


@pytest.fixture(autouse=True)
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    clean_environment(monkeypatch, tmp_path)
    return monkeypatch


def write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text).lstrip())
    return path


@pytest.fixture
def config(env: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    path = tmp_path / "config"
    env.setenv("AWS_CONFIG_FILE", str(path))
    return path


@pytest.fixture
def creds_file(env: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    path = tmp_path / "credentials"
    env.setenv("AWS_SHARED_CREDENTIALS_FILE", str(path))
    return path


def botocore_credentials() -> tuple[str, str, str | None] | None:
    """What botocore resolves from the same environment and files."""
    found = botocore.session.Session().get_credentials()
    if found is None:
        return None
    frozen = found.get_frozen_credentials()
    return frozen.access_key, frozen.secret_key, frozen.token


def triple(c: Credentials) -> tuple[str, str, str | None]:
    return c.access_key_id, c.secret_access_key, c.session_token


def process_command(tmp_path: Path, output: str, status: int = 0) -> str:
    """A credential_process command that prints `output` and exits `status`."""
    script = tmp_path / "process.py"
    script.write_text(f"import sys\nsys.stdout.write({output!r})\nsys.exit({status})\n")
    return f"{sys.executable} {script}"


# -- explicit and environment -------------------------------------------------


def test_chain_explicit_wins_over_environment(env: pytest.MonkeyPatch) -> None:
    env.setenv("AWS_ACCESS_KEY_ID", "AKIDENV")
    env.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    given = Credentials("AKIDGIVEN", "given-secret")

    chain = CredentialChain(given)

    assert chain.resolve() is given
    assert chain.source == "explicit"


def test_chain_environment_matches_botocore(env: pytest.MonkeyPatch) -> None:
    env.setenv("AWS_ACCESS_KEY_ID", "AKIDENV")
    env.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    env.setenv("AWS_SESSION_TOKEN", TOKEN)

    found = CredentialChain().resolve()

    assert triple(found) == ("AKIDENV", SECRET, TOKEN)
    assert triple(found) == botocore_credentials()


def test_chain_environment_expiration(env: pytest.MonkeyPatch) -> None:
    env.setenv("AWS_ACCESS_KEY_ID", "AKIDENV")
    env.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    env.setenv("AWS_CREDENTIAL_EXPIRATION", "2099-01-02T03:04:05Z")

    found = CredentialChain().resolve()

    assert found.expiration == _dt.datetime(
        2099, 1, 2, 3, 4, 5, tzinfo=_dt.timezone.utc
    )


def test_chain_environment_half_set_is_an_error(env: pytest.MonkeyPatch) -> None:
    env.setenv("AWS_ACCESS_KEY_ID", "AKIDENV")

    with pytest.raises(CredentialSourceError, match="AWS_SECRET_ACCESS_KEY"):
        CredentialChain().resolve()


def test_chain_nothing_configured_raises_no_credentials() -> None:
    with pytest.raises(NoCredentialsError, match="environment"):
        CredentialChain().resolve()
    assert botocore_credentials() is None


def test_chain_is_lazy_until_resolved(env: pytest.MonkeyPatch) -> None:
    chain = default_credentials()
    env.setenv("AWS_ACCESS_KEY_ID", "AKIDLATE")
    env.setenv("AWS_SECRET_ACCESS_KEY", SECRET)

    assert chain.resolve().access_key_id == "AKIDLATE"


# -- shared files -------------------------------------------------------------


def test_chain_profile_default_from_credentials_file(creds_file: Path) -> None:
    write(
        creds_file,
        f"""
        [default]
        aws_access_key_id = AKIDFILE
        aws_secret_access_key = {SECRET}
        aws_session_token = {TOKEN}
        """,
    )

    found = CredentialChain().resolve()

    assert triple(found) == ("AKIDFILE", SECRET, TOKEN)
    assert triple(found) == botocore_credentials()


def test_chain_profile_named_in_config_file(
    env: pytest.MonkeyPatch, config: Path
) -> None:
    write(
        config,
        f"""
        # a comment
        [default]
        region = eu-west-1

        [profile dev]
        region = eu-central-1
        s3 =
            max_concurrent_requests = 10
        aws_access_key_id = AKIDDEV
        aws_secret_access_key = {SECRET}
        """,
    )
    env.setenv("AWS_PROFILE", "dev")

    found = CredentialChain().resolve()

    assert triple(found) == ("AKIDDEV", SECRET, None)
    assert triple(found) == botocore_credentials()
    assert resolve_region() == "eu-central-1"


def test_chain_credentials_file_wins_over_config(
    env: pytest.MonkeyPatch, config: Path, creds_file: Path
) -> None:
    write(
        config,
        "[profile p]\naws_access_key_id = AKIDCONF\naws_secret_access_key = c\n",
    )
    write(
        creds_file,
        f"[p]\naws_access_key_id = AKIDCRED\naws_secret_access_key = {SECRET}\n",
    )
    env.setenv("AWS_PROFILE", "p")

    found = CredentialChain().resolve()

    assert found.access_key_id == "AKIDCRED"
    assert triple(found) == botocore_credentials()


def test_chain_default_profile_variable(
    env: pytest.MonkeyPatch, creds_file: Path
) -> None:
    write(
        creds_file,
        f"[other]\naws_access_key_id = AKIDOTHER\naws_secret_access_key = {SECRET}\n",
    )
    env.setenv("AWS_DEFAULT_PROFILE", "other")

    assert CredentialChain().resolve().access_key_id == "AKIDOTHER"


def test_chain_named_profile_skips_environment(
    env: pytest.MonkeyPatch, creds_file: Path
) -> None:
    env.setenv("AWS_ACCESS_KEY_ID", "AKIDENV")
    env.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    write(
        creds_file,
        f"[p]\naws_access_key_id = AKIDP\naws_secret_access_key = {SECRET}\n",
    )

    assert CredentialChain(profile="p").resolve().access_key_id == "AKIDP"
    assert CredentialChain().resolve().access_key_id == "AKIDENV"


def test_chain_environment_wins_over_profile(
    env: pytest.MonkeyPatch, creds_file: Path
) -> None:
    write(
        creds_file,
        f"[default]\naws_access_key_id = AKIDFILE\naws_secret_access_key = {SECRET}\n",
    )
    env.setenv("AWS_ACCESS_KEY_ID", "AKIDENV")
    env.setenv("AWS_SECRET_ACCESS_KEY", SECRET)

    assert CredentialChain().resolve().access_key_id == "AKIDENV"
    assert botocore_credentials() == ("AKIDENV", SECRET, None)


def test_chain_missing_named_profile_is_an_error(env: pytest.MonkeyPatch) -> None:
    env.setenv("AWS_PROFILE", "ghost")

    with pytest.raises(ProfileError, match="'ghost'"):
        CredentialChain().resolve()


def test_chain_profile_missing_secret_is_an_error(creds_file: Path) -> None:
    write(creds_file, "[default]\naws_access_key_id = AKIDHALF\n")

    with pytest.raises(ProfileError, match="aws_secret_access_key"):
        CredentialChain().resolve()


def test_chain_bad_ini_names_file_and_line_not_content(creds_file: Path) -> None:
    write(
        creds_file,
        f"""
        [default]
        aws_access_key_id = AKIDBAD
        {SECRET}
        """,
    )

    with pytest.raises(ConfigFileError, match=r"line 3") as caught:
        CredentialChain().resolve()
    assert str(creds_file) in str(caught.value)
    assert SECRET not in str(caught.value)


def test_chain_bad_section_header(config: Path) -> None:
    write(config, "[profile broken\nregion = x\n")

    with pytest.raises(ConfigFileError, match="line 1: bad section header"):
        CredentialChain().resolve()


def test_chain_setting_before_section(config: Path) -> None:
    write(config, "region = x\n")

    with pytest.raises(ConfigFileError, match="before any"):
        resolve_region()


# -- credential_process ---------------------------------------------------------


def test_chain_credential_process_matches_botocore(
    tmp_path: Path, config: Path
) -> None:
    output = json.dumps(
        {
            "Version": 1,
            "AccessKeyId": "AKIDPROC",
            "SecretAccessKey": SECRET,
            "SessionToken": TOKEN,
            "Expiration": "2099-06-01T12:00:00Z",
        }
    )
    write(
        config, f"[default]\ncredential_process = {process_command(tmp_path, output)}\n"
    )

    found = CredentialChain().resolve()

    assert triple(found) == ("AKIDPROC", SECRET, TOKEN)
    assert found.expiration == _dt.datetime(2099, 6, 1, 12, tzinfo=_dt.timezone.utc)
    assert triple(found) == botocore_credentials()


def test_chain_credential_process_long_term_keys(tmp_path: Path, config: Path) -> None:
    output = json.dumps(
        {"Version": 1, "AccessKeyId": "AKIDLT", "SecretAccessKey": SECRET}
    )
    write(
        config, f"[default]\ncredential_process = {process_command(tmp_path, output)}\n"
    )

    found = CredentialChain().resolve()

    assert triple(found) == ("AKIDLT", SECRET, None)
    assert found.expiration is None


@pytest.mark.parametrize(
    ("output", "status", "message"),
    [
        (
            json.dumps({"Version": 1, "AccessKeyId": "A", "SecretAccessKey": SECRET}),
            3,
            "status 3",
        ),
        (f"not json {SECRET}", 0, "no valid JSON"),
        (
            json.dumps({"Version": 2, "AccessKeyId": "A", "SecretAccessKey": SECRET}),
            0,
            "Version",
        ),
        (json.dumps({"Version": 1, "SecretAccessKey": SECRET}), 0, "AccessKeyId"),
        (json.dumps([SECRET]), 0, "no object"),
        (
            json.dumps(
                {
                    "Version": 1,
                    "AccessKeyId": "A",
                    "SecretAccessKey": SECRET,
                    "Expiration": "soon",
                }
            ),
            0,
            "ISO 8601",
        ),
    ],
    ids=[
        "exit-status",
        "bad-json",
        "version",
        "missing-key",
        "not-object",
        "bad-expiry",
    ],
)
def test_chain_credential_process_failures_never_echo_output(
    tmp_path: Path,
    config: Path,
    caplog: pytest.LogCaptureFixture,
    output: str,
    status: int,
    message: str,
) -> None:
    command = process_command(tmp_path, output, status)
    write(config, f"[default]\ncredential_process = {command}\n")
    caplog.set_level(logging.DEBUG)

    with pytest.raises(CredentialProcessError, match=message) as caught:
        CredentialChain().resolve()
    assert SECRET not in str(caught.value)
    assert SECRET not in caplog.text


def test_chain_credential_process_command_not_found(config: Path) -> None:
    write(config, "[default]\ncredential_process = /nonexistent/helper --flag\n")

    with pytest.raises(CredentialProcessError, match="not found"):
        CredentialChain().resolve()


def test_chain_static_keys_win_over_credential_process(
    tmp_path: Path, config: Path, creds_file: Path
) -> None:
    output = json.dumps(
        {"Version": 1, "AccessKeyId": "AKIDPROC", "SecretAccessKey": SECRET}
    )
    write(
        config, f"[default]\ncredential_process = {process_command(tmp_path, output)}\n"
    )
    write(
        creds_file,
        f"[default]\naws_access_key_id = AKIDKEYS\naws_secret_access_key = {SECRET}\n",
    )

    assert CredentialChain().resolve().access_key_id == "AKIDKEYS"
    assert botocore_credentials() == ("AKIDKEYS", SECRET, None)


# -- roles without the network --------------------------------------------------


def test_chain_role_cycle_is_an_error(env: pytest.MonkeyPatch, config: Path) -> None:
    write(
        config,
        """
        [profile a]
        role_arn = arn:aws:iam::123456789012:role/a
        source_profile = b

        [profile b]
        role_arn = arn:aws:iam::123456789012:role/b
        source_profile = c

        [profile c]
        role_arn = arn:aws:iam::123456789012:role/c
        source_profile = a
        """,
    )
    env.setenv("AWS_PROFILE", "a")

    with pytest.raises(RoleChainCycleError, match="a -> b -> c -> a"):
        CredentialChain().resolve()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("", "without source_profile"),
        ("source_profile = nowhere\n", "does not exist"),
        ("source_profile = a\ncredential_source = Environment\n", "both"),
        ("credential_source = Moon\n", "'Moon'"),
        ("credential_source = Environment\n", "has no credentials"),
        ("source_profile = empty\n", "has no credentials"),
        ("source_profile = a\n", "has no credentials"),
        ("source_profile = keys\nduration_seconds = long\n", "duration_seconds"),
    ],
)
def test_chain_bad_role_profile(
    env: pytest.MonkeyPatch, config: Path, extra: str, message: str
) -> None:
    config.write_text(
        "[profile a]\nrole_arn = arn:aws:iam::123456789012:role/r\n"
        + extra
        + "[profile empty]\nregion = us-east-1\n"
        + f"[profile keys]\naws_access_key_id = K\naws_secret_access_key = {SECRET}\n"
    )
    env.setenv("AWS_PROFILE", "a")

    with pytest.raises(ProfileError, match=message):
        CredentialChain().resolve()


def test_chain_mfa_role_is_not_supported(env: pytest.MonkeyPatch, config: Path) -> None:
    config.write_text(
        "[profile a]\nrole_arn = arn:aws:iam::123456789012:role/r\n"
        "source_profile = a\nmfa_serial = arn:aws:iam::123456789012:mfa/me\n"
        f"aws_access_key_id = K\naws_secret_access_key = {SECRET}\n"
    )
    env.setenv("AWS_PROFILE", "a")

    with pytest.raises(NotImplementedError, match="mfa_serial"):
        CredentialChain().resolve()


def test_chain_sso_profile_is_not_supported(
    env: pytest.MonkeyPatch, config: Path
) -> None:
    config.write_text("[profile s]\nsso_session = corp\nsso_account_id = 1\n")
    env.setenv("AWS_PROFILE", "s")

    with pytest.raises(NotImplementedError, match="SSO"):
        CredentialChain().resolve()


def test_chain_profile_without_credentials_falls_through(config: Path) -> None:
    write(config, "[default]\nregion = eu-west-3\n")

    with pytest.raises(NoCredentialsError):
        CredentialChain().resolve()


# -- region ---------------------------------------------------------------------


def test_region_order(env: pytest.MonkeyPatch, config: Path) -> None:
    write(config, "[default]\nregion = ap-south-1\n[profile x]\nregion = sa-east-1\n")

    assert resolve_region() == "ap-south-1"
    assert resolve_region(profile="x") == "sa-east-1"
    env.setenv("AWS_DEFAULT_REGION", "eu-north-1")
    assert resolve_region() == "eu-north-1"
    env.setenv("AWS_REGION", "us-west-2")
    assert resolve_region() == "us-west-2"


def test_region_matches_botocore(env: pytest.MonkeyPatch, config: Path) -> None:
    write(config, "[profile x]\nregion = ca-central-1\n")
    env.setenv("AWS_PROFILE", "x")

    assert resolve_region() == botocore.session.Session().get_config_variable("region")
    assert resolve_region() == "ca-central-1"


def test_region_missing_raises() -> None:
    with pytest.raises(NoRegionError, match="AWS_REGION"):
        resolve_region()


def test_chain_errors_are_credentials_errors() -> None:
    for kind in (ConfigFileError, ProfileError, CredentialProcessError):
        assert issubclass(kind, CredentialsError)


def test_chain_import_stays_light() -> None:
    code = (
        "import sys, sigv4; sigv4.CredentialChain; sigv4.resolve_region; "
        "heavy = ['httpx', 'asyncio', 'subprocess', 'http.client', "
        "'xml.etree.ElementTree']; "
        "print(','.join(m for m in heavy if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == ""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2099-05-26T12:34:56.789Z", _dt.datetime(2099, 5, 26, 12, 34, 56, 789000)),
        ("2099-05-26T12:34:56+00:00", _dt.datetime(2099, 5, 26, 12, 34, 56)),
        ("2099-05-26T14:34:56+02:00", _dt.datetime(2099, 5, 26, 12, 34, 56)),
    ],
)
def test_chain_expiration_formats(
    env: pytest.MonkeyPatch, text: str, expected: _dt.datetime
) -> None:
    env.setenv("AWS_ACCESS_KEY_ID", "AKIDENV")
    env.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    env.setenv("AWS_CREDENTIAL_EXPIRATION", text)

    found = CredentialChain().resolve()

    assert found.expiration == expected.replace(tzinfo=_dt.timezone.utc)


# -- credential_process: the actual problem is named (issue 2) --------------------

MARKER = "marker-1f3a"  # in the output only; it must never reach a message


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"Version": 2}, r'"Version": 2; only Version 1'),
        ({"Version": "1"}, '"Version" that is no number'),
        ({"Version": True}, '"Version" that is no number'),
        ({"Version": None}, 'no "Version"'),
        ({"SecretAccessKey": None}, "without SecretAccessKey"),
        ({"AccessKeyId": None}, "without AccessKeyId"),
        ({"Expiration": f"not-a-date {MARKER}"}, "Expiration is not an ISO 8601"),
        ({"Expiration": "2001-01-01T00:00:00Z"}, "Expiration in the past"),
    ],
    ids=[
        "version-2",
        "version-string",
        "version-bool",
        "version-missing",
        "secret-missing",
        "key-id-missing",
        "expiration-not-a-date",
        "expiration-past",
    ],
)
def test_chain_credential_process_names_the_problem(
    tmp_path: Path,
    config: Path,
    caplog: pytest.LogCaptureFixture,
    document: dict[str, object],
    message: str,
) -> None:
    output = {
        "Version": 1,
        "AccessKeyId": f"AKID{MARKER}",
        "SecretAccessKey": SECRET,
        "SessionToken": f"token-{MARKER}",
    }
    output.update(document)
    output = {k: v for k, v in output.items() if v is not None}
    command = process_command(tmp_path, json.dumps(output))
    write(config, f"[default]\ncredential_process = {command}\n")
    caplog.set_level(logging.DEBUG)

    with pytest.raises(CredentialProcessError, match=message) as caught:
        CredentialChain().resolve()

    assert "valid JSON" not in str(caught.value)
    for hidden in (SECRET, MARKER):
        assert hidden not in str(caught.value)
        assert hidden not in caplog.text


@pytest.mark.parametrize(
    ("output", "message"),
    [
        ("", "printed nothing"),
        ("\n", "printed nothing"),
        (f'{{Version: 1, SecretAccessKey: "{SECRET}"}}', r"line 1 column 2"),
    ],
    ids=["empty", "blank", "quotes-lost"],
)
def test_chain_credential_process_bad_json_says_where(
    tmp_path: Path,
    config: Path,
    caplog: pytest.LogCaptureFixture,
    output: str,
    message: str,
) -> None:
    command = process_command(tmp_path, output)
    write(config, f"[default]\ncredential_process = {command}\n")
    caplog.set_level(logging.DEBUG)

    with pytest.raises(CredentialProcessError, match=message) as caught:
        CredentialChain().resolve()

    for hidden in (SECRET, "Version"):
        assert hidden not in str(caught.value)
        assert hidden not in caplog.text
