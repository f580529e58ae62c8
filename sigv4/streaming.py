"""Chunked streaming payloads: `Content-Encoding: aws-chunked`.

Theory of operation. Instead of hashing the whole body before the request goes
out, S3 accepts the body cut into chunks, each signed as it is sent
(https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html):

* the request itself is signed with the payload hash replaced by a constant
  (`STREAMING-AWS4-HMAC-SHA256-PAYLOAD`); that signature is the *seed*;
* every chunk travels as `hex-size;chunk-signature=SIG CRLF data CRLF`, where
  SIG signs the chunk's SHA-256 together with the previous signature, so the
  signatures form a chain from the seed;
* a last chunk of zero bytes, signed the same way, closes the chain.

The trailer variant (`...-PAYLOAD-TRAILER`) names a checksum header in
`x-amz-trailer`; after the zero-length chunk comes that header, computed while
streaming, and `x-amz-trailer-signature`, which signs it on top of the chain
(https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming-trailers.html).
`STREAMING-UNSIGNED-PAYLOAD-TRAILER` keeps the chunk framing and the checksum
trailer but signs neither (for use over TLS).

The encoded length is known in advance whenever the decoded length is: every
chunk but the last has the same size, and the signatures have a fixed width.
A body of unknown length goes out without `Content-Length` (the HTTP client
then uses `Transfer-Encoding: chunked`) and without
`x-amz-decoded-content-length`, which AWS S3 itself requires: give
`decoded_length` for those. Bodies are read one chunk at a time, never whole.
"""

from __future__ import annotations

import base64
import datetime as _dt
import hashlib
import hmac
import io
import os
import stat
import zlib
from collections.abc import (
    AsyncIterable,
    AsyncIterator,
    Iterable,
    Iterator,
    Mapping,
)
from typing import TYPE_CHECKING, Protocol

from . import canonical as _c
from . import redact as _r
from . import signer as _s
from .errors import PayloadLengthError, SigningError

if TYPE_CHECKING:
    from .credentials import Credentials

STREAMING_PAYLOAD = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
STREAMING_PAYLOAD_TRAILER = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
STREAMING_UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
CHUNK_ALGORITHM = "AWS4-HMAC-SHA256-PAYLOAD"
TRAILER_ALGORITHM = "AWS4-HMAC-SHA256-TRAILER"
DEFAULT_CHUNK_SIZE = 64 * 1024
MIN_CHUNK_SIZE = 8 * 1024

_SIGNATURE_WIDTH = 64
_CHUNK_SIGNATURE = b";chunk-signature="
_TRAILER_SIGNATURE = "x-amz-trailer-signature"


class _Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


Body = bytes | bytearray | memoryview | str | _Readable | Iterable[bytes]
AsyncBody = AsyncIterable[bytes]


# -- checksums ---------------------------------------------------------------


def _crc32c_table() -> list[int]:
    table = []
    for byte in range(256):
        value = byte
        for _ in range(8):
            value = (value >> 1) ^ 0x82F63B78 if value & 1 else value >> 1
        table.append(value)
    return table


class _Checksum:
    """A running checksum with the interface of hashlib's objects."""

    def update(self, data: bytes) -> None:
        raise NotImplementedError

    def digest(self) -> bytes:
        raise NotImplementedError


class _CRC32(_Checksum):
    def __init__(self) -> None:
        self._value = 0

    def update(self, data: bytes) -> None:
        self._value = zlib.crc32(data, self._value)

    def digest(self) -> bytes:
        return self._value.to_bytes(4, "big")


class _CRC32C(_Checksum):
    # TODO(#2): CRC32C is pure Python (the standard library has none), about
    # 10 MB/s; for large bodies crc32 or sha256 trailers are 100 times faster.
    _table: list[int] | None = None

    def __init__(self) -> None:
        self._value = 0xFFFFFFFF
        if _CRC32C._table is None:
            _CRC32C._table = _crc32c_table()

    def update(self, data: bytes) -> None:
        table = _CRC32C._table
        assert table is not None
        value = self._value
        for byte in data:
            value = table[(value ^ byte) & 0xFF] ^ (value >> 8)
        self._value = value

    def digest(self) -> bytes:
        return (self._value ^ 0xFFFFFFFF).to_bytes(4, "big")


