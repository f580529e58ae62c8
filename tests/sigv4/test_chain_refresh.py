"""Refreshing temporary credentials (freezegun moves the clock), one refresh at
a time across threads and asyncio tasks, and no secret in any repr, error or
DEBUG log line of the chain."""

from __future__ import annotations

import asyncio
import datetime as _dt
import json
import logging
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from freezegun import freeze_time

from sigv4 import Credentials, CredentialsError
from sigv4.chain import CredentialChain
from sigv4.errors import CredentialSourceError
from tests.sigv4.chain_stubs import (
    Route,
    Seen,
    Stub,
    clean_environment,
    stub_server,
)

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
TOKEN = "FwoGZXIvYXdzEXAMPLESESSIONTOKEN"
AUTH_TOKEN = "container-auth-EXAMPLETOKEN"
WEB_TOKEN = "eyJhbGciOiJSUzI1NiJ9.EXAMPLE.WEBIDENTITY"
IMDS_SESSION = "IMDS-SESSION-EXAMPLE"
T0 = _dt.datetime(2026, 1, 1, tzinfo=_dt.timezone.utc)
THREADS = 32


@pytest.fixture(autouse=True)
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    clean_environment(monkeypatch, tmp_path)
    return monkeypatch


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Issuer:
    """A container endpoint handing out set n (ASIA<n>), valid n hours from T0.

    `delay` widens the window in which callers could race; `failing` makes it
    answer HTTP 500 instead.
    """

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.failing = False
        self.issued = 0
        self.lock = threading.Lock()

    def __call__(self, seen: Seen) -> tuple[int, dict[str, str], bytes]:
        if self.failing:
            return 500, {}, b"{}"
        time.sleep(self.delay)
        with self.lock:
            self.issued += 1
            n = self.issued
        expiry = (T0 + _dt.timedelta(hours=n)).strftime("%Y-%m-%dT%H:%M:%SZ")
        document = {
            "AccessKeyId": f"ASIA{n}",
            "SecretAccessKey": SECRET,
            "Token": TOKEN,
            "Expiration": expiry,
        }
        return 200, {}, json.dumps(document).encode()


@pytest.fixture
def issuer() -> Issuer:
    return Issuer()


@pytest.fixture
def container(env: pytest.MonkeyPatch, issuer: Issuer) -> Iterator[Stub]:
    with stub_server({("GET", "/creds"): issuer}) as stub:
        env.setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", f"{stub.url}/creds")
        env.setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", AUTH_TOKEN)
        yield stub


def at(minutes: float) -> _dt.datetime:
    return T0 + _dt.timedelta(minutes=minutes)


# -- when to refresh ------------------------------------------------------------


@pytest.mark.usefixtures("container")
def test_refresh_waits_for_the_advisory_window(issuer: Issuer) -> None:
    with freeze_time(T0) as clock:
        chain = CredentialChain()
        assert chain.resolve().access_key_id == "ASIA1"

        clock.move_to(at(44))  # 16 minutes left
        assert chain.resolve().access_key_id == "ASIA1"
        assert issuer.issued == 1

        clock.move_to(at(46))  # 14 minutes left: advisory
        assert chain.resolve().access_key_id == "ASIA2"
        assert issuer.issued == 2


@pytest.mark.usefixtures("container")
def test_refresh_in_the_mandatory_window(issuer: Issuer) -> None:
    with freeze_time(T0) as clock:
        chain = CredentialChain()
        chain.resolve()

        clock.move_to(at(52))  # 8 minutes left: mandatory
        found = chain.resolve()

    assert found.access_key_id == "ASIA2"
    assert found.expiration == T0 + _dt.timedelta(hours=2)


def test_failed_advisory_refresh_keeps_valid_credentials(
    container: Stub, issuer: Issuer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="sigv4")
    with freeze_time(T0) as clock:
        chain = CredentialChain()
        chain.resolve()
        issuer.failing = True

        clock.move_to(at(46))
        assert chain.resolve().access_key_id == "ASIA1"
        assert "advisory credential refresh failed" in caplog.text
        asked = container.hits("GET", "/creds")

        # the next advisory attempt waits a minute
        clock.move_to(at(46.5))
        assert chain.resolve().access_key_id == "ASIA1"
        assert container.hits("GET", "/creds") == asked
        clock.move_to(at(47.1))
        assert chain.resolve().access_key_id == "ASIA1"
        assert container.hits("GET", "/creds") > asked

        clock.move_to(at(52))
        with pytest.raises(CredentialSourceError, match="HTTP 500"):
            chain.resolve()

        issuer.failing = False
        assert chain.resolve().access_key_id == "ASIA2"


