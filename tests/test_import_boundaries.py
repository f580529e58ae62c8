"""Import boundaries: a fresh interpreter importing a package loads no httpx.

`sigv4` and `runtime` use only the standard library; `services` imports httpx
when the first client is built, not when the package is imported. Each check
runs in a new process, so nothing another test imported can hide a leak.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT

HEAVY = ("httpx", "httpcore", "anyio", "botocore", "boto3")

PROBE = """
import json, sys
import {package}
print(json.dumps(sorted(sys.modules)))
"""


def modules_after_import(package: str) -> set[str]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(package=package)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return set(json.loads(result.stdout))


# sigv4's lazily loaded parts too: verification, POST, the credential chain (its
# STS calls import httpx only when made) and streaming payloads.
PACKAGES = [
    "sigv4",
    "runtime",
    "services",
    "sigv4.verify",
    "sigv4.post",
    "sigv4.chain",
    "sigv4.streaming",
]


@pytest.mark.parametrize("package", PACKAGES)
def test_import_loads_no_httpx(package: str) -> None:
    loaded = modules_after_import(package)

    assert package in loaded
    assert "httpx" not in loaded
    for heavy in HEAVY:
        assert heavy not in loaded, f"import {package} loaded {heavy}"


def test_probe_sees_httpx_when_imported() -> None:
    # The probe itself must be able to fail: importing httpx shows up.
    assert "httpx" in modules_after_import("httpx")
