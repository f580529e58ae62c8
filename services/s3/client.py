"""The S3 client, sync and async, with boto3's method names and results.

Each method hands its keyword arguments to the operation of the same name in
`services.s3.operations`; the executor signs, sends, retries and parses.
Transfers (`upload_file`, `download_file` and friends) live in their own
module and are attached below, where marked.
"""

from __future__ import annotations

from typing import Any

import sigv4

from .._client import AsyncClient, SyncClient
from .._executor import Context
from ..errors import ParamValidationError
from . import operations as _ops
from .paginate import AsyncPaginator, Paginator, spec_for

_OPS = _ops.OPERATIONS


def _transfer() -> Any:
    """services.s3.transfer, loaded by the first transfer (it brings threads)."""
    from . import transfer

    return transfer


# boto3 method name -> operation name
METHODS: dict[str, str] = {
    "list_buckets": "ListBuckets",
    "create_bucket": "CreateBucket",
    "delete_bucket": "DeleteBucket",
    "head_bucket": "HeadBucket",
    "put_object": "PutObject",
    "get_object": "GetObject",
    "head_object": "HeadObject",
    "delete_object": "DeleteObject",
    "delete_objects": "DeleteObjects",
    "copy_object": "CopyObject",
    "list_objects_v2": "ListObjectsV2",
    "create_multipart_upload": "CreateMultipartUpload",
    "upload_part": "UploadPart",
    "complete_multipart_upload": "CompleteMultipartUpload",
    "abort_multipart_upload": "AbortMultipartUpload",
    "list_parts": "ListParts",
    "list_multipart_uploads": "ListMultipartUploads",
}


def presigned_url(
    ctx: Context,
    credentials: sigv4.Credentials,
    client_method: str,
    params: dict[str, Any] | None,
    expires_in: int,
    http_method: str | None,
) -> str:
    """A SigV4 presigned URL for a client method and its parameters."""
    name = METHODS.get(client_method)
    if name is None:
        raise ParamValidationError(f"unknown ClientMethod {client_method!r}")
    op = _OPS[name]
    params = dict(params or {})
    op.validate(params)
    request = op.build(params, ctx)
    # Only headers the caller asked for are signed: whoever uses the URL must
    # send them. Checksums and lengths the client would add are left out.
    headers = _ops._headers({k: v for k, v in params.items() if k != "Body"})
    signed = sigv4.presign(
        http_method or request.method,
        request.url,
        headers,
        credentials=credentials,
        region=request.region or ctx.region,
        service="s3",
        expires=expires_in,
    )
    return signed.url


def presigned_post(
    ctx: Context,
    credentials: sigv4.Credentials,
    bucket: str,
    key: str,
    fields: dict[str, Any] | None,
    conditions: list[Any] | None,
    expires_in: int,
) -> dict[str, Any]:
    """boto3's generate_presigned_post result for the client's bucket URL."""
    if not isinstance(bucket, str) or not bucket:
        raise ParamValidationError("Bucket must be a non-empty string")
    url, region = _ops.object_url(ctx, bucket)
    try:
        signed = sigv4.presign_post(
            url,
            bucket,
            key,
            credentials=credentials,
            region=region,
            fields=fields,
            conditions=conditions,
            expires=expires_in,
        )
    except sigv4.SigningError as exc:
        raise ParamValidationError(str(exc)) from exc
    result: dict[str, Any] = signed.as_dict()
    return result


def _sync_body(params: dict[str, Any]) -> dict[str, Any]:
    body = params.get("Body")
    if hasattr(body, "__aiter__") and not hasattr(body, "__iter__"):
        raise ParamValidationError(
            "Body is an async iterable; use the async client (services.async_client)"
        )
    return params