@pytest.mark.usefixtures("container")
def test_static_credentials_never_refresh() -> None:
    given = Credentials("AKIDSTATIC", SECRET)
    with freeze_time(T0) as clock:
        chain = CredentialChain(given)
        chain.resolve()
        clock.move_to(at(60 * 24 * 365))
        assert chain.resolve() is given


def test_refresh_source_gone_is_an_error(env: pytest.MonkeyPatch) -> None:
    env.setenv("AWS_ACCESS_KEY_ID", "AKIDENV")
    env.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    env.setenv("AWS_SESSION_TOKEN", TOKEN)
    env.setenv("AWS_CREDENTIAL_EXPIRATION", "2026-01-01T01:00:00Z")
    with freeze_time(T0) as clock:
        chain = CredentialChain()
        chain.resolve()
        env.delenv("AWS_ACCESS_KEY_ID")
        env.delenv("AWS_SECRET_ACCESS_KEY")

        clock.move_to(at(55))
        with pytest.raises(CredentialsError, match="no longer configured"):
            chain.resolve()


def test_already_expired_credentials_are_refused(env: pytest.MonkeyPatch) -> None:
    env.setenv("AWS_ACCESS_KEY_ID", "AKIDENV")
    env.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    env.setenv("AWS_CREDENTIAL_EXPIRATION", "2025-12-31T23:00:00Z")

    with freeze_time(T0), pytest.raises(CredentialsError, match="expired"):
        CredentialChain().resolve()


def test_invalidate_resolves_afresh(container: Stub, issuer: Issuer) -> None:
    with freeze_time(T0):
        chain = CredentialChain()
        chain.resolve()
        chain.invalidate()
        assert chain.resolve().access_key_id == "ASIA2"


# -- one refresh at a time ------------------------------------------------------------


def resolve_together(chain: CredentialChain) -> list[str]:
    """Resolve from THREADS threads released at the same moment."""
    barrier = threading.Barrier(THREADS, timeout=10)

    def one() -> str:
        barrier.wait()
        return chain.resolve().access_key_id

    with ThreadPoolExecutor(THREADS) as pool:
        futures = [pool.submit(one) for _ in range(THREADS)]
        return [f.result(timeout=30) for f in futures]


@pytest.fixture
def slow_issuer(issuer: Issuer) -> Issuer:
    issuer.delay = 0.2
    return issuer


@pytest.mark.usefixtures("container")
def test_threads_first_load_once(slow_issuer: Issuer) -> None:
    with freeze_time(T0):
        seen = resolve_together(CredentialChain())

    assert slow_issuer.issued == 1
    assert seen == ["ASIA1"] * THREADS


@pytest.mark.usefixtures("container")
def test_threads_mandatory_refresh_once(slow_issuer: Issuer) -> None:
    with freeze_time(T0) as clock:
        chain = CredentialChain()
        chain.resolve()
        clock.move_to(at(52))
        seen = resolve_together(chain)

    assert slow_issuer.issued == 2
    assert seen == ["ASIA2"] * THREADS


@pytest.mark.usefixtures("container")
def test_threads_advisory_refresh_once_others_not_blocked(slow_issuer: Issuer) -> None:
    with freeze_time(T0) as clock:
        chain = CredentialChain()
        chain.resolve()
        clock.move_to(at(46))
        seen = resolve_together(chain)
        after = chain.resolve().access_key_id

    assert slow_issuer.issued == 2
    assert set(seen) <= {"ASIA1", "ASIA2"}
    assert "ASIA1" in seen  # someone went on with the still-valid set
    assert after == "ASIA2"


@pytest.mark.anyio
@pytest.mark.usefixtures("container")
async def test_tasks_refresh_once_without_blocking_the_loop(
    slow_issuer: Issuer,
) -> None:
    ticks = 0

    async def ticker(stop: asyncio.Event) -> None:
        nonlocal ticks
        while not stop.is_set():
            ticks += 1
            await asyncio.sleep(0.01)

    with freeze_time(T0, real_asyncio=True) as clock:
        chain = CredentialChain()
        first = await asyncio.gather(*(chain.aresolve() for _ in range(50)))
        assert slow_issuer.issued == 1

        clock.move_to(at(52))
        stop = asyncio.Event()
        ticking = asyncio.create_task(ticker(stop))
        second = await asyncio.gather(*(chain.aresolve() for _ in range(50)))
        stop.set()
        await ticking

    assert {c.access_key_id for c in first} == {"ASIA1"}
    assert {c.access_key_id for c in second} == {"ASIA2"}
    assert slow_issuer.issued == 2
    # the refresh took at least 0.2 s, during which the loop kept ticking
    assert ticks >= 5


