"""Client settings and endpoint resolution.

`Config` holds what a caller may tune; every field left as None falls back to
the environment and then to the AWS SDK default:

==============================  ============================  ===============
field                           environment                   default
==============================  ============================  ===============
max_attempts                    AWS_MAX_ATTEMPTS              3 (DynamoDB 4)
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

Every value is checked when the Config or client is built, not when a call is
made. An endpoint URL is http(s), a host, an optional port and an optional
path prefix; anything else (user info, a query, whitespace) is refused with
InvalidEndpointError, and an explicit empty `endpoint_url` is refused rather
than read as "use AWS". An empty AWS_ENDPOINT_URL* variable is unset, as in
botocore.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from .errors import InvalidEndpointError, NoEndpointError, ParamValidationError

_ADDRESSING = ("auto", "virtual", "path")
_CHECKSUM_WHEN = ("when_supported", "when_required")
_INFINITY = float("inf")


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


def _whole(name: str, value: object) -> None:
    """Refuse anything but a whole number >= 1 (None means not given)."""
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ParamValidationError(f"{name} must be a whole number >= 1, not {value!r}")


def _seconds(name: str, value: object, *, above_zero: bool) -> None:
    """Refuse anything but a finite number of seconds (None means not given)."""
    if value is None:
        return
    ok = False
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        low = value > 0 if above_zero else value >= 0
        # NaN fails every comparison; infinity is refused as sockets refuse it
        ok = low and value < _INFINITY
    if not ok:
        bound = "above 0" if above_zero else "of at least 0"
        raise ParamValidationError(
            f"{name} must be a finite number of seconds {bound}, not {value!r}"
        )


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
        _whole("max_attempts", max_attempts)
        _whole("max_pool_connections", max_pool_connections)
        _seconds("connect_timeout", connect_timeout, above_zero=True)
        _seconds("read_timeout", read_timeout, above_zero=True)
        _seconds("retry_base", retry_base, above_zero=False)
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
        "root_url",
        "service",
        "throttle_base",
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
        throttle_base: float | None = None,
        default_attempts: int = 3,
    ) -> None:
        config = config or Config()
        self.service = service
        self.region = region
        self.endpoint_url = endpoint_url.rstrip("/")
        # a request for the service's root ("/") goes where botocore sends it:
        # to the endpoint's own path, if it has one, as written
        has_path = "/" in endpoint_url.partition("://")[2]
        self.root_url = endpoint_url if has_path else endpoint_url + "/"
        self.custom_endpoint = custom_endpoint
        self.max_attempts = (
            config.max_attempts or _env_int(env, "AWS_MAX_ATTEMPTS") or default_attempts
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
        # Config(retry_base=...) sets the base for every retry; by default a
        # throttling error backs off from `throttle_base`, others from
        # `retry_base` (botocore's standard mode: 1 s and 50 ms)
        self.retry_base = _or(config.retry_base, retry_base)
        self.throttle_base = _or(
            config.retry_base, retry_base if throttle_base is None else throttle_base
        )


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
    """The region: argument, config, AWS_REGION, AWS_DEFAULT_REGION, profile.

    An explicit region is used or refused, never dropped: an empty one is an
    error (boto3 fails on it too), not a quiet fall back to the environment.
    """
    if region_name is not None:
        return _checked_region(region_name)
    region = config.region_name if config else None
    region = region or env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
    if region:
        return _checked_region(region)
    try:
        import sigv4

        found = sigv4.resolve_region()
    except (AttributeError, ImportError):  # pragma: no cover - chain not there
        from sigv4 import NoRegionError

        raise NoRegionError(
            "no region given: pass region_name or set AWS_REGION"
        ) from None
    return _checked_region(str(found))


def _checked_region(region: str) -> str:
    # botocore's rule too: one DNS label, since the region goes into host names
    # and into the signature's credential scope
    if not isinstance(region, str):
        raise ParamValidationError(
            f"region_name is a {type(region).__name__}: give the region as a str"
        )
    if not _is_dns_name(region) or "." in region:
        raise ParamValidationError(
            f"region {region!r} is not a region name: 1 to 63 letters, digits "
            "or '-', not starting or ending with '-'"
        )
    return region


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
    """The endpoint URL and whether it is custom (not the partition's).

    An explicit `endpoint_url` is used or refused, never dropped: an empty one
    is an error, not a quiet fall back to AWS. An empty AWS_ENDPOINT_URL* variable
    counts as unset, as botocore reads it.
    """
    if endpoint_url is not None:
        return checked_endpoint(endpoint_url, "endpoint_url"), True
    if env.get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "").lower() != "true":
        for name in (f"AWS_ENDPOINT_URL_{service.upper()}", "AWS_ENDPOINT_URL"):
            value = env.get(name)
            if value:
                return checked_endpoint(value, name), True
    return service_endpoint(service, region), False


# RFC 3986 pchar without percent-escapes, and "/": what a path prefix may hold.
# botocore re-escapes a "%" for S3 path-style but not elsewhere, so none here.
_PATH_CHARS = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=:@/"
)
_LABEL_CHARS = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-"
)


def checked_endpoint(url: str, source: str) -> str:
    """`url`, scheme lower-cased and a bare "/" path dropped, else an error.

    The InvalidEndpointError names `source` (the argument or variable).

    Accepted: http or https, a DNS name, IPv4 or bracketed IPv6 host, an
    optional port and an optional path prefix. Refused: user info (it would
    be sent as Basic auth instead of the signature), a query or fragment,
    whitespace, control or non-ASCII characters, and percent-escapes.
    """
    if not isinstance(url, str):
        raise InvalidEndpointError(
            f"{source} is a {type(url).__name__}: give the URL as a str"
        )
    if not url.strip():
        raise InvalidEndpointError(
            f"{source} is empty or only whitespace: give an http:// or https:// "
            "URL, or leave it out for the service's AWS endpoint"
        )
    scheme, sep, rest = url.partition("://")
    end = min((i for i in map(rest.find, "/?#") if i >= 0), default=len(rest))
    authority, tail = rest[:end], rest[end:]
    if "@" in authority:
        # said without the URL: what precedes "@" may be a password
        raise InvalidEndpointError(
            f"{source} must not hold a user name or password (user info before "
            "'@'); requests are signed with AWS credentials instead"
        )
    shown = "(not shown: it holds '@')" if "@" in url else repr(url)
    for i, char in enumerate(url):
        if char <= " " or char >= "\x7f":
            raise InvalidEndpointError(
                f"{source} {shown} holds a space, control or non-ASCII "
                f"character at position {i}"
            )
    if not sep or scheme.lower() not in ("http", "https"):
        raise InvalidEndpointError(
            f"{source} {shown} must start with http:// or https://"
        )
    if "?" in tail or "#" in tail:
        raise InvalidEndpointError(
            f"{source} {shown} must not hold a query or fragment ('?' or '#')"
        )
    problem = _authority_problem(authority)
    if problem:
        raise InvalidEndpointError(f"{source} {shown} {problem}")
    bad = sorted(set(tail).difference(_PATH_CHARS))
    if bad:
        raise InvalidEndpointError(
            f"{source} {shown} has {bad[0]!r} in its path; a path prefix may "
            "hold only letters, digits, '/' and -._~!$&'()*+,;=:@"
        )
    if not tail.strip("/"):
        tail = ""  # a bare "/" is no path prefix; a prefix keeps its "/"
    return f"{scheme.lower()}://{authority}{tail}"


def _authority_problem(authority: str) -> str:
    """What is wrong with a URL's host[:port], or "" if nothing."""
    host, port = authority, ""
    if authority.startswith("["):
        close = authority.find("]")
        host, port = authority[: close + 1], authority[close + 1 :]
        if close < 0 or not _is_ipv6(host[1:-1]):
            return "has a bracketed host that is not an IPv6 address"
        if port and not port.startswith(":"):
            return "has text after its IPv6 host"
        port = port[1:]
    elif ":" in authority:
        host, _, port = authority.partition(":")
    if not host:
        return "has no host"
    if not host.startswith("[") and not _is_dns_name(host):
        return (
            "has a host that is not a DNS name or IP address (letters, digits "
            "and '-' in dot-separated labels)"
        )
    if ":" in authority[len(host) :] and not (
        port.isdigit() and port.isascii() and 1 <= int(port) <= 65535
    ):
        return "has a port that is not a number from 1 to 65535"
    return ""


def _is_dns_name(host: str) -> bool:
    labels = host[:-1].split(".") if host.endswith(".") else host.split(".")
    return len(host) <= 253 and all(
        0 < len(label) <= 63
        and label[0] != "-"
        and label[-1] != "-"
        and _LABEL_CHARS.issuperset(label)
        for label in labels
    )


def _is_ipv6(text: str) -> bool:
    import ipaddress

    try:
        ipaddress.IPv6Address(text)
    except ValueError:
        return False
    return True


def environ() -> Mapping[str, str]:
    """The process environment (a seam for tests)."""
    return os.environ
