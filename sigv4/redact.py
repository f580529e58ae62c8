"""A redacting view of what signing produces, for logs and reprs.

Masked: the Authorization, X-Amz-Security-Token, Cookie and Set-Cookie headers,
the SSE-C key headers, and the X-Amz-Credential, X-Amz-Signature and
X-Amz-Security-Token query parameters. Secret keys and signing keys are never
handed to this module, so it cannot leak them.
"""

from __future__ import annotations

import sys

# typing costs milliseconds at start-up; annotations need it only when checked
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

MASK = "***"

SECRET_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "x-amz-security-token",
        "cookie",
        "set-cookie",
        "x-amz-server-side-encryption-customer-key",
        "x-amz-server-side-encryption-customer-key-md5",
        "x-amz-copy-source-server-side-encryption-customer-key",
        "x-amz-copy-source-server-side-encryption-customer-key-md5",
        "x-amz-container-authorization-token",
    }
)
SECRET_PARAMS = frozenset(
    {"x-amz-credential", "x-amz-signature", "x-amz-security-token"}
)


def redact_query(query: str) -> str:
    """A query string with the secret-bearing parameters masked."""
    pieces = []
    for piece in query.split("&"):
        name, eq, _ = piece.partition("=")
        if name.lower() in SECRET_PARAMS:
            piece = f"{name}{eq}{MASK}"
        pieces.append(piece)
    return "&".join(pieces)


def redact_url(url: str) -> str:
    """A URL with the secret-bearing query parameters masked."""
    base, mark, query = url.partition("?")
    return f"{base}{mark}{redact_query(query)}" if mark else url


def redact_headers(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Headers with the secret-bearing values masked."""
    return [
        (name, MASK if name.lower() in SECRET_HEADERS else value)
        for name, value in headers
    ]


def redact_canonical_request(canonical_request: str) -> str:
    """A canonical request with secret headers and query parameters masked."""
    lines = canonical_request.split("\n")
    if len(lines) > 2:
        lines[2] = redact_query(lines[2])
    for index in range(3, len(lines)):
        name, colon, _ = lines[index].partition(":")
        if colon and name in SECRET_HEADERS:
            lines[index] = f"{name}:{MASK}"
    return "\n".join(lines)


class Redacted:
    """Formats a canonical request redacted, only if a log record is emitted."""

    __slots__ = ("_text",)

    def __init__(self, canonical_request: str) -> None:
        self._text = canonical_request

    def __str__(self) -> str:
        return redact_canonical_request(self._text)


_logger: Any = None


def log_signing(canonical_request: str, string_to_sign: str) -> None:
    """Log a canonical request (redacted) and string to sign at DEBUG."""
    # Importing logging costs more than signing; when the application has not
    # imported it, no handler can exist, so there is no one to log to.
    global _logger
    logging = sys.modules.get("logging")
    if logging is None:
        return
    logger = _logger or logging.getLogger("sigv4.signer")
    _logger = logger
    if logger.isEnabledFor(logging.DEBUG):
        logger.debug("canonical request:\n%s", Redacted(canonical_request))
        logger.debug("string to sign:\n%s", string_to_sign)
