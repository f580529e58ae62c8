"""The DynamoDB client, sync and async, shaped like boto3's.

Methods take boto3's keyword arguments and return boto3's result dicts, with
attribute values in their low-level form (``{"S": "x"}``) and binary values
as bytes. For Python values use `Table` (``client.Table("name")``).

Besides the operations: ``get_paginator("query" | "scan" | "list_tables")``,
``get_waiter("table_exists" | "table_not_exists")`` and ``exceptions``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._client import AsyncClient, SyncClient
from .._executor import Operation
from . import protocol

if TYPE_CHECKING:  # loaded on first use: a cold start needs neither
    from .paginate import AsyncPaginator, Paginator
    from .waiters import AsyncWaiter, Waiter

__all__ = ["OPERATIONS", "AsyncDynamoDBClient", "DynamoDBClient"]

_COMMON_WRITE = (
    "ReturnConsumedCapacity",
    "ReturnItemCollectionMetrics",
    "ConditionExpression",
    "ExpressionAttributeNames",
    "ExpressionAttributeValues",
    "ReturnValuesOnConditionCheckFailure",
    "Expected",
    "ConditionalOperator",
    "ReturnValues",
)

# snake_case name -> (API name, required, optional), as in the API reference
_SPECS: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    "get_item": (
        "GetItem",
        ("TableName", "Key"),
        (
            "AttributesToGet",
            "ConsistentRead",
            "ReturnConsumedCapacity",
            "ProjectionExpression",
            "ExpressionAttributeNames",
        ),
    ),
    "put_item": ("PutItem", ("TableName", "Item"), _COMMON_WRITE),
    "update_item": (
        "UpdateItem",
        ("TableName", "Key"),
        (*_COMMON_WRITE, "AttributeUpdates", "UpdateExpression"),
    ),
    "delete_item": ("DeleteItem", ("TableName", "Key"), _COMMON_WRITE),
    "query": (
        "Query",
        ("TableName",),
        (
            "IndexName",
            "Select",
            "AttributesToGet",
            "Limit",
            "ConsistentRead",
            "KeyConditions",
            "QueryFilter",
            "ConditionalOperator",
            "ScanIndexForward",
            "ExclusiveStartKey",
            "ReturnConsumedCapacity",
            "ProjectionExpression",
            "FilterExpression",
            "KeyConditionExpression",
            "ExpressionAttributeNames",
            "ExpressionAttributeValues",
        ),
    ),
    "scan": (
        "Scan",
        ("TableName",),
        (
            "IndexName",
            "AttributesToGet",
            "Limit",
            "Select",
            "ScanFilter",
            "ConditionalOperator",
            "ExclusiveStartKey",
            "ReturnConsumedCapacity",
            "TotalSegments",
            "Segment",
            "ProjectionExpression",
            "FilterExpression",
            "ExpressionAttributeNames",
            "ExpressionAttributeValues",
            "ConsistentRead",
        ),
    ),
    "batch_get_item": ("BatchGetItem", ("RequestItems",), ("ReturnConsumedCapacity",)),
    "batch_write_item": (
        "BatchWriteItem",
        ("RequestItems",),
        ("ReturnConsumedCapacity", "ReturnItemCollectionMetrics"),
    ),
    "transact_get_items": (
        "TransactGetItems",
        ("TransactItems",),
        ("ReturnConsumedCapacity",),
    ),
    "transact_write_items": (
        "TransactWriteItems",
        ("TransactItems",),
        ("ReturnConsumedCapacity", "ReturnItemCollectionMetrics", "ClientRequestToken"),
    ),
    "create_table": (
        "CreateTable",
        ("TableName",),
        (
            "AttributeDefinitions",
            "KeySchema",
            "LocalSecondaryIndexes",
            "GlobalSecondaryIndexes",
            "BillingMode",
            "ProvisionedThroughput",
            "StreamSpecification",
            "SSESpecification",
            "Tags",
            "TableClass",
            "DeletionProtectionEnabled",
            "WarmThroughput",
            "ResourcePolicy",
            "OnDemandThroughput",
            "GlobalTableSourceArn",
            "GlobalTableSettingsReplicationMode",
            "VectorIndexes",
        ),
    ),
    "delete_table": ("DeleteTable", ("TableName",), ()),
    "describe_table": ("DescribeTable", ("TableName",), ()),
    "update_table": (
        "UpdateTable",
        ("TableName",),
        (
            "AttributeDefinitions",
            "BillingMode",
            "ProvisionedThroughput",
            "GlobalSecondaryIndexUpdates",
            "StreamSpecification",
            "SSESpecification",
            "ReplicaUpdates",
            "TableClass",
            "DeletionProtectionEnabled",
            "MultiRegionConsistency",
            "GlobalTableWitnessUpdates",
            "OnDemandThroughput",
            "WarmThroughput",
            "GlobalTableSettingsReplicationMode",
            "DisassociationProtectionEnabled",
            "VectorIndexUpdates",
        ),
    ),
    "list_tables": ("ListTables", (), ("ExclusiveStartTableName", "Limit")),
    "update_time_to_live": (
        "UpdateTimeToLive",
        ("TableName", "TimeToLiveSpecification"),
        (),
    ),
    "describe_time_to_live": ("DescribeTimeToLive", ("TableName",), ()),
    "execute_statement": (
        "ExecuteStatement",
        ("Statement",),
        (
            "Parameters",
            "ConsistentRead",
            "NextToken",
            "ReturnConsumedCapacity",
            "Limit",
            "ReturnValuesOnConditionCheckFailure",
        ),
    ),
}

OPERATIONS: dict[str, Operation] = {
    snake: protocol.operation(name, required, optional)
    for snake, (name, required, optional) in _SPECS.items()
}


class DynamoDBClient(SyncClient):
    """A sync DynamoDB client; ``services.client("dynamodb", ...)`` makes one."""

    model = protocol.DynamoDBModel()

    def _op(self, snake: str, params: dict[str, Any]) -> dict[str, Any]:
        return self._call(OPERATIONS[snake], params)

    def get_item(self, **params: Any) -> dict[str, Any]:
        """GetItem: one item by its key (``Item`` absent when there is none)."""
        return self._op("get_item", params)

    def put_item(self, **params: Any) -> dict[str, Any]:
        """PutItem: create or replace one item."""
        return self._op("put_item", params)

    def update_item(self, **params: Any) -> dict[str, Any]:
        """UpdateItem: change attributes of one item, creating it if absent."""
        return self._op("update_item", params)

    def delete_item(self, **params: Any) -> dict[str, Any]:
        """DeleteItem: delete one item by its key."""
        return self._op("delete_item", params)

    def query(self, **params: Any) -> dict[str, Any]:
        """Query: one page of the items of one partition."""
        return self._op("query", params)

    def scan(self, **params: Any) -> dict[str, Any]:
        """Scan: one page of a table's items (``Segment``/``TotalSegments``)."""
        return self._op("scan", params)

    def batch_get_item(self, **params: Any) -> dict[str, Any]:
        """BatchGetItem: up to 100 keys; retry what comes back in UnprocessedKeys."""
        return self._op("batch_get_item", params)

    def batch_write_item(self, **params: Any) -> dict[str, Any]:
        """BatchWriteItem: up to 25 puts/deletes; retry UnprocessedItems."""
        return self._op("batch_write_item", params)

    def transact_get_items(self, **params: Any) -> dict[str, Any]:
        """TransactGetItems: up to 100 gets, read as one snapshot."""
        return self._op("transact_get_items", params)

    def transact_write_items(self, **params: Any) -> dict[str, Any]:
        """TransactWriteItems: all or nothing; a ClientRequestToken is filled in."""
        return self._op("transact_write_items", protocol.transact_token(params))

    def create_table(self, **params: Any) -> dict[str, Any]:
        """CreateTable."""
        return self._op("create_table", params)

    def delete_table(self, **params: Any) -> dict[str, Any]:
        """DeleteTable."""
        return self._op("delete_table", params)

    def describe_table(self, **params: Any) -> dict[str, Any]:
        """DescribeTable."""
        return self._op("describe_table", params)

    def update_table(self, **params: Any) -> dict[str, Any]:
        """UpdateTable."""
        return self._op("update_table", params)

    def list_tables(self, **params: Any) -> dict[str, Any]:
        """ListTables: one page of table names."""
        return self._op("list_tables", params)

    def update_time_to_live(self, **params: Any) -> dict[str, Any]:
        """UpdateTimeToLive."""
        return self._op("update_time_to_live", params)

    def describe_time_to_live(self, **params: Any) -> dict[str, Any]:
        """DescribeTimeToLive."""
        return self._op("describe_time_to_live", params)

    def execute_statement(self, **params: Any) -> dict[str, Any]:
        """ExecuteStatement: one PartiQL statement."""
        return self._op("execute_statement", params)

    def can_paginate(self, operation_name: str) -> bool:
        """True for query, scan and list_tables."""
        from .paginate import paginator_spec

        return paginator_spec(operation_name, check=False) is not None

    def get_paginator(self, operation_name: str) -> Paginator:
        """A paginator over every page of query, scan or list_tables."""
        from .paginate import Paginator, paginator_spec

        return Paginator(self, paginator_spec(operation_name))

    def get_waiter(self, waiter_name: str) -> Waiter:
        """``table_exists`` or ``table_not_exists``."""
        from .waiters import Waiter, waiter_spec

        return Waiter(self, waiter_spec(waiter_name))

    def Table(self, name: str) -> Any:
        """The table `name`, with Python values in and out."""
        from .table import Table

        return Table(self, name)