class S3Client(SyncClient):
    """A sync S3 client; build it with `services.client("s3", ...)`."""

    model = _ops.MODEL

    def list_buckets(self, **params: Any) -> dict[str, Any]:
        """List the buckets the caller owns."""
        return self._call(_OPS["ListBuckets"], params)

    def create_bucket(self, **params: Any) -> dict[str, Any]:
        """Create a bucket (CreateBucketConfiguration for its region)."""
        return self._call(_OPS["CreateBucket"], params)

    def delete_bucket(self, **params: Any) -> dict[str, Any]:
        """Delete an empty bucket."""
        return self._call(_OPS["DeleteBucket"], params)

    def head_bucket(self, **params: Any) -> dict[str, Any]:
        """Check that a bucket exists and is reachable."""
        return self._call(_OPS["HeadBucket"], params)

    def put_object(self, **params: Any) -> dict[str, Any]:
        """Store an object; Body may be bytes, str, a binary file or an iterable.

        An iterable of bytes is streamed, sent once and never retried, when
        ContentLength gives its length; without it, it is read into memory up
        to `operations.ITERABLE_BUFFER_LIMIT` bytes.
        """
        return self._call(_OPS["PutObject"], _sync_body(params))

    def get_object(self, **params: Any) -> dict[str, Any]:
        """Fetch an object; Body is a stream to read and close."""
        return self._call(_OPS["GetObject"], params)

    def head_object(self, **params: Any) -> dict[str, Any]:
        """Fetch an object's metadata."""
        return self._call(_OPS["HeadObject"], params)

    def delete_object(self, **params: Any) -> dict[str, Any]:
        """Delete an object."""
        return self._call(_OPS["DeleteObject"], params)

    def delete_objects(self, **params: Any) -> dict[str, Any]:
        """Delete up to 1000 objects; per-key errors come back in Errors."""
        return self._call(_OPS["DeleteObjects"], params)

    def copy_object(self, **params: Any) -> dict[str, Any]:
        """Copy an object within S3."""
        return self._call(_OPS["CopyObject"], params)

    def list_objects_v2(self, **params: Any) -> dict[str, Any]:
        """List a page of objects (keys decoded as boto3 does)."""
        return self._call(_OPS["ListObjectsV2"], params)

    def create_multipart_upload(self, **params: Any) -> dict[str, Any]:
        """Start a multipart upload."""
        return self._call(_OPS["CreateMultipartUpload"], params)

    def upload_part(self, **params: Any) -> dict[str, Any]:
        """Upload one part of a multipart upload (Body as for put_object)."""
        return self._call(_OPS["UploadPart"], _sync_body(params))

    def complete_multipart_upload(self, **params: Any) -> dict[str, Any]:
        """Assemble the uploaded parts."""
        return self._call(_OPS["CompleteMultipartUpload"], params)

    def abort_multipart_upload(self, **params: Any) -> dict[str, Any]:
        """Abort a multipart upload and free its parts."""
        return self._call(_OPS["AbortMultipartUpload"], params)

    def list_parts(self, **params: Any) -> dict[str, Any]:
        """List a page of a multipart upload's parts."""
        return self._call(_OPS["ListParts"], params)

    def list_multipart_uploads(self, **params: Any) -> dict[str, Any]:
        """List a page of multipart uploads in progress."""
        return self._call(_OPS["ListMultipartUploads"], params)

    def can_paginate(self, operation_name: str) -> bool:
        """True for list_objects_v2, list_parts and list_multipart_uploads."""
        try:
            spec_for(operation_name)
        except ParamValidationError:
            return False
        return True

    def get_paginator(self, operation_name: str) -> Paginator:
        """A paginator for a list operation."""
        return Paginator(getattr(self, operation_name), spec_for(operation_name))

    def generate_presigned_url(
        self,
        ClientMethod: str,
        Params: dict[str, Any] | None = None,
        ExpiresIn: int = 3600,
        HttpMethod: str | None = None,
    ) -> str:
        """A presigned URL (always SigV4) for a client method and its Params."""
        executor = self._executor
        return presigned_url(
            executor.ctx,
            executor.credentials.get(),
            ClientMethod,
            Params,
            ExpiresIn,
            HttpMethod,
        )

    def generate_presigned_post(
        self,
        Bucket: str,
        Key: str,
        Fields: dict[str, Any] | None = None,
        Conditions: list[Any] | None = None,
        ExpiresIn: int = 3600,
    ) -> dict[str, Any]:
        """A presigned POST: the form's `url` and `fields`, as boto3 returns."""
        executor = self._executor
        return presigned_post(
            executor.ctx,
            executor.credentials.get(),
            Bucket,
            Key,
            Fields,
            Conditions,
            ExpiresIn,
        )

    # -- transfers (services/s3/transfer.py)

    def upload_file(self, Filename: Any, Bucket: str, Key: str, **kw: Any) -> None:
        """Upload a file; multipart in parallel above the threshold."""
        _transfer().upload_file(self, Filename, Bucket, Key, **kw)

    def upload_fileobj(self, Fileobj: Any, Bucket: str, Key: str, **kw: Any) -> None:
        """Upload a binary file object; multipart in parallel above the threshold."""
        _transfer().upload_fileobj(self, Fileobj, Bucket, Key, **kw)

    def download_file(self, Bucket: str, Key: str, Filename: Any, **kw: Any) -> None:
        """Download an object to a file; ranged GETs in parallel when large."""
        _transfer().download_file(self, Bucket, Key, Filename, **kw)

    def download_fileobj(self, Bucket: str, Key: str, Fileobj: Any, **kw: Any) -> None:
        """Download an object into a binary file object."""
        _transfer().download_fileobj(self, Bucket, Key, Fileobj, **kw)


