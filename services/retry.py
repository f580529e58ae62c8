"""The standard retry mode of the AWS SDKs.

* At most `max_attempts` attempts (3 by default, 4 for DynamoDB, as in
  botocore's standard mode), the first included.
* Retried: throttling error codes, transient errors (HTTP 500, 502, 503, 504
  and the transient codes), connection errors and timeouts. Never retried:
  every other 4xx, which is the caller's to fix.
* Before retry i (1 for the first retry) the executor sleeps a random time in
  [0, base * 2 ** (i - 1)) capped at 20 s: exponential backoff with full
  jitter. `base` is 1 s after a throttling error and 50 ms otherwise, as in
  botocore's standard mode; DynamoDB backs off from 25 ms after any error.
* A retry quota shared by all calls of a client: it starts at 500 tokens; a
  retry takes 5 (10 after a timeout) and is refused when the quota cannot pay,
  so an outage does not become a retry storm. A call that succeeds gives back
  what its retries took, or 1 token when it needed none, up to 500.
"""

from __future__ import annotations

import random
import threading

MAX_BACKOFF = 20.0
QUOTA_CAPACITY = 500
RETRY_COST = 5
TIMEOUT_RETRY_COST = 10
NO_RETRY_INCREMENT = 1

THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "LimitExceededException",
        "RequestThrottled",
        "SlowDown",
        "PriorRequestNotComplete",
        "EC2ThrottledException",
    }
)
TRANSIENT_CODES = frozenset(
    {"RequestTimeout", "RequestTimeoutException", "InternalError"}
)
TRANSIENT_STATUS = frozenset({500, 502, 503, 504})


def is_retryable(code: str, status: int) -> bool:
    """True for the service errors the standard mode retries."""
    return (
        code in THROTTLING_CODES
        or code in TRANSIENT_CODES
        or (status in TRANSIENT_STATUS)
    )


def backoff(retry: int, base: float, rand: float | None = None) -> float:
    """Seconds to sleep before retry number `retry` (1 for the first retry)."""
    if rand is None:
        rand = random.random()
    return float(min(rand * base * (2 ** (retry - 1)), MAX_BACKOFF))


class RetryQuota:
    """The token bucket that bounds retries across all calls of a client."""

    __slots__ = ("_lock", "available", "capacity")

    def __init__(self, capacity: int = QUOTA_CAPACITY) -> None:
        self.capacity = capacity
        self.available = capacity
        self._lock = threading.Lock()

    def acquire(self, *, timeout: bool) -> int:
        """Take the cost of one retry; 0 when the quota cannot pay it."""
        cost = TIMEOUT_RETRY_COST if timeout else RETRY_COST
        with self._lock:
            if cost > self.available:
                return 0
            self.available -= cost
            return cost

    def release(self, taken: int) -> None:
        """After a success: give back what its retries took, or the increment."""
        amount = taken or NO_RETRY_INCREMENT
        with self._lock:
            self.available = min(self.capacity, self.available + amount)

    def __repr__(self) -> str:
        return f"<RetryQuota {self.available}/{self.capacity}>"
