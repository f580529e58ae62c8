"""Errors raised on our side of the DynamoDB client, before or after the wire.

::

    services.errors.ServiceError
    ├── DynamoDBValueError           (also a ValueError) a Python value or
    │   │                            expression DynamoDB can't take
    │   ├── InvalidNumberError       a number that would need rounding, or is
    │   │                            not finite
    │   ├── EmptySetError            DynamoDB has no empty sets
    │   ├── ExpressionError          a condition or update built wrongly
    │   └── UnsupportedTypeError     (also a TypeError) a type with no mapping
    ├── UnprocessedItemsError        a batch gave up; names what was not done
    ├── TableNotLoadedError          (also an AttributeError) an async Table's
    │                                description read before ``load()``
    └── WaiterError                  a waiter ran out of attempts

So ``except ServiceError`` catches everything the client raises, and
``except ValueError`` still catches a bad value.

Errors DynamoDB itself answers with are the service errors of
``services.errors`` (``ClientError`` subclasses reachable as
``client.exceptions.<Code>``); a damaged answer is
``protocol.CRC32MismatchError``.
"""

from __future__ import annotations

from typing import Any

from ..errors import ServiceError


class DynamoDBValueError(ServiceError, ValueError):
    """A Python value or expression that DynamoDB cannot take."""


class InvalidNumberError(DynamoDBValueError):
    """A number DynamoDB cannot hold exactly (too precise, out of range, NaN)."""


class EmptySetError(DynamoDBValueError):
    """An empty set: DynamoDB has none."""


class ExpressionError(DynamoDBValueError):
    """A condition or update expression built wrongly."""


class UnsupportedTypeError(DynamoDBValueError, TypeError):
    """A Python type with no DynamoDB attribute type."""


class UnprocessedItemsError(ServiceError):
    """A batch gave up with work left: ``unprocessed`` lists it, per table.

    For a batch write it maps a table name to write requests
    (``{"PutRequest": {"Item": ...}}``); for a batch read, to the keys.
    """

    def __init__(self, message: str, unprocessed: dict[str, list[Any]]) -> None:
        super().__init__(message)
        self.unprocessed = unprocessed


class TableNotLoadedError(ServiceError, AttributeError):
    """An `AsyncTable` attribute read before ``await table.load()``."""


class WaiterError(ServiceError):
    """A waiter gave up: `name` waited in vain; `last_response` is what it saw."""

    def __init__(self, name: str, reason: str, last_response: Any) -> None:
        super().__init__(f"waiter {name} failed: {reason}")
        self.name = name
        self.reason = reason
        self.last_response = last_response
