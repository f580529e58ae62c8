"""Managed transfers: upload_file, upload_fileobj, download_file, download_fileobj.

Uploads at or above `multipart_threshold` become multipart uploads whose parts
go up in parallel (threads for the sync client, tasks for the async one); below
it, one PutObject. Downloads at or above the threshold are fetched as ranged
GETs in parallel, each pinned to the object's ETag with If-Match so a changing
object cannot be stitched together from two versions.

Memory stays bounded. A regular file's parts are windows on the file, read
with pread as they are sent and signed with their SHA-256 (read once ahead),
so none is held in memory. A stream's parts are read by the workers, one each,
so at most `multipart_chunksize * max_concurrency` bytes are held at once.
Downloads write each chunk where it belongs as it arrives. A multipart upload
that fails for any reason is aborted once the parts under way have finished,
so no parts are left behind to be billed; a download that fails removes its
temporary file and leaves any existing file untouched.

A ranged GET whose connection breaks mid-body resumes from the first byte not
yet written, up to `num_download_attempts` times; a 412 on any range means the
object changed under the download, which then fails without a partial file.

The progress callback receives the number of bytes moved since its last call,
as boto3's does, from whichever thread moved them; a part counts once it is
stored, so the calls add up to the object's size exactly, retries or not.

Sync and async share the plan (`part_size`, `checked_args`, `first_read`,
`upload_parts`, `_Range`, `_Sink`, ...); only the waiting differs: threads
pull work in `_in_threads`, tasks in `_in_tasks`.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import hashlib
import logging
import os
import stat
import threading
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from typing import IO, TYPE_CHECKING, Any

from ..errors import (
    ClientError,
    EndpointError,
    IncompleteReadError,
    ParamValidationError,
)

if TYPE_CHECKING:
    from .client import AsyncS3Client, S3Client

KiB = 1024
MiB = KiB * KiB
MIN_PART = 5 * MiB
MAX_PART = 5 * 1024 * MiB
MAX_PARTS = 10000
IO_CHUNK = 64 * KiB
IO_HASH = 1 * MiB

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

ProgressCallback = Callable[[int], Any]
log = logging.getLogger(__name__)


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
    if extra is not None and not isinstance(extra, dict):
        raise ParamValidationError(
            f"ExtraArgs must be a dict, not {type(extra).__name__}"
        )
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


def multipart_args(extra: dict[str, Any], checksum_calculation: str) -> dict[str, Any]:
    """ExtraArgs for CreateMultipartUpload.

    Where the client adds a CRC32 to every upload by default, the multipart
    upload is created with CRC32 too, so S3 accepts the part checksums the
    completion lists.
    """
    if "ChecksumAlgorithm" in extra or checksum_calculation != "when_supported":
        return extra
    return {**extra, "ChecksumAlgorithm": "CRC32"}


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
    if data is None:
        data = b""
    if len(data) == amount or not data:
        return bytes(data)
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


def first_read(fileobj: IO[bytes], config: TransferConfig) -> tuple[bytes, bool]:
    """What to read before choosing, and whether the upload is multipart.

    A file of known size is not read ahead; a stream is read up to the
    threshold, and goes up in one PutObject if it ends before it.
    """
    size = _size_of(fileobj)
    if size is not None:
        if size < config.multipart_threshold:
            return _read_full(fileobj, size), False
        return b"", True
    first = _read_full(fileobj, config.multipart_threshold)
    return first, len(first) >= config.multipart_threshold


class _Parts:
    """An upload's parts, read one at a time when a slot frees up."""

    def __init__(self, fileobj: IO[bytes], first: bytes, size: int) -> None:
        self._fileobj = fileobj
        self._pending = memoryview(first)
        self._size = size
        self._number = 0

    def next(self) -> tuple[int, bytes] | None:
        """The next part's number and bytes, or None at the end of the file."""
        size = self._size
        if len(self._pending) >= size:
            data = bytes(self._pending[:size])
            self._pending = self._pending[size:]
        else:
            more = _read_full(self._fileobj, size - len(self._pending))
            data = bytes(self._pending) + more if self._pending else more
            self._pending = memoryview(b"")
        if not data:
            return None
        self._number += 1
        if self._number > MAX_PARTS:
            raise ParamValidationError(
                f"the stream needs more than {MAX_PARTS} parts of {size} bytes; "
                f"raise multipart_chunksize"
            )
        return self._number, data


