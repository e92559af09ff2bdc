"""The cost ``query-partition``: moto's ``Query`` of one partition reads that partition, once.

For every page of a ``Query`` moto's ``Table.query`` lists every item of the table and
sorts them all (every partition, by hash and range key), keeps those of the partition,
sorts them again, walks past the earlier pages item by item, sizes each item twice and
deep-copies the page: work that grows with the whole table at every page, and a
day is read in pages (``tests/test_large_day.py`` reads a large one within the default
read timeout).

Inside a served request, a ``Query`` of a table with a sort key whose only condition is
the partition key (no index, sort-key condition, filter or projection: what
``DigestStore.day`` sends) takes the partition's items directly, sorts them by sort key
as moto does, skips the earlier pages with moto's own ``_item_comes_before_dct``, ends
the page at the same limits (``Limit``, moto's ``RESULT_SIZE_LIMIT``) with moto's
``_get_last_evaluated_key``, and returns the stored items uncopied: moto's answer is
built from copies of them (``DynamoResult`` converts every value), and nothing on that
path changes them. Any other query is moto's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from moto.dynamodb.comparisons import OpDefault
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import RESULT_SIZE_LIMIT, Table

from .scope import patch

QueryResult = tuple[list[Item], int, "dict[str, Any] | None"]


def install() -> None:
    """Route partition-only queries through ``query_partition`` (inside served requests)."""
    patch(Table, "query", "query-partition", query_partition)


def _range_key(item: Item) -> Any:
    return item.range_key  # a DynamoType: ordered by its value, as moto sorts


def query_partition(
    original: Callable[..., QueryResult],
    table: Table,
    hash_key: DynamoType | None,
    range_comparison: str | None,
    range_objs: list[DynamoType],
    limit: int,
    exclusive_start_key: dict[str, Any],
    scan_index_forward: bool,
    projection_expressions: list[list[str]] | None,
    index_name: str | None = None,
    consistent_read: bool = False,
    filter_expression: Any = None,
    hash_key_conditions: list[tuple[str, DynamoType]] | None = None,
    range_key_conditions: list[tuple[str, str, list[DynamoType]]] | None = None,
    **filter_kwargs: Any,
) -> QueryResult:
    """``Table.query``: the same page, from the partition alone, for a query on the partition key only."""
    if (
        index_name
        or range_comparison
        or filter_kwargs
        or type(filter_expression) is not OpDefault  # moto's "no filter expression", which keeps every item
        or projection_expressions
        or hash_key is None
        or not table.range_key_attr
    ):
        return original(
            table, hash_key, range_comparison, range_objs, limit, exclusive_start_key, scan_index_forward,
            projection_expressions, index_name, consistent_read, filter_expression,
            hash_key_conditions=hash_key_conditions, range_key_conditions=range_key_conditions, **filter_kwargs,
        )
    partition = table.items.get(hash_key) or {}  # .get: a defaultdict, not to be grown by a read
    found = sorted(
        (item for item in partition.values() if isinstance(item, Item) and item.hash_key == hash_key),
        key=_range_key,
    )
    if scan_index_forward is False:
        found.reverse()
    start = 0
    if exclusive_start_key is not None:
        keys: tuple[list[str], list[str | None]] = ([table.hash_key_attr], [table.range_key_attr])
        while start < len(found) and table._item_comes_before_dct(found[start], exclusive_start_key, *keys,
                                                                  scan_index_forward):
            start += 1
    results: list[Item] = []
    size = 0
    last_evaluated_key = None
    for item in found[start:]:
        item_size = item.size()
        if len(results) == limit or size + item_size > RESULT_SIZE_LIMIT:
            last_evaluated_key = table._get_last_evaluated_key(results[-1], None)
            break
        results.append(item)
        size += item_size
    return results, len(results), last_evaluated_key
