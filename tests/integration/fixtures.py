"""Session-scoped fixtures for the real servers, started on first use.

Registered for the whole suite by tests/conftest.py.

`moto`, `dynalite` and `swift` each give a `servers.Server` (endpoint, region,
credentials). A server that cannot start skips its tests with the reason and
its log's tail, or fails them under CI=true. All of them stop when the session
ends.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.conftest import missing

from . import servers


@pytest.fixture(scope="session")
def server_processes() -> Iterator[servers.Processes]:
    """The session's server processes; every one is stopped at session end."""
    processes = servers.Processes()
    try:
        yield processes
    finally:
        processes.stop_all()


def _start(
    start: Callable[[servers.Processes], servers.Server],
    processes: servers.Processes,
    name: str,
) -> servers.Server:
    try:
        return start(processes)
    except servers.ServerError as exc:
        missing(f"{name} is not available: {exc}")
        raise  # not reached: missing() skips or fails


@pytest.fixture(scope="session")
def moto(server_processes: servers.Processes) -> servers.Server:
    """moto in server mode, signature checking on, with an IAM user's keys."""
    return _start(servers.start_moto, server_processes, "moto")


@pytest.fixture(scope="session")
def dynalite(server_processes: servers.Processes) -> servers.Server:
    """dynalite, with dummy credentials (it checks only that a signature is there)."""
    return _start(servers.start_dynalite, server_processes, "dynalite")


@pytest.fixture(scope="session")
def swift(server_processes: servers.Processes) -> servers.Server:
    """OpenStack Swift with s3api and tempauth (`test:tester` / `testing`)."""
    return _start(servers.start_swift, server_processes, "swift")
