"""The Body of get_object: a stream over the open response, as botocore's.

Bytes are handed over as they arrive (never decompressed, whatever the
Content-Encoding), counted against Content-Length, and checked against a
full-object checksum when one is being validated. A broken connection while
reading is an `EndpointConnectionError`; a short body an `IncompleteReadError`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from types import TracebackType
from typing import Any

from .._http import httpx, unlink
from ..errors import (
    ChecksumMismatchError,
    EndpointConnectionError,
    IncompleteReadError,
    ReadTimeoutError,
)
from . import checksums

DEFAULT_CHUNK_SIZE = 1024


class _Tally:
    """Length and checksum bookkeeping shared by the sync and async bodies."""

    __slots__ = ("algorithm", "checksum", "expected", "expected_sum", "read")

    def __init__(self, length: int | None, check: tuple[str, str] | None) -> None:
        self.expected = length
        self.read = 0
        self.algorithm = ""
        self.expected_sum = ""
        self.checksum: checksums.Checksum | None = None
        if check is not None:
            self.algorithm, self.expected_sum = check
            self.checksum = checksums.new(self.algorithm)

    def add(self, chunk: bytes) -> None:
        self.read += len(chunk)
        if self.checksum is not None:
            self.checksum.update(chunk)

    def finish(self) -> None:
        if self.expected is not None and self.read != self.expected:
            raise IncompleteReadError(self.read, self.expected)
        if self.checksum is not None:
            got = checksums.b64(self.checksum.digest())
            if got != self.expected_sum:
                raise ChecksumMismatchError(
                    f"expected {self.algorithm} checksum {self.expected_sum}, "
                    f"computed {got}"
                )


def _stream_error(exc: httpx.TransportError) -> Exception:
    if isinstance(exc, httpx.TimeoutException):
        return ReadTimeoutError("read timeout while reading the body")
    return EndpointConnectionError(
        f"the connection broke while reading the body ({type(exc).__name__})"
    )


async def _one(data: bytes) -> AsyncIterator[bytes]:
    yield data


class StreamingBody:
    """A readable stream over a response body: read, iterate, close."""

    def __init__(
        self,
        raw: httpx.Response,
        content_length: int | None,
        checksum: tuple[str, str] | None = None,
    ) -> None:
        self._raw = raw
        # a response already read (a test double, say) is served from memory
        self._chunks: Iterator[bytes] = (
            iter([raw.content]) if raw.is_stream_consumed else raw.iter_raw()
        )
        self._buffer = b""
        self._done = False
        self._tally = _Tally(content_length, checksum)
        self._position = 0

    def _next(self) -> bytes:
        try:
            chunk = next(self._chunks, b"")
        except httpx.TransportError as exc:
            self.close()
            raise _stream_error(exc) from exc
        if not chunk:
            self._done = True
            self.close()
            self._tally.finish()
            return b""
        self._tally.add(chunk)
        return chunk

    def read(self, amt: int | None = None) -> bytes:
        """Read `amt` bytes, or everything left."""
        if amt is None or amt < 0:
            parts = [self._buffer]
            self._buffer = b""
            while not self._done:
                parts.append(self._next())
            data = b"".join(parts)
        else:
            while len(self._buffer) < amt and not self._done:
                self._buffer += self._next()
            data, self._buffer = self._buffer[:amt], self._buffer[amt:]
        self._position += len(data)
        return data

    def readinto(self, target: bytearray | memoryview) -> int:
        """Read into a buffer; the number of bytes read."""
        data = self.read(len(target))
        target[: len(data)] = data
        return len(data)

    def readable(self) -> bool:
        """True: a body can be read."""
        return True

    def tell(self) -> int:
        """How many bytes have been read."""
        return self._position

    def iter_chunks(self, chunk_size: int = DEFAULT_CHUNK_SIZE) -> Iterator[bytes]:
        """Yield the body in chunks of up to `chunk_size` bytes."""
        while True:
            chunk = self.read(chunk_size)
            if not chunk:
                return
            yield chunk

    def iter_lines(
        self, chunk_size: int = DEFAULT_CHUNK_SIZE, keepends: bool = False
    ) -> Iterator[bytes]:
        """Yield the body line by line."""
        pending = b""
        for chunk in self.iter_chunks(chunk_size):
            lines = (pending + chunk).splitlines(True)
            for line in lines[:-1]:
                yield line if keepends else line.splitlines()[0]
            pending = lines[-1]
        if pending:
            yield pending if keepends else pending.splitlines()[0]

    def __iter__(self) -> Iterator[bytes]:
        return self.iter_chunks()

    def close(self) -> None:
        """Release the connection."""
        self._raw.close()
        unlink(self._raw)

    def __enter__(self) -> StreamingBody:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<StreamingBody read={self._position}>"


class AsyncStreamingBody:
    """The async twin of `StreamingBody`: ``await body.read()``."""

    def __init__(
        self,
        raw: httpx.Response,
        content_length: int | None,
        checksum: tuple[str, str] | None = None,
    ) -> None:
        self._raw = raw
        self._chunks: AsyncIterator[bytes] = (
            _one(raw.content) if raw.is_stream_consumed else raw.aiter_raw()
        )
        self._buffer = b""
        self._done = False
        self._tally = _Tally(content_length, checksum)
        self._position = 0

    async def _next(self) -> bytes:
        try:
            chunk = await anext(self._chunks, b"")
        except httpx.TransportError as exc:
            await self.close()
            raise _stream_error(exc) from exc
        if not chunk:
            self._done = True
            await self.close()
            self._tally.finish()
            return b""
        self._tally.add(chunk)
        return chunk

    async def read(self, amt: int | None = None) -> bytes:
        """Read `amt` bytes, or everything left."""
        if amt is None or amt < 0:
            parts = [self._buffer]
            self._buffer = b""
            while not self._done:
                parts.append(await self._next())
            data = b"".join(parts)
        else:
            while len(self._buffer) < amt and not self._done:
                self._buffer += await self._next()
            data, self._buffer = self._buffer[:amt], self._buffer[amt:]
        self._position += len(data)
        return data

    async def iter_chunks(
        self, chunk_size: int = DEFAULT_CHUNK_SIZE
    ) -> AsyncIterator[bytes]:
        """Yield the body in chunks of up to `chunk_size` bytes."""
        while True:
            chunk = await self.read(chunk_size)
            if not chunk:
                return
            yield chunk

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self.iter_chunks()

    def tell(self) -> int:
        """How many bytes have been read."""
        return self._position

    async def close(self) -> None:
        """Release the connection."""
        await self._raw.aclose()
        unlink(self._raw)

    async def __aenter__(self) -> AsyncStreamingBody:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    def __repr__(self) -> str:
        return f"<AsyncStreamingBody read={self._position}>"