class _Slice:
    """A read-only window on `length` bytes of a file from `offset`.

    Read with pread, so parts of one file go up from many threads at once
    without sharing a file position, and no part is held in memory. Its
    SHA-256, read ahead, is the payload hash the part is signed with, so the
    server checks the bytes that arrive just as for a part sent as bytes.
    """

    def __init__(self, fd: int, offset: int, length: int) -> None:
        self._fd = fd
        self._offset = offset
        self._length = length
        self._position = 0
        self.payload_sha256: str | None = None

    def hash_payload(self) -> None:
        """Compute `payload_sha256`, which the signer signs as it would bytes'."""
        digest = hashlib.sha256()
        for start in range(0, self._length, IO_HASH):
            amount = min(IO_HASH, self._length - start)
            digest.update(os.pread(self._fd, amount, self._offset + start))
        self.payload_sha256 = digest.hexdigest()

    def read(self, amount: int = -1) -> bytes:
        """Up to `amount` bytes (all that is left when negative)."""
        left = self._length - self._position
        if amount < 0 or amount > left:
            amount = left
        data = os.pread(self._fd, amount, self._offset + self._position)
        self._position += len(data)
        return data

    def seek(self, position: int, whence: int = os.SEEK_SET) -> int:
        """Move within the window, as a file's seek does."""
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self._position}.get(whence, self._length)
        self._position = min(max(base + position, 0), self._length)
        return self._position

    def tell(self) -> int:
        """The position within the window."""
        return self._position

    def seekable(self) -> bool:
        """True: a retry rewinds the window."""
        return True

    def readable(self) -> bool:
        """True."""
        return True

    def __len__(self) -> int:
        return self._length


class _FileParts:
    """An upload's parts as windows on a regular file: nothing read ahead."""

    def __init__(self, fd: int, start: int, total: int, size: int) -> None:
        self._fd = fd
        self._spans = iter(
            [
                (n + 1, start + offset, min(size, total - offset))
                for n, offset in enumerate(range(0, total, size))
            ]
        )

    def next(self) -> tuple[int, _Slice] | None:
        """The next part's number and window, or None after the last."""
        span = next(self._spans, None)
        if span is None:
            return None
        number, offset, length = span
        return number, _Slice(self._fd, offset, length)


def _regular_fd(fileobj: IO[bytes]) -> int | None:
    """The descriptor of a regular file, whose parts can be read in place."""
    try:
        fd = fileobj.fileno()
        return fd if stat.S_ISREG(os.fstat(fd).st_mode) else None
    except (AttributeError, OSError, ValueError):
        return None


def prepare_part(body: _Slice | bytes) -> None:
    """Hash a window on a file ahead of signing (bytes are hashed as signed)."""
    if isinstance(body, _Slice):
        body.hash_payload()


def upload_parts(
    fileobj: IO[bytes], first: bytes, config: TransferConfig
) -> _Parts | _FileParts:
    """Where the parts come from: windows on a regular file, else reads."""
    total = _size_of(fileobj)
    fd = _regular_fd(fileobj) if total is not None and not first else None
    if fd is None or total is None:
        return _Parts(fileobj, first, part_size(config, total))
    return _FileParts(fd, fileobj.tell(), total, part_size(config, total))


