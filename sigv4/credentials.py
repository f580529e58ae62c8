"""The credentials value. Where credentials come from is in `sigv4.chain`."""

from __future__ import annotations

# typing and datetime cost milliseconds at start-up; the annotations need them
# only when checked, and whoever hands in an expiry has imported datetime.
TYPE_CHECKING = False
if TYPE_CHECKING:
    import datetime as _dt
    from typing import Any


def _sendable(value: str) -> bool:
    """True for text that can go in an HTTP header: visible ASCII only."""
    return value.isascii() and value.isprintable() and " " not in value


def _check_fields(access_key_id: str, session_token: str | None) -> None:
    """Refuse a key id or token that could not travel in a header.

    The key id goes in the Authorization header and the token in its own;
    a CR, LF, space or non-ASCII character would make the HTTP stack refuse
    the request with the header value (secrets included) in its error.
    """
    from .errors import CredentialsError

    if not isinstance(access_key_id, str) or not _sendable(access_key_id):
        raise CredentialsError(
            "the access key id must be visible ASCII characters only"
        )
    if session_token is not None and (
        not isinstance(session_token, str) or not _sendable(session_token)
    ):
        raise CredentialsError(
            "the session token must be visible ASCII characters only"
        )


class Credentials:
    """An access key pair, an optional session token and an optional expiry.

    Immutable. The repr shows the access key id only; the secret key and the
    session token never appear in it. The access key id and the session token
    must be visible ASCII (they travel in headers): anything else is a
    `CredentialsError` naming the field, never its value.
    """

    __slots__ = ("access_key_id", "expiration", "secret_access_key", "session_token")

    access_key_id: str
    secret_access_key: str
    session_token: str | None
    expiration: _dt.datetime | None

    def __init__(
        self,
        access_key_id: str,
        secret_access_key: str,
        session_token: str | None = None,
        expiration: _dt.datetime | None = None,
    ) -> None:
        if not access_key_id or not secret_access_key:
            from .errors import CredentialsError

            raise CredentialsError("an access key id and a secret key are both needed")
        _check_fields(access_key_id, session_token or None)
        if expiration is not None and expiration.tzinfo is None:
            import datetime

            expiration = expiration.replace(tzinfo=datetime.timezone.utc)
        set_ = object.__setattr__
        set_(self, "access_key_id", access_key_id)
        set_(self, "secret_access_key", secret_access_key)
        set_(self, "session_token", session_token or None)
        set_(self, "expiration", expiration)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Credentials are immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("Credentials are immutable")

    def __repr__(self) -> str:
        token = ", session_token=***" if self.session_token else ""
        expiry = (
            f", expiration={self.expiration.isoformat()}" if self.expiration else ""
        )
        return (
            f"Credentials(access_key_id={self.access_key_id!r}, "
            f"secret_access_key=***{token}{expiry})"
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Credentials):
            return NotImplemented
        return (
            self.access_key_id == other.access_key_id
            and self.secret_access_key == other.secret_access_key
            and self.session_token == other.session_token
            and self.expiration == other.expiration
        )

    def __hash__(self) -> int:
        return hash((self.access_key_id, self.session_token, self.expiration))

    def __reduce__(self) -> tuple[Any, ...]:
        args = (
            self.access_key_id,
            self.secret_access_key,
            self.session_token,
            self.expiration,
        )
        return (Credentials, args)

    @property
    def temporary(self) -> bool:
        """True for credentials that carry a session token or an expiry."""
        return self.session_token is not None or self.expiration is not None

    def expires_within(self, seconds: float, now: _dt.datetime | None = None) -> bool:
        """True when the credentials expire within `seconds` from `now`."""
        if self.expiration is None:
            return False
        if now is None:
            import datetime

            now = datetime.datetime.now(datetime.timezone.utc)
        return (self.expiration - now).total_seconds() < seconds
