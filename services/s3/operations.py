"""S3 operations: build and parse functions, with boto3's names and result keys.

Addressing. Virtual-hosted style (bucket.s3.region.amazonaws.com) is the
default on AWS; path style (s3.region.amazonaws.com/bucket) is used for names
that are not DNS-safe, for names with dots over TLS (the wildcard certificate
does not cover them) and by default on custom endpoints. `addressing_style`
in `Config` forces either.

Keys go into the path percent-encoded once, with "/" and "~" kept, so spaces,
"+", "%", "//", unicode and trailing "/" reach S3 as the caller wrote them;
the signer signs that path as it is.

Checksums. An explicit ChecksumCRC32/... value or ChecksumAlgorithm is always
honoured. Otherwise `request_checksum_calculation="when_supported"` (the
default on AWS) sends a CRC32 with put_object and upload_part, as boto3 does;
"when_required" (the default on custom endpoints) sends only what S3 requires:
Content-MD5 on delete_objects.
"""

from __future__ import annotations

import base64
import datetime as _dt
import functools
import hashlib
import io
from collections.abc import Callable, Mapping
from http.client import responses as _reasons
from typing import Any
from urllib.parse import quote, unquote_plus

from .. import config as _config
from .._executor import (
    Context,
    Operation,
    Request,
    Response,
    ServiceModel,
    http_date,
)
from ..errors import ClientError, ParamValidationError, client_error
from . import checksums
from . import xml as _xml
from .body import AsyncStreamingBody, StreamingBody
from .xml import NS, OWNER, Flat, Wrapped

# -- parameters carried in headers ---------------------------------------------

_DATE = "date"
_BOOL = "bool"
_INT = "int"
_ISO = "iso"

# parameter -> (header, kind); kind None means a plain string
HEADER_PARAMS: dict[str, tuple[str, str | None]] = {
    "ACL": ("x-amz-acl", None),
    "CacheControl": ("Cache-Control", None),
    "ContentDisposition": ("Content-Disposition", None),
    "ContentEncoding": ("Content-Encoding", None),
    "ContentLanguage": ("Content-Language", None),
    "ContentLength": ("Content-Length", _INT),
    "ContentMD5": ("Content-MD5", None),
    "ContentType": ("Content-Type", None),
    "Expires": ("Expires", _DATE),
    "GrantFullControl": ("x-amz-grant-full-control", None),
    "GrantRead": ("x-amz-grant-read", None),
    "GrantReadACP": ("x-amz-grant-read-acp", None),
    "GrantWrite": ("x-amz-grant-write", None),
    "GrantWriteACP": ("x-amz-grant-write-acp", None),
    "ServerSideEncryption": ("x-amz-server-side-encryption", None),
    "StorageClass": ("x-amz-storage-class", None),
    "WebsiteRedirectLocation": ("x-amz-website-redirect-location", None),
    "SSECustomerAlgorithm": (
        "x-amz-server-side-encryption-customer-algorithm",
        None,
    ),
    "SSECustomerKey": ("x-amz-server-side-encryption-customer-key", None),
    "SSECustomerKeyMD5": ("x-amz-server-side-encryption-customer-key-MD5", None),
    "SSEKMSKeyId": ("x-amz-server-side-encryption-aws-kms-key-id", None),
    "SSEKMSEncryptionContext": ("x-amz-server-side-encryption-context", None),
    "BucketKeyEnabled": ("x-amz-server-side-encryption-bucket-key-enabled", _BOOL),
    "RequestPayer": ("x-amz-request-payer", None),
    "Tagging": ("x-amz-tagging", None),
    "ObjectLockMode": ("x-amz-object-lock-mode", None),
    "ObjectLockRetainUntilDate": ("x-amz-object-lock-retain-until-date", _ISO),
    "ObjectLockLegalHoldStatus": ("x-amz-object-lock-legal-hold", None),
    "ExpectedBucketOwner": ("x-amz-expected-bucket-owner", None),
    "IfMatch": ("If-Match", None),
    "IfNoneMatch": ("If-None-Match", None),
    "IfModifiedSince": ("If-Modified-Since", _DATE),
    "IfUnmodifiedSince": ("If-Unmodified-Since", _DATE),
    "Range": ("Range", None),
    "ChecksumAlgorithm": ("x-amz-sdk-checksum-algorithm", None),
    "ChecksumCRC32": ("x-amz-checksum-crc32", None),
    "ChecksumCRC32C": ("x-amz-checksum-crc32c", None),
    "ChecksumSHA1": ("x-amz-checksum-sha1", None),
    "ChecksumSHA256": ("x-amz-checksum-sha256", None),
    "ChecksumCRC64NVME": ("x-amz-checksum-crc64nvme", None),
    "ChecksumType": ("x-amz-checksum-type", None),
    "ChecksumMode": ("x-amz-checksum-mode", None),
    "CopySourceIfMatch": ("x-amz-copy-source-if-match", None),
    "CopySourceIfNoneMatch": ("x-amz-copy-source-if-none-match", None),
    "CopySourceIfModifiedSince": ("x-amz-copy-source-if-modified-since", _DATE),
    "CopySourceIfUnmodifiedSince": (
        "x-amz-copy-source-if-unmodified-since",
        _DATE,
    ),
    "CopySourceSSECustomerAlgorithm": (
        "x-amz-copy-source-server-side-encryption-customer-algorithm",
        None,
    ),
    "CopySourceSSECustomerKey": (
        "x-amz-copy-source-server-side-encryption-customer-key",
        None,
    ),
    "CopySourceSSECustomerKeyMD5": (
        "x-amz-copy-source-server-side-encryption-customer-key-MD5",
        None,
    ),
    "MetadataDirective": ("x-amz-metadata-directive", None),
    "TaggingDirective": ("x-amz-tagging-directive", None),
    "ExpectedSourceBucketOwner": ("x-amz-source-expected-bucket-owner", None),
    "MFA": ("x-amz-mfa", None),
    "BypassGovernanceRetention": ("x-amz-bypass-governance-retention", _BOOL),
    "ObjectOwnership": ("x-amz-object-ownership", None),
    "ObjectLockEnabledForBucket": ("x-amz-bucket-object-lock-enabled", _BOOL),
    "MpuObjectSize": ("x-amz-mp-object-size", _INT),
}

# parameter -> query name
QUERY_PARAMS: dict[str, str] = {
    "VersionId": "versionId",
    "PartNumber": "partNumber",
    "UploadId": "uploadId",
    "ResponseCacheControl": "response-cache-control",
    "ResponseContentDisposition": "response-content-disposition",
    "ResponseContentEncoding": "response-content-encoding",
    "ResponseContentLanguage": "response-content-language",
    "ResponseContentType": "response-content-type",
    "ResponseExpires": "response-expires",
    "Prefix": "prefix",
    "Delimiter": "delimiter",
    "MaxKeys": "max-keys",
    "ContinuationToken": "continuation-token",
    "StartAfter": "start-after",
    "EncodingType": "encoding-type",
    "FetchOwner": "fetch-owner",
    "MaxParts": "max-parts",
    "PartNumberMarker": "part-number-marker",
    "KeyMarker": "key-marker",
    "UploadIdMarker": "upload-id-marker",
    "MaxUploads": "max-uploads",
    "MaxBuckets": "max-buckets",
    "BucketRegion": "bucket-region",
}

# query parameters that are not strings
_QUERY_KINDS: dict[str, str] = {
    "PartNumber": _INT,
    "MaxKeys": _INT,
    "MaxParts": _INT,
    "PartNumberMarker": _INT,
    "MaxUploads": _INT,
    "MaxBuckets": _INT,
    "FetchOwner": _BOOL,
    "ResponseExpires": _DATE,
}

