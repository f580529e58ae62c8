"""Paginators for S3's list operations, sync and async, as boto3's.

``client.get_paginator("list_objects_v2").paginate(Bucket=..., Prefix=...)``
yields one result dict per page, following the continuation token until S3
says the listing is complete. `PaginationConfig` takes `MaxItems` (stop after
that many items of the main result key), `PageSize` (the operation's limit
parameter) and `StartingToken` (a `NextToken` from `build_full_result`).
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

from ..errors import OperationNotPageableError, ParamValidationError


class PaginatorSpec:
    """How one operation pages: its tokens, limit and result keys."""

    __slots__ = (
        "input_tokens",
        "limit_key",
        "more_key",
        "output_tokens",
        "result_keys",
    )

    def __init__(
        self,
        input_tokens: tuple[str, ...],
        output_tokens: tuple[str, ...],
        limit_key: str,
        result_keys: tuple[str, ...],
        more_key: str = "IsTruncated",
    ) -> None:
        self.input_tokens = input_tokens
        self.output_tokens = output_tokens
        self.limit_key = limit_key
        self.result_keys = result_keys
        self.more_key = more_key


SPECS: dict[str, PaginatorSpec] = {
    "list_objects_v2": PaginatorSpec(
        ("ContinuationToken",),
        ("NextContinuationToken",),
        "MaxKeys",
        ("Contents", "CommonPrefixes"),
    ),
    "list_parts": PaginatorSpec(
        ("PartNumberMarker",), ("NextPartNumberMarker",), "MaxParts", ("Parts",)
    ),
    "list_multipart_uploads": PaginatorSpec(
        ("KeyMarker", "UploadIdMarker"),
        ("NextKeyMarker", "NextUploadIdMarker"),
        "MaxUploads",
        ("Uploads", "CommonPrefixes"),
    ),
}


_SKIP = "skip_items"


def encode_token(values: dict[str, Any]) -> str:
    """A NextToken: the next page's input tokens (and items to skip), base64 JSON."""
    return base64.b64encode(json.dumps(values).encode()).decode()


def decode_token(token: str, spec: PaginatorSpec) -> dict[str, Any]:
    """The input tokens (and items to skip) a StartingToken stands for."""
    try:
        values = json.loads(base64.b64decode(token.encode(), validate=True))
        if isinstance(values, dict) and set(values) <= {*spec.input_tokens, _SKIP}:
            return values
    except ValueError:
        pass
    return {spec.input_tokens[0]: token}


def _config_int(name: str, value: Any) -> int:
    # as boto3: anything int() takes
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):
        raise ParamValidationError(
            f"PaginationConfig {name} must be an integer, not {value!r}"
        ) from None


class _Plan:
    """Page-to-page state shared by the sync and async iterators."""

    def __init__(self, spec: PaginatorSpec, params: dict[str, Any]) -> None:
        params = dict(params)
        config = params.pop("PaginationConfig", None) or {}
        unknown = set(config) - {"MaxItems", "PageSize", "StartingToken"}
        if unknown:
            raise ParamValidationError(
                f"unknown PaginationConfig key {', '.join(sorted(unknown))}"
            )
        self.spec = spec
        self.max_items: int | None = config.get("MaxItems")
        if self.max_items is not None:
            self.max_items = _config_int("MaxItems", self.max_items)
        if config.get("PageSize") is not None:
            params[spec.limit_key] = _config_int("PageSize", config["PageSize"])
        self.skip = 0
        if config.get("StartingToken"):
            start = decode_token(config["StartingToken"], spec)
            self.skip = int(start.pop(_SKIP, 0))
            params.update(start)
        self.params = params
        self.seen = 0
        self.done = False
        self.resume: dict[str, Any] | None = None

    def take(self, page: dict[str, Any]) -> dict[str, Any]:
        """Trim a page to MaxItems and work out the next request."""
        spec = self.spec
        nxt = {
            inp: page[out]
            for inp, out in zip(spec.input_tokens, spec.output_tokens, strict=True)
            if page.get(out) not in (None, "")
        }
        more = bool(page.get(spec.more_key)) and bool(nxt)
        main = spec.result_keys[0]
        skipped = self.skip
        if skipped:
            # resuming inside a page an earlier MaxItems cut
            page[main] = page.get(main, [])[skipped:]
            self.skip = 0
        if self.max_items is not None:
            items = page.get(main, [])
            room = self.max_items - self.seen
            if len(items) >= room:
                page[main] = items[:room]
                self.seen += room
                self.done = True
                if len(items) > room:
                    # the next token restarts this page, past what was given
                    here = {
                        name: self.params[name]
                        for name in spec.input_tokens
                        if name in self.params
                    }
                    self.resume = {**here, _SKIP: skipped + room}
                else:
                    self.resume = nxt if more else None
                return page
            self.seen += len(items)
        if not more:
            self.done = True
            return page
        self.params.update(nxt)
        self.resume = nxt
        return page


def _merge(pages: list[dict[str, Any]], plan: _Plan) -> dict[str, Any]:
    full: dict[str, Any] = {}
    for key in plan.spec.result_keys:
        merged = [item for page in pages for item in page.get(key, [])]
        if merged:
            full[key] = merged
    if plan.resume is not None and plan.max_items is not None:
        full["NextToken"] = encode_token(plan.resume)
    return full


class PageIterator:
    """The pages of one listing; iterate, or `build_full_result()`."""

    def __init__(self, call: Callable[..., dict[str, Any]], plan: _Plan) -> None:
        self._call = call
        self._plan = plan

    def __iter__(self) -> Iterator[dict[str, Any]]:
        plan = self._plan
        while not plan.done:
            yield plan.take(self._call(**plan.params))

    def build_full_result(self) -> dict[str, Any]:
        """Every page's items merged under the result keys."""
        return _merge(list(self), self._plan)


class AsyncPageIterator:
    """The pages of one listing, for ``async for``."""

    def __init__(
        self, call: Callable[..., Awaitable[dict[str, Any]]], plan: _Plan
    ) -> None:
        self._call = call
        self._plan = plan

    async def _pages(self) -> AsyncIterator[dict[str, Any]]:
        plan = self._plan
        while not plan.done:
            yield plan.take(await self._call(**plan.params))

    def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        return self._pages()

    async def build_full_result(self) -> dict[str, Any]:
        """Every page's items merged under the result keys."""
        pages = [page async for page in self._pages()]
        return _merge(pages, self._plan)


class Paginator:
    """`client.get_paginator(name)`: call `paginate(**params)`."""

    def __init__(
        self, call: Callable[..., dict[str, Any]], spec: PaginatorSpec
    ) -> None:
        self._call = call
        self._spec = spec

    def paginate(self, **params: Any) -> PageIterator:
        """The pages for these parameters (plus an optional PaginationConfig)."""
        return PageIterator(self._call, _Plan(self._spec, params))


class AsyncPaginator:
    """The async paginator: ``async for page in paginator.paginate(...)``."""

    def __init__(
        self, call: Callable[..., Awaitable[dict[str, Any]]], spec: PaginatorSpec
    ) -> None:
        self._call = call
        self._spec = spec

    def paginate(self, **params: Any) -> AsyncPageIterator:
        """The pages for these parameters (plus an optional PaginationConfig)."""
        return AsyncPageIterator(self._call, _Plan(self._spec, params))


def spec_for(name: str) -> PaginatorSpec:
    """The paging rules of an operation; a clear error if it does not page."""
    spec = SPECS.get(name)
    if spec is None:
        raise OperationNotPageableError(name, list(SPECS))
    return spec
