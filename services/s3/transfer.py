"""Managed transfers: upload_file, upload_fileobj, download_file, download_fileobj.

Uploads at or above `multipart_threshold` become multipart uploads whose parts
go up in parallel (threads for the sync client, tasks for the async one); below
it, one PutObject. Downloads at or above the threshold are fetched as ranged
GETs in parallel, each pinned to the object's ETag with If-Match so a changing
object cannot be stitched together from two versions.

Memory stays bounded: a part is read only once a slot among `max_concurrency`
is free, so at most `multipart_chunksize * max_concurrency` bytes of parts are
held at once. A multipart upload that fails for any reason is aborted, so no
parts are left behind to be billed; a download that fails removes its
temporary file and leaves any existing file untouched.

The progress callback receives the number of bytes moved since its last call,
as boto3's does, from whichever thread moved them.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from typing import IO, TYPE_CHECKING, Any

from ..errors import ParamValidationError, ServiceError

if TYPE_CHECKING:
    from .client import AsyncS3Client, S3Client

KiB = 1024
MiB = KiB * KiB
MIN_PART = 5 * MiB
MAX_PART = 5 * 1024 * MiB
MAX_PARTS = 10000
IO_CHUNK = 256 * KiB

# Parameters a caller may pass through ExtraArgs, as boto3 allows.
UPLOAD_ARGS = frozenset(
    {
        "ACL",
        "CacheControl",
        "ChecksumAlgorithm",
        "ContentDisposition",
        "ContentEncoding",
        "ContentLanguage",
        "ContentType",
        "ExpectedBucketOwner",
        "Expires",
        "GrantFullControl",
        "GrantRead",
        "GrantReadACP",
        "GrantWriteACP",
        "Metadata",
        "ObjectLockLegalHoldStatus",
        "ObjectLockMode",
        "ObjectLockRetainUntilDate",
        "RequestPayer",
        "ServerSideEncryption",
        "SSECustomerAlgorithm",
        "SSECustomerKey",
        "SSECustomerKeyMD5",
        "SSEKMSKeyId",
        "SSEKMSEncryptionContext",
        "StorageClass",
        "Tagging",
        "WebsiteRedirectLocation",
    }
)
DOWNLOAD_ARGS = frozenset(
    {
        "ChecksumMode",
        "ExpectedBucketOwner",
        "RequestPayer",
        "SSECustomerAlgorithm",
        "SSECustomerKey",
        "SSECustomerKeyMD5",
        "VersionId",
    }
)
# What every part request repeats from the upload's ExtraArgs.
_PART_ARGS = (
    "ExpectedBucketOwner",
    "RequestPayer",
    "SSECustomerAlgorithm",
    "SSECustomerKey",
    "SSECustomerKeyMD5",
    "ChecksumAlgorithm",
)
# What CompleteMultipartUpload and AbortMultipartUpload repeat.
_COMPLETE_ARGS = (
    "ExpectedBucketOwner",
    "RequestPayer",
    "SSECustomerAlgorithm",
    "SSECustomerKey",
    "SSECustomerKeyMD5",
)
_ABORT_ARGS = ("ExpectedBucketOwner", "RequestPayer")
_CHECKSUM_KEYS = ("ChecksumCRC32", "ChecksumCRC32C", "ChecksumSHA1", "ChecksumSHA256")

Callback = Callable[[int], Any]


class TransferConfig:
    """How a managed transfer splits and parallelises its work, as in boto3."""

    __slots__ = (
        "max_concurrency",
        "multipart_chunksize",
        "multipart_threshold",
        "num_download_attempts",
        "use_threads",
    )

    def __init__(
        self,
        multipart_threshold: int = 8 * MiB,
        max_concurrency: int = 10,
        multipart_chunksize: int = 8 * MiB,
        num_download_attempts: int = 5,
        use_threads: bool = True,
    ) -> None:
        if multipart_threshold < 1:
            raise ParamValidationError("multipart_threshold must be at least 1 byte")
        if not MIN_PART <= multipart_chunksize <= MAX_PART:
            raise ParamValidationError(
                f"multipart_chunksize must be from {MIN_PART} to {MAX_PART} bytes"
            )
        if max_concurrency < 1 or num_download_attempts < 1:
            raise ParamValidationError(
                "max_concurrency and num_download_attempts must be at least 1"
            )
        self.multipart_threshold = multipart_threshold
        self.max_concurrency = max_concurrency if use_threads else 1
        self.multipart_chunksize = multipart_chunksize
        self.num_download_attempts = num_download_attempts
        self.use_threads = use_threads

    def __repr__(self) -> str:
        return (
            f"TransferConfig(multipart_threshold={self.multipart_threshold}, "
            f"max_concurrency={self.max_concurrency}, "
            f"multipart_chunksize={self.multipart_chunksize})"
        )


# -- the plan, shared by sync and async ----------------------------------------


def part_size(config: TransferConfig, total: int | None) -> int:
    """The part size: the configured one, grown to fit S3's 10,000-part cap."""
    size = config.multipart_chunksize
    if total is not None:
        while -(-total // size) > MAX_PARTS:
            size *= 2
    return min(size, MAX_PART)


def checked_args(
    extra: dict[str, Any] | None, allowed: frozenset[str]
) -> dict[str, Any]:
    """ExtraArgs, refused with the offending names if any is not allowed."""
    extra = dict(extra or {})
    unknown = sorted(set(extra) - allowed)
    if unknown:
        raise ParamValidationError(
            f"ExtraArgs not allowed here: {', '.join(unknown)}; "
            f"allowed: {', '.join(sorted(allowed))}"
        )
    return extra


def _pick(extra: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    return {k: extra[k] for k in names if k in extra}


def part_args(extra: dict[str, Any]) -> dict[str, Any]:
    """The ExtraArgs each UploadPart repeats (SSE-C keys, payer, checksum)."""
    return _pick(extra, _PART_ARGS)


def completed_part(number: int, result: dict[str, Any]) -> dict[str, Any]:
    """The entry CompleteMultipartUpload needs for one uploaded part."""
    part = {"PartNumber": number, "ETag": result["ETag"]}
    for key in _CHECKSUM_KEYS:
        if key in result:
            part[key] = result[key]
    return part


def ranges(total: int, size: int) -> list[tuple[int, int]]:
    """Inclusive byte ranges covering `total` bytes in parts of `size`."""
    return [(start, min(start + size, total) - 1) for start in range(0, total, size)]


def _read_full(fileobj: IO[bytes], amount: int) -> bytes:
    """Read `amount` bytes, or fewer only at the end of the file."""
    data = fileobj.read(amount)
    if len(data) == amount or not data:
        return data
    pieces = [data]
    got = len(data)
    while got < amount:
        more = fileobj.read(amount - got)
        if not more:
            break
        pieces.append(more)
        got += len(more)
    return b"".join(pieces)


def _size_of(fileobj: IO[bytes]) -> int | None:
    """Bytes left to read in a seekable file, else None."""
    try:
        if not fileobj.seekable():
            return None
        here = fileobj.tell()
        end = fileobj.seek(0, os.SEEK_END)
        fileobj.seek(here)
    except (AttributeError, OSError, ValueError):
        return None
    return end - here


def _temp_name(filename: str) -> str:
    return f"{filename}.{os.urandom(4).hex()}.part"


def _progress(callback: Callback | None) -> Callback:
    if callback is None:
        return lambda amount: None
    lock = threading.Lock()

    def report(amount: int) -> None:
        if amount:
            with lock:
                callback(amount)

    return report


# -- sync ----------------------------------------------------------------------


def upload_fileobj(
    client: S3Client,
    Fileobj: IO[bytes],
    Bucket: str,
    Key: str,
    ExtraArgs: dict[str, Any] | None = None,
    Callback: Callback | None = None,
    Config: TransferConfig | None = None,
) -> None:
    """Upload a readable binary file object, in parts above the threshold."""
    config = Config or TransferConfig()
    extra = checked_args(ExtraArgs, UPLOAD_ARGS)
    report = _progress(Callback)
    size = part_size(config, _size_of(Fileobj))

    first = _read_full(Fileobj, max(config.multipart_threshold, 1))
    if len(first) < config.multipart_threshold:
        client.put_object(Bucket=Bucket, Key=Key, Body=first, **extra)
        report(len(first))
        return

    upload = client.create_multipart_upload(Bucket=Bucket, Key=Key, **extra)
    upload_id = upload["UploadId"]
    common = {"Bucket": Bucket, "Key": Key, "UploadId": upload_id, **part_args(extra)}
    try:
        parts = _upload_parts(client, Fileobj, first, size, common, config, report)
        client.complete_multipart_upload(
            Bucket=Bucket,
            Key=Key,
            UploadId=upload_id,
            MultipartUpload={"Parts": parts},
            **_pick(extra, _COMPLETE_ARGS),
        )
    except BaseException:
        _abort(client, Bucket, Key, upload_id, extra)
        raise


def _upload_parts(
    client: S3Client,
    fileobj: IO[bytes],
    first: bytes,
    size: int,
    common: dict[str, Any],
    config: TransferConfig,
    report: Callback,
) -> list[dict[str, Any]]:
    """Upload every part with at most `max_concurrency` parts in memory."""
    slots = threading.BoundedSemaphore(config.max_concurrency)
    failed = threading.Event()
    done: dict[int, dict[str, Any]] = {}
    pending = memoryview(first)

    def send(number: int, data: bytes) -> None:
        try:
            if failed.is_set():
                return
            result = client.upload_part(PartNumber=number, Body=data, **common)
            done[number] = completed_part(number, result)
            report(len(data))
        except BaseException:
            failed.set()
            raise
        finally:
            slots.release()

    futures: list[Future[None]] = []
    with ThreadPoolExecutor(max_workers=config.max_concurrency) as pool:
        number = 0
        while not failed.is_set():
            slots.acquire()
            if len(pending) >= size:
                data, pending = bytes(pending[:size]), pending[size:]
            else:
                more = _read_full(fileobj, size - len(pending))
                data, pending = bytes(pending) + more, memoryview(b"")
            if not data:
                slots.release()
                break
            number += 1
            if number > MAX_PARTS:
                slots.release()
                failed.set()
                raise ParamValidationError(
                    f"the file needs more than {MAX_PARTS} parts of {size} bytes"
                )
            futures.append(pool.submit(send, number, data))
        wait(futures, return_when=FIRST_EXCEPTION)
    for future in futures:
        future.result()
    return [done[n] for n in sorted(done)]


def _abort(
    client: S3Client, bucket: str, key: str, upload_id: str, extra: dict[str, Any]
) -> None:
    """Abort a failed multipart upload; a failure to abort is not hidden."""
    client.abort_multipart_upload(
        Bucket=bucket, Key=key, UploadId=upload_id, **_pick(extra, _ABORT_ARGS)
    )


def upload_file(
    client: S3Client,
    Filename: str | os.PathLike[str],
    Bucket: str,
    Key: str,
    ExtraArgs: dict[str, Any] | None = None,
    Callback: Callback | None = None,
    Config: TransferConfig | None = None,
) -> None:
    """Upload a file from disk, in parts above the threshold."""
    with open(Filename, "rb") as fileobj:
        upload_fileobj(client, fileobj, Bucket, Key, ExtraArgs, Callback, Config)


def download_fileobj(
    client: S3Client,
    Bucket: str,
    Key: str,
    Fileobj: IO[bytes],
    ExtraArgs: dict[str, Any] | None = None,
    Callback: Callback | None = None,
    Config: TransferConfig | None = None,
) -> None:
    """Download an object into a writable binary file object."""
    config = Config or TransferConfig()
    extra = checked_args(ExtraArgs, DOWNLOAD_ARGS)
    report = _progress(Callback)
    head = client.head_object(Bucket=Bucket, Key=Key, **extra)
    total = int(head.get("ContentLength", 0))
    where = {"Bucket": Bucket, "Key": Key, "IfMatch": head["ETag"], **extra}

    if total < config.multipart_threshold:
        _fetch(client, where, None, Fileobj.write, report, config)
        return

    size = part_size(config, total)
    lock = threading.Lock()
    seekable = _size_of(Fileobj) is not None
    if seekable:
        base = Fileobj.tell()

        def fetch_range(span: tuple[int, int]) -> None:
            position = [base + span[0]]

            def write(chunk: bytes) -> None:
                with lock:
                    Fileobj.seek(position[0])
                    Fileobj.write(chunk)
                position[0] += len(chunk)

            _fetch(client, where, span, write, report, config)

        with ThreadPoolExecutor(max_workers=config.max_concurrency) as pool:
            futures = [pool.submit(fetch_range, s) for s in ranges(total, size)]
            wait(futures, return_when=FIRST_EXCEPTION)
            for future in futures:
                future.cancel()
        for future in futures:
            if not future.cancelled():
                future.result()
        with lock:
            Fileobj.seek(base + total)
        return

    # Not seekable: parts are written in order, at most max_concurrency ahead.
    def fetch_part(span: tuple[int, int]) -> bytes:
        chunks: list[bytes] = []
        _fetch(client, where, span, chunks.append, report, config)
        return b"".join(chunks)

    with ThreadPoolExecutor(max_workers=config.max_concurrency) as pool:
        spans = ranges(total, size)
        window: list[Future[bytes]] = []
        for span in spans:
            window.append(pool.submit(fetch_part, span))
            if len(window) >= config.max_concurrency:
                Fileobj.write(window.pop(0).result())
        for part in window:
            Fileobj.write(part.result())


def _fetch(
    client: S3Client,
    where: dict[str, Any],
    span: tuple[int, int] | None,
    write: Callable[[bytes], Any],
    report: Callback,
    config: TransferConfig,
) -> None:
    """GET an object or one range of it into `write`, resuming a broken read."""
    start, end = span if span is not None else (0, None)
    attempts = 0
    while True:
        params = dict(where)
        if span is not None or start:
            params["Range"] = f"bytes={start}-{'' if end is None else end}"
        body = client.get_object(**params)["Body"]
        try:
            for chunk in body.iter_chunks(IO_CHUNK):
                write(chunk)
                start += len(chunk)
                report(len(chunk))
            return
        except ServiceError:
            attempts += 1
            if attempts >= config.num_download_attempts:
                raise
        finally:
            body.close()


def download_file(
    client: S3Client,
    Bucket: str,
    Key: str,
    Filename: str | os.PathLike[str],
    ExtraArgs: dict[str, Any] | None = None,
    Callback: Callback | None = None,
    Config: TransferConfig | None = None,
) -> None:
    """Download an object to a file: written aside, then moved into place."""
    filename = os.fspath(Filename)
    temp = _temp_name(filename)
    try:
        with open(temp, "wb") as fileobj:
            download_fileobj(client, Bucket, Key, fileobj, ExtraArgs, Callback, Config)
        os.replace(temp, filename)
    except BaseException:
        if os.path.exists(temp):
            os.remove(temp)
        raise


# -- async ---------------------------------------------------------------------


async def aupload_fileobj(
    client: AsyncS3Client,
    Fileobj: IO[bytes],
    Bucket: str,
    Key: str,
    ExtraArgs: dict[str, Any] | None = None,
    Callback: Callback | None = None,
    Config: TransferConfig | None = None,
) -> None:
    """Upload a readable binary file object, in concurrent parts as tasks."""
    config = Config or TransferConfig()
    extra = checked_args(ExtraArgs, UPLOAD_ARGS)
    report = _progress(Callback)
    size = part_size(config, _size_of(Fileobj))
    read = asyncio.to_thread

    first = await read(_read_full, Fileobj, config.multipart_threshold)
    if len(first) < config.multipart_threshold:
        await client.put_object(Bucket=Bucket, Key=Key, Body=first, **extra)
        report(len(first))
        return

    upload = await client.create_multipart_upload(Bucket=Bucket, Key=Key, **extra)
    upload_id = upload["UploadId"]
    common = {"Bucket": Bucket, "Key": Key, "UploadId": upload_id, **part_args(extra)}
    slots = asyncio.Semaphore(config.max_concurrency)
    done: dict[int, dict[str, Any]] = {}

    async def send(number: int, data: bytes) -> None:
        try:
            result = await client.upload_part(PartNumber=number, Body=data, **common)
            done[number] = completed_part(number, result)
            report(len(data))
        finally:
            slots.release()

    tasks: list[asyncio.Task[None]] = []
    try:
        pending = first
        number = 0
        while True:
            await slots.acquire()
            if any(t.done() and not t.cancelled() and t.exception() for t in tasks):
                slots.release()
                break
            if len(pending) >= size:
                data, pending = pending[:size], pending[size:]
            else:
                more = await read(_read_full, Fileobj, size - len(pending))
                data, pending = pending + more, b""
            if not data:
                slots.release()
                break
            number += 1
            tasks.append(asyncio.ensure_future(send(number, data)))
        await asyncio.gather(*tasks)
        await client.complete_multipart_upload(
            Bucket=Bucket,
            Key=Key,
            UploadId=upload_id,
            MultipartUpload={"Parts": [done[n] for n in sorted(done)]},
            **_pick(extra, _COMPLETE_ARGS),
        )
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await client.abort_multipart_upload(
            Bucket=Bucket, Key=Key, UploadId=upload_id, **_pick(extra, _ABORT_ARGS)
        )
        raise


async def aupload_file(
    client: AsyncS3Client,
    Filename: str | os.PathLike[str],
    Bucket: str,
    Key: str,
    ExtraArgs: dict[str, Any] | None = None,
    Callback: Callback | None = None,
    Config: TransferConfig | None = None,
) -> None:
    """Upload a file from disk, in concurrent parts as tasks."""
    with open(Filename, "rb") as fileobj:
        await aupload_fileobj(client, fileobj, Bucket, Key, ExtraArgs, Callback, Config)


async def adownload_fileobj(
    client: AsyncS3Client,
    Bucket: str,
    Key: str,
    Fileobj: IO[bytes],
    ExtraArgs: dict[str, Any] | None = None,
    Callback: Callback | None = None,
    Config: TransferConfig | None = None,
) -> None:
    """Download an object into a writable binary file object, ranges as tasks."""
    config = Config or TransferConfig()
    extra = checked_args(ExtraArgs, DOWNLOAD_ARGS)
    report = _progress(Callback)
    head = await client.head_object(Bucket=Bucket, Key=Key, **extra)
    total = int(head.get("ContentLength", 0))
    where = {"Bucket": Bucket, "Key": Key, "IfMatch": head["ETag"], **extra}
    size = total + 1 if total < config.multipart_threshold else part_size(config, total)
    seekable = _size_of(Fileobj) is not None
    base = Fileobj.tell() if seekable else 0
    slots = asyncio.Semaphore(config.max_concurrency)

    async def fetch_part(span: tuple[int, int] | None) -> bytes:
        async with slots:
            start, end = span if span is not None else (0, None)
            chunks: list[bytes] = []
            attempts = 0
            while True:
                params = dict(where)
                if span is not None or start:
                    params["Range"] = f"bytes={start}-{'' if end is None else end}"
                body = (await client.get_object(**params))["Body"]
                try:
                    async for chunk in body.iter_chunks(IO_CHUNK):
                        chunks.append(chunk)
                        start += len(chunk)
                        report(len(chunk))
                    return b"".join(chunks)
                except ServiceError:
                    attempts += 1
                    if attempts >= config.num_download_attempts:
                        raise
                finally:
                    await body.close()

    spans: list[tuple[int, int] | None] = (
        [None] if total < config.multipart_threshold else list(ranges(total, size))
    )
    # Parts are written in order; at most max_concurrency are fetched ahead.
    window: list[asyncio.Task[bytes]] = []
    try:
        for span in spans:
            window.append(asyncio.ensure_future(fetch_part(span)))
            if len(window) >= config.max_concurrency:
                Fileobj.write(await window.pop(0))
        for task in window:
            Fileobj.write(await task)
    except BaseException:
        for task in window:
            task.cancel()
        await asyncio.gather(*window, return_exceptions=True)
        raise
    if seekable:
        Fileobj.seek(base + total)


async def adownload_file(
    client: AsyncS3Client,
    Bucket: str,
    Key: str,
    Filename: str | os.PathLike[str],
    ExtraArgs: dict[str, Any] | None = None,
    Callback: Callback | None = None,
    Config: TransferConfig | None = None,
) -> None:
    """Download an object to a file: written aside, then moved into place."""
    filename = os.fspath(Filename)
    temp = _temp_name(filename)
    try:
        with open(temp, "wb") as fileobj:
            await adownload_fileobj(
                client, Bucket, Key, fileobj, ExtraArgs, Callback, Config
            )
        os.replace(temp, filename)
    except BaseException:
        if os.path.exists(temp):
            os.remove(temp)
        raise
