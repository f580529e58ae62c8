"""Client settings and endpoint resolution.

`Config` holds what a caller may tune; every field left as None falls back to
the environment and then to the AWS SDK default:

==============================  ============================  ===============
field                           environment                   default
==============================  ============================  ===============
max_attempts                    AWS_MAX_ATTEMPTS              3
connect_timeout / read_timeout                                60 s each
addressing_style (S3)                                         "auto"
request_checksum_calculation    AWS_REQUEST_CHECKSUM_          "when_supported"
                                CALCULATION                   on AWS,
                                                              "when_required"
                                                              on custom
                                                              endpoints
response_checksum_validation    AWS_RESPONSE_CHECKSUM_         "when_supported"
                                VALIDATION
max_pool_connections                                          10
==============================  ============================  ===============

Endpoints, in order: the `endpoint_url` argument; unless
AWS_IGNORE_CONFIGURED_ENDPOINT_URLS is true, AWS_ENDPOINT_URL_<SERVICE> and
then AWS_ENDPOINT_URL; else the service's endpoint in the region's partition
(aws, aws-cn for cn-*, aws-us-gov for us-gov-*). An endpoint that did not come
from the partition is "custom": S3 then defaults to path-style addressing and
sends checksums only where the API requires them, so S3-compatible stores
(Swift, MinIO, moto) work untouched.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from .errors import NoEndpointError, ParamValidationError

_ADDRESSING = ("auto", "virtual", "path")
_CHECKSUM_WHEN = ("when_supported", "when_required")


_RETRY_KEYS = ("mode", "max_attempts", "total_max_attempts")


def _retries(retries: Mapping[str, Any]) -> int | None:
    """Total attempts from botocore's `retries` dict, its mode checked."""
    unknown = set(retries).difference(_RETRY_KEYS)
    if unknown:
        raise ParamValidationError(
            f"unknown retries keys {sorted(unknown)}; valid: {', '.join(_RETRY_KEYS)}"
        )
    mode = retries.get("mode", "standard")
    if mode not in ("standard", "legacy"):
        raise ParamValidationError(
            f"retries mode {mode!r} is not supported: only 'standard' (and "
            "'legacy', which behaves as standard) are implemented"
        )
    for name, low in (("total_max_attempts", 1), ("max_attempts", 0)):
        value = retries.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ParamValidationError(
                f"retries {name} must be a whole number >= {low}"
            )
        return value if name == "total_max_attempts" else value + 1
    return None


class Config:
    """Client settings; arguments mirror botocore's `Config` where they overlap.

    `retries` and `s3={"addressing_style": "path"}` are accepted as in
    botocore; the flat keywords win when both are given. In `retries`,
    `max_attempts` counts retries after the first attempt and
    `total_max_attempts` counts every attempt (botocore's meanings; the flat
    `max_attempts` and `AWS_MAX_ATTEMPTS` count every attempt). The retry
    behaviour is the standard mode's; `mode="legacy"` is accepted and behaves
    as standard, `mode="adaptive"` (client-side rate limiting) is refused.
    """

    __slots__ = (
        "addressing_style",
        "connect_timeout",
        "max_attempts",
        "max_pool_connections",
        "read_timeout",
        "region_name",
        "request_checksum_calculation",
        "response_checksum_validation",
        "retry_base",
    )

    def __init__(
        self,
        *,
        region_name: str | None = None,
        max_attempts: int | None = None,
        connect_timeout: float | None = None,
        read_timeout: float | None = None,
        addressing_style: str | None = None,
        request_checksum_calculation: str | None = None,
        response_checksum_validation: str | None = None,
        max_pool_connections: int | None = None,
        retry_base: float | None = None,
        retries: Mapping[str, Any] | None = None,
        s3: Mapping[str, Any] | None = None,
    ) -> None:
        if retries is not None:
            total = _retries(retries)
            if max_attempts is None:
                max_attempts = total
        if addressing_style is None and s3 is not None:
            addressing_style = s3.get("addressing_style")
        if addressing_style is not None and addressing_style not in _ADDRESSING:
            raise ParamValidationError(
                f"addressing_style must be one of {_ADDRESSING}, "
                f"not {addressing_style!r}"
            )
        for name, value in (
            ("request_checksum_calculation", request_checksum_calculation),
            ("response_checksum_validation", response_checksum_validation),
        ):
            if value is not None and value not in _CHECKSUM_WHEN:
                raise ParamValidationError(
                    f"{name} must be one of {_CHECKSUM_WHEN}, not {value!r}"
                )
        if max_attempts is not None and (
            isinstance(max_attempts, bool)
            or not isinstance(max_attempts, int)
            or max_attempts < 1
        ):
            raise ParamValidationError("max_attempts must be a whole number >= 1")
        self.region_name = region_name
        self.max_attempts = max_attempts
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.addressing_style = addressing_style
        self.request_checksum_calculation = request_checksum_calculation
        self.response_checksum_validation = response_checksum_validation
        self.max_pool_connections = max_pool_connections
        self.retry_base = retry_base

    def __repr__(self) -> str:
        fields = ", ".join(
            f"{name}={getattr(self, name)!r}"
            for name in self.__slots__
            if getattr(self, name) is not None
        )
        return f"Config({fields})"


