"""Presigned POST: a signed policy that lets a browser upload straight to S3.

The policy document is JSON with an `expiration` and a list of `conditions`
that every form field of the upload must meet
(https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-HTTPPOSTConstructPolicy.html).
It is base64-encoded into the `policy` field, and the signature is the
HMAC-SHA256 of that base64 text under the ordinary signing key; no canonical
request is involved. The fields and conditions come in the order boto3's
`generate_presigned_post` uses, so the same inputs give the same policy and
the same signature.
"""

from __future__ import annotations

import base64
import datetime as _dt
import json
from collections.abc import Mapping, Sequence
from typing import Any

from . import redact as _r
from . import signer as _s
from .credentials import Credentials
from .errors import InvalidExpiryError, SigningError

Condition = Mapping[str, Any] | Sequence[Any]

_FILENAME = "${filename}"
_MATCHES = frozenset({"eq", "starts-with"})
# The policy holds the session token and the credential, base64-encoded.
_SECRET_FIELDS = frozenset(
    {"x-amz-signature", "x-amz-security-token", "x-amz-credential", "policy"}
)


class PresignedPost:
    """The URL a form posts to and the fields it must carry, file field last.

    `as_dict()` gives `{"url": ..., "fields": {...}}`, the shape of boto3's
    `generate_presigned_post` result. `policy` is the decoded policy document.
    """

    __slots__ = ("expiration", "fields", "policy", "url")

    def __init__(
        self,
        url: str,
        fields: dict[str, str],
        policy: dict[str, Any],
        expiration: _dt.datetime,
    ) -> None:
        self.url = url
        self.fields = fields
        self.policy = policy
        self.expiration = expiration

    def as_dict(self) -> dict[str, Any]:
        """The boto3 shape: `{"url": ..., "fields": {...}}` (a copy)."""
        return {"url": self.url, "fields": dict(self.fields)}

    def __repr__(self) -> str:
        shown = {
            name: _r.MASK if name.lower() in _SECRET_FIELDS else value
            for name, value in self.fields.items()
        }
        return f"<PresignedPost {self.url} fields={shown}>"


def _check_condition(condition: Condition) -> None:
    if isinstance(condition, Mapping):
        if len(condition) != 1:
            raise SigningError("an exact-match condition holds one field and value")
        return
    if isinstance(condition, str) or len(condition) != 3:
        raise SigningError(f"a condition must be a dict or a 3-item list: {condition}")
    op, first, second = condition
    if op == "content-length-range":
        if not all(isinstance(n, int) and n >= 0 for n in (first, second)):
            raise SigningError("content-length-range needs two non-negative ints")
        if first > second:
            raise SigningError("content-length-range minimum exceeds its maximum")
    elif op in _MATCHES:
        if not isinstance(first, str) or not first.startswith("$"):
            raise SigningError(f"the {op} condition names a field as '$name'")
        if not isinstance(second, str):
            raise SigningError(f"the {op} condition compares with a string")
    else:
        raise SigningError(f"unknown condition operator {op!r}")


def policy_document(
    expiration: _dt.datetime, conditions: Sequence[Condition]
) -> dict[str, Any]:
    """A POST policy document: the expiration and the conditions, checked."""
    for condition in conditions:
        _check_condition(condition)
    when = expiration.astimezone(_dt.timezone.utc)
    return {
        "expiration": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "conditions": [
            dict(c) if isinstance(c, Mapping) else list(c) for c in conditions
        ],
    }


def sign_policy(
    policy: Mapping[str, Any],
    *,
    credentials: Credentials,
    date: str,
    region: str,
    service: str = "s3",
) -> tuple[str, str]:
    """The base64 policy and its signature, in that order."""
    encoded = base64.b64encode(json.dumps(policy).encode()).decode()
    key = _s.signing_key(credentials, date, region, service)
    return encoded, _s.signature(key, encoded)


def presign_post(
    url: str,
    bucket: str,
    key: str,
    *,
    credentials: Credentials,
    region: str,
    fields: Mapping[str, str] | None = None,
    conditions: Sequence[Condition] | None = None,
    expires: int = 3600,
    timestamp: _dt.datetime | None = None,
    service: str = "s3",
) -> PresignedPost:
    """Presign a browser upload of `key` into `bucket`, posted to `url`.

    A key ending in `${filename}` becomes a `starts-with $key` condition on what
    comes before it; any other key must match exactly. `fields` are prefilled
    form fields and `conditions` extra policy conditions (dicts for exact
    matches, `["eq" | "starts-with", "$field", value]`, or
    `["content-length-range", min, max]`); as in boto3, a field is not turned
    into a condition for you, nor a condition into a field. With temporary
    credentials the policy never outlives them.
    """
    if isinstance(expires, bool) or not isinstance(expires, int) or expires < 1:
        raise InvalidExpiryError("expires must be a positive whole number of seconds")
    now = _s._now(timestamp)
    if credentials.expiration is not None:
        left = int((credentials.expiration - now).total_seconds())
        if left < 1:
            raise InvalidExpiryError("the credentials have expired")
        expires = min(expires, left)
    stamp = _s.amz_date(now)
    scope = _s.credential_scope(stamp[:8], region, service)
    credential = _s.credential(credentials.access_key_id, scope)

    # conditions, in boto3's order
    every: list[Condition] = list(conditions or [])
    every.append({"bucket": bucket})
    if key.endswith(_FILENAME):
        every.append(["starts-with", "$key", key[: -len(_FILENAME)]])
    else:
        every.append({"key": key})
    signed_fields = {
        "x-amz-algorithm": _s.ALGORITHM,
        "x-amz-credential": credential,
        "x-amz-date": stamp,
    }
    if credentials.session_token is not None:
        signed_fields["x-amz-security-token"] = credentials.session_token
    every.extend({name: value} for name, value in signed_fields.items())

    # policy and signature
    expiration = now + _dt.timedelta(seconds=expires)
    policy = policy_document(expiration, every)
    encoded, sig = sign_policy(
        policy,
        credentials=credentials,
        date=stamp[:8],
        region=region,
        service=service,
    )

    form = dict(fields or {})
    form["key"] = key
    form.update(signed_fields)
    form["policy"] = encoded
    form["x-amz-signature"] = sig
    return PresignedPost(url, form, policy, expiration)
