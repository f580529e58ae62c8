"""Paginators for query, scan and list_tables.

A page with no items is not the end: DynamoDB stops a page after reading 1 MB
or ``Limit`` items *before* the filter, so a filtered page can be empty with
more to come. Iteration ends only when the answer carries no
``LastEvaluatedKey`` (``LastEvaluatedTableName`` for list_tables). An answer
that hands back the very key it was given would loop forever; that is
refused with `ResponseParseError`.

``PaginationConfig`` takes ``PageSize`` (sent as ``Limit``), ``MaxItems``
(stop once that many items were yielded, the last page cut short) and
``StartingToken``. With ``MaxItems``, ``build_full_result()`` carries a
``NextToken`` (and the page iterator a ``resume_token``) in boto3's token
form, so a token from either library resumes in the other.
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any, NamedTuple

from ..errors import (
    OperationNotPageableError,
    ParamValidationError,
    ResponseParseError,
)

__all__ = ["AsyncPaginator", "Paginator", "paginator_spec"]


class PaginatorSpec(NamedTuple):
    """How one operation pages: which token goes in, which comes out."""

    operation: str
    input_token: str
    output_token: str
    result_key: str
    summed: tuple[str, ...]


_SPECS = {
    "query": PaginatorSpec(
        "query",
        "ExclusiveStartKey",
        "LastEvaluatedKey",
        "Items",
        ("Count", "ScannedCount"),
    ),
    "scan": PaginatorSpec(
        "scan",
        "ExclusiveStartKey",
        "LastEvaluatedKey",
        "Items",
        ("Count", "ScannedCount"),
    ),
    "list_tables": PaginatorSpec(
        "list_tables",
        "ExclusiveStartTableName",
        "LastEvaluatedTableName",
        "TableNames",
        (),
    ),
}


def paginator_spec(operation_name: str, *, check: bool = True) -> PaginatorSpec | None:
    """The spec for `operation_name`; with `check`, an error when it has none."""
    spec = _SPECS.get(operation_name)
    if spec is None and check:
        raise OperationNotPageableError(operation_name, list(_SPECS))
    return spec


def _config(
    spec: PaginatorSpec, params: dict[str, Any]
) -> tuple[dict[str, Any], int | None, int]:
    params = dict(params)
    config = dict(params.pop("PaginationConfig", None) or {})
    unknown = set(config) - {"PageSize", "MaxItems", "StartingToken"}
    if unknown:
        raise ParamValidationError(
            f"unknown PaginationConfig keys {sorted(unknown)}; "
            "use PageSize, MaxItems, StartingToken"
        )
    if config.get("PageSize") is not None:
        params["Limit"] = config_int("PageSize", config["PageSize"])
    max_items = config.get("MaxItems")
    if max_items is not None:
        max_items = config_int("MaxItems", max_items)
    skip = 0
    if config.get("StartingToken") is not None:
        start = decode_token(config["StartingToken"])
        skip = start.pop(_TRUNCATED, 0)
        if set(start) - {spec.input_token}:
            raise ParamValidationError(f"StartingToken is not a {spec.operation} token")
        params.update((k, v) for k, v in start.items() if v is not None)
    return params, max_items, skip


def config_int(name: str, value: Any) -> int:
    """A PaginationConfig number: as boto3, anything `int()` takes."""
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):
        raise ParamValidationError(
            f"PaginationConfig {name} must be an integer, not {value!r}"
        ) from None


# Resume tokens in boto3's form, so one written by either library resumes in
# the other: base64 of a JSON object holding the input token, the number of
# items of that page already handed out, and which paths held bytes.
_TRUNCATED = "boto_truncate_amount"
_ENCODED = "boto_encoded_keys"


def encode_token(token: dict[str, Any]) -> str:
    """A NextToken for `token` (the input token, maybe a truncate amount)."""
    paths: list[list[Any]] = []
    plain = _bytes_out(token, [], paths)
    if paths:
        plain[_ENCODED] = paths
    return base64.b64encode(json.dumps(plain).encode()).decode()


def decode_token(text: Any) -> dict[str, Any]:
    """The dict inside a NextToken; ParamValidationError when it is not one."""
    try:
        token = json.loads(base64.b64decode(text, validate=True))
        paths = token.pop(_ENCODED, [])
        for path in paths:
            holder = token
            for step in path[:-1]:
                holder = holder[step]
            holder[path[-1]] = base64.b64decode(holder[path[-1]])
    except (TypeError, ValueError, KeyError, IndexError, AttributeError) as exc:
        raise ParamValidationError("StartingToken is not a valid token") from exc
    if not isinstance(token, dict):
        raise ParamValidationError("StartingToken is not a valid token")
    return token


def _bytes_out(value: Any, path: list[Any], paths: list[list[Any]]) -> Any:
    if isinstance(value, bytes | bytearray):
        paths.append(path)
        return base64.b64encode(value).decode()
    if isinstance(value, dict):
        return {k: _bytes_out(v, [*path, k], paths) for k, v in value.items()}
    if isinstance(value, list):
        return [_bytes_out(v, [*path, i], paths) for i, v in enumerate(value)]
    return value


class _Walk:
    """MaxItems and resume bookkeeping shared by the sync and async iterators."""

    def __init__(self, spec: PaginatorSpec, params: dict[str, Any]) -> None:
        self.spec = spec
        sent, left, skip = _config(spec, params)
        self.params: dict[str, Any] = sent
        self.left: int | None = left
        self.skip: int = skip
        self.resume_token: str | None = None

    def page(self, answer: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        """The page to yield, and whether to go on."""
        spec, start = self.spec, self.params.get(self.spec.input_token)
        skip, self.skip = self.skip, 0
        items = answer.get(spec.result_key, [])
        page = answer
        if skip:
            page = _slice(spec, page, items[skip:])
        if self.left is not None and len(page.get(spec.result_key, [])) >= self.left:
            if len(page.get(spec.result_key, [])) > self.left:
                page = _slice(spec, page, page[spec.result_key][: self.left])
                token = {spec.input_token: start, _TRUNCATED: skip + self.left}
                self.resume_token = encode_token(token)
            elif answer.get(spec.output_token) is not None:
                next_start = answer[spec.output_token]
                self.resume_token = encode_token({spec.input_token: next_start})
            return page, False
        if self.left is not None:
            self.left -= len(page.get(spec.result_key, []))
        return page, _advance(spec, self.params, answer)


def _advance(spec: PaginatorSpec, params: dict[str, Any], page: dict[str, Any]) -> bool:
    """Put the page's token into `params`; False when this was the last page."""
    token = page.get(spec.output_token)
    if token is None:
        return False
    if token == params.get(spec.input_token):
        raise ResponseParseError(
            f"{spec.operation} answered with the {spec.output_token} it was "
            "given; stopping instead of looping forever"
        )
    params[spec.input_token] = token
    return True