# response header -> (result key, kind)
HEADER_RESULTS: dict[str, tuple[str, str | None]] = {
    "accept-ranges": ("AcceptRanges", None),
    "last-modified": ("LastModified", _DATE),
    "content-length": ("ContentLength", _INT),
    "etag": ("ETag", None),
    "content-type": ("ContentType", None),
    "cache-control": ("CacheControl", None),
    "content-disposition": ("ContentDisposition", None),
    "content-encoding": ("ContentEncoding", None),
    "content-language": ("ContentLanguage", None),
    "content-range": ("ContentRange", None),
    "expires": ("Expires", _DATE),
    "x-amz-version-id": ("VersionId", None),
    "x-amz-delete-marker": ("DeleteMarker", _BOOL),
    "x-amz-server-side-encryption": ("ServerSideEncryption", None),
    "x-amz-server-side-encryption-aws-kms-key-id": ("SSEKMSKeyId", None),
    "x-amz-server-side-encryption-context": ("SSEKMSEncryptionContext", None),
    "x-amz-server-side-encryption-bucket-key-enabled": ("BucketKeyEnabled", _BOOL),
    "x-amz-server-side-encryption-customer-algorithm": ("SSECustomerAlgorithm", None),
    "x-amz-server-side-encryption-customer-key-md5": ("SSECustomerKeyMD5", None),
    "x-amz-storage-class": ("StorageClass", None),
    "x-amz-website-redirect-location": ("WebsiteRedirectLocation", None),
    "x-amz-expiration": ("Expiration", None),
    "x-amz-restore": ("Restore", None),
    "x-amz-replication-status": ("ReplicationStatus", None),
    "x-amz-mp-parts-count": ("PartsCount", _INT),
    "x-amz-tagging-count": ("TagCount", _INT),
    "x-amz-object-lock-mode": ("ObjectLockMode", None),
    "x-amz-object-lock-retain-until-date": ("ObjectLockRetainUntilDate", _ISO),
    "x-amz-object-lock-legal-hold": ("ObjectLockLegalHoldStatus", None),
    "x-amz-missing-meta": ("MissingMeta", _INT),
    "x-amz-checksum-crc32": ("ChecksumCRC32", None),
    "x-amz-checksum-crc32c": ("ChecksumCRC32C", None),
    "x-amz-checksum-crc64nvme": ("ChecksumCRC64NVME", None),
    "x-amz-checksum-sha1": ("ChecksumSHA1", None),
    "x-amz-checksum-sha256": ("ChecksumSHA256", None),
    "x-amz-checksum-type": ("ChecksumType", None),
    "x-amz-request-charged": ("RequestCharged", None),
    "x-amz-copy-source-version-id": ("CopySourceVersionId", None),
    "x-amz-abort-date": ("AbortDate", _DATE),
    "x-amz-abort-rule-id": ("AbortRuleId", None),
    "x-amz-checksum-algorithm": ("ChecksumAlgorithm", None),
    "location": ("Location", None),
    "x-amz-bucket-region": ("BucketRegion", None),
    "x-amz-access-point-alias": ("AccessPointAlias", _BOOL),
    "x-amz-bucket-location-type": ("BucketLocationType", None),
    "x-amz-bucket-location-name": ("BucketLocationName", None),
    "x-amz-object-size": ("Size", _INT),
    "x-amz-archive-status": ("ArchiveStatus", None),
}

_CHECKSUM_KEYS = (
    "ChecksumCRC32",
    "ChecksumCRC32C",
    "ChecksumCRC64NVME",
    "ChecksumSHA1",
    "ChecksumSHA256",
    "ChecksumType",
)
_SSE_KEYS = (
    "ServerSideEncryption",
    "SSECustomerAlgorithm",
    "SSECustomerKeyMD5",
    "SSEKMSKeyId",
    "BucketKeyEnabled",
)
_OBJECT_OUT = (
    "DeleteMarker",
    "AcceptRanges",
    "Expiration",
    "Restore",
    "LastModified",
    "ContentLength",
    "ETag",
    *_CHECKSUM_KEYS,
    "MissingMeta",
    "VersionId",
    "CacheControl",
    "ContentDisposition",
    "ContentEncoding",
    "ContentLanguage",
    "ContentRange",
    "ContentType",
    "Expires",
    "WebsiteRedirectLocation",
    *_SSE_KEYS,
    "StorageClass",
    "RequestCharged",
    "ReplicationStatus",
    "PartsCount",
    "TagCount",
    "ObjectLockMode",
    "ObjectLockRetainUntilDate",
    "ObjectLockLegalHoldStatus",
)

# -- values --------------------------------------------------------------------

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = [
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "May",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Oct",
    "Nov",
    "Dec",
]


def _utc(value: _dt.datetime) -> _dt.datetime:
    if value.tzinfo is None:
        return value.replace(tzinfo=_dt.timezone.utc)
    return value.astimezone(_dt.timezone.utc)