class Resolved:
    """Settings resolved once per client: config, environment, defaults."""

    __slots__ = (
        "addressing_style",
        "connect_timeout",
        "custom_endpoint",
        "endpoint_url",
        "max_attempts",
        "max_pool_connections",
        "read_timeout",
        "region",
        "request_checksum_calculation",
        "response_checksum_validation",
        "retry_base",
        "service",
    )

    def __init__(
        self,
        service: str,
        *,
        region: str,
        endpoint_url: str,
        custom_endpoint: bool,
        config: Config | None,
        env: Mapping[str, str],
        retry_base: float,
    ) -> None:
        config = config or Config()
        self.service = service
        self.region = region
        self.endpoint_url = endpoint_url.rstrip("/")
        self.custom_endpoint = custom_endpoint
        self.max_attempts = (
            config.max_attempts or _env_int(env, "AWS_MAX_ATTEMPTS") or 3
        )
        self.connect_timeout = _or(config.connect_timeout, 60.0)
        self.read_timeout = _or(config.read_timeout, 60.0)
        self.addressing_style = config.addressing_style or "auto"
        default_calc = "when_required" if custom_endpoint else "when_supported"
        self.request_checksum_calculation = (
            config.request_checksum_calculation
            or env.get("AWS_REQUEST_CHECKSUM_CALCULATION", "").lower()
            or default_calc
        )
        self.response_checksum_validation = (
            config.response_checksum_validation
            or env.get("AWS_RESPONSE_CHECKSUM_VALIDATION", "").lower()
            or "when_supported"
        )
        self.max_pool_connections = config.max_pool_connections or 10
        self.retry_base = _or(config.retry_base, retry_base)


def _or(value: float | None, default: float) -> float:
    return default if value is None else float(value)


def _env_int(env: Mapping[str, str], name: str) -> int | None:
    raw = env.get(name)
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise ParamValidationError(f"{name} must be a whole number") from None
    if value < 1:
        raise ParamValidationError(f"{name} must be at least 1")
    return value


# -- regions and partitions ----------------------------------------------------


def partition(region: str) -> tuple[str, str]:
    """The partition name and DNS suffix of a region."""
    if region.startswith("cn-"):
        return "aws-cn", "amazonaws.com.cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov", "amazonaws.com"
    return "aws", "amazonaws.com"


def resolve_region(
    region_name: str | None, config: Config | None, env: Mapping[str, str]
) -> str:
    """The region: argument, config, AWS_REGION, AWS_DEFAULT_REGION, profile."""
    region = region_name or (config.region_name if config else None)
    region = region or env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
    if region:
        return region
    try:
        import sigv4

        found = sigv4.resolve_region()
    except (AttributeError, ImportError):  # pragma: no cover - chain not there
        from sigv4 import NoRegionError

        raise NoRegionError(
            "no region given: pass region_name or set AWS_REGION"
        ) from None
    return str(found)


def _host_ok(region: str) -> bool:
    return bool(region) and all(c.isalnum() or c == "-" for c in region)


def service_endpoint(service: str, region: str) -> str:
    """The service's HTTPS endpoint in the region's partition."""
    if not _host_ok(region):
        raise NoEndpointError(f"{region!r} is not a region name")
    _, suffix = partition(region)
    if service == "s3" and region == "us-east-1":
        return "https://s3.amazonaws.com"
    return f"https://{service}.{region}.{suffix}"


def resolve_endpoint(
    service: str,
    region: str,
    endpoint_url: str | None,
    env: Mapping[str, str],
) -> tuple[str, bool]:
    """The endpoint URL and whether it is custom (not the partition's)."""
    if endpoint_url:
        return _checked(endpoint_url), True
    if env.get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "").lower() != "true":
        specific = env.get(f"AWS_ENDPOINT_URL_{service.upper()}")
        general = env.get("AWS_ENDPOINT_URL")
        if specific or general:
            return _checked(specific or general or ""), True
    return service_endpoint(service, region), False


def _checked(url: str) -> str:
    if not url.startswith(("http://", "https://")):
        raise NoEndpointError(
            f"endpoint URL {url!r} must start with http:// or https://"
        )
    return url.rstrip("/")


def environ() -> Mapping[str, str]:
    """The process environment (a seam for tests)."""
    return os.environ
