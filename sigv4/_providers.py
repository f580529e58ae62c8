"""The credential providers the chain tries, one class per source.

Each provider's `load()` returns `Credentials`, or None when its source is not
configured at all (the chain then moves on), and raises a `CredentialsError`
when the source is configured but fails. Every provider reads the environment
when it loads, not when it is built, and refreshing means loading again.

HTTP to the container and instance-metadata endpoints uses `http.client` with
short timeouts and a bounded number of attempts. Secrets (keys, tokens, the
output of a credential process, response bodies) never reach a log line or an
error message.
"""

from __future__ import annotations

import datetime as _dt
import logging
import os
import time
from collections.abc import Mapping
from typing import Any, Protocol
from urllib.parse import urlsplit

from . import _ini, _sts
from .credentials import Credentials
from .errors import (
    ContainerEndpointError,
    CredentialProcessError,
    CredentialSourceError,
    ProfileError,
    RoleChainCycleError,
)

log = logging.getLogger(__name__)

Environ = Mapping[str, str]

MAX_BODY = 64 * 1024
PROCESS_TIMEOUT = 120.0
CONTAINER_HOST = "169.254.170.2"
CONTAINER_TIMEOUT = 2.0
CONTAINER_ATTEMPTS = 2
IMDS_ENDPOINT = "http://169.254.169.254"
IMDS_TOKEN_TTL = "21600"

# Hosts a plain-http AWS_CONTAINER_CREDENTIALS_FULL_URI may name, besides
# loopback: the ECS task endpoint and the EKS Pod Identity agent.
# https://docs.aws.amazon.com/sdkref/latest/guide/feature-container-credentials.html
_CONTAINER_ALLOWED = ("169.254.170.2", "169.254.170.23", "fd00:ec2::23")


class Provider(Protocol):
    """A source of credentials: None when not configured, raises when broken."""

    @property
    def name(self) -> str:
        """What the source is called in logs and errors."""

    def load(self) -> Credentials | None: ...


def _flag(environ: Environ, name: str) -> bool:
    return environ.get(name, "").strip().lower() == "true"


def _expiry(value: Any, source: str) -> _dt.datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise CredentialSourceError(f"{source}: Expiration is not a string")
    try:
        return _sts.parse_time(value)
    except ValueError:
        # not quoted: the answer it comes from holds the secret
        raise CredentialSourceError(
            f"{source}: Expiration is not an ISO 8601 time"
        ) from None


def _session_name() -> str:
    return f"lambdalite-{int(time.time() * 1000)}"


# -- explicit and environment -------------------------------------------------


class StaticProvider:
    """Credentials given by the caller."""

    name = "explicit"

    def __init__(self, credentials: Credentials) -> None:
        self._credentials = credentials

    def load(self) -> Credentials:
        return self._credentials


class EnvironmentProvider:
    """`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`."""

    name = "environment"

    def __init__(self, environ: Environ = os.environ) -> None:
        self._environ = environ

    def load(self) -> Credentials | None:
        env = self._environ
        key_id = env.get("AWS_ACCESS_KEY_ID", "")
        secret = env.get("AWS_SECRET_ACCESS_KEY", "")
        if not key_id and not secret:
            return None
        if not key_id or not secret:
            given, lacking = (
                ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
                if key_id
                else ("AWS_SECRET_ACCESS_KEY", "AWS_ACCESS_KEY_ID")
            )
            raise CredentialSourceError(f"{given} is set but {lacking} is not")
        token = env.get("AWS_SESSION_TOKEN") or None
        expiry = _expiry(
            env.get("AWS_CREDENTIAL_EXPIRATION") or None, "AWS_CREDENTIAL_EXPIRATION"
        )
        return Credentials(key_id, secret, token, expiry)


# -- web identity -------------------------------------------------------------


