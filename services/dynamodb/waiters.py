"""Waiters: ``table_exists`` and ``table_not_exists``, as boto3 has them.

Each polls DescribeTable every ``Delay`` seconds (20) at most
``MaxAttempts`` times (25), both settable with ``WaiterConfig``, and raises
`WaiterError` when the attempts run out or DescribeTable fails otherwise.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any, NamedTuple

from ..errors import ClientError, ParamValidationError
from .errors import WaiterError

__all__ = ["AsyncWaiter", "Waiter", "waiter_spec"]


class WaiterSpec(NamedTuple):
    """What a waiter waits for."""

    name: str
    exists: bool  # True: until ACTIVE; False: until ResourceNotFoundException
    delay: float = 20.0
    max_attempts: int = 25


_SPECS = {
    "table_exists": WaiterSpec("table_exists", exists=True),
    "table_not_exists": WaiterSpec("table_not_exists", exists=False),
}


def waiter_spec(name: str) -> WaiterSpec:
    """The spec of waiter `name`."""
    spec = _SPECS.get(name)
    if spec is None:
        raise ParamValidationError(
            f"no waiter {name!r}; there are {', '.join(sorted(_SPECS))}"
        )
    return spec


def _settings(
    spec: WaiterSpec, params: dict[str, Any]
) -> tuple[dict[str, Any], float, int]:
    params = dict(params)
    config = params.pop("WaiterConfig", None) or {}
    delay = float(config.get("Delay", spec.delay))
    attempts = int(config.get("MaxAttempts", spec.max_attempts))
    if delay < 0 or attempts < 1:
        raise ParamValidationError("WaiterConfig needs Delay >= 0 and MaxAttempts >= 1")
    return params, delay, attempts


def _verdict(spec: WaiterSpec, outcome: dict[str, Any] | ClientError) -> bool | None:
    """True: done. False: poll again. None: failed (an unexpected error)."""
    if isinstance(outcome, ClientError):
        if outcome.code == "ResourceNotFoundException":
            return not spec.exists
        return None
    if spec.exists:
        return bool(outcome.get("Table", {}).get("TableStatus") == "ACTIVE")
    return False


def _error_reason(error: Any) -> str:
    found = error.response.get("Error", {})
    code = found.get("Code") or "Unknown"
    return f"DescribeTable failed: ({code}) {found.get('Message') or 'no message'}"


def _failure(spec: WaiterSpec, reason: str, last: Any) -> WaiterError:
    response = last.response if isinstance(last, ClientError) else last
    return WaiterError(spec.name, reason, response)


class Waiter:
    """``client.get_waiter(name).wait(TableName=..., WaiterConfig={...})``."""

    def __init__(
        self,
        client: Any,
        spec: WaiterSpec,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self._client = client
        self._spec = spec
        self._sleep = sleep

    def wait(self, **params: Any) -> None:
        """Poll until the table is there (or gone); `WaiterError` if it never is."""
        params, delay, attempts = _settings(self._spec, params)
        last: Any = None
        for attempt in range(1, attempts + 1):
            try:
                last = self._client.describe_table(**params)
            except ClientError as error:
                last = error
            verdict = _verdict(self._spec, last)
            if verdict:
                return
            if verdict is None:
                raise _failure(self._spec, _error_reason(last), last) from last
            if attempt < attempts:
                (self._sleep or time.sleep)(delay)
        raise _failure(self._spec, f"still waiting after {attempts} attempts", last)


class AsyncWaiter:
    """The async twin of `Waiter`: ``await waiter.wait(...)``."""

    def __init__(
        self,
        client: Any,
        spec: WaiterSpec,
        sleep: Callable[[float], Awaitable[Any]] | None = None,
    ) -> None:
        self._client = client
        self._spec = spec
        self._sleep = sleep

    async def wait(self, **params: Any) -> None:
        """Poll until the table is there (or gone); `WaiterError` if it never is."""
        import asyncio

        sleep = self._sleep or asyncio.sleep
        params, delay, attempts = _settings(self._spec, params)
        last: Any = None
        for attempt in range(1, attempts + 1):
            try:
                last = await self._client.describe_table(**params)
            except ClientError as error:
                last = error
            verdict = _verdict(self._spec, last)
            if verdict:
                return
            if verdict is None:
                raise _failure(self._spec, _error_reason(last), last) from last
            if attempt < attempts:
                await sleep(delay)
        raise _failure(self._spec, f"still waiting after {attempts} attempts", last)
