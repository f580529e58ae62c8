"""Errors raised by sigv4.

::

    SigV4Error
    ├── CredentialsError            no usable credentials
    │   ├── NoCredentialsError      every source in the chain came up empty
    │   ├── CredentialSourceError   a source was configured but failed
    │   │   ├── CredentialProcessError    credential_process failed or spoke badly
    │   │   ├── ContainerEndpointError    container endpoint URL not allowed
    │   │   └── StsError                  STS refused or answered badly
    │   ├── ConfigFileError         a shared config or credentials file is bad
    │   └── ProfileError            a profile is missing or incomplete
    │       └── RoleChainCycleError   source_profile links loop back
    ├── NoRegionError               no region given or configured
    ├── SigningError                the request cannot be signed as asked
    │   ├── InvalidScopeError       region or service unfit for a scope
    │   ├── InvalidExpiryError      presign expiry outside 1..604800 seconds
    │   ├── AuthParamsInURLError    presign of a URL already holding X-Amz-*
    │   ├── MalformedHeaderError    a header name or value that cannot be sent
    │   └── PayloadLengthError      a streamed body not of its declared length
    ├── InvalidSkewError            verify's max_skew not a finite number >= 0
    └── VerificationError           an incoming signed request is not accepted
        ├── MissingAuthError        no Authorization header or X-Amz-* query
        ├── MalformedAuthError      the signature fields cannot be parsed
        ├── UnknownAccessKeyError   the access key id has no secret
        ├── SignatureMismatchError  the signature does not match
        ├── RequestExpiredError     a presigned URL past its expiry
        ├── RequestTimeSkewedError  the request date is outside the skew window
        ├── ScopeMismatchError      wrong region, service or date in the scope
        ├── UnsignedHeaderError     a header that must be signed is not
        ├── SessionTokenMismatchError  session token missing, extra or wrong
        └── PayloadHashMismatchError  the body does not match its declared hash

No message ever carries a secret key, session token or signature.
"""

from __future__ import annotations


class SigV4Error(Exception):
    """Base class of every error raised by sigv4."""


class CredentialsError(SigV4Error):
    """No usable credentials could be had."""


class NoCredentialsError(CredentialsError):
    """Every source in the credential chain came up empty."""


class CredentialSourceError(CredentialsError):
    """A credential source was configured but failed."""


class CredentialProcessError(CredentialSourceError):
    """A `credential_process` command failed or printed something unusable."""


class ContainerEndpointError(CredentialSourceError):
    """The container credentials URL is not one the chain may call."""


class StsError(CredentialSourceError):
    """STS refused a role request or answered in an unexpected shape.

    `code` holds the AWS error code when STS sent one.
    """

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


class ConfigFileError(CredentialsError):
    """A shared config or credentials file cannot be read or parsed."""


class ProfileError(CredentialsError):
    """A profile is missing, or lacks a setting it needs."""


class RoleChainCycleError(ProfileError):
    """`source_profile` settings lead back to a profile already visited."""


class NoRegionError(SigV4Error):
    """No region was given and none is configured."""


class SigningError(SigV4Error, ValueError):
    """The request cannot be signed as asked."""


class InvalidScopeError(SigningError):
    """The region or the service cannot go in a credential scope.

    `argument` names which one ("region" or "service"); the message names it
    too, never the value.
    """

    def __init__(self, message: str, argument: str) -> None:
        super().__init__(message)
        self.argument = argument


class AuthParamsInURLError(SigningError):
    """A URL to presign already carries SigV4 query parameters."""


class InvalidExpiryError(SigningError):
    """A presigned URL's expiry is outside what SigV4 allows."""


class MalformedHeaderError(SigningError):
    """A header name or value cannot be signed or sent."""


class PayloadLengthError(SigningError):
    """A streamed body is longer or shorter than its declared length."""


class InvalidSkewError(SigV4Error, ValueError):
    """The clock-skew window given to verify is not a finite number >= 0."""


class VerificationError(SigV4Error):
    """An incoming signed request is not accepted."""


class MissingAuthError(VerificationError):
    """The request carries no SigV4 signature at all."""


class MalformedAuthError(VerificationError):
    """The signature fields of the request cannot be parsed."""


class UnknownAccessKeyError(VerificationError):
    """The access key id that signed the request is not known."""


class SignatureMismatchError(VerificationError):
    """The signature does not match the request."""


class RequestExpiredError(VerificationError):
    """A presigned request is past its expiry."""


class RequestTimeSkewedError(VerificationError):
    """The request's date is too far from the verifier's clock."""


class ScopeMismatchError(VerificationError):
    """The credential scope names another region, service or date."""


class UnsignedHeaderError(VerificationError):
    """A header that must be signed (host, x-amz-date, ...) is not signed."""


class SessionTokenMismatchError(VerificationError):
    """The session token is missing, unexpected or wrong for the access key."""


class PayloadHashMismatchError(VerificationError):
    """The body does not match the payload hash that was signed."""