def _web_identity(
    environ: Environ,
    *,
    token_file: str,
    role_arn: str,
    session_name: str | None,
    region: str,
) -> Credentials:
    try:
        with open(os.path.expanduser(token_file), encoding="utf-8") as file:
            token = file.read().strip()
    except OSError as exc:
        raise CredentialSourceError(
            f"cannot read the web identity token file {token_file}: "
            f"{type(exc).__name__}"
        ) from None
    if not token:
        raise CredentialSourceError(
            f"the web identity token file {token_file} is empty"
        )
    return _sts.assume_role_with_web_identity(
        token,
        role_arn=role_arn,
        session_name=session_name or _session_name(),
        region=region,
        environ=environ,
    )


def _sts_region(environ: Environ, profile: Mapping[str, str] | None = None) -> str:
    return (
        environ.get("AWS_REGION")
        or environ.get("AWS_DEFAULT_REGION")
        or (profile or {}).get("region")
        or _sts.DEFAULT_REGION
    )


class WebIdentityProvider:
    """`AWS_WEB_IDENTITY_TOKEN_FILE` and `AWS_ROLE_ARN`, through STS."""

    name = "web identity"

    def __init__(self, environ: Environ = os.environ) -> None:
        self._environ = environ

    def load(self) -> Credentials | None:
        env = self._environ
        token_file = env.get("AWS_WEB_IDENTITY_TOKEN_FILE")
        role_arn = env.get("AWS_ROLE_ARN")
        if not token_file and not role_arn:
            return None
        if not token_file or not role_arn:
            lacking = "AWS_ROLE_ARN" if token_file else "AWS_WEB_IDENTITY_TOKEN_FILE"
            raise CredentialSourceError(f"web identity needs {lacking} as well")
        return _web_identity(
            env,
            token_file=token_file,
            role_arn=role_arn,
            session_name=env.get("AWS_ROLE_SESSION_NAME"),
            region=_sts_region(env),
        )


# -- HTTP endpoints -----------------------------------------------------------


class _Unreachable(Exception):
    """No HTTP answer at all: refused, timed out, reset."""


def _http(
    method: str,
    url: str,
    headers: Mapping[str, str],
    timeout: float,
    attempts: int,
) -> tuple[int, bytes]:
    """One HTTP exchange, tried up to `attempts` times on no answer or a 5xx."""
    import http.client

    parts = urlsplit(url)
    path = parts.path or "/"
    if parts.query:
        path += f"?{parts.query}"
    kind = (
        http.client.HTTPSConnection
        if parts.scheme == "https"
        else http.client.HTTPConnection
    )
    answer: tuple[int, bytes] | None = None
    for attempt in range(max(1, attempts)):
        if attempt:
            time.sleep(min(0.05 * 2**attempt, 0.5))
        connection = kind(parts.hostname or "", parts.port, timeout=timeout)
        try:
            connection.request(method, path, headers=dict(headers))
            response = connection.getresponse()
            answer = (response.status, response.read(MAX_BODY))
        except (OSError, http.client.HTTPException) as exc:
            log.debug("%s %s: no answer (%s)", method, url, type(exc).__name__)
            continue
        finally:
            connection.close()
        if answer[0] < 500:
            return answer
    if answer is None:
        raise _Unreachable(url)
    return answer


def _credentials_json(body: bytes, source: str) -> dict[str, Any]:
    import json

    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise CredentialSourceError(f"{source} answered with malformed JSON") from None
    if not isinstance(document, dict):
        raise CredentialSourceError(f"{source} answered with JSON that is no object")
    return document


def _from_document(
    document: Mapping[str, Any], source: str, token_key: str
) -> Credentials:
    key_id = document.get("AccessKeyId")
    secret = document.get("SecretAccessKey")
    token = document.get(token_key)
    for label, value in (("AccessKeyId", key_id), ("SecretAccessKey", secret)):
        if not isinstance(value, str) or not value:
            raise CredentialSourceError(f"{source} answered without {label}")
    if token is not None and not isinstance(token, str):
        raise CredentialSourceError(
            f"{source} answered with a {token_key} not a string"
        )
    expiry = _expiry(document.get("Expiration"), source)
    return Credentials(str(key_id), str(secret), token or None, expiry)