def _note_abort_failure(
    error: BaseException, failure: Exception, upload_id: str
) -> None:
    # The upload's own error is what the caller needs; the failed abort rides
    # along as a note (Python 3.11+) so leftover parts are not a surprise.
    log.debug("aborting multipart upload %s failed: %s", upload_id, failure)
    add_note = getattr(error, "add_note", None)
    if add_note is not None:
        add_note(
            f"aborting multipart upload {upload_id} failed too, "
            f"so its parts may remain: {failure}"
        )


class _Range:
    """One GET of a whole object or of a byte range, resumable after a break."""

    __slots__ = ("attempts", "end", "ranged", "start", "where")

    def __init__(self, where: dict[str, Any], span: tuple[int, int] | None) -> None:
        self.where = where
        self.ranged = span is not None
        self.start: int = 0 if span is None else span[0]
        self.end: int | None = None if span is None else span[1]
        self.attempts = 1

    def params(self) -> dict[str, Any]:
        """GetObject's parameters for the bytes not yet written."""
        params = dict(self.where)
        if self.ranged or self.start:
            end = "" if self.end is None else self.end
            params["Range"] = f"bytes={self.start}-{end}"
        return params

    def may_resume(self, error: Exception, config: TransferConfig) -> bool:
        """True when a body that broke off may be fetched again from `start`."""
        if not isinstance(error, EndpointError | IncompleteReadError):
            return False
        if self.attempts >= config.num_download_attempts:
            return False
        self.attempts += 1
        log.debug("body broke off at byte %d (%s): resuming", self.start, error)
        return True


def _changed(error: ClientError) -> ClientError | None:
    """For a 412 on a GET pinned with If-Match, an error saying what changed."""
    if error.code != "PreconditionFailed" and error.status_code != 412:
        return None
    response = dict(error.response)
    response["Error"] = {
        **response.get("Error", {}),
        "Code": error.code,
        "Message": "the object changed during the download: its ETag no "
        "longer matches the one the download started with",
    }
    return type(error)(response, error.operation_name)


def _pwrite_all(fd: int, data: bytes, offset: int) -> None:
    view = memoryview(data)
    while view:
        written = os.pwrite(fd, view, offset)
        view = view[written:]
        offset += written


class _Sink:
    """Where downloaded bytes go: at their offset when the file allows it."""

    def __init__(self, fileobj: IO[bytes], *, own_fd: bool = False) -> None:
        self.fileobj = fileobj
        self.seekable = _size_of(fileobj) is not None
        self.base = fileobj.tell() if self.seekable else 0
        # Only a file this module opened is written with pwrite: a caller's
        # file may be in append mode, where pwrite ignores the offset.
        self.fd = fileobj.fileno() if own_fd else None
        self.lock = threading.Lock()

    def write_at(self, at: int, chunk: bytes) -> None:
        """Write `chunk` where byte `at` of the object goes."""
        if self.fd is not None:
            _pwrite_all(self.fd, chunk, self.base + at)
            return
        with self.lock:
            self.fileobj.seek(self.base + at)
            self.fileobj.write(chunk)

    def finish(self, total: int) -> None:
        """Leave the file positioned after the object, as a plain write would."""
        if self.seekable:
            self.fileobj.seek(self.base + total)


def _release_part(body: _Slice | bytes) -> None:
    # httpx ties each response to its stream in a reference cycle, and the
    # response holds the request and so a part's bytes: without a collection
    # they would outlive the part and memory would grow with the file. The
    # cycle is fresh, so collecting the young generations frees it cheaply.
    if isinstance(body, bytes):
        gc.collect(1)


def _temp_name(filename: str) -> str:
    return f"{filename}.{os.urandom(4).hex()}.part"


def _progress(callback: ProgressCallback | None) -> ProgressCallback:
    if callback is None:
        return lambda amount: None
    if not callable(callback):
        raise ParamValidationError(
            f"Callback must be callable, not {type(callback).__name__}"
        )
    lock = threading.Lock()

    def report(amount: int) -> None:
        if amount:
            with lock:
                callback(amount)

    return report