@pytest.mark.anyio
async def test_aresolve_fast_path_needs_no_thread(env: pytest.MonkeyPatch) -> None:
    env.setenv("AWS_ACCESS_KEY_ID", "AKIDENV")
    env.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    chain = CredentialChain()
    first = await chain.aresolve()

    def fail(*args: object) -> None:
        raise AssertionError("no thread needed for fresh credentials")

    env.setattr(asyncio, "to_thread", fail)
    assert await chain.aresolve() is first


# -- no secret anywhere ---------------------------------------------------------------


SECRETS = (SECRET, TOKEN, AUTH_TOKEN, WEB_TOKEN, IMDS_SESSION)


def assert_clean(*texts: str) -> None:
    for text in texts:
        for secret in SECRETS:
            assert secret not in text


def test_no_secret_in_reprs_errors_or_debug_logs(
    env: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    token_file = tmp_path / "web-token"
    token_file.write_text(WEB_TOKEN)

    def sts(seen: Seen) -> tuple[int, dict[str, str], bytes]:
        return (
            200,
            {},
            (
                b"<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult>"
                b"<Credentials><AccessKeyId>ASIAWEB</AccessKeyId>"
                + f"<SecretAccessKey>{SECRET}</SecretAccessKey>".encode()
                + f"<SessionToken>{TOKEN}</SessionToken>".encode()
                + b"<Expiration>2099-01-01T00:00:00Z</Expiration></Credentials>"
                b"</AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>"
            ),
        )

    def refuse(seen: Seen) -> tuple[int, dict[str, str], bytes]:
        return 400, {}, b"<Error><Code>Bad</Code><Message>x</Message></Error>"

    imds_creds = {
        "Code": "Success",
        "AccessKeyId": "ASIAIMDS",
        "SecretAccessKey": SECRET,
        "Token": TOKEN,
        "Expiration": "2099-01-01T00:00:00Z",
    }
    routes: dict[tuple[str, str], Route] = {
        ("POST", "/"): sts,
        ("POST", "/refuse/"): refuse,
        ("GET", "/creds"): lambda s: (
            200,
            {},
            json.dumps({**imds_creds, "Code": None}).encode(),
        ),
        ("GET", "/bad"): lambda s: (200, {}, f"{{{SECRET}".encode()),
        ("PUT", "/latest/api/token"): lambda s: (200, {}, IMDS_SESSION.encode()),
        ("GET", "/latest/meta-data/iam/security-credentials/"): lambda s: (
            200,
            {},
            b"r",
        ),
        ("GET", "/latest/meta-data/iam/security-credentials/r"): lambda s: (
            200,
            {},
            json.dumps(imds_creds).encode(),
        ),
    }
    texts: list[str] = []
    with stub_server(routes) as stub:
        env.setenv("AWS_ENDPOINT_URL_STS", stub.url)

        # each source in turn, successful
        sources = [
            {"AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": SECRET,
             "AWS_SESSION_TOKEN": TOKEN},
            {"AWS_WEB_IDENTITY_TOKEN_FILE": str(token_file),
             "AWS_ROLE_ARN": "arn:aws:iam::1:role/r"},
            {"AWS_CONTAINER_CREDENTIALS_FULL_URI": f"{stub.url}/creds",
             "AWS_CONTAINER_AUTHORIZATION_TOKEN": AUTH_TOKEN},
            {"AWS_EC2_METADATA_DISABLED": "false",
             "AWS_EC2_METADATA_SERVICE_ENDPOINT": stub.url},
        ]  # fmt: skip
        for settings in sources:
            with pytest.MonkeyPatch.context() as local:
                for name, value in settings.items():
                    local.setenv(name, value)
                chain = CredentialChain()
                found = chain.resolve()
                assert found.secret_access_key == SECRET
                texts += [repr(chain), repr(found), str(found)]

        # failures
        failures = [
            {"AWS_CONTAINER_CREDENTIALS_FULL_URI": f"{stub.url}/bad",
             "AWS_CONTAINER_AUTHORIZATION_TOKEN": AUTH_TOKEN},
            {"AWS_WEB_IDENTITY_TOKEN_FILE": str(token_file),
             "AWS_ROLE_ARN": "arn:aws:iam::1:role/r",
             "AWS_ENDPOINT_URL_STS": f"{stub.url}/refuse"},
            {"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": SECRET},
        ]  # fmt: skip
        for settings in failures:
            with pytest.MonkeyPatch.context() as local:
                for name, value in settings.items():
                    local.setenv(name, value)
                chain = CredentialChain()
                with pytest.raises(CredentialsError) as caught:
                    chain.resolve()
                texts += [str(caught.value), repr(caught.value), repr(chain)]

    assert len(stub.seen) == 7  # every source was really asked
    assert any(r.levelno == logging.DEBUG for r in caplog.records)
    assert_clean(caplog.text, *texts)
