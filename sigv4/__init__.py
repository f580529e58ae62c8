"""AWS Signature Version 4, dependency-free.

The signing core (`sign`, `presign`, `Credentials`) loads with the package;
everything else (credential chain, streaming payloads, presigned POST,
verification, the httpx adapter) loads on first use.
"""

from __future__ import annotations

import importlib

from .credentials import Credentials
from .errors import (
    CredentialsError,
    InvalidExpiryError,
    NoCredentialsError,
    NoRegionError,
    SigningError,
    SigV4Error,
    VerificationError,
)
from .signer import PresignedURL, SignedRequest, presign, sign

# typing costs milliseconds at start-up; annotations need it only when checked
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "Credentials",
    "CredentialsError",
    "InvalidExpiryError",
    "NoCredentialsError",
    "NoRegionError",
    "PresignedURL",
    "SigV4Error",
    "SignedRequest",
    "SigningError",
    "VerificationError",
    "presign",
    "sign",
]


# name -> submodule, imported on first use to keep `import sigv4` light
_LAZY = {
    "CredentialChain": "chain",
    "default_credentials": "chain",
    "resolve_region": "chain",
    "StreamingPayload": "streaming",
    "sign_streaming": "streaming",
    "presign_post": "post",
    "PresignedPost": "post",
    "verify": "verify",
    "Verified": "verify",
    "SigV4Auth": "httpx_auth",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'sigv4' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value
