"""Steps of ``features/digest.feature``, and helpers the digest tests share.

Every step text speaks of "digest" so it cannot collide with other features' steps.
The table is created on ``context.target`` (the embedded moto endpoint, reset before
each scenario) with the key schema and billing mode read from the CloudFormation
template, so the tests use the same table shape as the deployed stack.
"""

from __future__ import annotations

import threading
from datetime import date
from typing import Any

from behave import given, then, when
from botocore.client import BaseClient

from src.database.client import DynamoDBClient
from src.database.target import Target
from src.database.item import DigestItem
from src.database.sample import sample_digest
from src.database.store import DigestStore
from src.database.errors import ItemValidationError
from tests.support.tables import create_digest_table as create_table_like_template

Key = tuple[str, str]


# -- helpers shared with tests/test_digest_store.py ------------------------------------


def create_digest_table(target: Target, table_name: str) -> None:
    """Create ``table_name`` with the template's key schema, attribute types and billing mode."""
    ddb = target.client("dynamodb")
    create_table_like_template(ddb, table_name)
    ddb.get_waiter("table_exists").wait(TableName=table_name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})


def request_key(request: dict[str, Any]) -> Key:
    """The ``(digest_date, item_id)`` key of one ``PutRequest`` of a ``BatchWriteItem`` call."""
    item = request["PutRequest"]["Item"]
    return item["digest_date"]["S"], item["item_id"]["S"]


class FlakyBatchClient:
    """A real DynamoDB client whose ``BatchWriteItem`` behaves like a throttled table.

    During the first ``flaky_calls`` calls it holds back the last ``hold_back``
    requests of each batch; requests for keys in ``never_write`` are always held
    back. Held-back requests are not sent and come back as ``UnprocessedItems``,
    exactly as DynamoDB reports them; everything else is written for real.
    ``fail_on_call`` makes that call raise ``error`` instead. ``sent`` counts how
    often each key was offered. Every other operation goes to the real client.
    """

    def __init__(
        self,
        real: BaseClient,
        *,
        flaky_calls: int = 0,
        hold_back: int = 0,
        never_write: set[Key] | None = None,
        fail_on_call: int | None = None,
        error: Exception | None = None,
    ) -> None:
        self._real = real
        self._flaky_calls = flaky_calls
        self._hold_back = hold_back
        self._never_write = never_write or set()
        self._fail_on_call = fail_on_call
        self._error = error
        self.calls = 0
        self.sent: dict[Key, int] = {}
        self._lock = threading.Lock()  # put_many calls from several threads at once

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def batch_write_item(self, **params: Any) -> dict[str, Any]:
        """Write part of the batch for real; return the rest as ``UnprocessedItems``."""
        ((table, requests),) = params["RequestItems"].items()
        with self._lock:
            self.calls += 1
            call = self.calls
            for request in requests:
                self.sent[request_key(request)] = self.sent.get(request_key(request), 0) + 1
        if call == self._fail_on_call and self._error is not None:
            raise self._error
        held = [r for r in requests if request_key(r) in self._never_write]
        kept = [r for r in requests if request_key(r) not in self._never_write]
        if call <= self._flaky_calls and self._hold_back:
            held += kept[-self._hold_back :]
            kept = kept[: -self._hold_back]
        response: dict[str, Any] = {"UnprocessedItems": {}}
        if kept:
            response = self._real.batch_write_item(RequestItems={table: kept})
        response["UnprocessedItems"] = {table: held} if held else {}
        return response


def numbered_items(day: date | str, count: int, *, summary: str = "") -> list[DigestItem]:
    """``count`` items for ``day`` with ids ``item-00000`` ... (sort-key order = number order)."""
    return [
        DigestItem(digest_date=day, item_id=f"item-{n:05d}", title=f"Item {n}", score=n / 10, summary=summary)
        for n in range(count)
    ]


# -- steps ----------------------------------------------------------------------------------

_TABLE = "VibeDigest-dev"


def _store(context: Any, client: DynamoDBClient | None = None) -> DigestStore:
    return DigestStore(client or DynamoDBClient.for_target(context.target, table_name=_TABLE), sleep=lambda _: None)


@given("an empty digest table")
def step_empty_digest_table(context: Any) -> None:
    create_digest_table(context.target, _TABLE)
    context.digest_client = DynamoDBClient.for_target(context.target, table_name=_TABLE)
    context.digest_store = _store(context, context.digest_client)


@when("a digest for {day} with {count:d} sample items is stored")
def step_store_sample_digest(context: Any, day: str, count: int) -> None:
    context.digest_stored = sample_digest(date.fromisoformat(day), count)
    for item in context.digest_stored:
        context.digest_store.put(item)


@then("reading the digest for {day} returns the same {count:d} items in item_id order")
def step_read_digest_back(context: Any, day: str, count: int) -> None:
    items = context.digest_store.day(day)
    assert len(items) == count, f"expected {count} items, got {len(items)}"
    assert [i.item_id for i in items] == sorted(i.item_id for i in items), "items are not in item_id order"
    assert items == sorted(context.digest_stored, key=lambda i: i.item_id), "items differ from what was stored"


@when("a digest batch of {count:d} items for {day} is written while DynamoDB leaves some unprocessed")
def step_write_flaky_batch(context: Any, count: int, day: str) -> None:
    context.digest_flaky = FlakyBatchClient(context.target.client("dynamodb"), flaky_calls=2, hold_back=5)
    store = _store(context, DynamoDBClient(table_name=_TABLE, client=context.digest_flaky))  # type: ignore[arg-type]
    context.digest_written = store.put_many(numbered_items(day, count))


@then("the digest batch reports {count:d} items written")
def step_batch_reports(context: Any, count: int) -> None:
    assert context.digest_written == count, f"put_many reported {context.digest_written}, expected {count}"
    held_back_twice = [key for key, times in context.digest_flaky.sent.items() if times > 1]
    assert held_back_twice, "no item was re-sent: the unprocessed path was not exercised"


@then("the digest for {day} holds all {count:d} items")
def step_day_holds_all(context: Any, day: str, count: int) -> None:
    items = context.digest_store.day(day)
    assert [i.item_id for i in items] == [f"item-{n:05d}" for n in range(count)]


@when('storing a digest item dated "{day}" is attempted')
def step_store_bad_date(context: Any, day: str) -> None:
    context.digest_error = None
    try:
        context.digest_store.put(DigestItem(digest_date=day, item_id="001-anything", title="Refused"))
    except ItemValidationError as error:
        context.digest_error = error


@then('the digest item is refused with a message mentioning "{text}"')
def step_refused(context: Any, text: str) -> None:
    assert context.digest_error is not None, "the item was accepted"
    assert text in context.digest_error.message, context.digest_error.message


@then("the digest table holds no items")
def step_table_empty(context: Any) -> None:
    response = context.digest_client.call("Scan", TableName=_TABLE, Select="COUNT")
    assert response["Count"] == 0, f"the table holds {response['Count']} items"