class AsyncS3Client(AsyncClient):
    """An async S3 client; ``async with services.async_client("s3") as s3``."""

    model = _ops.MODEL

    async def list_buckets(self, **params: Any) -> dict[str, Any]:
        """List the buckets the caller owns."""
        return await self._call(_OPS["ListBuckets"], params)

    async def create_bucket(self, **params: Any) -> dict[str, Any]:
        """Create a bucket (CreateBucketConfiguration for its region)."""
        return await self._call(_OPS["CreateBucket"], params)

    async def delete_bucket(self, **params: Any) -> dict[str, Any]:
        """Delete an empty bucket."""
        return await self._call(_OPS["DeleteBucket"], params)

    async def head_bucket(self, **params: Any) -> dict[str, Any]:
        """Check that a bucket exists and is reachable."""
        return await self._call(_OPS["HeadBucket"], params)

    async def put_object(self, **params: Any) -> dict[str, Any]:
        """Store an object; Body as for the sync client, or an async iterable.

        An async iterable needs ContentLength; it is streamed and sent once.
        """
        return await self._call(_OPS["PutObject"], params)

    async def get_object(self, **params: Any) -> dict[str, Any]:
        """Fetch an object; Body is a stream to read and close."""
        return await self._call(_OPS["GetObject"], params)

    async def head_object(self, **params: Any) -> dict[str, Any]:
        """Fetch an object's metadata."""
        return await self._call(_OPS["HeadObject"], params)

    async def delete_object(self, **params: Any) -> dict[str, Any]:
        """Delete an object."""
        return await self._call(_OPS["DeleteObject"], params)

    async def delete_objects(self, **params: Any) -> dict[str, Any]:
        """Delete up to 1000 objects; per-key errors come back in Errors."""
        return await self._call(_OPS["DeleteObjects"], params)

    async def copy_object(self, **params: Any) -> dict[str, Any]:
        """Copy an object within S3."""
        return await self._call(_OPS["CopyObject"], params)

    async def list_objects_v2(self, **params: Any) -> dict[str, Any]:
        """List a page of objects (keys decoded as boto3 does)."""
        return await self._call(_OPS["ListObjectsV2"], params)

    async def create_multipart_upload(self, **params: Any) -> dict[str, Any]:
        """Start a multipart upload."""
        return await self._call(_OPS["CreateMultipartUpload"], params)

    async def upload_part(self, **params: Any) -> dict[str, Any]:
        """Upload one part of a multipart upload."""
        return await self._call(_OPS["UploadPart"], params)

    async def complete_multipart_upload(self, **params: Any) -> dict[str, Any]:
        """Assemble the uploaded parts."""
        return await self._call(_OPS["CompleteMultipartUpload"], params)

    async def abort_multipart_upload(self, **params: Any) -> dict[str, Any]:
        """Abort a multipart upload and free its parts."""
        return await self._call(_OPS["AbortMultipartUpload"], params)

    async def list_parts(self, **params: Any) -> dict[str, Any]:
        """List a page of a multipart upload's parts."""
        return await self._call(_OPS["ListParts"], params)

    async def list_multipart_uploads(self, **params: Any) -> dict[str, Any]:
        """List a page of multipart uploads in progress."""
        return await self._call(_OPS["ListMultipartUploads"], params)

    def can_paginate(self, operation_name: str) -> bool:
        """True for list_objects_v2, list_parts and list_multipart_uploads."""
        try:
            spec_for(operation_name)
        except ParamValidationError:
            return False
        return True

    def get_paginator(self, operation_name: str) -> AsyncPaginator:
        """An async paginator for a list operation."""
        return AsyncPaginator(getattr(self, operation_name), spec_for(operation_name))

    async def generate_presigned_url(
        self,
        ClientMethod: str,
        Params: dict[str, Any] | None = None,
        ExpiresIn: int = 3600,
        HttpMethod: str | None = None,
    ) -> str:
        """A presigned URL (always SigV4) for a client method and its Params."""
        executor = self._executor
        return presigned_url(
            executor.ctx,
            executor.credentials.get(),
            ClientMethod,
            Params,
            ExpiresIn,
            HttpMethod,
        )

    async def generate_presigned_post(
        self,
        Bucket: str,
        Key: str,
        Fields: dict[str, Any] | None = None,
        Conditions: list[Any] | None = None,
        ExpiresIn: int = 3600,
    ) -> dict[str, Any]:
        """A presigned POST: the form's `url` and `fields`, as boto3 returns."""
        executor = self._executor
        return presigned_post(
            executor.ctx,
            executor.credentials.get(),
            Bucket,
            Key,
            Fields,
            Conditions,
            ExpiresIn,
        )

    # -- transfers (services/s3/transfer.py)

    async def upload_file(
        self, Filename: Any, Bucket: str, Key: str, **kw: Any
    ) -> None:
        """Upload a file; multipart with concurrent tasks above the threshold."""
        await _transfer().aupload_file(self, Filename, Bucket, Key, **kw)

    async def upload_fileobj(
        self, Fileobj: Any, Bucket: str, Key: str, **kw: Any
    ) -> None:
        """Upload a binary file object; multipart above the threshold."""
        await _transfer().aupload_fileobj(self, Fileobj, Bucket, Key, **kw)

    async def download_file(
        self, Bucket: str, Key: str, Filename: Any, **kw: Any
    ) -> None:
        """Download an object to a file; ranged GETs as tasks when large."""
        await _transfer().adownload_file(self, Bucket, Key, Filename, **kw)

    async def download_fileobj(
        self, Bucket: str, Key: str, Fileobj: Any, **kw: Any
    ) -> None:
        """Download an object into a binary file object."""
        await _transfer().adownload_fileobj(self, Bucket, Key, Fileobj, **kw)
