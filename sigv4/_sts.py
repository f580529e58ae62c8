"""The two STS calls the credential chain needs, over httpx.

AssumeRole is signed with `sigv4.sign`. AssumeRoleWithWebIdentity is an
anonymous call (the web identity token is the proof), so it goes unsigned, as
the AWS SDKs send it. httpx is imported inside `_post`, never at import time.

The endpoint is `AWS_ENDPOINT_URL_STS`, then `AWS_ENDPOINT_URL`, then the
regional `https://sts.{region}.amazonaws.com`. Request bodies (which carry the
web identity token) and response bodies (which carry the new secret key) are
never logged or quoted in errors.
"""

from __future__ import annotations

import datetime as _dt
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from .credentials import Credentials
from .errors import StsError

if TYPE_CHECKING:
    import xml.etree.ElementTree as ET

log = logging.getLogger(__name__)

API_VERSION = "2011-06-15"
TIMEOUT = 10.0
DEFAULT_REGION = "us-east-1"


def endpoint(environ: Mapping[str, str], region: str) -> str:
    """The STS endpoint URL for a region, after the environment's overrides."""
    told = environ.get("AWS_ENDPOINT_URL_STS") or environ.get("AWS_ENDPOINT_URL")
    if told:
        return told.rstrip("/") + "/"
    return f"https://sts.{region}.amazonaws.com/"


def parse_time(text: str) -> _dt.datetime:
    """An ISO 8601 timestamp as STS and the credential endpoints write it."""
    text = text.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    moment = _dt.datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_dt.timezone.utc)
    return moment


def _strip(tag: str) -> str:
    return tag.rpartition("}")[2]


def _find(root: ET.Element, name: str) -> ET.Element | None:
    for element in root.iter():
        if _strip(element.tag) == name:
            return element
    return None


def _text(root: ET.Element, name: str) -> str | None:
    element = _find(root, name)
    return element.text.strip() if element is not None and element.text else None


def parse_credentials(action: str, body: bytes) -> Credentials:
    """The `Credentials` element of an AssumeRole* response."""
    import xml.etree.ElementTree as ET

    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        raise StsError(f"STS {action} answered with malformed XML") from None
    block = _find(root, "Credentials")
    if block is None:
        raise StsError(f"STS {action} answered without credentials")
    key_id = _text(block, "AccessKeyId")
    secret = _text(block, "SecretAccessKey")
    token = _text(block, "SessionToken")
    expiry = _text(block, "Expiration")
    if not (key_id and secret and token and expiry):
        raise StsError(f"STS {action} answered with incomplete credentials")
    try:
        expiration = parse_time(expiry)
    except ValueError:
        raise StsError(f"STS {action} answered with a bad Expiration") from None
    return Credentials(key_id, secret, token, expiration)


def _error(action: str, status: int, body: bytes) -> StsError:
    import xml.etree.ElementTree as ET

    code = message = None
    try:
        root = ET.fromstring(body)
        code = _text(root, "Code")
        message = _text(root, "Message")
    except ET.ParseError:
        pass
    detail = f"{code}: {message}" if code and message else code or f"HTTP {status}"
    return StsError(f"STS {action} failed: {detail}", code=code)


def _post(url: str, headers: list[tuple[str, str]], body: bytes) -> tuple[int, bytes]:
    import httpx

    try:
        with httpx.Client(timeout=TIMEOUT, follow_redirects=False) as client:
            response = client.post(url, headers=headers, content=body)
    except httpx.HTTPError as exc:
        raise StsError(f"cannot reach STS at {url}: {type(exc).__name__}") from None
    return response.status_code, response.content


def _call(
    environ: Mapping[str, str],
    region: str,
    params: dict[str, str],
    credentials: Credentials | None,
) -> Credentials:
    from .signer import sign

    action = params["Action"]
    url = endpoint(environ, region)
    body = urlencode(params).encode()
    headers = [("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")]

    # sign, unless the call is anonymous
    if credentials is not None:
        signed = sign(
            "POST",
            url,
            headers,
            body,
            credentials=credentials,
            region=region,
            service="sts",
        )
        headers = signed.headers

    # post and read
    log.debug("STS %s at %s", action, url)
    status, answer = _post(url, headers, body)
    if status != 200:
        raise _error(action, status, answer)
    return parse_credentials(action, answer)


def assume_role(
    credentials: Credentials,
    *,
    role_arn: str,
    session_name: str,
    region: str,
    environ: Mapping[str, str],
    external_id: str | None = None,
    duration_seconds: int | None = None,
) -> Credentials:
    """Call STS AssumeRole with `credentials` and return the role's."""
    params = {
        "Action": "AssumeRole",
        "Version": API_VERSION,
        "RoleArn": role_arn,
        "RoleSessionName": session_name,
    }
    if external_id:
        params["ExternalId"] = external_id
    if duration_seconds:
        params["DurationSeconds"] = str(duration_seconds)
    return _call(environ, region, params, credentials)


def assume_role_with_web_identity(
    token: str,
    *,
    role_arn: str,
    session_name: str,
    region: str,
    environ: Mapping[str, str],
    duration_seconds: int | None = None,
) -> Credentials:
    """Call STS AssumeRoleWithWebIdentity with a web identity token."""
    params = {
        "Action": "AssumeRoleWithWebIdentity",
        "Version": API_VERSION,
        "RoleArn": role_arn,
        "RoleSessionName": session_name,
        "WebIdentityToken": token,
    }
    if duration_seconds:
        params["DurationSeconds"] = str(duration_seconds)
    return _call(environ, region, params, None)