class AsyncDynamoDBClient(AsyncClient):
    """An async DynamoDB client; ``services.async_client("dynamodb", ...)``."""

    model = protocol.DynamoDBModel()

    async def _op(self, snake: str, params: dict[str, Any]) -> dict[str, Any]:
        return await self._call(OPERATIONS[snake], params)

    async def get_item(self, **params: Any) -> dict[str, Any]:
        """GetItem: one item by its key (``Item`` absent when there is none)."""
        return await self._op("get_item", params)

    async def put_item(self, **params: Any) -> dict[str, Any]:
        """PutItem: create or replace one item."""
        return await self._op("put_item", params)

    async def update_item(self, **params: Any) -> dict[str, Any]:
        """UpdateItem: change attributes of one item, creating it if absent."""
        return await self._op("update_item", params)

    async def delete_item(self, **params: Any) -> dict[str, Any]:
        """DeleteItem: delete one item by its key."""
        return await self._op("delete_item", params)

    async def query(self, **params: Any) -> dict[str, Any]:
        """Query: one page of the items of one partition."""
        return await self._op("query", params)

    async def scan(self, **params: Any) -> dict[str, Any]:
        """Scan: one page of a table's items (``Segment``/``TotalSegments``)."""
        return await self._op("scan", params)

    async def batch_get_item(self, **params: Any) -> dict[str, Any]:
        """BatchGetItem: up to 100 keys; retry what comes back in UnprocessedKeys."""
        return await self._op("batch_get_item", params)

    async def batch_write_item(self, **params: Any) -> dict[str, Any]:
        """BatchWriteItem: up to 25 puts/deletes; retry UnprocessedItems."""
        return await self._op("batch_write_item", params)

    async def transact_get_items(self, **params: Any) -> dict[str, Any]:
        """TransactGetItems: up to 100 gets, read as one snapshot."""
        return await self._op("transact_get_items", params)

    async def transact_write_items(self, **params: Any) -> dict[str, Any]:
        """TransactWriteItems: all or nothing; a ClientRequestToken is filled in."""
        return await self._op("transact_write_items", protocol.transact_token(params))

    async def create_table(self, **params: Any) -> dict[str, Any]:
        """CreateTable."""
        return await self._op("create_table", params)

    async def delete_table(self, **params: Any) -> dict[str, Any]:
        """DeleteTable."""
        return await self._op("delete_table", params)

    async def describe_table(self, **params: Any) -> dict[str, Any]:
        """DescribeTable."""
        return await self._op("describe_table", params)

    async def update_table(self, **params: Any) -> dict[str, Any]:
        """UpdateTable."""
        return await self._op("update_table", params)

    async def list_tables(self, **params: Any) -> dict[str, Any]:
        """ListTables: one page of table names."""
        return await self._op("list_tables", params)

    async def update_time_to_live(self, **params: Any) -> dict[str, Any]:
        """UpdateTimeToLive."""
        return await self._op("update_time_to_live", params)

    async def describe_time_to_live(self, **params: Any) -> dict[str, Any]:
        """DescribeTimeToLive."""
        return await self._op("describe_time_to_live", params)

    async def execute_statement(self, **params: Any) -> dict[str, Any]:
        """ExecuteStatement: one PartiQL statement."""
        return await self._op("execute_statement", params)

    def can_paginate(self, operation_name: str) -> bool:
        """True for query, scan and list_tables."""
        from .paginate import paginator_spec

        return paginator_spec(operation_name, check=False) is not None

    def get_paginator(self, operation_name: str) -> AsyncPaginator:
        """An async paginator (``async for page in ...paginate(...)``)."""
        from .paginate import AsyncPaginator, paginator_spec

        return AsyncPaginator(self, paginator_spec(operation_name))

    def get_waiter(self, waiter_name: str) -> AsyncWaiter:
        """``table_exists`` or ``table_not_exists``; ``await waiter.wait(...)``."""
        from .waiters import AsyncWaiter, waiter_spec

        return AsyncWaiter(self, waiter_spec(waiter_name))

    def Table(self, name: str) -> Any:
        """The table `name`, with Python values in and out (async methods)."""
        from .table import AsyncTable

        return AsyncTable(self, name)