def _slice(
    spec: PaginatorSpec, page: dict[str, Any], items: list[Any]
) -> dict[str, Any]:
    # the items cut to MaxItems; Count stays the server's, as in boto3
    page = dict(page)
    page[spec.result_key] = items
    return page


def _merge(spec: PaginatorSpec, full: dict[str, Any], page: dict[str, Any]) -> None:
    full.setdefault(spec.result_key, []).extend(page.get(spec.result_key, []))
    for key in spec.summed:
        if key in page:
            full[key] = full.get(key, 0) + page[key]


class Paginator:
    """``client.get_paginator(name)``; ``paginate(**params)`` yields every page."""

    def __init__(self, client: Any, spec: PaginatorSpec | None) -> None:
        assert spec is not None
        self._client = client
        self._spec = spec

    def paginate(self, **params: Any) -> PageIterator:
        """The pages of the operation called with `params`."""
        return PageIterator(self._client, self._spec, params)


class PageIterator:
    """Iterate for pages; `build_full_result` for everything merged."""

    def __init__(
        self, client: Any, spec: PaginatorSpec, params: dict[str, Any]
    ) -> None:
        self._client = client
        self._spec = spec
        self._params = params
        _config(spec, params)  # refuse a bad PaginationConfig now
        self.resume_token: str | None = None

    def __iter__(self) -> Iterator[dict[str, Any]]:
        walk = _Walk(self._spec, self._params)
        call = getattr(self._client, self._spec.operation)
        going = True
        while going:
            page, going = walk.page(call(**walk.params))
            self.resume_token = walk.resume_token
            yield page

    def build_full_result(self) -> dict[str, Any]:
        """Every page's items in one list, counts summed; NextToken as boto3."""
        full: dict[str, Any] = {}
        for page in self:
            _merge(self._spec, full, page)
        if self.resume_token is not None:
            full["NextToken"] = self.resume_token
        return full


class AsyncPaginator:
    """The async twin of `Paginator`: ``async for page in p.paginate(...)``."""

    def __init__(self, client: Any, spec: PaginatorSpec | None) -> None:
        assert spec is not None
        self._client = client
        self._spec = spec

    def paginate(self, **params: Any) -> AsyncPageIterator:
        """The pages of the operation called with `params`."""
        return AsyncPageIterator(self._client, self._spec, params)


class AsyncPageIterator:
    """``async for`` pages; ``await build_full_result()`` for them merged."""

    def __init__(
        self, client: Any, spec: PaginatorSpec, params: dict[str, Any]
    ) -> None:
        self._client = client
        self._spec = spec
        self._params = params
        _config(spec, params)
        self.resume_token: str | None = None

    async def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        walk = _Walk(self._spec, self._params)
        call = getattr(self._client, self._spec.operation)
        going = True
        while going:
            page, going = walk.page(await call(**walk.params))
            self.resume_token = walk.resume_token
            yield page

    async def build_full_result(self) -> dict[str, Any]:
        """Every page's items in one list, counts summed; NextToken as boto3."""
        full: dict[str, Any] = {}
        async for page in self:
            _merge(self._spec, full, page)
        if self.resume_token is not None:
            full["NextToken"] = self.resume_token
        return full