_CONFIG_FIELDS = (
    "multipart_threshold",
    "max_concurrency",
    "multipart_chunksize",
    "num_download_attempts",
    "use_threads",
)


def _config(config: Any) -> TransferConfig:
    """Our TransferConfig, or one made from an object with the same fields.

    A boto3 `TransferConfig` has them, so code that builds one keeps working.
    """
    if config is None:
        return TransferConfig()
    if isinstance(config, TransferConfig):
        return config
    if not all(hasattr(config, name) for name in _CONFIG_FIELDS):
        raise ParamValidationError(
            f"Config must be a TransferConfig, not {type(config).__name__}"
        )
    return TransferConfig(**{name: getattr(config, name) for name in _CONFIG_FIELDS})


# -- sync ----------------------------------------------------------------------


def _in_threads(count: int, step: Callable[[], bool]) -> None:
    """Run `step` on `count` threads until each says done; raise the first error.

    After an error no thread starts another step; steps under way finish, so
    nothing is still in flight when the caller cleans up.
    """
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            while not errors and step():
                pass
        except BaseException as error:
            errors.append(error)

    if count == 1:
        worker()
    else:
        with ThreadPoolExecutor(count, thread_name_prefix="s3-transfer") as pool:
            workers = [pool.submit(worker) for _ in range(count)]
            try:
                wait(workers)
            except BaseException as error:  # KeyboardInterrupt: stop the workers
                errors.append(error)
                raise
    if errors:
        raise errors[0]


def upload_fileobj(
    client: S3Client,
    Fileobj: IO[bytes],
    Bucket: str,
    Key: str,
    ExtraArgs: dict[str, Any] | None = None,
    Callback: ProgressCallback | None = None,
    Config: TransferConfig | None = None,
) -> None:
    """Upload a readable binary file object, in parts above the threshold."""
    config = _config(Config)
    extra = checked_args(ExtraArgs, UPLOAD_ARGS)
    report = _progress(Callback)
    first, multipart = first_read(Fileobj, config)
    if not multipart:
        client.put_object(Bucket=Bucket, Key=Key, Body=first, **extra)
        report(len(first))
        return

    extra = multipart_args(extra, client.meta.config.request_checksum_calculation)
    parts = upload_parts(Fileobj, first, config)
    del first
    upload = client.create_multipart_upload(Bucket=Bucket, Key=Key, **extra)
    upload_id = upload["UploadId"]
    common = {"Bucket": Bucket, "Key": Key, "UploadId": upload_id, **part_args(extra)}
    done: dict[int, dict[str, Any]] = {}
    reading = threading.Lock()

    def step() -> bool:
        with reading:
            part = parts.next()
        if part is None:
            return False
        number, body = part
        del part
        prepare_part(body)
        result = client.upload_part(PartNumber=number, Body=body, **common)
        done[number] = completed_part(number, result)
        report(len(body))
        _release_part(body)
        return True

    try:
        _in_threads(config.max_concurrency, step)
        client.complete_multipart_upload(
            Bucket=Bucket,
            Key=Key,
            UploadId=upload_id,
            MultipartUpload={"Parts": [done[n] for n in sorted(done)]},
            **_pick(extra, _COMPLETE_ARGS),
        )
    except BaseException as error:
        try:
            client.abort_multipart_upload(
                Bucket=Bucket, Key=Key, UploadId=upload_id, **_pick(extra, _ABORT_ARGS)
            )
        except Exception as failure:
            _note_abort_failure(error, failure, upload_id)
        raise


def upload_file(
    client: S3Client,
    Filename: str | os.PathLike[str],
    Bucket: str,
    Key: str,
    ExtraArgs: dict[str, Any] | None = None,
    Callback: ProgressCallback | None = None,
    Config: TransferConfig | None = None,
) -> None:
    """Upload a file from disk, in parts above the threshold."""
    with open(Filename, "rb") as fileobj:
        upload_fileobj(client, fileobj, Bucket, Key, ExtraArgs, Callback, Config)