class _Hashlib(_Checksum):
    def __init__(self, name: str) -> None:
        self._hash = hashlib.new(name)

    def update(self, data: bytes) -> None:
        self._hash.update(data)

    def digest(self) -> bytes:
        return self._hash.digest()


# checksum algorithm -> digest size in bytes
CHECKSUMS = {
    "crc32": 4,
    "crc32c": 4,
    "sha1": 20,
    "sha256": 32,
}


def _new_checksum(algorithm: str) -> _Checksum:
    if algorithm == "crc32":
        return _CRC32()
    if algorithm == "crc32c":
        return _CRC32C()
    return _Hashlib(algorithm)


def checksum_header(algorithm: str) -> str:
    """The trailer header that carries a checksum: `x-amz-checksum-crc32`..."""
    return f"x-amz-checksum-{algorithm}"


def _checksum_algorithm(name: str) -> str:
    algorithm = name.lower().removeprefix("x-amz-checksum-")
    if algorithm not in CHECKSUMS:
        known = ", ".join(sorted(CHECKSUMS))
        raise SigningError(f"checksum {name!r} is not supported; use one of {known}")
    return algorithm


# -- chunk signatures --------------------------------------------------------


def chunk_string_to_sign(
    timestamp: str, scope: str, previous_signature: str, chunk_hash: str
) -> str:
    """The string to sign of one chunk, chained to the previous signature."""
    return (
        f"{CHUNK_ALGORITHM}\n{timestamp}\n{scope}\n{previous_signature}\n"
        f"{_c.EMPTY_SHA256}\n{chunk_hash}"
    )


def trailer_string_to_sign(
    timestamp: str, scope: str, previous_signature: str, trailer: str
) -> str:
    """The string to sign of the trailer block (`name:value\\n` lines)."""
    digest = hashlib.sha256(trailer.encode()).hexdigest()
    return f"{TRAILER_ALGORITHM}\n{timestamp}\n{scope}\n{previous_signature}\n{digest}"


def encoded_length(
    decoded_length: int,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    *,
    signed: bool = True,
    trailer: str | None = None,
) -> int:
    """The `Content-Length` of the aws-chunked encoding of `decoded_length` bytes.

    `trailer` is the checksum algorithm of the trailer variants, if any.
    """
    full, rest = divmod(decoded_length, chunk_size)
    sizes = [chunk_size] * full + ([rest] if rest else []) + [0]
    meta = len(_CHUNK_SIGNATURE) + _SIGNATURE_WIDTH if signed else 0
    total = sum(len(f"{n:x}") + meta + 2 + n + 2 for n in sizes)
    if trailer is None:
        return total
    # the zero-length chunk has no data CRLF of its own: the trailer follows
    total -= 2
    digest = CHECKSUMS[_checksum_algorithm(trailer)]
    value = len(base64.b64encode(bytes(digest)))
    total += len(checksum_header(trailer)) + 1 + value + 2
    if signed:
        total += len(_TRAILER_SIGNATURE) + 1 + _SIGNATURE_WIDTH + 2
    return total + 2


# -- bodies ------------------------------------------------------------------


def _read_full(source: _Readable, size: int) -> bytes:
    """Read up to `size` bytes, short only at the end of the stream."""
    first = source.read(size)
    if first and not isinstance(first, (bytes, bytearray)):
        raise SigningError("a file body must be opened in binary mode")
    if not first or len(first) == size:
        return bytes(first or b"")
    parts = [first]
    got = len(first)
    while got < size:
        more = source.read(size - got)
        if not more:
            break
        parts.append(more)
        got += len(more)
    return b"".join(parts)


def _rechunk(pieces: Iterable[bytes], size: int) -> Iterator[bytes]:
    """Regroup an iterable of byte strings into chunks of exactly `size` bytes."""
    buffer = bytearray()
    for piece in pieces:
        if not isinstance(piece, (bytes, bytearray, memoryview)):
            raise SigningError(
                f"a streamed body must yield bytes, not {type(piece).__name__}"
            )
        buffer += piece
        while len(buffer) >= size:
            yield bytes(buffer[:size])
            del buffer[:size]
    if buffer:
        yield bytes(buffer)


