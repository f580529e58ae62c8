"""Paginators for query, scan and list_tables.

A page with no items is not the end: DynamoDB stops a page after reading 1 MB
or ``Limit`` items *before* the filter, so a filtered page can be empty with
more to come. Iteration ends only when the answer carries no
``LastEvaluatedKey`` (``LastEvaluatedTableName`` for list_tables). An answer
that hands back the very key it was given would loop forever; that is
refused with `ResponseParseError`.

``PaginationConfig`` takes ``PageSize`` (sent as ``Limit``) and ``MaxItems``
(stop once that many items were yielded, the last page cut short).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any, NamedTuple

from ..errors import ParamValidationError, ResponseParseError

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
        raise ParamValidationError(
            f"no paginator for {operation_name!r}; "
            f"there are paginators for {', '.join(sorted(_SPECS))}"
        )
    return spec


def _config(
    spec: PaginatorSpec, params: dict[str, Any]
) -> tuple[dict[str, Any], int | None]:
    params = dict(params)
    config = dict(params.pop("PaginationConfig", None) or {})
    if "StartingToken" in config:
        # TODO(#5): resume tokens; pass ExclusiveStartKey yourself meanwhile
        raise NotImplementedError(
            "PaginationConfig StartingToken is not supported: pass "
            f"{spec.input_token} to start from a saved position"
        )
    unknown = set(config) - {"PageSize", "MaxItems"}
    if unknown:
        raise ParamValidationError(
            f"unknown PaginationConfig keys {sorted(unknown)}; use PageSize, MaxItems"
        )
    if config.get("PageSize") is not None:
        params["Limit"] = config["PageSize"]
    return params, config.get("MaxItems")


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


def _cut(spec: PaginatorSpec, page: dict[str, Any], left: int | None) -> dict[str, Any]:
    items = page.get(spec.result_key, [])
    if left is None or len(items) <= left:
        return page
    page = dict(page)
    page[spec.result_key] = items[:left]
    if "Count" in page:
        page["Count"] = left
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
        self._params, self._max_items = _config(spec, params)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        spec, params, left = self._spec, dict(self._params), self._max_items
        call = getattr(self._client, spec.operation)
        while True:
            page = _cut(spec, call(**params), left)
            yield page
            if left is not None:
                left -= len(page.get(spec.result_key, []))
                if left <= 0:
                    return
            if not _advance(spec, params, page):
                return

    def build_full_result(self) -> dict[str, Any]:
        """Every page's items in one list, counts summed."""
        full: dict[str, Any] = {}
        for page in self:
            _merge(self._spec, full, page)
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
        self._params, self._max_items = _config(spec, params)

    async def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        spec, params, left = self._spec, dict(self._params), self._max_items
        call = getattr(self._client, spec.operation)
        while True:
            page = _cut(spec, await call(**params), left)
            yield page
            if left is not None:
                left -= len(page.get(spec.result_key, []))
                if left <= 0:
                    return
            if not _advance(spec, params, page):
                return

    async def build_full_result(self) -> dict[str, Any]:
        """Every page's items in one list, counts summed."""
        full: dict[str, Any] = {}
        async for page in self:
            _merge(self._spec, full, page)
        return full
