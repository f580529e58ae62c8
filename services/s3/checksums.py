"""S3's flexible checksums from the standard library: CRC32, CRC32C, SHA-1, SHA-256.

CRC32 is zlib's; CRC32C (Castagnoli) is computed here in pure Python, table
driven, so it needs no compiled dependency but is slow (a few MB/s): prefer
CRC32 for large bodies. Header values are the base64 of the big-endian digest.
"""

from __future__ import annotations

import base64
import hashlib
import zlib
from typing import Protocol

from ..errors import ParamValidationError

ALGORITHMS = ("CRC32", "CRC32C", "SHA1", "SHA256")


class Checksum(Protocol):
    """A running checksum."""

    def update(self, data: bytes) -> None: ...

    def digest(self) -> bytes: ...


class CRC32:
    """zlib's CRC32."""

    __slots__ = ("_value",)

    def __init__(self) -> None:
        self._value = 0

    def update(self, data: bytes) -> None:
        self._value = zlib.crc32(data, self._value)

    def digest(self) -> bytes:
        return self._value.to_bytes(4, "big")


_CRC32C_TABLE: list[int] = []


def _crc32c_table() -> list[int]:
    if not _CRC32C_TABLE:
        for byte in range(256):
            value = byte
            for _ in range(8):
                value = (value >> 1) ^ 0x82F63B78 if value & 1 else value >> 1
            _CRC32C_TABLE.append(value)
    return _CRC32C_TABLE


class CRC32C:
    """CRC32C (Castagnoli), pure Python."""

    __slots__ = ("_value",)

    def __init__(self) -> None:
        self._value = 0xFFFFFFFF

    def update(self, data: bytes) -> None:
        table = _crc32c_table()
        value = self._value
        for byte in data:
            value = table[(value ^ byte) & 0xFF] ^ (value >> 8)
        self._value = value

    def digest(self) -> bytes:
        return (self._value ^ 0xFFFFFFFF).to_bytes(4, "big")


class _Hash:
    __slots__ = ("_hash",)

    def __init__(self, name: str) -> None:
        self._hash = hashlib.new(name)

    def update(self, data: bytes) -> None:
        self._hash.update(data)

    def digest(self) -> bytes:
        return self._hash.digest()


def new(algorithm: str) -> Checksum:
    """A running checksum for an S3 algorithm name (CRC32, CRC32C, SHA1, SHA256)."""
    name = algorithm.upper()
    if name == "CRC32":
        return CRC32()
    if name == "CRC32C":
        return CRC32C()
    if name == "SHA1":
        return _Hash("sha1")
    if name == "SHA256":
        return _Hash("sha256")
    raise ParamValidationError(
        f"ChecksumAlgorithm {algorithm!r} is not supported; use one of "
        f"{', '.join(ALGORITHMS)}"
    )


def b64(digest: bytes) -> str:
    """The header form of a digest."""
    return base64.b64encode(digest).decode()


def of(algorithm: str, data: bytes) -> str:
    """The header value of a checksum over `data`."""
    checksum = new(algorithm)
    checksum.update(data)
    return b64(checksum.digest())


def header(algorithm: str) -> str:
    """The header that carries a checksum: x-amz-checksum-crc32 and so on."""
    return f"x-amz-checksum-{algorithm.lower()}"


def md5(data: bytes) -> str:
    """Content-MD5: the base64 of the body's MD5."""
    return base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode()
