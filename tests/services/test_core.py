"""The services core: errors, config and endpoints, retry rules, validation."""

from __future__ import annotations

import pickle
import subprocess
import sys

import pytest

import services
from services import config as _config
from services import retry as _retry
from services._executor import Operation, Request, http_date
from services.errors import (
    ClientError,
    ParamValidationError,
    ServiceExceptions,
    client_error,
    named_error,
)


def test_import_services_does_not_load_httpx() -> None:
    code = "import sys, services; print('httpx' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "False", out.stderr


# -- errors -----------------------------------------------------------------------


def test_named_error_is_shared_and_catchable_as_client_error() -> None:
    exceptions = ServiceExceptions("s3")
    assert exceptions.NoSuchKey is named_error("s3", "NoSuchKey")
    assert issubclass(exceptions.NoSuchKey, ClientError)
    assert exceptions.ClientError is ClientError


def test_client_error_reads_the_boto3_way() -> None:
    meta = {"RequestId": "req-1", "HTTPStatusCode": 404}
    err = client_error(
        "s3",
        "GetObject",
        code="NoSuchKey",
        message="The specified key does not exist.",
        status_code=404,
        metadata=meta,
        extra={"Key": "k"},
    )
    assert isinstance(err, ServiceExceptions("s3").NoSuchKey)
    assert err.response["Error"] == {
        "Code": "NoSuchKey",
        "Message": "The specified key does not exist.",
        "Key": "k",
    }
    assert err.response["ResponseMetadata"]["RequestId"] == "req-1"
    assert (err.code, err.status_code, err.request_id, err.operation_name) == (
        "NoSuchKey",
        404,
        "req-1",
        "GetObject",
    )
    # boto3's message shape
    assert str(err) == (
        "An error occurred (NoSuchKey) when calling the GetObject operation: "
        "The specified key does not exist."
    )
    copy = pickle.loads(pickle.dumps(err))
    assert copy.code == "NoSuchKey"


def test_non_identifier_codes_stay_plain_client_error() -> None:
    err = client_error(
        "s3",
        "HeadObject",
        code="404",
        message="Not Found",
        status_code=404,
        metadata={},
    )
    assert type(err) is ClientError
    with pytest.raises(AttributeError):
        ServiceExceptions("s3").__getattr__("404")


def test_param_validation_error_is_a_value_error() -> None:
    assert issubclass(ParamValidationError, ValueError)


def test_operation_validate_names_missing_and_unknown() -> None:
    op = Operation(
        "PutObject",
        lambda p, c: Request("GET", "http://x/"),
        lambda r, c: {},
        required=("Bucket", "Key"),
        optional=("Body",),
    )
    with pytest.raises(ParamValidationError, match="missing required parameter Key"):
        op.validate({"Bucket": "b"})
    with pytest.raises(ParamValidationError, match="unknown parameter Bucket_"):
        op.validate({"Bucket": "b", "Key": "k", "Bucket_": 1})


# -- config -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("service", "region", "expected"),
    [
        ("s3", "us-east-1", "https://s3.amazonaws.com"),
        ("s3", "eu-west-1", "https://s3.eu-west-1.amazonaws.com"),
        ("s3", "cn-north-1", "https://s3.cn-north-1.amazonaws.com.cn"),
        ("s3", "us-gov-west-1", "https://s3.us-gov-west-1.amazonaws.com"),
        ("dynamodb", "us-east-1", "https://dynamodb.us-east-1.amazonaws.com"),
        (
            "dynamodb",
            "cn-northwest-1",
            "https://dynamodb.cn-northwest-1.amazonaws.com.cn",
        ),
    ],
)
def test_partition_endpoints(service: str, region: str, expected: str) -> None:
    # documented in the AWS service endpoints reference
    assert _config.resolve_endpoint(service, region, None, {}) == (expected, False)


