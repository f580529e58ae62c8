"""``services.resource("dynamodb")``: the boto3-style resource, for `Table`."""

from __future__ import annotations

from typing import Any

from . import table as _table
from .client import DynamoDBClient

__all__ = ["DynamoDBResource", "resource"]


class _Meta:
    def __init__(self, client: DynamoDBClient) -> None:
        self.client = client


class DynamoDBResource:
    """What ``boto3.resource("dynamodb")`` gives, as far as tables go."""

    def __init__(self, client: DynamoDBClient, *, floats: bool = False) -> None:
        self.meta = _Meta(client)
        self._floats = floats

    def Table(self, name: str) -> _table.Table:
        """The table `name`, with Python values in and out."""
        return _table.Table(self.meta.client, name, floats=self._floats)

    def create_table(self, **params: Any) -> _table.Table:
        """CreateTable, then the new table, described as CreateTable answered.

        The table is not waited for: ``table.wait_until_exists()`` does that
        (and, as in boto3, leaves the description as it was: ``reload()``).
        """
        created = self.meta.client.create_table(**params)
        table = self.Table(params["TableName"])
        table.meta.data = created["TableDescription"]
        return table

    def __repr__(self) -> str:
        return f"<DynamoDBResource {self.meta.client.meta.region_name}>"


def resource(*, floats: bool = False, **client_args: Any) -> DynamoDBResource:
    """The DynamoDB resource; `client_args` are `services.client`'s keywords.

    ``floats=True`` lets its tables store floats exactly (see `types`).
    """
    return DynamoDBResource(DynamoDBClient(**client_args), floats=floats)