async def _arechunk(pieces: AsyncIterable[bytes], size: int) -> AsyncIterator[bytes]:
    buffer = bytearray()
    async for piece in pieces:
        if not isinstance(piece, (bytes, bytearray, memoryview)):
            raise SigningError(
                f"a streamed body must yield bytes, not {type(piece).__name__}"
            )
        buffer += piece
        while len(buffer) >= size:
            yield bytes(buffer[:size])
            del buffer[:size]
    if buffer:
        yield bytes(buffer)


def _file_length(source: object) -> int | None:
    """Bytes left in a file object, without reading it, if that can be known."""
    try:
        position = source.tell()  # type: ignore[attr-defined]
        status = os.fstat(source.fileno())  # type: ignore[attr-defined]
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        pass
    else:
        # only a regular file's size is its length (not a pipe's or a device's)
        if stat.S_ISREG(status.st_mode) and isinstance(position, int):
            return max(status.st_size - position, 0)
    if isinstance(source, io.BytesIO):
        return len(source.getbuffer()) - source.tell()
    return None


class StreamingPayload:
    """A request signed for a chunked body, and that body, encoded as it is read.

    `headers` are the headers to send (the caller's, then those signing added:
    Content-Encoding, x-amz-decoded-content-length, Content-Length when known,
    x-amz-trailer, x-amz-content-sha256, X-Amz-Date, Authorization). Iterate
    the payload (`for piece in payload` or `async for`) to get the encoded body.
    A body held in memory or in a seekable file can be iterated again, which
    restarts the chain from the seed; an iterator can be sent once.
    """

    __slots__ = (
        "_async_source",
        "_checksum",
        "_consumed",
        "_key",
        "_scope",
        "_seed",
        "_source",
        "_start",
        "_timestamp",
        "chunk_size",
        "content_length",
        "decoded_length",
        "mode",
        "request",
    )

    def __init__(
        self,
        request: _s.SignedRequest,
        *,
        mode: str,
        source: object,
        chunk_size: int,
        decoded_length: int | None,
        content_length: int | None,
        checksum: str | None,
        key: bytes,
        timestamp: str,
        scope: str,
    ) -> None:
        self.request = request
        self.mode = mode
        self.chunk_size = chunk_size
        self.decoded_length = decoded_length
        self.content_length = content_length
        self._checksum = checksum
        self._key = key
        self._timestamp = timestamp
        self._scope = scope
        self._seed = request.signature
        self._async_source = isinstance(source, AsyncIterable)
        self._source = source
        self._consumed = False
        self._start: int | None = None
        seekable = getattr(source, "seekable", None)
        if not self._async_source and callable(seekable):
            try:
                position = source.tell() if seekable() else None  # type: ignore[attr-defined]
            except (OSError, ValueError, io.UnsupportedOperation):
                position = None
            self._start = position if isinstance(position, int) else None

    @property
    def method(self) -> str:
        """The request method."""
        return self.request.method

    @property
    def url(self) -> str:
        """The URL to send."""
        return self.request.url

    @property
    def headers(self) -> list[tuple[str, str]]:
        """Every header to send with the encoded body."""
        return self.request.headers

    @property
    def replayable(self) -> bool:
        """True when the body can be encoded again (bytes or a seekable file)."""
        return isinstance(self._source, bytes) or self._start is not None

    def __repr__(self) -> str:
        return (
            f"<StreamingPayload {self.mode} {self.request.method} "
            f"{_r.redact_url(self.request.url)} "
            f"decoded_length={self.decoded_length}>"
        )

    # chunks of the decoded body

    def _chunks(self) -> Iterator[bytes]:
        source = self._source
        size = self.chunk_size
        if isinstance(source, bytes):
            view = memoryview(source)
            for start in range(0, len(source), size):
                yield bytes(view[start : start + size])
            return
        if self._async_source:
            raise SigningError("an async body must be iterated with `async for`")
        if self._start is not None:
            source.seek(self._start)  # type: ignore[attr-defined]
        elif self._consumed:
            raise SigningError("a streamed body can be sent only once")
        self._consumed = True
        if hasattr(source, "read"):
            while chunk := _read_full(source, size):
                yield chunk
            return
        yield from _rechunk(source, size)  # type: ignore[arg-type]

    # encoding

    def _encoder(self) -> _Encoder:
        return _Encoder(self)

    def __iter__(self) -> Iterator[bytes]:
        encoder = self._encoder()
        for chunk in self._chunks():
            yield encoder.chunk(chunk)
        yield encoder.finish()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        encoder = self._encoder()
        if not self._async_source:
            for chunk in self._chunks():
                yield encoder.chunk(chunk)
        else:
            if self._consumed:
                raise SigningError("a streamed body can be sent only once")
            self._consumed = True
            source = self._source
            assert isinstance(source, AsyncIterable)
            async for chunk in _arechunk(source, self.chunk_size):
                yield encoder.chunk(chunk)
        yield encoder.finish()


