"""Errors raised by the service clients.

::

    ServiceError
    ├── ClientError                 the service answered with an error
    │   └── <Code> per service      e.g. s3 NoSuchKey, dynamodb
    │                               ConditionalCheckFailedException, made on
    │                               first use and reachable as
    │                               client.exceptions.<Code>
    ├── ParamValidationError        a parameter is missing, unknown or mistyped
    │   └── OperationNotPageableError
    │                               get_paginator for an operation without one
    ├── EndpointError               no answer could be had from the endpoint
    │   ├── EndpointConnectionError could not connect, or the connection broke
    │   │   ├── ConnectionClosedError
    │   │   │                       the connection broke before a full answer
    │   │   └── ConnectTimeoutError
    │   │                           connecting took longer than connect_timeout
    │   └── ReadTimeoutError        the answer took longer than read_timeout
    ├── ResponseParseError          the answer could not be understood
    ├── ClientClosedError           the client was closed before the call
    ├── IncompleteReadError         a body ended before its Content-Length
    ├── ChecksumMismatchError       a body does not match its checksum
    └── NoEndpointError             no endpoint could be worked out
        └── InvalidEndpointError    (also a ValueError) an endpoint URL that
                                    cannot be used as given

`ClientError` reads the boto3 way too: `err.response["Error"]["Code"]` and
`err.response["ResponseMetadata"]`, and carries `operation_name`. A named
subclass is made once per (service, code) and shared by every client of that
service, so `except client.exceptions.NoSuchKey` and `except ClientError` both
port from boto3. Codes that are not identifiers (S3's "404" for a HEAD with no
body) stay plain `ClientError`, as in boto3.

`client.exceptions.<Name>` answers only for the codes in `KNOWN_CODES` (the
errors botocore's service model declares, and the common errors AWS documents
for the service), so a misspelled name is an AttributeError, not a class that
never matches. A code received at runtime still gets its class
(`client.exceptions.from_code(code)`).

No message ever carries a secret key, session token or signature.
"""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    """Base class of every error raised by the service clients."""