def _fetch(
    client: S3Client,
    part: _Range,
    write: Callable[[int, bytes], Any],
    report: ProgressCallback,
    config: TransferConfig,
) -> None:
    """GET an object or one range of it into `write`, resuming a broken body."""
    while True:
        try:
            body = client.get_object(**part.params())["Body"]
        except ClientError as error:
            changed = _changed(error)
            if changed is None:
                raise
            raise changed from error
        try:
            for chunk in body.iter_chunks(IO_CHUNK):
                write(part.start, chunk)
                part.start += len(chunk)
                report(len(chunk))
            return
        except Exception as error:
            if not part.may_resume(error, config):
                raise
        finally:
            body.close()


def _download(
    client: S3Client,
    Bucket: str,
    Key: str,
    sink: _Sink,
    ExtraArgs: dict[str, Any] | None,
    Callback: ProgressCallback | None,
    Config: TransferConfig | None,
) -> None:
    config = _config(Config)
    extra = checked_args(ExtraArgs, DOWNLOAD_ARGS)
    report = _progress(Callback)
    head = client.head_object(Bucket=Bucket, Key=Key, **extra)
    total = int(head.get("ContentLength", 0))
    where = {"Bucket": Bucket, "Key": Key, "IfMatch": head["ETag"], **extra}
    write = sink.write_at if sink.seekable else _appender(sink.fileobj)

    if total < config.multipart_threshold:
        _fetch(client, _Range(where, None), write, report, config)
    elif sink.seekable:
        spans = iter(ranges(total, part_size(config, total)))
        taking = threading.Lock()

        def step() -> bool:
            with taking:
                span = next(spans, None)
            if span is None:
                return False
            _fetch(client, _Range(where, span), write, report, config)
            return True

        _in_threads(config.max_concurrency, step)
    else:
        _fetch_in_order(client, where, total, sink.fileobj, report, config)
    sink.finish(total)


def _appender(fileobj: IO[bytes]) -> Callable[[int, bytes], Any]:
    return lambda at, chunk: fileobj.write(chunk)


def _fetch_in_order(
    client: S3Client,
    where: dict[str, Any],
    total: int,
    fileobj: IO[bytes],
    report: ProgressCallback,
    config: TransferConfig,
) -> None:
    """Ranges fetched in parallel, written in order: at most a window ahead."""

    def fetch_part(span: tuple[int, int]) -> bytes:
        chunks: list[bytes] = []
        _fetch(
            client, _Range(where, span), lambda at, c: chunks.append(c), report, config
        )
        return b"".join(chunks)

    window: list[Future[bytes]] = []
    with ThreadPoolExecutor(config.max_concurrency) as pool:
        try:
            for span in ranges(total, part_size(config, total)):
                window.append(pool.submit(fetch_part, span))
                if len(window) >= config.max_concurrency:
                    fileobj.write(window.pop(0).result())
            for part in window:
                fileobj.write(part.result())
        except BaseException:
            for part in window:
                part.cancel()
            wait(window, return_when=FIRST_EXCEPTION)
            raise


def download_fileobj(
    client: S3Client,
    Bucket: str,
    Key: str,
    Fileobj: IO[bytes],
    ExtraArgs: dict[str, Any] | None = None,
    Callback: ProgressCallback | None = None,
    Config: TransferConfig | None = None,
) -> None:
    """Download an object into a writable binary file object."""
    _download(client, Bucket, Key, _Sink(Fileobj), ExtraArgs, Callback, Config)


