"""Errors raised on our side of the DynamoDB client, before or after the wire.

::

    ValueError
    └── DynamoDBValueError           a Python value or expression DynamoDB can't take
        ├── InvalidNumberError       a number that would need rounding, or not finite
        ├── EmptySetError            DynamoDB has no empty sets
        ├── ExpressionError          a condition or update built wrongly
        └── UnsupportedTypeError     (also a TypeError) a type with no mapping

Errors DynamoDB itself answers with are the service errors of
``services.errors``, reachable as ``client.exceptions.<Code>``; the batch
helpers raise ``UnprocessedItemsError`` (a service-side outcome) naming what
was never written or read.
"""

from __future__ import annotations

from typing import Any


class DynamoDBValueError(ValueError):
    """A Python value or expression that DynamoDB cannot take."""


class InvalidNumberError(DynamoDBValueError):
    """A number DynamoDB cannot hold exactly (too precise, out of range, NaN)."""


class EmptySetError(DynamoDBValueError):
    """An empty set: DynamoDB has none."""


class ExpressionError(DynamoDBValueError):
    """A condition or update expression built wrongly."""


class UnsupportedTypeError(DynamoDBValueError, TypeError):
    """A Python type with no DynamoDB attribute type."""


class UnprocessedItemsError(Exception):
    """A batch gave up with work left: ``unprocessed`` lists it, per table.

    For a batch write it maps a table name to write requests
    (``{"PutRequest": {"Item": ...}}``); for a batch read, to the keys.
    """

    def __init__(self, message: str, unprocessed: dict[str, list[Any]]) -> None:
        super().__init__(message)
        self.unprocessed = unprocessed
