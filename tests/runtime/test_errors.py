"""The runtime's one error tree: every error under one base, old homes kept."""

from __future__ import annotations

import pytest

from runtime import _http, errors, events, gateway, local, loop, package, responses

# (class, the module it was first defined in, the built-in it has always been)
HOMES = [
    (errors.Fault, loop, Exception),
    (errors.RuntimeAPIError, _http, Exception),
    (errors.RuntimeAPIError, loop, Exception),
    (errors.EventError, events, ValueError),
    (errors.UnknownEventError, events, ValueError),
    (errors.BodyError, events, ValueError),
    (errors.ResponseError, responses, ValueError),
    (errors.MalformedResultError, gateway, ValueError),
    (errors.BadRequest, local, Exception),
    (errors.PackageError, package, Exception),
]


@pytest.mark.parametrize(
    ("error", "module", "builtin"),
    HOMES,
    ids=[f"{m.__name__}.{e.__name__}" for e, m, _ in HOMES],
)
def test_errors_importable_from_their_old_module(
    error: type[Exception], module: object, builtin: type[Exception]
) -> None:
    assert getattr(module, error.__name__) is error
    assert issubclass(error, errors.LambdaliteRuntimeError)
    assert issubclass(error, builtin)


def test_errors_base_does_not_shadow_the_builtin() -> None:
    assert not issubclass(errors.LambdaliteRuntimeError, RuntimeError)
    assert errors.LambdaliteRuntimeError.__name__ != "RuntimeError"


def test_errors_docstring_draws_every_class() -> None:
    defined = {
        name
        for name, value in vars(errors).items()
        if isinstance(value, type) and issubclass(value, Exception)
    }
    drawn = {
        line.split("── ")[1].split()[0]
        for line in (errors.__doc__ or "").splitlines()
        if "── " in line
    }
    assert drawn | {"LambdaliteRuntimeError"} == defined


def test_errors_local_api_stopped_is_typed() -> None:
    api = local.LocalRuntimeAPI(["true"], handler="x.y", task_root=".")
    api._closing = True
    try:
        with pytest.raises(errors.LocalAPIStoppedError, match="stopped"):
            api.event_loop.run_until_complete(api.invoke_async(b"{}"))
    finally:
        api.event_loop.close()
    # still a RuntimeError, as it was before it had a class of its own
    assert issubclass(errors.LocalAPIStoppedError, RuntimeError)


@pytest.mark.parametrize(("method", "target"), [("GE T", "/"), ("GET", "nope")])
def test_errors_bad_request_for_event_is_typed(method: str, target: str) -> None:
    with pytest.raises(errors.BadRequest):
        gateway.http_to_event(method, target, [], b"")