class _Encoder:
    """The state of one pass over the body: the chain, the checksum, the count."""

    __slots__ = ("_payload", "_previous", "_running", "_seen")

    def __init__(self, payload: StreamingPayload) -> None:
        self._payload = payload
        self._previous = payload._seed
        self._seen = 0
        algorithm = payload._checksum
        self._running = _new_checksum(algorithm) if algorithm else None

    def _sign(self, data: bytes) -> str:
        p = self._payload
        digest = hashlib.sha256(data).hexdigest()
        to_sign = chunk_string_to_sign(p._timestamp, p._scope, self._previous, digest)
        self._previous = hmac.new(p._key, to_sign.encode(), "sha256").hexdigest()
        return self._previous

    def _frame(self, data: bytes) -> bytes:
        size = f"{len(data):x}".encode()
        if self._payload.mode == STREAMING_UNSIGNED_TRAILER:
            return size + b"\r\n"
        return size + _CHUNK_SIGNATURE + self._sign(data).encode() + b"\r\n"

    def chunk(self, data: bytes) -> bytes:
        self._seen += len(data)
        expected = self._payload.decoded_length
        if expected is not None and self._seen > expected:
            raise PayloadLengthError(
                f"the body is longer than the {expected} bytes declared"
            )
        if self._running is not None:
            self._running.update(data)
        return self._frame(data) + data + b"\r\n"

    def finish(self) -> bytes:
        p = self._payload
        expected = p.decoded_length
        if expected is not None and self._seen != expected:
            raise PayloadLengthError(
                f"the body gave {self._seen} bytes, not the {expected} declared"
            )
        last = self._frame(b"")
        if self._running is None or p._checksum is None:
            return last + b"\r\n"

        # the trailer, and its signature chained to the last chunk's
        value = base64.b64encode(self._running.digest()).decode()
        line = f"{checksum_header(p._checksum)}:{value}"
        block = line + "\r\n"
        if p.mode == STREAMING_PAYLOAD_TRAILER:
            to_sign = trailer_string_to_sign(
                p._timestamp, p._scope, self._previous, line + "\n"
            )
            sig = hmac.new(p._key, to_sign.encode(), "sha256").hexdigest()
            block += f"{_TRAILER_SIGNATURE}:{sig}\r\n"
        return last + block.encode() + b"\r\n"


# -- signing -----------------------------------------------------------------


def _source_and_length(
    body: Body | AsyncBody | None, decoded_length: int | None
) -> tuple[object, int | None]:
    if body is None:
        body = b""
    if isinstance(body, str):
        body = body.encode()
    if isinstance(body, (bytearray, memoryview)):
        body = bytes(body)
    if isinstance(body, bytes):
        if decoded_length is not None and decoded_length != len(body):
            raise PayloadLengthError(
                f"the body has {len(body)} bytes, not the {decoded_length} declared"
            )
        return body, len(body)
    if hasattr(body, "read"):
        length = decoded_length if decoded_length is not None else _file_length(body)
        return body, length
    if isinstance(body, (Iterable, AsyncIterable)):
        # TODO(#2): with no decoded_length the body goes out with neither
        # Content-Length nor x-amz-decoded-content-length, which AWS S3 refuses
        # (some S3-compatible stores accept it); only the caller knows the size.
        return body, decoded_length
    raise SigningError(
        f"cannot stream a body of type {type(body).__name__}: give bytes, "
        "a file object, or a (sync or async) iterable of bytes"
    )