@contextlib.contextmanager
def _aside(filename: str | os.PathLike[str]) -> Iterator[_Sink]:
    """A sink on a file beside `filename`: moved into place if all went well,
    removed otherwise, so an existing file is never left half written."""
    final = os.fspath(filename)
    temp = _temp_name(final)
    try:
        with open(temp, "wb", buffering=0) as fileobj:
            yield _Sink(fileobj, own_fd=True)
        os.replace(temp, final)
    except BaseException:
        if os.path.exists(temp):
            os.remove(temp)
        raise


def download_file(
    client: S3Client,
    Bucket: str,
    Key: str,
    Filename: str | os.PathLike[str],
    ExtraArgs: dict[str, Any] | None = None,
    Callback: ProgressCallback | None = None,
    Config: TransferConfig | None = None,
) -> None:
    """Download an object to a file: written aside, then moved into place."""
    with _aside(Filename) as sink:
        _download(client, Bucket, Key, sink, ExtraArgs, Callback, Config)


# -- async ---------------------------------------------------------------------


async def _in_tasks(count: int, step: Callable[[], Awaitable[bool]]) -> None:
    """Run `step` in `count` tasks until each says done; raise the first error."""
    errors: list[Exception] = []

    async def worker() -> None:
        try:
            while not errors and await step():
                pass
        except Exception as error:
            errors.append(error)

    await asyncio.gather(*(worker() for _ in range(count)))
    if errors:
        raise errors[0]


async def aupload_fileobj(
    client: AsyncS3Client,
    Fileobj: IO[bytes],
    Bucket: str,
    Key: str,
    ExtraArgs: dict[str, Any] | None = None,
    Callback: ProgressCallback | None = None,
    Config: TransferConfig | None = None,
) -> None:
    """Upload a readable binary file object, in concurrent parts as tasks."""
    config = _config(Config)
    extra = checked_args(ExtraArgs, UPLOAD_ARGS)
    report = _progress(Callback)
    first, multipart = await asyncio.to_thread(first_read, Fileobj, config)
    if not multipart:
        await client.put_object(Bucket=Bucket, Key=Key, Body=first, **extra)
        report(len(first))
        return

    extra = multipart_args(extra, client.meta.config.request_checksum_calculation)
    parts = upload_parts(Fileobj, first, config)
    del first
    upload = await client.create_multipart_upload(Bucket=Bucket, Key=Key, **extra)
    upload_id = upload["UploadId"]
    common = {"Bucket": Bucket, "Key": Key, "UploadId": upload_id, **part_args(extra)}
    done: dict[int, dict[str, Any]] = {}
    reading = asyncio.Lock()

    async def step() -> bool:
        async with reading:
            part = await asyncio.to_thread(parts.next)
        if part is None:
            return False
        number, body = part
        del part
        await asyncio.to_thread(prepare_part, body)
        result = await client.upload_part(PartNumber=number, Body=body, **common)
        done[number] = completed_part(number, result)
        report(len(body))
        _release_part(body)
        return True

    try:
        await _in_tasks(config.max_concurrency, step)
        await client.complete_multipart_upload(
            Bucket=Bucket,
            Key=Key,
            UploadId=upload_id,
            MultipartUpload={"Parts": [done[n] for n in sorted(done)]},
            **_pick(extra, _COMPLETE_ARGS),
        )
    except BaseException as error:
        try:
            await client.abort_multipart_upload(
                Bucket=Bucket, Key=Key, UploadId=upload_id, **_pick(extra, _ABORT_ARGS)
            )
        except Exception as failure:
            _note_abort_failure(error, failure, upload_id)
        raise


async def aupload_file(
    client: AsyncS3Client,
    Filename: str | os.PathLike[str],
    Bucket: str,
    Key: str,
    ExtraArgs: dict[str, Any] | None = None,
    Callback: ProgressCallback | None = None,
    Config: TransferConfig | None = None,
) -> None:
    """Upload a file from disk, in concurrent parts as tasks."""
    with open(Filename, "rb") as fileobj:
        await aupload_fileobj(client, fileobj, Bucket, Key, ExtraArgs, Callback, Config)