def timestamp(name: str, value: Any) -> _dt.datetime:
    """A timestamp parameter as a UTC datetime, or ParamValidationError.

    As boto3: a datetime, a number of seconds since the epoch, or a string in
    ISO 8601, RFC 7231 (HTTP date) or epoch-seconds form.
    """
    if isinstance(value, _dt.datetime):
        return _utc(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return _dt.datetime.fromtimestamp(value, _dt.timezone.utc)
        except (ValueError, OverflowError, OSError):
            raise ParamValidationError(
                f"{name} must be a time in years 1 to 9999, not {value!r}"
            ) from None
    if isinstance(value, str):
        parsed = _parse_timestamp(value.strip())
        if parsed is not None:
            return parsed
    raise ParamValidationError(
        f"{name} must be a datetime or a timestamp string, not {value!r}"
    )


def _parse_timestamp(text: str) -> _dt.datetime | None:
    try:
        return _dt.datetime.fromtimestamp(float(text), _dt.timezone.utc)
    except (ValueError, OverflowError):
        pass
    try:
        return _utc(_dt.datetime.fromisoformat(text))
    except ValueError:
        pass
    from email.utils import parsedate_to_datetime

    try:
        return _utc(parsedate_to_datetime(text))
    except (TypeError, ValueError, IndexError):
        return None


def format_http_date(value: _dt.datetime | str) -> str:
    """An RFC 7231 date for a header."""
    if isinstance(value, str):
        return value
    value = _utc(value)
    return (
        f"{_DAYS[value.weekday()]}, {value.day:02d} {_MONTHS[value.month - 1]} "
        f"{value.year} {value:%H:%M:%S} GMT"
    )


def format_iso(value: _dt.datetime | str) -> str:
    """An ISO 8601 UTC timestamp."""
    if isinstance(value, str):
        return value
    return _utc(value).strftime("%Y-%m-%dT%H:%M:%SZ")


_NOT_IN_HEADER = frozenset("\r\n\0")
# what a header value may hold: printable ASCII and tab (RFC 9110's
# field-vchar, SP and HTAB, without obs-text)
_HEADER_TEXT = frozenset(map(chr, range(0x20, 0x7F))) | {"\t"}


def _header_value(name: str, kind: str | None, value: Any) -> str:
    if kind is None:
        if not isinstance(value, str):
            raise ParamValidationError(f"{name} must be a string")
        if not _HEADER_TEXT.issuperset(value):
            # CR/LF would be folded away by the signer; control characters
            # and non-ASCII text cannot travel in a header as given
            raise ParamValidationError(
                f"{name} must be printable ASCII: no CR, LF, NUL, other "
                "control characters or non-ASCII text (it travels in an HTTP "
                "header)"
            )
        return value
    if kind == _INT:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ParamValidationError(f"{name} must be an integer")
        return str(value)
    if kind == _BOOL:
        return "true" if value else "false"
    when = timestamp(name, value)
    return format_http_date(when) if kind == _DATE else format_iso(when)


def _result_value(kind: str | None, raw: str) -> Any:
    if kind is None:
        return raw
    if kind == _INT:
        return int(raw)
    if kind == _BOOL:
        return raw.lower() == "true"
    if kind == _DATE:
        return http_date(raw) or raw
    return _xml.iso_timestamp(raw)


def _str(params: Mapping[str, Any], name: str) -> str:
    value = params[name]
    if not isinstance(value, str):
        raise ParamValidationError(
            f"{name} must be a string, not {type(value).__name__}"
        )
    if not value:
        # an empty Key or Bucket would turn an object call into a bucket or
        # account call (delete_object would delete the bucket)
        raise ParamValidationError(f"{name} must not be empty (min length 1)")
    _utf8(name, value)
    return value


def _utf8(name: str, value: str) -> None:
    # a lone surrogate has no UTF-8 form, so no URL or signature can hold it
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ParamValidationError(
            f"{name} is not valid Unicode text (it holds a lone surrogate)"
        ) from None


def bucket_name(bucket: str) -> str:
    """`bucket` when it can stand in a URL path as one bucket, else
    ParamValidationError.

    Deliberately loose (legacy buckets and S3-compatible stores use names
    outside today's 3 to 63 lower-case rule): refused are only names that
    are empty, ``.`` or ``..`` (a path segment the server resolves away),
    hold ``/`` or a control character.
    """
    if bucket in ("", ".", ".."):
        raise ParamValidationError(f"Bucket {bucket!r} is not a bucket name")
    if "/" in bucket or any(c < " " or c == "\x7f" for c in bucket):
        raise ParamValidationError(
            f"Bucket {bucket!r} is not a bucket name (no '/' or control characters)"
        )
    _utf8("Bucket", bucket)
    return bucket


def _int(name: str, value: Any, low: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ParamValidationError(
            f"{name} must be an integer, not {type(value).__name__}"
        )
    if low is not None and value < low:
        raise ParamValidationError(f"{name} must be at least {low}")
    return value


# -- URLs ----------------------------------------------------------------------


def dns_compatible(bucket: str) -> bool:
    """True when a bucket name can be a host name label sequence."""
    if not 3 <= len(bucket) <= 63 or ".." in bucket:
        return False
    if not (bucket[0].isalnum() and bucket[-1].isalnum()):
        return False
    if any(not (c.islower() or c.isdigit() or c in ".-") for c in bucket):
        return False
    if not bucket.isascii():
        return False
    parts = bucket.split(".")
    return not (len(parts) == 4 and all(p.isdigit() for p in parts))


def _query_string(pairs: list[tuple[str, str | None]]) -> str:
    pieces = []
    for name, value in pairs:
        if value is None:
            pieces.append(name)
        else:
            pieces.append(f"{name}={quote(value, safe='-_.~')}")
    return "&".join(pieces)


def object_url(
    ctx: Context,
    bucket: str | None,
    key: str | None = None,
    query: list[tuple[str, str | None]] | None = None,
) -> tuple[str, str]:
    """The wire URL for a bucket and key, and the region to sign it for."""
    settings = ctx.settings
    region = ctx.region
    if bucket:
        region = ctx.bucket_regions.get(bucket, region)
    if settings.custom_endpoint or region == ctx.region:
        scheme, host = ctx.scheme, ctx.host
    else:
        scheme, _, host = _config.service_endpoint("s3", region).partition("://")
    path = ""
    if bucket is not None:
        bucket_name(bucket)
        style = settings.addressing_style
        safe = dns_compatible(bucket)
        virtual = (
            safe
            and (
                style == "virtual"
                or (
                    style == "auto"
                    and not settings.custom_endpoint
                    and not ("." in bucket and scheme == "https")
                )
            )
            and not _ip_literal(host)  # botocore: an IP host takes no bucket
        )
        if virtual:
            host = f"{bucket}.{host}"
            path = "/"
        else:
            path = "/" + quote(bucket, safe="")
    if key is not None:
        path = (path.rstrip("/") if path != "/" else "") + "/" + quote(key, safe="/~")
    elif not path:
        # the service's root: the endpoint as written when it has a path
        # ("/prefix" or "/prefix/"), as botocore sends it
        path = "/" if "/" not in host or settings.root_url.endswith("/") else ""
    url = f"{scheme}://{host}{path}"
    if query:
        url += "?" + _query_string(query)
    return url, region


@functools.lru_cache(maxsize=64)
def _ip_literal(host: str) -> bool:
    """True when the host part of `host` (port and path prefix aside) is an
    IPv4 address or a bracketed IPv6 one."""
    name = host.split("/", 1)[0]
    if name.startswith("["):
        return True
    parts = name.rpartition(":")[0 if ":" in name else 2].split(".")
    return len(parts) == 4 and all(part.isdigit() for part in parts)


# -- requests ------------------------------------------------------------------


_SSE_KEY_PARAMS = frozenset({"SSECustomerKey", "CopySourceSSECustomerKey"})


def _headers(params: Mapping[str, Any]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name, value in params.items():
        spec = HEADER_PARAMS.get(name)
        if spec is None or value is None:
            continue
        if name in _SSE_KEY_PARAMS:
            headers[spec[0]] = _sse_key_header(name, value)
        else:
            headers[spec[0]] = _header_value(name, spec[1], value)
    metadata = params.get("Metadata")
    if metadata is not None:
        if not isinstance(metadata, Mapping):
            raise ParamValidationError("Metadata must be a dict of strings")
        for meta_key, meta_value in metadata.items():
            headers[f"x-amz-meta-{meta_key}"] = _meta_value(meta_key, meta_value)
    sse_key = headers.get("x-amz-server-side-encryption-customer-key")
    if sse_key is not None:
        _encode_sse_key(headers, "x-amz-server-side-encryption-customer-key")
    if headers.get("x-amz-copy-source-server-side-encryption-customer-key"):
        _encode_sse_key(
            headers, "x-amz-copy-source-server-side-encryption-customer-key"
        )
    return headers


def _meta_value(meta_key: Any, value: Any) -> str:
    # Header values go as they are, spaces included (S3 keeps them, as boto3
    # sends them); what a header cannot carry is refused here, not mangled.
    where = f"Metadata[{meta_key!r}]"
    if not isinstance(meta_key, str) or not meta_key:
        raise ParamValidationError(f"{where}: keys must be non-empty strings")
    if not meta_key.isascii() or not _NOT_IN_HEADER.isdisjoint(meta_key):
        raise ParamValidationError(f"{where}: keys must be ASCII without CR or LF")
    if not isinstance(value, str):
        raise ParamValidationError(f"{where} must be a string")
    if not value.isascii():
        raise ParamValidationError(
            f"{where} must be ASCII (S3 metadata travels in HTTP headers)"
        )
    if not _NOT_IN_HEADER.isdisjoint(value):
        raise ParamValidationError(f"{where} must not contain CR, LF or NUL")
    return value


def _sse_key_header(name: str, value: Any) -> str:
    # boto3 takes the customer key as str or bytes and sends it base64-encoded
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("latin-1")
    return _header_value(name, None, value)


def _encode_sse_key(headers: dict[str, str], name: str) -> None:
    # As boto3: the raw key is sent base64-encoded, with its MD5 unless given.
    raw = headers[name].encode("latin-1")
    headers[name] = base64.b64encode(raw).decode()
    md5_name = f"{name}-MD5"
    if md5_name not in headers:
        digest = hashlib.md5(raw, usedforsecurity=False).digest()
        headers[md5_name] = base64.b64encode(digest).decode()


def _query(
    params: Mapping[str, Any], first: list[tuple[str, str | None]] | None = None
) -> list[tuple[str, str | None]]:
    pairs = list(first or [])
    for name, value in params.items():
        query_name = QUERY_PARAMS.get(name)
        if query_name is None or value is None:
            continue
        kind = _QUERY_KINDS.get(name)
        if kind == _INT:
            text = str(_int(name, value))
        elif kind == _BOOL:
            if not isinstance(value, bool):
                raise ParamValidationError(f"{name} must be a boolean")
            text = "true" if value else "false"
        elif kind == _DATE:
            text = format_http_date(timestamp(name, value))
        elif isinstance(value, str):
            _utf8(name, value)
            text = value
        else:
            raise ParamValidationError(
                f"{name} must be a string, not {type(value).__name__}"
            )
        pairs.append((query_name, text))
    return pairs


def _request(
    method: str,
    params: Mapping[str, Any],
    ctx: Context,
    *,
    key: bool = True,
    first_query: list[tuple[str, str | None]] | None = None,
    body: Any = None,
    headers: dict[str, str] | None = None,
) -> Request:
    bucket = _str(params, "Bucket")
    object_key = _str(params, "Key") if key else None
    url, region = object_url(ctx, bucket, object_key, _query(params, first_query))
    all_headers = _headers(params)
    if headers:
        all_headers.update(headers)
    return Request(method, url, all_headers, body, bucket=bucket, region=region)


# -- responses -----------------------------------------------------------------


def _with_headers(
    response: Response, keys: tuple[str, ...], result: dict[str, Any] | None = None
) -> dict[str, Any]:
    out = result if result is not None else {}
    wanted = set(keys)
    for name, value in response.headers.items():
        spec = HEADER_RESULTS.get(name.lower())
        if spec is None or spec[0] not in wanted:
            continue
        if spec[0] == "Expires":
            out["ExpiresString"] = value
            parsed = http_date(value)
            if parsed is not None:
                out["Expires"] = parsed
            continue
        out[spec[0]] = _result_value(spec[1], value)
    out["ResponseMetadata"] = response.metadata()
    return out


def _metadata_headers(response: Response) -> dict[str, str]:
    return {
        name[11:]: value
        for name, value in response.headers.items()
        if name[:11].lower() == "x-amz-meta-"
    }


def _raise_embedded_error(response: Response, operation_name: str) -> None:
    # CopyObject, UploadPartCopy and CompleteMultipartUpload may answer 200
    # and report the failure in the body.
    if b"<Error" not in response.body[:512]:
        return
    fields = _xml.error_fields(response.body)
    if fields is None:
        return
    raise _error_from_fields(response, operation_name, fields, status=200)


class S3Model(ServiceModel):
    """How S3 errors, metadata and wrong-region answers read."""

    name = "s3"
    signing_name = "s3"

    def metadata(self, response: Response) -> dict[str, Any]:
        headers = response.headers
        meta: dict[str, Any] = {}
        request_id = headers.get("x-amzn-requestid") or headers.get("x-amz-request-id")
        if request_id is not None:
            meta["RequestId"] = request_id
        host_id = headers.get("x-amz-id-2")
        if host_id is not None:
            meta["HostId"] = host_id
        meta["HTTPStatusCode"] = response.status
        meta["HTTPHeaders"] = dict(headers.items())
        meta["RetryAttempts"] = response.attempts
        return meta

    def error(self, response: Response, operation_name: str) -> ClientError:
        fields = _xml.error_fields(response.body) if response.body else None
        if fields is None:
            fields = {
                "Code": str(response.status),
                "Message": _reasons.get(response.status, ""),
            }
        return _error_from_fields(response, operation_name, fields)

    def redirect_region(self, response: Response, error: ClientError) -> str | None:
        header = response.headers.get("x-amz-bucket-region")
        if header and response.status in (301, 307, 400, 403):
            return header
        region = error.response["Error"].get("Region")
        if error.code == "AuthorizationHeaderMalformed" and region:
            return str(region)
        if error.code in ("PermanentRedirect", "301") and region:
            return str(region)
        return None


def _error_from_fields(
    response: Response,
    operation_name: str,
    fields: dict[str, str],
    status: int | None = None,
) -> ClientError:
    meta = response.metadata()
    request_id = fields.pop("RequestId", None)
    host_id = fields.pop("HostId", None)
    if request_id:
        meta["RequestId"] = request_id
    if host_id:
        meta["HostId"] = host_id
    code = fields.pop("Code", "") or str(response.status)
    message = fields.pop("Message", "")
    error = client_error(
        "s3",
        operation_name,
        code=code,
        message=message,
        status_code=status or response.status,
        metadata=meta,
        extra=fields,
    )
    if status == 200 and code not in ("SlowDown",):
        # retried as a transient server error, as boto3 does
        error.status_code = 500
    return error


MODEL = S3Model()

# -- list_buckets, create/delete/head bucket -----------------------------------


def build_list_buckets(params: dict[str, Any], ctx: Context) -> Request:
    url, region = object_url(ctx, None, None, _query(params))
    return Request("GET", url, _headers(params), region=region)


_LIST_BUCKETS: _xml.Shape = {
    "Buckets": (
        "Buckets",
        Wrapped(
            {
                "Name": ("Name", "s"),
                "CreationDate": ("CreationDate", "t"),
                "BucketRegion": ("BucketRegion", "s"),
            }
        ),
    ),
    "Owner": ("Owner", OWNER),
    "ContinuationToken": ("ContinuationToken", "s"),
    "Prefix": ("Prefix", "s"),
}


def parse_list_buckets(response: Response, ctx: Context) -> dict[str, Any]:
    result = _xml.parse(response.body, _LIST_BUCKETS)
    result["ResponseMetadata"] = response.metadata()
    return result


def build_create_bucket(params: dict[str, Any], ctx: Context) -> Request:
    body = None
    conf = params.get("CreateBucketConfiguration")
    if conf is not None and not isinstance(conf, Mapping):
        raise ParamValidationError("CreateBucketConfiguration must be a dict")
    if conf:
        location = conf.get("LocationConstraint")
        if location is not None and not isinstance(location, str):
            raise ParamValidationError(
                "CreateBucketConfiguration.LocationConstraint must be a string, "
                f"not {type(location).__name__}"
            )
        inner = (
            f"<LocationConstraint>{_xml.escape(location)}</LocationConstraint>"
            if location
            else ""
        )
        body = (
            f'<CreateBucketConfiguration xmlns="{NS}">{inner}'
            "</CreateBucketConfiguration>"
        ).encode()
    elif ctx.region != "us-east-1" and not ctx.settings.custom_endpoint:
        # S3 wants the location spelled out outside us-east-1
        body = (
            f'<CreateBucketConfiguration xmlns="{NS}"><LocationConstraint>'
            f"{_xml.escape(ctx.region)}</LocationConstraint>"
            "</CreateBucketConfiguration>"
        ).encode()
    return _request("PUT", params, ctx, key=False, body=body)


def parse_create_bucket(response: Response, ctx: Context) -> dict[str, Any]:
    return _with_headers(response, ("Location", "BucketArn"))


def build_bucket_only(method: str) -> Callable[[dict[str, Any], Context], Request]:
    """A build function for operations that name only a bucket."""

    def build(params: dict[str, Any], ctx: Context) -> Request:
        return _request(method, params, ctx, key=False)

    return build


def parse_empty(response: Response, ctx: Context) -> dict[str, Any]:
    """ResponseMetadata only."""
    return {"ResponseMetadata": response.metadata()}


def parse_head_bucket(response: Response, ctx: Context) -> dict[str, Any]:
    return _with_headers(
        response,
        (
            "BucketLocationType",
            "BucketLocationName",
            "BucketRegion",
            "AccessPointAlias",
        ),
    )


# -- objects -------------------------------------------------------------------


# An iterable Body without ContentLength is read into memory up to this many
# bytes (S3 needs a length up front); above it, give ContentLength to stream
# it, or use upload_fileobj.
ITERABLE_BUFFER_LIMIT = 8 * 1024 * 1024


def _chunk(chunk: Any) -> bytes:
    if isinstance(chunk, bytes):
        return chunk
    if isinstance(chunk, bytearray | memoryview):
        return bytes(chunk)
    raise ParamValidationError(
        f"Body chunks must be bytes, not {type(chunk).__name__} "
        "(encode text before sending it)"
    )


class IterableBody:
    """An iterable Body of announced length, read once as a stream.

    It has no ``seekable``, so the executor sends it once and never retries it
    (a failed attempt is the error). Too few or too many bytes, or a chunk
    that is not bytes, is a ParamValidationError.
    """

    __slots__ = ("_chunks", "_length", "_sent")

    def __init__(self, chunks: Any, length: int) -> None:
        self._chunks = iter(chunks)
        self._length = length
        self._sent = 0

    def read(self, size: int = -1) -> bytes:
        """The next chunk of the iterable, b"" at its end."""
        for chunk in self._chunks:
            data = _chunk(chunk)
            if data:
                return self._count(data)
        return self._count(b"")

    def _count(self, data: bytes) -> bytes:
        self._sent += len(data)
        if self._sent > self._length or (not data and self._sent < self._length):
            raise ParamValidationError(
                f"Body gave {'more' if data else 'fewer'} bytes than its "
                f"ContentLength of {self._length}"
            )
        return data


class AsyncIterableBody(IterableBody):
    """An async iterable Body of announced length (async clients only)."""

    __slots__ = ()

    def __init__(self, chunks: Any, length: int) -> None:
        self._chunks = chunks.__aiter__()
        self._length = length
        self._sent = 0

    async def read(self, size: int = -1) -> bytes:  # type: ignore[override]
        """The next chunk of the async iterable, b"" at its end."""
        async for chunk in self._chunks:
            data = _chunk(chunk)
            if data:
                return self._count(data)
        return self._count(b"")


def _body_bytes(body: Any) -> Any:
    if body is None:
        return b""
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode()
    if isinstance(body, bytearray | memoryview):
        return bytes(body)
    if isinstance(body, io.TextIOBase):
        raise ParamValidationError(
            "Body is a text-mode file; open it in binary mode ('rb')"
        )
    if hasattr(body, "read") or hasattr(body, "__aiter__"):
        return body
    if hasattr(body, "__iter__") and not isinstance(body, Mapping):
        return body
    raise ParamValidationError(
        f"Body must be bytes, str, a file object or an iterable of bytes, "
        f"not {type(body).__name__}"
    )


def _iterable_body(body: Any, length: int | None) -> Any:
    """An iterable Body: streamed when its length is known, else buffered."""
    if length is not None:
        if hasattr(body, "__aiter__"):
            return AsyncIterableBody(body, length)
        return IterableBody(body, length)
    if hasattr(body, "__aiter__"):
        raise ParamValidationError(
            "an async iterable Body needs ContentLength (S3 needs the length up front)"
        )
    buffer = bytearray()
    for chunk in body:
        buffer += _chunk(chunk)
        if len(buffer) > ITERABLE_BUFFER_LIMIT:
            raise ParamValidationError(
                f"an iterable Body over {ITERABLE_BUFFER_LIMIT} bytes needs "
                "ContentLength to be streamed (or use upload_fileobj)"
            )
    return bytes(buffer)


def _stream_length(body: Any) -> int | None:
    try:
        position = body.tell()
        end = body.seek(0, 2)
        body.seek(position)
        return int(end - position)
    except (AttributeError, OSError, ValueError):
        return None


def _add_checksum(
    headers: dict[str, str], params: Mapping[str, Any], body: Any, ctx: Context
) -> None:
    if any(name.startswith("x-amz-checksum-") for name in headers):
        return
    algorithm = params.get("ChecksumAlgorithm")
    if algorithm is None:
        if ctx.settings.request_checksum_calculation != "when_supported":
            return
        if "Content-MD5" in headers:
            return
        algorithm = "CRC32"
    value: str | None
    if isinstance(body, bytes):
        value = checksums.of(algorithm, body)
    else:
        value = _stream_checksum(algorithm, body)
        if value is None:
            # TODO(#4): trailing checksums (aws-chunked) for bodies that cannot
            # be read twice (iterables with ContentLength, pipes): they go
            # without a checksum header today
            return
    headers[checksums.header(algorithm)] = value
    headers["x-amz-sdk-checksum-algorithm"] = algorithm.upper()


def _stream_checksum(algorithm: str, body: Any) -> str | None:
    try:
        start = body.tell()
    except (AttributeError, OSError):
        return None
    checksum = checksums.new(algorithm)
    while True:
        chunk = body.read(1 << 20)
        if not chunk:
            break
        checksum.update(chunk)
    body.seek(start)
    return checksums.b64(checksum.digest())


def _content_length(params: Mapping[str, Any]) -> int | None:
    value = params.get("ContentLength")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ParamValidationError(
            f"ContentLength must be a non-negative integer, not {value!r}"
        )
    return value


def _check_length(body: Any, declared: int) -> None:
    # A Content-Length that disagrees with the body would leave bytes on a
    # kept-alive connection for the server to read as another request.
    actual = len(body) if isinstance(body, bytes) else _stream_length(body)
    if actual is not None and actual != declared:
        raise ParamValidationError(
            f"ContentLength is {declared} but the Body has {actual} bytes"
            + ("" if isinstance(body, bytes) else " left to read")
        )


def _upload(
    params: dict[str, Any],
    ctx: Context,
    query: list[tuple[str, str | None]] | None = None,
) -> Request:
    bucket = _str(params, "Bucket")
    url, region = object_url(ctx, bucket, _str(params, "Key"), _query(params, query))
    headers = _headers(params)
    declared = _content_length(params)
    body = _body_bytes(params.get("Body"))
    if not isinstance(body, bytes) and not hasattr(body, "read"):
        body = _iterable_body(body, declared)
    elif declared is not None:
        _check_length(body, declared)
    if not isinstance(body, bytes) and "Content-Length" not in headers:
        length = _stream_length(body)
        if length is None:
            body = _body_bytes(body.read())
        else:
            headers["Content-Length"] = str(length)
    _add_checksum(headers, params, body, ctx)
    return Request("PUT", url, headers, body, bucket=bucket, region=region)


def build_put_object(params: dict[str, Any], ctx: Context) -> Request:
    return _upload(params, ctx)


_PUT_OUT = (
    "Expiration",
    "ETag",
    *_CHECKSUM_KEYS,
    "VersionId",
    *_SSE_KEYS,
    "SSEKMSEncryptionContext",
    "Size",
    "RequestCharged",
)


def parse_put_object(response: Response, ctx: Context) -> dict[str, Any]:
    return _with_headers(response, _PUT_OUT)


def build_get_object(params: dict[str, Any], ctx: Context) -> Request:
    request = _request("GET", params, ctx)
    if (
        "ChecksumMode" not in params
        and ctx.settings.response_checksum_validation == "when_supported"
    ):
        request.headers["x-amz-checksum-mode"] = "ENABLED"
    return request


def _object_result(response: Response) -> dict[str, Any]:
    result = _with_headers(response, _OBJECT_OUT)
    result["Metadata"] = _metadata_headers(response)
    return result


def _validation(response: Response, ctx: Context) -> tuple[str, str] | None:
    if response.headers.get("content-range"):
        return None
    for algorithm in checksums.ALGORITHMS:
        value = response.headers.get(checksums.header(algorithm))
        if value and "-" not in value:
            return algorithm, value
    return None


def parse_get_object(response: Response, ctx: Context) -> dict[str, Any]:
    result = _object_result(response)
    length = result.get("ContentLength")
    check = _validation(response, ctx)
    if response.asynchronous:
        result["Body"] = AsyncStreamingBody(response.raw, length, check)
    else:
        result["Body"] = StreamingBody(response.raw, length, check)
    return result


def build_head_object(params: dict[str, Any], ctx: Context) -> Request:
    return _request("HEAD", params, ctx)


def parse_head_object(response: Response, ctx: Context) -> dict[str, Any]:
    result = _object_result(response)
    result.pop("ContentRange", None)
    return _with_headers(response, ("ArchiveStatus",), result)


def build_delete_object(params: dict[str, Any], ctx: Context) -> Request:
    return _request("DELETE", params, ctx)


def parse_delete_object(response: Response, ctx: Context) -> dict[str, Any]:
    return _with_headers(response, ("DeleteMarker", "VersionId", "RequestCharged"))


_OBJECT_IDENTIFIER = ("Key", "VersionId", "ETag", "LastModifiedTime", "Size")


def build_delete_objects(params: dict[str, Any], ctx: Context) -> Request:
    delete = params["Delete"]
    if not isinstance(delete, Mapping) or "Objects" not in delete:
        raise ParamValidationError("Delete must be a dict with an Objects list")
    unknown = set(delete).difference(("Objects", "Quiet"))
    if unknown:
        raise ParamValidationError(
            f"unknown parameter Delete.{', Delete.'.join(sorted(unknown))}"
        )
    objects = delete["Objects"]
    if not isinstance(objects, list | tuple):
        raise ParamValidationError("Delete.Objects must be a list")
    parts = [f'<Delete xmlns="{NS}">']
    for index, item in enumerate(objects):
        where = f"Delete.Objects[{index}]"
        if not isinstance(item, Mapping):
            raise ParamValidationError(f"{where} must be a dict")
        unknown = set(item).difference(_OBJECT_IDENTIFIER)
        if unknown:
            raise ParamValidationError(
                f"unknown parameter {where}.{', '.join(sorted(unknown))}; "
                f"valid: {', '.join(_OBJECT_IDENTIFIER)}"
            )
        if "Key" not in item:
            raise ParamValidationError(f"{where} is missing Key")
        key = _str(item, "Key")
        parts.append(f"<Object><Key>{_xml.escape(key)}</Key>")
        if item.get("VersionId"):
            parts.append(f"<VersionId>{_xml.escape(item['VersionId'])}</VersionId>")
        if item.get("ETag"):
            parts.append(f"<ETag>{_xml.escape(item['ETag'])}</ETag>")
        parts.append("</Object>")
    if "Quiet" in delete:
        parts.append(f"<Quiet>{'true' if delete['Quiet'] else 'false'}</Quiet>")
    parts.append("</Delete>")
    body = "".join(parts).encode()
    headers = {}
    algorithm = params.get("ChecksumAlgorithm")
    if algorithm:
        headers[checksums.header(algorithm)] = checksums.of(algorithm, body)
    else:
        # S3 requires an integrity header on this call
        headers["Content-MD5"] = checksums.md5(body)
    return _request(
        "POST",
        params,
        ctx,
        key=False,
        first_query=[("delete", None)],
        body=body,
        headers=headers,
    )


_DELETED: _xml.Shape = {
    "Key": ("Key", "s"),
    "VersionId": ("VersionId", "s"),
    "DeleteMarker": ("DeleteMarker", "b"),
    "DeleteMarkerVersionId": ("DeleteMarkerVersionId", "s"),
}
_DELETE_ERROR: _xml.Shape = {
    "Key": ("Key", "s"),
    "VersionId": ("VersionId", "s"),
    "Code": ("Code", "s"),
    "Message": ("Message", "s"),
}
_DELETE_RESULT: _xml.Shape = {
    "Deleted": ("Deleted", Flat(_DELETED)),
    "Error": ("Errors", Flat(_DELETE_ERROR)),
}


def parse_delete_objects(response: Response, ctx: Context) -> dict[str, Any]:
    result = _xml.parse(response.body, _DELETE_RESULT)
    return _with_headers(response, ("RequestCharged",), result)


def copy_source(value: Any) -> str:
    """The x-amz-copy-source header for a CopySource string or dict."""
    if isinstance(value, str) and value.strip("/"):
        _utf8("CopySource", value)
        path, sep, text = value.partition("?versionId=")
        quoted = quote(path, safe="/-._~")
        return f"{quoted}?versionId={text}" if sep else quoted
    if isinstance(value, Mapping) and value.get("Bucket") and value.get("Key"):
        if not isinstance(value["Bucket"], str) or not isinstance(value["Key"], str):
            raise ParamValidationError("CopySource Bucket and Key must be strings")
        bucket_name(value["Bucket"])
        _utf8("CopySource.Key", value["Key"])
        quoted = quote(f"{value['Bucket']}/{value['Key']}", safe="/-._~")
        version = value.get("VersionId")
        return f"{quoted}?versionId={version}" if version else quoted
    raise ParamValidationError(
        "CopySource must be 'bucket/key' or a dict with Bucket and Key"
    )


def build_copy_object(params: dict[str, Any], ctx: Context) -> Request:
    headers = {"x-amz-copy-source": copy_source(params["CopySource"])}
    return _request("PUT", params, ctx, headers=headers)


_COPY_RESULT: _xml.Shape = {
    "ETag": ("ETag", "s"),
    "LastModified": ("LastModified", "t"),
    "ChecksumType": ("ChecksumType", "s"),
    "ChecksumCRC32": ("ChecksumCRC32", "s"),
    "ChecksumCRC32C": ("ChecksumCRC32C", "s"),
    "ChecksumCRC64NVME": ("ChecksumCRC64NVME", "s"),
    "ChecksumSHA1": ("ChecksumSHA1", "s"),
    "ChecksumSHA256": ("ChecksumSHA256", "s"),
}


def parse_copy_object(response: Response, ctx: Context) -> dict[str, Any]:
    _raise_embedded_error(response, "CopyObject")
    result = {"CopyObjectResult": _xml.parse(response.body, _COPY_RESULT)}
    keys = (
        "Expiration",
        "CopySourceVersionId",
        "VersionId",
        *_SSE_KEYS,
        "SSEKMSEncryptionContext",
        "RequestCharged",
    )
    return _with_headers(response, keys, result)


# -- listing -------------------------------------------------------------------

_CONTENTS: _xml.Shape = {
    "Key": ("Key", "s"),
    "LastModified": ("LastModified", "t"),
    "ETag": ("ETag", "s"),
    "ChecksumAlgorithm": ("ChecksumAlgorithm", Flat("s")),
    "ChecksumType": ("ChecksumType", "s"),
    "Size": ("Size", "i"),
    "StorageClass": ("StorageClass", "s"),
    "Owner": ("Owner", OWNER),
    "RestoreStatus": (
        "RestoreStatus",
        {
            "IsRestoreInProgress": ("IsRestoreInProgress", "b"),
            "RestoreExpiryDate": ("RestoreExpiryDate", "t"),
        },
    ),
}
_PREFIX: _xml.Shape = {"Prefix": ("Prefix", "s")}
_LIST_V2: _xml.Shape = {
    "IsTruncated": ("IsTruncated", "b"),
    "Contents": ("Contents", Flat(_CONTENTS)),
    "Name": ("Name", "s"),
    "Prefix": ("Prefix", "s"),
    "Delimiter": ("Delimiter", "s"),
    "MaxKeys": ("MaxKeys", "i"),
    "CommonPrefixes": ("CommonPrefixes", Flat(_PREFIX)),
    "EncodingType": ("EncodingType", "s"),
    "KeyCount": ("KeyCount", "i"),
    "ContinuationToken": ("ContinuationToken", "s"),
    "NextContinuationToken": ("NextContinuationToken", "s"),
    "StartAfter": ("StartAfter", "s"),
}

# Marks that the client, not the caller, asked for encoding-type=url, so the
# keys are decoded back (as boto3 does); a caller who asks gets them encoded.
_AUTO_ENCODING = frozenset({"auto-encoding"})


def build_list_objects_v2(params: dict[str, Any], ctx: Context) -> Request:
    auto = "EncodingType" not in params
    if auto:
        params = {**params, "EncodingType": "url"}
    request = _request("GET", params, ctx, key=False, first_query=[("list-type", "2")])
    if auto:
        request.flags = _AUTO_ENCODING
    return request


def parse_list_objects_v2(response: Response, ctx: Context) -> dict[str, Any]:
    result = _xml.parse(response.body, _LIST_V2)
    if result.get("EncodingType") == "url" and _auto(response):
        for key in ("Delimiter", "Prefix", "StartAfter"):
            if key in result:
                result[key] = unquote_plus(result[key])
        for item in result.get("Contents", ()):
            item["Key"] = unquote_plus(item["Key"])
        for item in result.get("CommonPrefixes", ()):
            item["Prefix"] = unquote_plus(item["Prefix"])
    return _with_headers(response, ("RequestCharged",), result)


def _auto(response: Response) -> bool:
    return response.request is not None and "auto-encoding" in response.request.flags


# -- multipart uploads ---------------------------------------------------------


def build_create_multipart_upload(params: dict[str, Any], ctx: Context) -> Request:
    return _request("POST", params, ctx, first_query=[("uploads", None)])


_INITIATE: _xml.Shape = {
    "Bucket": ("Bucket", "s"),
    "Key": ("Key", "s"),
    "UploadId": ("UploadId", "s"),
}


def parse_create_multipart_upload(response: Response, ctx: Context) -> dict[str, Any]:
    result = _xml.parse(response.body, _INITIATE)
    keys = (
        "AbortDate",
        "AbortRuleId",
        *_SSE_KEYS,
        "SSEKMSEncryptionContext",
        "RequestCharged",
        "ChecksumAlgorithm",
        "ChecksumType",
    )
    return _with_headers(response, keys, result)


def build_upload_part(params: dict[str, Any], ctx: Context) -> Request:
    part = params["PartNumber"]
    if isinstance(part, bool) or not isinstance(part, int) or not 1 <= part <= 10000:
        raise ParamValidationError("PartNumber must be an integer from 1 to 10000")
    return _upload(params, ctx)


def parse_upload_part(response: Response, ctx: Context) -> dict[str, Any]:
    keys = ("ETag", *_CHECKSUM_KEYS, *_SSE_KEYS, "RequestCharged")
    return _with_headers(response, keys)


def build_complete_multipart_upload(params: dict[str, Any], ctx: Context) -> Request:
    upload = params.get("MultipartUpload") or {}
    parts_xml = [f'<CompleteMultipartUpload xmlns="{NS}">']
    for index, part in enumerate(upload.get("Parts", [])):
        where = f"MultipartUpload.Parts[{index}]"
        if not isinstance(part, Mapping):
            raise ParamValidationError(f"{where} must be a dict")
        if "PartNumber" not in part:
            raise ParamValidationError(f"{where} is missing PartNumber")
        _int(f"{where}.PartNumber", part["PartNumber"], 1)
        parts_xml.append("<Part>")
        for name in (
            "ETag",
            "ChecksumCRC32",
            "ChecksumCRC32C",
            "ChecksumCRC64NVME",
            "ChecksumSHA1",
            "ChecksumSHA256",
        ):
            if part.get(name):
                parts_xml.append(f"<{name}>{_xml.escape(str(part[name]))}</{name}>")
        parts_xml.append(f"<PartNumber>{int(part['PartNumber'])}</PartNumber></Part>")
    parts_xml.append("</CompleteMultipartUpload>")
    body = "".join(parts_xml).encode()
    return _request(
        "POST", params, ctx, body=body, headers={"Content-Type": "application/xml"}
    )


_COMPLETE: _xml.Shape = {
    "Location": ("Location", "s"),
    "Bucket": ("Bucket", "s"),
    "Key": ("Key", "s"),
    "ETag": ("ETag", "s"),
    "ChecksumCRC32": ("ChecksumCRC32", "s"),
    "ChecksumCRC32C": ("ChecksumCRC32C", "s"),
    "ChecksumCRC64NVME": ("ChecksumCRC64NVME", "s"),
    "ChecksumSHA1": ("ChecksumSHA1", "s"),
    "ChecksumSHA256": ("ChecksumSHA256", "s"),
    "ChecksumType": ("ChecksumType", "s"),
}


def parse_complete_multipart_upload(response: Response, ctx: Context) -> dict[str, Any]:
    _raise_embedded_error(response, "CompleteMultipartUpload")
    result = _xml.parse(response.body, _COMPLETE)
    keys = ("Expiration", "VersionId", *_SSE_KEYS, "RequestCharged")
    return _with_headers(response, keys, result)


def build_abort_multipart_upload(params: dict[str, Any], ctx: Context) -> Request:
    return _request("DELETE", params, ctx)


def parse_abort_multipart_upload(response: Response, ctx: Context) -> dict[str, Any]:
    return _with_headers(response, ("RequestCharged",))


def build_list_parts(params: dict[str, Any], ctx: Context) -> Request:
    return _request("GET", params, ctx)


_PART: _xml.Shape = {
    "PartNumber": ("PartNumber", "i"),
    "LastModified": ("LastModified", "t"),
    "ETag": ("ETag", "s"),
    "Size": ("Size", "i"),
    "ChecksumCRC32": ("ChecksumCRC32", "s"),
    "ChecksumCRC32C": ("ChecksumCRC32C", "s"),
    "ChecksumCRC64NVME": ("ChecksumCRC64NVME", "s"),
    "ChecksumSHA1": ("ChecksumSHA1", "s"),
    "ChecksumSHA256": ("ChecksumSHA256", "s"),
}
_LIST_PARTS: _xml.Shape = {
    "Bucket": ("Bucket", "s"),
    "Key": ("Key", "s"),
    "UploadId": ("UploadId", "s"),
    "PartNumberMarker": ("PartNumberMarker", "i"),
    "NextPartNumberMarker": ("NextPartNumberMarker", "i"),
    "MaxParts": ("MaxParts", "i"),
    "IsTruncated": ("IsTruncated", "b"),
    "Part": ("Parts", Flat(_PART)),
    "Initiator": ("Initiator", OWNER),
    "Owner": ("Owner", OWNER),
    "StorageClass": ("StorageClass", "s"),
    "ChecksumAlgorithm": ("ChecksumAlgorithm", "s"),
    "ChecksumType": ("ChecksumType", "s"),
}


def parse_list_parts(response: Response, ctx: Context) -> dict[str, Any]:
    result = _xml.parse(response.body, _LIST_PARTS)
    return _with_headers(
        response, ("AbortDate", "AbortRuleId", "RequestCharged"), result
    )


def build_list_multipart_uploads(params: dict[str, Any], ctx: Context) -> Request:
    return _request("GET", params, ctx, key=False, first_query=[("uploads", None)])


_UPLOAD: _xml.Shape = {
    "UploadId": ("UploadId", "s"),
    "Key": ("Key", "s"),
    "Initiated": ("Initiated", "t"),
    "StorageClass": ("StorageClass", "s"),
    "Owner": ("Owner", OWNER),
    "Initiator": ("Initiator", OWNER),
    "ChecksumAlgorithm": ("ChecksumAlgorithm", "s"),
    "ChecksumType": ("ChecksumType", "s"),
}
_LIST_UPLOADS: _xml.Shape = {
    "Bucket": ("Bucket", "s"),
    "KeyMarker": ("KeyMarker", "s"),
    "UploadIdMarker": ("UploadIdMarker", "s"),
    "NextKeyMarker": ("NextKeyMarker", "s"),
    "Prefix": ("Prefix", "s"),
    "Delimiter": ("Delimiter", "s"),
    "NextUploadIdMarker": ("NextUploadIdMarker", "s"),
    "MaxUploads": ("MaxUploads", "i"),
    "IsTruncated": ("IsTruncated", "b"),
    "Upload": ("Uploads", Flat(_UPLOAD)),
    "CommonPrefixes": ("CommonPrefixes", Flat(_PREFIX)),
    "EncodingType": ("EncodingType", "s"),
}


def parse_list_multipart_uploads(response: Response, ctx: Context) -> dict[str, Any]:
    result = _xml.parse(response.body, _LIST_UPLOADS)
    return _with_headers(response, ("RequestCharged",), result)


# -- the table -----------------------------------------------------------------

_B = ("Bucket",)
_BK = ("Bucket", "Key")
_OWNER_P = ("ExpectedBucketOwner",)
_SSE_C = ("SSECustomerAlgorithm", "SSECustomerKey", "SSECustomerKeyMD5")
# GetObject and HeadObject take the same optional parameters
_READ_OBJECT = (
    "IfMatch",
    "IfModifiedSince",
    "IfNoneMatch",
    "IfUnmodifiedSince",
    "Range",
    "ResponseCacheControl",
    "ResponseContentDisposition",
    "ResponseContentEncoding",
    "ResponseContentLanguage",
    "ResponseContentType",
    "ResponseExpires",
    "VersionId",
    *_SSE_C,
    "RequestPayer",
    "PartNumber",
    *_OWNER_P,
    "ChecksumMode",
)
_CHECKSUM_P = (
    "ChecksumAlgorithm",
    "ChecksumCRC32",
    "ChecksumCRC32C",
    "ChecksumCRC64NVME",
    "ChecksumSHA1",
    "ChecksumSHA256",
)
_WRITE_P = (
    "ACL",
    "CacheControl",
    "ContentDisposition",
    "ContentEncoding",
    "ContentLanguage",
    "ContentType",
    "Expires",
    "GrantFullControl",
    "GrantRead",
    "GrantReadACP",
    "GrantWriteACP",
    "Metadata",
    "ServerSideEncryption",
    "StorageClass",
    "WebsiteRedirectLocation",
    *_SSE_C,
    "SSEKMSKeyId",
    "SSEKMSEncryptionContext",
    "BucketKeyEnabled",
    "RequestPayer",
    "Tagging",
    "ObjectLockMode",
    "ObjectLockRetainUntilDate",
    "ObjectLockLegalHoldStatus",
    *_OWNER_P,
)

OPERATIONS: dict[str, Operation] = {
    op.name: op
    for op in (
        Operation(
            "ListBuckets",
            build_list_buckets,
            parse_list_buckets,
            optional=("MaxBuckets", "ContinuationToken", "Prefix", "BucketRegion"),
        ),
        Operation(
            "CreateBucket",
            build_create_bucket,
            parse_create_bucket,
            required=_B,
            optional=(
                "ACL",
                "CreateBucketConfiguration",
                "GrantFullControl",
                "GrantRead",
                "GrantReadACP",
                "GrantWrite",
                "GrantWriteACP",
                "ObjectLockEnabledForBucket",
                "ObjectOwnership",
            ),
        ),
        Operation(
            "DeleteBucket",
            build_bucket_only("DELETE"),
            parse_empty,
            required=_B,
            optional=_OWNER_P,
        ),
        Operation(
            "HeadBucket",
            build_bucket_only("HEAD"),
            parse_head_bucket,
            required=_B,
            optional=_OWNER_P,
        ),
        Operation(
            "PutObject",
            build_put_object,
            parse_put_object,
            required=_BK,
            optional=(
                "Body",
                "ContentLength",
                "ContentMD5",
                "IfMatch",
                "IfNoneMatch",
                "WriteOffsetBytes",
                *_WRITE_P,
                *_CHECKSUM_P,
            ),
        ),
        Operation(
            "GetObject",
            build_get_object,
            parse_get_object,
            required=_BK,
            optional=_READ_OBJECT,
            streaming=True,
        ),
        Operation(
            "HeadObject",
            build_head_object,
            parse_head_object,
            required=_BK,
            optional=_READ_OBJECT,
        ),
        Operation(
            "DeleteObject",
            build_delete_object,
            parse_delete_object,
            required=_BK,
            optional=(
                "MFA",
                "VersionId",
                "RequestPayer",
                "BypassGovernanceRetention",
                *_OWNER_P,
                "IfMatch",
            ),
        ),
        Operation(
            "DeleteObjects",
            build_delete_objects,
            parse_delete_objects,
            required=("Bucket", "Delete"),
            optional=(
                "MFA",
                "RequestPayer",
                "BypassGovernanceRetention",
                *_OWNER_P,
                "ChecksumAlgorithm",
            ),
        ),
        Operation(
            "CopyObject",
            build_copy_object,
            parse_copy_object,
            required=("Bucket", "Key", "CopySource"),
            optional=(
                *_WRITE_P,
                "ChecksumAlgorithm",
                "CopySourceIfMatch",
                "CopySourceIfModifiedSince",
                "CopySourceIfNoneMatch",
                "CopySourceIfUnmodifiedSince",
                "MetadataDirective",
                "TaggingDirective",
                "CopySourceSSECustomerAlgorithm",
                "CopySourceSSECustomerKey",
                "CopySourceSSECustomerKeyMD5",
                "ExpectedSourceBucketOwner",
            ),
        ),
        Operation(
            "ListObjectsV2",
            build_list_objects_v2,
            parse_list_objects_v2,
            required=_B,
            optional=(
                "Delimiter",
                "EncodingType",
                "MaxKeys",
                "Prefix",
                "ContinuationToken",
                "FetchOwner",
                "StartAfter",
                "RequestPayer",
                *_OWNER_P,
                "OptionalObjectAttributes",
            ),
        ),
        Operation(
            "CreateMultipartUpload",
            build_create_multipart_upload,
            parse_create_multipart_upload,
            required=_BK,
            optional=(*_WRITE_P, "ChecksumAlgorithm", "ChecksumType"),
        ),
        Operation(
            "UploadPart",
            build_upload_part,
            parse_upload_part,
            required=("Bucket", "Key", "PartNumber", "UploadId"),
            optional=(
                "Body",
                "ContentLength",
                "ContentMD5",
                *_CHECKSUM_P,
                *_SSE_C,
                "RequestPayer",
                *_OWNER_P,
            ),
        ),
        Operation(
            "CompleteMultipartUpload",
            build_complete_multipart_upload,
            parse_complete_multipart_upload,
            required=("Bucket", "Key", "UploadId"),
            optional=(
                "MultipartUpload",
                "ChecksumCRC32",
                "ChecksumCRC32C",
                "ChecksumCRC64NVME",
                "ChecksumSHA1",
                "ChecksumSHA256",
                "ChecksumType",
                "MpuObjectSize",
                "RequestPayer",
                *_OWNER_P,
                "IfMatch",
                "IfNoneMatch",
                *_SSE_C,
            ),
        ),
        Operation(
            "AbortMultipartUpload",
            build_abort_multipart_upload,
            parse_abort_multipart_upload,
            required=("Bucket", "Key", "UploadId"),
            optional=("RequestPayer", *_OWNER_P),
        ),
        Operation(
            "ListParts",
            build_list_parts,
            parse_list_parts,
            required=("Bucket", "Key", "UploadId"),
            optional=(
                "MaxParts",
                "PartNumberMarker",
                "RequestPayer",
                *_OWNER_P,
                *_SSE_C,
            ),
        ),
        Operation(
            "ListMultipartUploads",
            build_list_multipart_uploads,
            parse_list_multipart_uploads,
            required=_B,
            optional=(
                "Delimiter",
                "EncodingType",
                "KeyMarker",
                "MaxUploads",
                "Prefix",
                "UploadIdMarker",
                *_OWNER_P,
                "RequestPayer",
            ),
        ),
    )
}