def test_endpoint_precedence() -> None:
    env = {
        "AWS_ENDPOINT_URL": "http://127.0.0.1:1",
        "AWS_ENDPOINT_URL_S3": "http://127.0.0.1:2/",
    }
    assert _config.resolve_endpoint("s3", "us-east-1", None, env) == (
        "http://127.0.0.1:2",
        True,
    )
    assert _config.resolve_endpoint("dynamodb", "us-east-1", None, env) == (
        "http://127.0.0.1:1",
        True,
    )
    assert _config.resolve_endpoint("s3", "us-east-1", "http://127.0.0.1:3", env)[
        0
    ] == ("http://127.0.0.1:3")
    ignored = {**env, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"}
    assert _config.resolve_endpoint("s3", "us-east-1", None, ignored) == (
        "https://s3.amazonaws.com",
        False,
    )


def test_bad_endpoint_and_region_are_refused() -> None:
    with pytest.raises(services.errors.NoEndpointError):
        _config.resolve_endpoint("s3", "us-east-1", "ftp://x", {})
    with pytest.raises(services.errors.NoEndpointError):
        _config.resolve_endpoint("s3", "evil.com/x", None, {})


def test_max_attempts_from_env_and_config() -> None:
    def resolved(config: _config.Config | None, env: dict[str, str]) -> int:
        return _config.Resolved(
            "s3",
            region="us-east-1",
            endpoint_url="https://s3.amazonaws.com",
            custom_endpoint=False,
            config=config,
            env=env,
            retry_base=1.0,
        ).max_attempts

    assert resolved(None, {}) == 3
    assert resolved(None, {"AWS_MAX_ATTEMPTS": "5"}) == 5
    assert resolved(_config.Config(max_attempts=2), {"AWS_MAX_ATTEMPTS": "5"}) == 2
    # botocore: retries max_attempts counts retries, total_max_attempts all
    assert resolved(_config.Config(retries={"max_attempts": 7}), {}) == 8
    assert resolved(_config.Config(retries={"max_attempts": 0}), {}) == 1
    assert resolved(_config.Config(retries={"total_max_attempts": 7}), {}) == 7
    assert resolved(_config.Config(retries={"mode": "legacy"}), {}) == 3
    with pytest.raises(ParamValidationError, match="only 'standard'"):
        _config.Config(retries={"mode": "adaptive"})
    with pytest.raises(ParamValidationError, match="max_attempts"):
        _config.Config(retries={"max_attempts": -1})
    with pytest.raises(ParamValidationError, match="AWS_MAX_ATTEMPTS"):
        resolved(None, {"AWS_MAX_ATTEMPTS": "many"})
    with pytest.raises(ParamValidationError, match="addressing_style"):
        _config.Config(addressing_style="sideways")


def test_custom_endpoint_defaults_to_required_checksums_only() -> None:
    def calc(custom: bool) -> str:
        return _config.Resolved(
            "s3",
            region="us-east-1",
            endpoint_url="http://127.0.0.1:9",
            custom_endpoint=custom,
            config=None,
            env={},
            retry_base=1.0,
        ).request_checksum_calculation

    assert calc(True) == "when_required"
    assert calc(False) == "when_supported"


# -- retry ------------------------------------------------------------------------


def test_retryable_codes_and_statuses() -> None:
    for code in ("SlowDown", "Throttling", "ThrottlingException", "RequestTimeout"):
        assert _retry.is_retryable(code, 400)
    for status in (500, 502, 503, 504):
        assert _retry.is_retryable("Whatever", status)
    for code, status in (("NoSuchKey", 404), ("AccessDenied", 403), ("400", 400)):
        assert not _retry.is_retryable(code, status)


def test_backoff_is_full_jitter_capped_at_20_seconds() -> None:
    assert _retry.backoff(1, 1.0, rand=0.5) == 0.5
    assert _retry.backoff(3, 1.0, rand=0.5) == 2.0
    assert _retry.backoff(30, 1.0, rand=0.99) == 20.0
    assert _retry.backoff(2, 0.025, rand=1.0) == pytest.approx(0.05)
    for retry in range(1, 10):
        assert 0 <= _retry.backoff(retry, 1.0) <= min(2 ** (retry - 1), 20)


def test_retry_quota_costs_and_refunds() -> None:
    quota = _retry.RetryQuota()
    assert quota.acquire(timeout=False) == 5
    assert quota.acquire(timeout=True) == 10
    assert quota.available == 485
    quota.release(15)
    assert quota.available == 500
    quota.release(0)
    assert quota.available == 500  # capped
    drained = _retry.RetryQuota(capacity=12)
    assert drained.acquire(timeout=True) == 10
    assert drained.acquire(timeout=False) == 0


def test_http_date() -> None:
    moment = http_date("Sun, 06 Nov 1994 08:49:37 GMT")
    assert moment is not None and moment.isoformat() == "1994-11-06T08:49:37+00:00"
    assert http_date("yesterday") is None


@pytest.mark.parametrize(
    "retries",
    [{"max_attempts": 0}, {"max_attempts": 4}, {"total_max_attempts": 2}, {}],
)
def test_retries_dict_counts_attempts_as_botocore_does(retries: dict[str, int]) -> None:
    import boto3
    import botocore.config

    reference = boto3.client(
        "s3",
        region_name="us-east-1",
        config=botocore.config.Config(retries=dict(retries)),
        aws_access_key_id="a",
        aws_secret_access_key="b",
    ).meta.config.retries
    ours = _config.Resolved(
        "s3",
        region="us-east-1",
        endpoint_url="https://s3.amazonaws.com",
        custom_endpoint=False,
        config=_config.Config(retries=retries),
        env={},
        retry_base=1.0,
    ).max_attempts
    assert ours == reference.get("total_max_attempts", 3)