# -- container ----------------------------------------------------------------


def _allowed_address(text: str) -> bool:
    import ipaddress

    address = ipaddress.ip_address(text.split("%")[0])
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    allowed = {ipaddress.ip_address(a) for a in _CONTAINER_ALLOWED}
    return address.is_loopback or address in allowed


def check_container_url(url: str) -> None:
    """Refuse a full container URI that the SDKs would refuse.

    https may name any host; plain http only loopback, the ECS endpoint
    169.254.170.2, or the EKS endpoints 169.254.170.23 and fd00:ec2::23.
    """
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme != "http" or not parts.hostname:
        raise ContainerEndpointError(
            "AWS_CONTAINER_CREDENTIALS_FULL_URI must be an http or https URL"
        )
    host = parts.hostname
    try:
        addresses = [host] if _is_ip(host) else _resolve(host, parts.port or 80)
        allowed = bool(addresses) and all(_allowed_address(a) for a in addresses)
    except (OSError, ValueError):
        allowed = False
    if not allowed:
        raise ContainerEndpointError(
            f"container credentials host {host} is not allowed over http: "
            "use https, loopback, 169.254.170.2, 169.254.170.23 or fd00:ec2::23"
        )


def _is_ip(host: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        return False
    return True


def _resolve(host: str, port: int) -> list[str]:
    import socket

    return sorted({str(info[4][0]) for info in socket.getaddrinfo(host, port)})


class ContainerProvider:
    """ECS and EKS container credentials over HTTP.

    `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` is appended to 169.254.170.2;
    `AWS_CONTAINER_CREDENTIALS_FULL_URI` is used as given once allowed. The
    Authorization header is read from `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE`
    (first) or `AWS_CONTAINER_AUTHORIZATION_TOKEN`.
    """

    name = "container"

    def __init__(self, environ: Environ = os.environ) -> None:
        self._environ = environ

    def _url(self) -> str | None:
        env = self._environ
        relative = env.get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
        if relative:
            return f"http://{CONTAINER_HOST}/{relative.lstrip('/')}"
        full = env.get("AWS_CONTAINER_CREDENTIALS_FULL_URI")
        if full:
            check_container_url(full)
            return full
        return None

    def _token(self) -> str | None:
        env = self._environ
        path = env.get("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")
        if path:
            try:
                with open(path, encoding="utf-8") as file:
                    token = file.read().strip()
            except OSError as exc:
                raise CredentialSourceError(
                    "cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE "
                    f"{path}: {type(exc).__name__}"
                ) from None
        else:
            token = env.get("AWS_CONTAINER_AUTHORIZATION_TOKEN", "").strip()
        if any(c in token for c in "\r\n"):
            raise CredentialSourceError(
                "the container authorization token holds a line break"
            )
        return token or None

    def load(self) -> Credentials | None:
        url = self._url()
        if url is None:
            return None
        token = self._token()
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = token

        log.debug("container credentials from %s", url)
        try:
            status, body = _http(
                "GET", url, headers, CONTAINER_TIMEOUT, CONTAINER_ATTEMPTS
            )
        except _Unreachable:
            raise CredentialSourceError(
                f"container credentials endpoint {url} did not answer"
            ) from None
        if status != 200:
            raise CredentialSourceError(
                f"container credentials endpoint {url} answered HTTP {status}"
            )
        document = _credentials_json(body, "container credentials endpoint")
        return _from_document(document, "container credentials endpoint", "Token")


# -- EC2 instance metadata ----------------------------------------------------


class InstanceMetadataProvider:
    """EC2 instance metadata (IMDSv2, falling back to v1 on 403, 404 or 405).

    Off with `AWS_EC2_METADATA_DISABLED=true`; the endpoint is
    `AWS_EC2_METADATA_SERVICE_ENDPOINT` or http://169.254.169.254; one attempt
    with a one-second timeout unless `AWS_METADATA_SERVICE_NUM_ATTEMPTS` and
    `AWS_METADATA_SERVICE_TIMEOUT` say otherwise. No answer means "not on EC2".
    https://docs.aws.amazon.com/sdkref/latest/guide/feature-imds-credentials.html
    """

    name = "instance metadata"
    ROLES = "/latest/meta-data/iam/security-credentials/"

    def __init__(self, environ: Environ = os.environ) -> None:
        self._environ = environ

    def _settings(self) -> tuple[str, float, int]:
        env = self._environ
        base = (env.get("AWS_EC2_METADATA_SERVICE_ENDPOINT") or IMDS_ENDPOINT).rstrip(
            "/"
        )
        if urlsplit(base).scheme not in ("http", "https"):
            raise CredentialSourceError(
                "AWS_EC2_METADATA_SERVICE_ENDPOINT must be an http or https URL"
            )
        try:
            timeout = float(env.get("AWS_METADATA_SERVICE_TIMEOUT") or 1)
            attempts = int(env.get("AWS_METADATA_SERVICE_NUM_ATTEMPTS") or 1)
        except ValueError:
            raise CredentialSourceError(
                "AWS_METADATA_SERVICE_TIMEOUT and _NUM_ATTEMPTS must be numbers"
            ) from None
        return base, min(max(timeout, 0.1), 30.0), min(max(attempts, 1), 10)

    def load(self) -> Credentials | None:
        if _flag(self._environ, "AWS_EC2_METADATA_DISABLED"):
            return None
        base, timeout, attempts = self._settings()
        try:
            return self._load(base, timeout, attempts)
        except _Unreachable:
            log.debug("instance metadata at %s did not answer", base)
            return None

    def _load(self, base: str, timeout: float, attempts: int) -> Credentials | None:
        # session token (IMDSv2)
        status, body = _http(
            "PUT",
            f"{base}/latest/api/token",
            {"X-aws-ec2-metadata-token-ttl-seconds": IMDS_TOKEN_TTL},
            timeout,
            attempts,
        )
        headers: dict[str, str] = {}
        if status == 200:
            headers["X-aws-ec2-metadata-token"] = body.decode("ascii", "replace")
        elif status in (403, 404, 405) and not _flag(
            self._environ, "AWS_EC2_METADATA_V1_DISABLED"
        ):
            log.debug("instance metadata token refused (%s), using IMDSv1", status)
        else:
            log.debug("instance metadata token refused (%s)", status)
            return None

        # role name
        status, body = _http("GET", base + self.ROLES, headers, timeout, attempts)
        if status != 200:
            log.debug("instance metadata lists no role (%s)", status)
            return None
        roles = body.decode("utf-8", "replace").split()
        if not roles:
            return None

        # role credentials
        status, body = _http(
            "GET", base + self.ROLES + roles[0], headers, timeout, attempts
        )
        if status != 200:
            raise CredentialSourceError(
                f"instance metadata answered HTTP {status} for the role credentials"
            )
        document = _credentials_json(body, "instance metadata")
        code = document.get("Code", "Success")
        if code != "Success":
            raise CredentialSourceError(f"instance metadata answered Code {code!r}")
        return _from_document(document, "instance metadata", "Token")


# -- credential_process -------------------------------------------------------


def process_credentials(command: str, profile: str) -> Credentials:
    """Run a `credential_process` command and read its Version 1 JSON."""
    import json
    import shlex
    import subprocess

    source = f"credential_process of profile {profile!r}"
    try:
        args = shlex.split(command)
    except ValueError:
        raise CredentialProcessError(f"{source} cannot be split into words") from None
    if not args:
        raise CredentialProcessError(f"{source} is empty")

    # run
    log.debug("running the %s", source)
    try:
        done = subprocess.run(
            args,
            capture_output=True,
            timeout=PROCESS_TIMEOUT,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except FileNotFoundError:
        raise CredentialProcessError(f"{source}: {args[0]} not found") from None
    except subprocess.TimeoutExpired:
        raise CredentialProcessError(
            f"{source} ran longer than {PROCESS_TIMEOUT:.0f} s"
        ) from None
    except OSError as exc:
        raise CredentialProcessError(
            f"{source} cannot run: {type(exc).__name__}"
        ) from None
    if done.returncode != 0:
        raise CredentialProcessError(f"{source} exited with status {done.returncode}")

    # read its output, which is never quoted: it holds the secret
    if not done.stdout.strip():
        raise CredentialProcessError(f"{source} printed nothing")
    try:
        document = json.loads(done.stdout)
    except json.JSONDecodeError as exc:
        # where, not what: the output holds the secret
        raise CredentialProcessError(
            f"{source} printed no valid JSON ({exc.msg} at line {exc.lineno} "
            f"column {exc.colno})"
        ) from None
    except (ValueError, UnicodeDecodeError):
        raise CredentialProcessError(f"{source} printed no valid JSON") from None
    if not isinstance(document, dict):
        raise CredentialProcessError(f"{source} printed JSON that is no object")
    version = document.get("Version")
    if version is None:
        raise CredentialProcessError(f'{source} printed no "Version" (1 expected)')
    if type(version) is not int:
        raise CredentialProcessError(f'{source} printed a "Version" that is no number')
    if version != 1:
        raise CredentialProcessError(
            f'{source} printed "Version": {version}; only Version 1 is understood'
        )
    try:
        found = _from_document(document, source, "SessionToken")
    except CredentialSourceError as exc:
        raise CredentialProcessError(str(exc)) from None
    expiry = found.expiration
    if expiry is not None and found.expires_within(0):
        raise CredentialProcessError(
            f"{source} printed an Expiration in the past ({expiry:%Y-%m-%dT%H:%M:%SZ})"
        )
    return found


# -- shared config and credentials files --------------------------------------


def _static(settings: Mapping[str, str], profile: str) -> Credentials | None:
    key_id = settings.get("aws_access_key_id", "")
    secret = settings.get("aws_secret_access_key", "")
    if not key_id and not secret:
        return None
    if not key_id or not secret:
        given, lacking = (
            ("aws_access_key_id", "aws_secret_access_key")
            if key_id
            else ("aws_secret_access_key", "aws_access_key_id")
        )
        raise ProfileError(f"profile {profile!r} sets {given} but not {lacking}")
    token = settings.get("aws_session_token") or settings.get("aws_security_token")
    return Credentials(key_id, secret, token or None)


class ProfileProvider:
    """A profile of the shared files: keys, a process, or a role to assume.

    Within a profile the order is: `role_arn` (with `web_identity_token_file`,
    `source_profile` or `credential_source`), keys in the credentials file,
    `credential_process`, keys in the config file. `source_profile` links may
    chain; a link back to a profile already visited is an error, except a
    profile naming itself, which uses its own keys.
    """

    def __init__(self, profile: str | None = None, environ: Environ = os.environ):
        self._profile = profile
        self._environ = environ

    @property
    def name(self) -> str:
        return f"profile {_ini.profile_name(self._environ, self._profile)!r}"

    def load(self) -> Credentials | None:
        env = self._environ
        name = _ini.profile_name(env, self._profile)
        profiles = _ini.Profiles.load(env)
        if name not in profiles:
            if name == "default" and not self._profile:
                return None
            raise ProfileError(
                f"profile {name!r} is in neither {_ini.config_path(env)} "
                f"nor {_ini.credentials_path(env)}"
            )
        return _Resolver(profiles, env, name).credentials(name, [])


class _Resolver:
    """Resolves one profile, following `source_profile` links."""

    def __init__(self, profiles: _ini.Profiles, environ: Environ, top: str) -> None:
        self.profiles = profiles
        self.environ = environ
        self.region = _sts_region(environ, profiles.merged(top))

    def credentials(self, name: str, visited: list[str]) -> Credentials | None:
        if name in visited:
            path = " -> ".join([*visited, name])
            raise RoleChainCycleError(f"source_profile links loop: {path}")
        visited = [*visited, name]
        settings = self.profiles.merged(name)
        if settings.get("role_arn"):
            return self._role(name, settings, visited)
        return self._own(name)

    def _own(self, name: str) -> Credentials | None:
        found = _static(self.profiles.in_credentials(name), name)
        if found is not None:
            return found
        command = self.profiles.merged(name).get("credential_process")
        if command:
            return process_credentials(command, name)
        found = _static(self.profiles.in_config(name), name)
        if found is not None:
            return found
        settings = self.profiles.merged(name)
        if "sso_session" in settings or "sso_start_url" in settings:
            # TODO(#2): IAM Identity Center (SSO) profiles need the SSO token
            # cache and the portal API; not built yet.
            raise NotImplementedError(
                f"profile {name!r} uses IAM Identity Center (SSO), "
                "which lambdalite does not support yet"
            )
        return None

    def _role(
        self, name: str, settings: Mapping[str, str], visited: list[str]
    ) -> Credentials:
        role_arn = settings["role_arn"]
        session_name = settings.get("role_session_name") or _session_name()
        duration = self._duration(name, settings)

        # web identity
        token_file = settings.get("web_identity_token_file")
        if token_file:
            return _web_identity(
                self.environ,
                token_file=token_file,
                role_arn=role_arn,
                session_name=session_name,
                region=self.region,
            )

        if settings.get("mfa_serial"):
            # TODO(#2): MFA-protected roles need a prompt for the token code.
            raise NotImplementedError(
                f"profile {name!r} sets mfa_serial, which lambdalite does not support"
            )
        source = self._source(name, settings, visited)
        log.debug("assuming the role of profile %r", name)
        return _sts.assume_role(
            source,
            role_arn=role_arn,
            session_name=session_name,
            region=self.region,
            environ=self.environ,
            external_id=settings.get("external_id"),
            duration_seconds=duration,
        )

    def _duration(self, name: str, settings: Mapping[str, str]) -> int | None:
        text = settings.get("duration_seconds")
        if not text:
            return None
        try:
            return int(text)
        except ValueError:
            raise ProfileError(
                f"profile {name!r}: duration_seconds is not a whole number"
            ) from None

    def _source(
        self, name: str, settings: Mapping[str, str], visited: list[str]
    ) -> Credentials:
        source = settings.get("source_profile")
        origin = settings.get("credential_source")
        if source and origin:
            raise ProfileError(
                f"profile {name!r} sets both source_profile and credential_source"
            )

        found: Credentials | None
        if source == name:
            found = self._own(name)
        elif source:
            if source not in self.profiles:
                raise ProfileError(
                    f"profile {name!r} names source_profile {source!r}, "
                    "which does not exist"
                )
            found = self.credentials(source, visited)
        elif origin:
            found = self._credential_source(name, origin)
        else:
            raise ProfileError(
                f"profile {name!r} sets role_arn without source_profile, "
                "credential_source or web_identity_token_file"
            )
        if found is None:
            raise ProfileError(
                f"the source of profile {name!r} ({source or origin}) "
                "has no credentials"
            )
        return found

    def _credential_source(self, name: str, origin: str) -> Credentials | None:
        kinds: dict[str, type[EnvironmentProvider | ContainerProvider]] = {
            "Environment": EnvironmentProvider,
            "EcsContainer": ContainerProvider,
        }
        if origin == "Ec2InstanceMetadata":
            return InstanceMetadataProvider(self.environ).load()
        if origin not in kinds:
            raise ProfileError(
                f"profile {name!r}: credential_source {origin!r} is not one of "
                "Environment, Ec2InstanceMetadata, EcsContainer"
            )
        return kinds[origin](self.environ).load()
