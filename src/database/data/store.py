"""``DigestStore``: reads and writes digest items in the VibeDigest table.

put/get/delete one item, read a whole day in sort-key order (following
``LastEvaluatedKey``), and write or delete many items with ``BatchWriteItem``
(``batch``: 25 per request, several requests in flight, unprocessed items retried
with a shared, jittered backoff). Every request goes through ``DynamoDBClient.send``:
every argument is checked before the first request, so botocore's parameter
validation is not run again on requests made of checked values.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import date
from typing import Any

from ..client import DynamoDBClient
from ..errors import (
    ConditionalCheckFailedError,
    ConfigurationError,
    DatabaseError,
    ItemExistsError,
    ItemValidationError,
)
from .backoff import DEFAULT_BACKOFF_BASE, DEFAULT_BACKOFF_CAP, DEFAULT_MAX_ATTEMPTS, RetryPolicy
from .batch import (
    DEFAULT_DEADLINE,
    BatchWriter,
    Request,
    checked_deadline,
    unique_requests,
    worker_count,
)
from .item import (
    PARTITION_KEY,
    SORT_KEY,
    DigestItem,
    key_attributes,
    normalize_digest_date,
    validate_key,
)

logger = logging.getLogger(__name__)


def _flag(value: bool, name: str) -> bool:
    """Refuse a non-boolean flag instead of reading it as truthy or falsy."""
    if not isinstance(value, bool):
        raise ConfigurationError(f"{name} must be True or False, got {value!r}.")
    return value


def _digest_item(item: Any) -> DigestItem:
    if not isinstance(item, DigestItem):
        raise ItemValidationError(f"put takes a DigestItem, got {type(item).__name__}.")
    return item


class DigestStore:
    """Reads and writes digest items in the table of a ``DynamoDBClient``.

    Thread safety: a store may be shared by any number of threads. It keeps no
    mutable state of its own (its settings are fixed at construction; each call
    works on its own objects, ``put_many``'s workers included), boto3's low-level
    clients are thread-safe, and ``DynamoDBClient`` builds its client once under a lock.

    ``put_many``/``delete_many`` tuning: each request is sent at most ``max_attempts``
    times; between sends of unprocessed requests the writer pauses ``backoff_delay``
    seconds (``backoff_base`` doubling up to ``backoff_cap``, full jitter) through
    ``sleep``, which tests can replace.

    A day with one item that breaks the reading rules (see ``item``) is not returned
    in part: ``day()`` raises that item's ``ItemFormatError``, which names its key, so
    it can be fixed or removed with ``delete()`` (which does not read the item).
    """

    def __init__(
        self,
        client: DynamoDBClient,
        *,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        backoff_base: float = DEFAULT_BACKOFF_BASE,
        backoff_cap: float = DEFAULT_BACKOFF_CAP,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not isinstance(client, DynamoDBClient):
            raise ConfigurationError(f"DigestStore needs a DynamoDBClient, got {type(client).__name__}.")
        self._client = client
        self._policy = RetryPolicy(max_attempts, backoff_base, backoff_cap, sleep)

    def __repr__(self) -> str:
        return f"DigestStore(table={self.table_name!r}, max_attempts={self._policy.max_attempts})"

    @property
    def table_name(self) -> str:
        """Name of the table the store reads and writes."""
        return self._client.table_name

    def put(self, item: DigestItem, *, only_if_absent: bool = False) -> None:
        """Store ``item``, replacing any item with the same key unless ``only_if_absent``.

        With ``only_if_absent=True`` an existing item is left untouched and
        ``ItemExistsError`` is raised (a conditional write, atomic in DynamoDB). If the
        stored item equals ``item``, the message says so: an earlier attempt of this
        call whose answer was lost may have written it.
        """
        params: dict[str, Any] = {"TableName": self.table_name, "Item": _digest_item(item).to_dynamodb()}
        if _flag(only_if_absent, "only_if_absent"):
            params["ConditionExpression"] = "attribute_not_exists(#sk)"
            params["ExpressionAttributeNames"] = {"#sk": SORT_KEY}
        try:
            self._client.send("PutItem", params)
        except ConditionalCheckFailedError as error:
            raise ItemExistsError(
                f"Item ({item.digest_date}, {item.item_id}) already exists in {self.table_name}; "
                + (
                    "an identical item is stored: this call may have been retried after a lost answer, "
                    "so the stored item may be this one."
                    if self._stored_equals(item)
                    else "nothing was written (put without only_if_absent replaces it)."
                )
            ) from error

    def _stored_equals(self, item: DigestItem) -> bool:
        """Whether the stored item with ``item``'s key equals it (False when it cannot be read)."""
        try:
            return self.get(item.digest_date, item.item_id) == item
        except DatabaseError:
            return False

    def get(self, digest_date: str | date, item_id: str, *, consistent: bool = True) -> DigestItem | None:
        """Return the item with this key, or None when there is none."""
        key = validate_key(digest_date, item_id)
        consistent = _flag(consistent, "consistent")
        params = {"TableName": self.table_name, "Key": key_attributes(key), "ConsistentRead": consistent}
        response = self._client.send("GetItem", params)
        attributes = response.get("Item")
        return DigestItem.from_dynamodb(attributes) if attributes else None

    def day(self, digest_date: str | date, *, consistent: bool = True) -> list[DigestItem]:
        """Return every item of one day in sort-key (``item_id``) order.

        DynamoDB returns at most 1 MB per ``Query``; this follows ``LastEvaluatedKey``
        until the day is complete. An item breaking the reading rules raises its
        ``ItemFormatError`` (naming its key and attribute); no partial day is returned.
        """
        day = normalize_digest_date(digest_date)
        params: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "#pk = :day",
            "ExpressionAttributeNames": {"#pk": PARTITION_KEY},
            "ExpressionAttributeValues": {":day": {"S": day}},
            "ConsistentRead": _flag(consistent, "consistent"),
        }
        items: list[DigestItem] = []
        pages = 0
        while True:
            response = self._client.send("Query", params)
            pages += 1
            items.extend(DigestItem.from_dynamodb(attributes) for attributes in response.get("Items", []))
            last_key = response.get("LastEvaluatedKey")
            if not last_key:
                break
            params["ExclusiveStartKey"] = last_key
        logger.debug("day %s: %d items in %d page(s)", day, len(items), pages)
        return items

    def delete(self, digest_date: str | date, item_id: str) -> bool:
        """Delete the item with this key; return whether it existed."""
        key = validate_key(digest_date, item_id)
        response = self._client.send(
            "DeleteItem", {"TableName": self.table_name, "Key": key_attributes(key), "ReturnValues": "ALL_OLD"}
        )
        return bool(response.get("Attributes"))

    def put_many(
        self, items: Iterable[DigestItem], *, concurrency: int | None = None, deadline: float = DEFAULT_DEADLINE
    ) -> int:
        """Write ``items`` with ``BatchWriteItem``; return how many were written.

        Up to ``concurrency`` requests of 25 items are in flight at once (default: 8, or
        the client's connection pool if smaller; an explicit value above the pool, 10
        connections by default, is refused; see ``batch``). Every item is
        validated and keys are checked for duplicates before the first request.
        Unprocessed items are re-sent after a shared backoff, each at most
        ``max_attempts`` times. A whole request failing with a transient error
        (throttling, a 5xx, a cut connection or read timeout, after botocore's own
        retries) is re-sent after that backoff until ``deadline`` seconds (default 120)
        from the start of the call have passed; no request starts after that.

        What is not confirmed ends in ``BatchWriteError``, in input order: ``unwritten``
        lists the items known not written, ``unconfirmed`` those whose request was sent
        but whose answer was lost or a server error (they may be stored). Calling
        ``put_many`` again with both is safe: a put of the same item is idempotent. A
        first request refused outright (e.g. a missing table) raises its own error.
        """
        workers = worker_count(self._client, concurrency)
        limit = checked_deadline(deadline)
        requests = unique_requests(_put_requests(items), "put_many")
        return self._write(requests, "put_many", workers, limit)

    def delete_many(
        self,
        keys: Iterable[tuple[str | date, str]],
        *,
        concurrency: int | None = None,
        deadline: float = DEFAULT_DEADLINE,
    ) -> int:
        """Delete the items with these ``(digest_date, item_id)`` keys; return how many requests DynamoDB confirmed.

        The same engine, ``deadline`` and guarantees as ``put_many`` (a key that was not
        stored counts as confirmed: DynamoDB does not say whether it existed).
        """
        workers = worker_count(self._client, concurrency)
        limit = checked_deadline(deadline)
        requests = unique_requests(_delete_requests(keys), "delete_many")
        return self._write(requests, "delete_many", workers, limit)

    def _write(self, requests: list[Request], what: str, workers: int, deadline: float) -> int:
        writer = BatchWriter(
            self._client, requests, what=what, concurrency=workers, policy=self._policy, deadline=deadline
        )
        return writer.run()


def _each(values: Iterable[Any], what: str, argument: str) -> Iterator[Any]:
    """Iterate ``values``, refusing a non-iterable (e.g. None) with the package's error naming ``argument``."""
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        raise ItemValidationError(f"{what} takes an iterable of {argument}, got {type(values).__name__}.")
    return iter(values)


def _put_requests(items: Iterable[DigestItem]) -> Iterator[Request]:
    for index, item in enumerate(_each(items, "put_many", "items (DigestItem objects)")):
        if not isinstance(item, DigestItem):
            raise ItemValidationError(f"put_many takes DigestItem objects; item {index} is {type(item).__name__}.")
        yield Request(index, item.key, {"PutRequest": {"Item": item.to_dynamodb()}})


def _delete_requests(keys: Iterable[tuple[str | date, str]]) -> Iterator[Request]:
    for index, pair in enumerate(_each(keys, "delete_many", "keys ((digest_date, item_id) pairs)")):
        if not isinstance(pair, tuple) or len(pair) != 2:
            raise ItemValidationError(
                f"delete_many takes (digest_date, item_id) pairs; key {index} is {type(pair).__name__}."
            )
        key = validate_key(*pair)
        yield Request(index, key, {"DeleteRequest": {"Key": key_attributes(key)}})