class ClientError(ServiceError):
    """The service answered with an error.

    `code`, `message`, `status_code`, `request_id` and `operation_name` are
    attributes; `response` holds the boto3-shaped dict.
    """

    def __init__(
        self,
        error_response: dict[str, Any],
        operation_name: str,
    ) -> None:
        error = error_response.get("Error", {})
        meta = error_response.get("ResponseMetadata", {})
        self.response = error_response
        self.operation_name = operation_name
        self.code: str = error.get("Code", "Unknown")
        self.message: str = error.get("Message", "")
        self.status_code: int = meta.get("HTTPStatusCode", 0)
        self.request_id: str = meta.get("RequestId", "")
        super().__init__(self.code, self.message)

    def __str__(self) -> str:
        meta = self.response.get("ResponseMetadata", {})
        suffix = ""
        if meta.get("MaxAttemptsReached"):
            suffix = f" (reached max retries: {meta.get('RetryAttempts', 0)})"
        return (
            f"An error occurred ({self.code}) when calling the "
            f"{self.operation_name} operation{suffix}: {self.message}"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        service = getattr(type(self), "service_name", None)
        return (_rebuild, (service, self.code, self.response, self.operation_name))


class ParamValidationError(ServiceError, ValueError):
    """A parameter is missing, unknown or of the wrong type; `report` says which."""

    def __init__(self, report: str) -> None:
        self.report = report
        super().__init__(f"Parameter validation failed: {report}")


class OperationNotPageableError(ParamValidationError):
    """`get_paginator` for an operation that has no paginator (boto3's name)."""

    def __init__(self, operation_name: str, pageable: list[str]) -> None:
        self.operation_name = operation_name
        ServiceError.__init__(
            self,
            f"operation {operation_name!r} cannot be paginated; "
            f"paginated operations are {', '.join(sorted(pageable))}",
        )
        self.report = str(self)


class EndpointError(ServiceError):
    """No answer could be had from the endpoint."""

    def __init__(self, message: str, *, endpoint_url: str = "") -> None:
        self.endpoint_url = endpoint_url
        super().__init__(message)


class EndpointConnectionError(EndpointError, ConnectionError):
    """Could not connect to the endpoint, or the connection broke."""


class ConnectionClosedError(EndpointConnectionError):
    """The connection broke before a complete answer came (reset, closed)."""


class ConnectTimeoutError(EndpointConnectionError, TimeoutError):
    """Connecting took longer than the connect timeout."""


class ReadTimeoutError(EndpointError, TimeoutError):
    """The answer took longer than the read timeout."""


class ResponseParseError(ServiceError):
    """The service's answer could not be understood."""


class IncompleteReadError(ServiceError):
    """A body ended before the length the service announced."""

    def __init__(self, actual_bytes: int, expected_bytes: int) -> None:
        self.actual_bytes = actual_bytes
        self.expected_bytes = expected_bytes
        super().__init__(
            f"{actual_bytes} read, but total bytes expected is {expected_bytes}"
        )


class ChecksumMismatchError(ServiceError):
    """A body does not match the checksum the service sent with it."""


class NoEndpointError(ServiceError):
    """No endpoint could be worked out for the service and region."""


class ClientClosedError(ServiceError):
    """The client was closed; build a new one."""


# -- known error codes ---------------------------------------------------------

# Per service: the exceptions botocore's model declares, then the common errors
# AWS documents for the service (which boto3 raises as plain ClientError).
KNOWN_CODES: dict[str, frozenset[str]] = {
    "s3": frozenset(
        {
            # declared in the model
            "AccessDenied",
            "AnnotationLimitExceeded",
            "AnnotationNameTooLong",
            "BucketAlreadyExists",
            "BucketAlreadyOwnedByYou",
            "EncryptionTypeMismatch",
            "IdempotencyParameterMismatch",
            "InvalidAnnotationName",
            "InvalidObjectState",
            "InvalidPrefix",
            "InvalidRequest",
            "InvalidWriteOffset",
            "NoSuchAnnotation",
            "NoSuchBucket",
            "NoSuchKey",
            "NoSuchUpload",
            "ObjectAlreadyInActiveTierError",
            "ObjectNotInActiveTierError",
            "TooManyParts",
            "UnsupportedMediaType",
            # documented error codes
            "BadDigest",
            "BucketNotEmpty",
            "EntityTooLarge",
            "EntityTooSmall",
            "InternalError",
            "InvalidArgument",
            "InvalidBucketName",
            "InvalidDigest",
            "InvalidPart",
            "InvalidPartOrder",
            "InvalidRange",
            "MalformedXML",
            "NoSuchVersion",
            "PermanentRedirect",
            "PreconditionFailed",
            "RequestTimeTooSkewed",
            "ServiceUnavailable",
            "SignatureDoesNotMatch",
            "SlowDown",
        }
    ),
    "dynamodb": frozenset(
        {
            # declared in the model
            "BackupInUseException",
            "BackupNotFoundException",
            "ConditionalCheckFailedException",
            "ContinuousBackupsUnavailableException",
            "DuplicateItemException",
            "ExportConflictException",
            "ExportNotFoundException",
            "GlobalTableAlreadyExistsException",
            "GlobalTableNotFoundException",
            "IdempotentParameterMismatchException",
            "ImportConflictException",
            "ImportNotFoundException",
            "IndexNotFoundException",
            "InternalServerError",
            "InvalidExportTimeException",
            "InvalidRestoreTimeException",
            "ItemCollectionSizeLimitExceededException",
            "LimitExceededException",
            "PointInTimeRecoveryUnavailableException",
            "PolicyNotFoundException",
            "ProvisionedThroughputExceededException",
            "ReplicaAlreadyExistsException",
            "ReplicaNotFoundException",
            "ReplicatedWriteConflictException",
            "RequestLimitExceeded",
            "ResourceInUseException",
            "ResourceNotFoundException",
            "TableAlreadyExistsException",
            "TableInUseException",
            "TableNotFoundException",
            "ThrottlingException",
            "TransactionCanceledException",
            "TransactionConflictException",
            "TransactionInProgressException",
            # documented common errors
            "AccessDeniedException",
            "IncompleteSignatureException",
            "MissingAuthenticationTokenException",
            "SerializationException",
            "ServiceUnavailable",
            "UnrecognizedClientException",
            "ValidationException",
        }
    ),
}


# -- named service errors ------------------------------------------------------

_NAMED: dict[tuple[str, str], type[ClientError]] = {}


def named_error(service: str, code: str) -> type[ClientError]:
    """The ClientError subclass for a service's error code, made on first use."""
    key = (service, code)
    cls = _NAMED.get(key)
    if cls is None:
        if not code.isidentifier():
            return ClientError
        cls = type(
            code,
            (ClientError,),
            {"__module__": f"services.{service}", "service_name": service},
        )
        _NAMED[key] = cls
    return cls


_ClientError = ClientError


def _rebuild(
    service: str | None, code: str, response: dict[str, Any], operation_name: str
) -> ClientError:
    cls = named_error(service, code) if service else ClientError
    return cls(response, operation_name)


class ServiceExceptions:
    """`client.exceptions`: the named errors of one service, and ClientError."""

    ClientError = ClientError

    def __init__(self, service: str) -> None:
        self._service = service

    def __getattr__(self, code: str) -> type[_ClientError]:
        if code.startswith("_"):
            raise AttributeError(code)
        known = KNOWN_CODES.get(self._service)
        if known is not None and code not in known:
            raise AttributeError(
                f"{self._service} has no error code {code!r} "
                "(use from_code for a code received at runtime)"
            )
        cls = named_error(self._service, code)
        if cls is ClientError:
            raise AttributeError(f"{code!r} is not an error code name")
        return cls

    def from_code(self, code: str) -> type[_ClientError]:
        """The error class raised for `code` (plain ClientError if unnamed)."""
        return named_error(self._service, code)

    def __repr__(self) -> str:
        return f"<ServiceExceptions {self._service}>"


def client_error(
    service: str,
    operation_name: str,
    *,
    code: str,
    message: str,
    status_code: int,
    metadata: dict[str, Any],
    extra: dict[str, Any] | None = None,
) -> ClientError:
    """Build the typed error for a service's error answer."""
    error: dict[str, Any] = {"Code": code, "Message": message}
    if extra:
        error.update(extra)
    response: dict[str, Any] = {"Error": error, "ResponseMetadata": metadata}
    if metadata.get("HTTPStatusCode") is None:
        metadata["HTTPStatusCode"] = status_code
    return named_error(service, code)(response, operation_name)


class InvalidEndpointError(NoEndpointError, ValueError):
    """An endpoint URL that cannot be used as given (boto3 raises ValueError)."""
