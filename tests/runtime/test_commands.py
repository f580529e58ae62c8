"""`lambdalite serve --host`: loopback by default, a warning for anything else.

Nothing here binds a socket: the local Runtime API is replaced by a stand-in
that stops the command as soon as it is built.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from runtime import local
from runtime.cli import build_parser, main
from runtime.commands import is_loopback

WARNING = "the dev server is reachable from the network"


class _Stop(Exception):
    pass


class _NoAPI:
    def __init__(self, *args: object, **kwargs: object) -> None:
        raise _Stop


def test_serve_host_defaults_to_loopback() -> None:
    args = build_parser().parse_args(["serve", "fns.handler"])
    assert args.host == "127.0.0.1"


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.1.2.3", True),  # all of 127.0.0.0/8 is loopback (RFC 1122)
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("LocalHost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("", False),  # asyncio binds every interface for an empty host
        ("192.168.1.10", False),
        ("10.0.0.1", False),
        ("fe80::1", False),
        ("example.com", False),
    ],
)
def test_serve_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


@pytest.mark.parametrize(
    ("host", "warned"),
    [
        ("0.0.0.0", True),
        ("192.168.1.10", True),
        ("example.com", True),
        ("127.0.0.1", False),
        ("localhost", False),
        ("::1", False),
    ],
)
def test_serve_warns_only_for_non_loopback_host(
    host: str,
    warned: bool,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(local, "LocalRuntimeAPI", _NoAPI)
    with pytest.raises(_Stop):
        main(["serve", "fns.handler", "--host", host, "--task-root", str(tmp_path)])

    lines = [line for line in capsys.readouterr().err.splitlines() if WARNING in line]
    if not warned:
        assert lines == []
        return
    assert len(lines) == 1
    assert host in lines[0]
    assert lines[0].startswith("lambdalite serve: warning:")


@pytest.mark.parametrize("command", ["serve", "invoke"])
@pytest.mark.parametrize(
    "value", ["nan", "inf", "-inf", "0", "-1", "901", "1e400", "soon"]
)
def test_bad_timeout_is_a_one_line_usage_error(
    command: str, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stopped:
        build_parser().parse_args([command, "fns.handler", "--timeout", value])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert "--timeout" in err and "Traceback" not in err
    assert len([line for line in err.splitlines() if "error:" in line]) == 1


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--port", "-1"),
        ("--port", "65536"),
        ("--port", "http"),
        ("--workers", "0"),
        ("--workers", "-3"),
        ("--workers", "many"),
        ("--workers", "100000"),
    ],
)
def test_bad_port_or_workers_is_a_usage_error(
    option: str, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stopped:
        build_parser().parse_args(["serve", "fns.handler", option, value])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert option in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("args", "field", "expected"),
    [
        (["--timeout", "900"], "timeout", 900.0),
        (["--timeout", "0.5"], "timeout", 0.5),
        (["--port", "0"], "port", 0),
        (["--port", "65535"], "port", 65535),
        (["--workers", "1"], "workers", 1),
    ],
)
def test_good_limits_are_accepted(
    args: list[str], field: str, expected: object
) -> None:
    parsed = build_parser().parse_args(["serve", "fns.handler", *args])
    assert getattr(parsed, field) == expected
