"""Shared test settings."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI", "").lower() == "true"


def vectors_dir() -> Path:
    """Where the AWS signing test suite lives: beside the project, or as told."""
    told = os.environ.get("SIGV4_VECTORS")
    if told:
        return Path(told)
    return ROOT.parent / "shared" / "vectors" / "aws-signing-test-suite"


def missing(reason: str) -> None:
    """Skip loudly outside CI; fail under CI=true, where nothing may be missing."""
    if IN_CI:
        pytest.fail(f"required under CI: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def _no_real_credential_endpoints(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the credential chain off 169.254.169.254 and 169.254.170.2.

    A test that wants instance metadata deletes AWS_EC2_METADATA_DISABLED and
    points AWS_EC2_METADATA_SERVICE_ENDPOINT at its own server on 127.0.0.1.
    """
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.delenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", raising=False)


# The real servers' session fixtures (moto, dynalite, swift), shared by every
# test directory so each server starts at most once a session.
from tests.integration.fixtures import (  # noqa: E402, F401
    dynalite,
    moto,
    server_processes,
    swift,
)