def sign_streaming(
    method: str,
    url: str,
    headers: _s.Headers | None = None,
    body: Body | AsyncBody | None = None,
    *,
    credentials: Credentials,
    region: str,
    service: str = "s3",
    timestamp: _dt.datetime | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    decoded_length: int | None = None,
    checksum: str | None = None,
    signed: bool = True,
    send_content_length: bool = True,
    unsigned_headers: frozenset[str] = _c.UNSIGNED_HEADERS,
) -> StreamingPayload:
    """Sign a request whose body is sent aws-chunked, chunk by chunk.

    `body` is bytes, a file object, or a sync or async iterable of bytes; it is
    read `chunk_size` bytes at a time (8 KiB at least). `decoded_length` gives
    the body's size when it cannot be told without reading it (iterators,
    pipes). `checksum` (`crc32`, `crc32c`, `sha1` or `sha256`) adds a checksum
    trailer; `signed=False` with a checksum sends
    `STREAMING-UNSIGNED-PAYLOAD-TRAILER`. With `send_content_length=False` no
    `Content-Length` is signed or sent even when it is known, for a client that
    sends `Transfer-Encoding: chunked`.
    """
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int):
        raise SigningError("chunk_size must be a whole number of bytes")
    if chunk_size < MIN_CHUNK_SIZE:
        raise SigningError(f"chunk_size must be at least {MIN_CHUNK_SIZE} bytes")
    if decoded_length is not None and decoded_length < 0:
        raise SigningError("decoded_length cannot be negative")
    algorithm = _checksum_algorithm(checksum) if checksum else None
    if not signed and algorithm is None:
        raise SigningError("an unsigned chunked payload needs a checksum trailer")
    if algorithm is None:
        mode = STREAMING_PAYLOAD
    else:
        mode = STREAMING_PAYLOAD_TRAILER if signed else STREAMING_UNSIGNED_TRAILER
    source, length = _source_and_length(body, decoded_length)

    # the headers that describe the encoding
    pairs = headers.items() if isinstance(headers, Mapping) else headers or ()
    given = [
        (n, v)
        for n, v in pairs
        if n.lower()
        not in (
            "content-length",
            "x-amz-decoded-content-length",
            "x-amz-content-sha256",
            "x-amz-trailer",
            "transfer-encoding",
        )
    ]
    codings = [
        coding.strip()
        for n, v in given
        if n.lower() == "content-encoding"
        for coding in v.split(",")
        if coding.strip() and coding.strip().lower() != "aws-chunked"
    ]
    given = [(n, v) for n, v in given if n.lower() != "content-encoding"]
    given.append(("Content-Encoding", ",".join(["aws-chunked", *codings])))
    content_length = None
    if length is not None:
        given.append(("x-amz-decoded-content-length", str(length)))
        content_length = encoded_length(
            length, chunk_size, signed=signed, trailer=algorithm
        )
        if send_content_length:
            given.append(("Content-Length", str(content_length)))
    if algorithm is not None:
        given.append(("x-amz-trailer", checksum_header(algorithm)))

    # the seed signature; the chunks are signed with its date and scope
    request = _s.sign(
        method,
        url,
        given,
        credentials=credentials,
        region=region,
        service=service,
        timestamp=timestamp,
        payload_hash=mode,
        sign_payload_header=True,
        unsigned_headers=unsigned_headers,
    )
    _, stamp, scope, _ = request.string_to_sign.split("\n")
    key = _s.signing_key(credentials, stamp[:8], region, service)
    return StreamingPayload(
        request,
        mode=mode,
        source=source,
        chunk_size=chunk_size,
        decoded_length=length,
        content_length=content_length,
        checksum=algorithm,
        key=key,
        timestamp=stamp,
        scope=scope,
    )