async def _afetch(
    client: AsyncS3Client,
    part: _Range,
    write: Callable[[int, bytes], Any],
    report: ProgressCallback,
    config: TransferConfig,
) -> None:
    """The async twin of `_fetch`."""
    while True:
        try:
            body = (await client.get_object(**part.params()))["Body"]
        except ClientError as error:
            changed = _changed(error)
            if changed is None:
                raise
            raise changed from error
        try:
            async for chunk in body.iter_chunks(IO_CHUNK):
                write(part.start, chunk)
                part.start += len(chunk)
                report(len(chunk))
            return
        except Exception as error:
            if not part.may_resume(error, config):
                raise
        finally:
            await body.close()


async def _adownload(
    client: AsyncS3Client,
    Bucket: str,
    Key: str,
    sink: _Sink,
    ExtraArgs: dict[str, Any] | None,
    Callback: ProgressCallback | None,
    Config: TransferConfig | None,
) -> None:
    config = _config(Config)
    extra = checked_args(ExtraArgs, DOWNLOAD_ARGS)
    report = _progress(Callback)
    head = await client.head_object(Bucket=Bucket, Key=Key, **extra)
    total = int(head.get("ContentLength", 0))
    where = {"Bucket": Bucket, "Key": Key, "IfMatch": head["ETag"], **extra}
    write = sink.write_at if sink.seekable else _appender(sink.fileobj)

    if total < config.multipart_threshold:
        await _afetch(client, _Range(where, None), write, report, config)
    elif sink.seekable:
        spans = iter(ranges(total, part_size(config, total)))

        async def step() -> bool:
            span = next(spans, None)
            if span is None:
                return False
            await _afetch(client, _Range(where, span), write, report, config)
            return True

        await _in_tasks(config.max_concurrency, step)
    else:
        await _afetch_in_order(client, where, total, sink.fileobj, report, config)
    sink.finish(total)


async def _afetch_in_order(
    client: AsyncS3Client,
    where: dict[str, Any],
    total: int,
    fileobj: IO[bytes],
    report: ProgressCallback,
    config: TransferConfig,
) -> None:
    """The async twin of `_fetch_in_order`."""

    async def fetch_part(span: tuple[int, int]) -> bytes:
        chunks: list[bytes] = []
        part = _Range(where, span)
        await _afetch(client, part, lambda at, c: chunks.append(c), report, config)
        return b"".join(chunks)

    window: list[asyncio.Task[bytes]] = []
    try:
        for span in ranges(total, part_size(config, total)):
            window.append(asyncio.ensure_future(fetch_part(span)))
            if len(window) >= config.max_concurrency:
                fileobj.write(await window.pop(0))
        for task in window:
            fileobj.write(await task)
    except BaseException:
        for task in window:
            task.cancel()
        await asyncio.gather(*window, return_exceptions=True)
        raise


async def adownload_fileobj(
    client: AsyncS3Client,
    Bucket: str,
    Key: str,
    Fileobj: IO[bytes],
    ExtraArgs: dict[str, Any] | None = None,
    Callback: ProgressCallback | None = None,
    Config: TransferConfig | None = None,
) -> None:
    """Download an object into a writable binary file object, ranges as tasks."""
    sink = _Sink(Fileobj)
    await _adownload(client, Bucket, Key, sink, ExtraArgs, Callback, Config)


async def adownload_file(
    client: AsyncS3Client,
    Bucket: str,
    Key: str,
    Filename: str | os.PathLike[str],
    ExtraArgs: dict[str, Any] | None = None,
    Callback: ProgressCallback | None = None,
    Config: TransferConfig | None = None,
) -> None:
    """Download an object to a file: written aside, then moved into place."""
    with _aside(Filename) as sink:
        await _adownload(client, Bucket, Key, sink, ExtraArgs, Callback, Config)
