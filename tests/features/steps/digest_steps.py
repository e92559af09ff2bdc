"""Steps of ``features/digest.feature``.

Every step text speaks of "digest" so it cannot collide with other features' steps.
The scenarios use the deployed table of the environment under test on the backend
chosen with ``-D`` (``context.backend``). Their items carry ids under the run's test
prefix (``Backend.item_prefix``), reads look at those items only, and a cleanup deletes
every item the scenario wrote, so the scenarios hold on an endpoint that is never reset
and on a real account.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any, Iterable

from behave import given, then, when

from src.database.client import DynamoDBClient
from src.database.data.item import DigestItem
from src.database.data.sample import sample_digest
from src.database.data.store import DigestStore
from src.database.errors import ItemValidationError
from src.database.settings import table_name_for
from tests.support.acceptance import ensure_deployed, service_client
from tests.support.digests import FlakyBatchClient, numbered_items


def _store(context: Any, client: DynamoDBClient | None = None) -> DigestStore:
    return DigestStore(client or context.digest_client, sleep=lambda _: None)


def _written(context: Any, items: Iterable[DigestItem]) -> list[DigestItem]:
    """Remember ``items``' keys for the cleanup before they are written; return them as a list."""
    items = list(items)
    context.digest_keys.update(item.key for item in items)
    return items


def _delete_written(context: Any) -> None:
    """The scenario's cleanup: delete exactly the items it wrote (absent ones are no-ops)."""
    for digest_date, item_id in sorted(context.digest_keys):
        context.digest_store.delete(digest_date, item_id)


def _own_items(context: Any, day: str) -> list[DigestItem]:
    """The scenario's items of ``day``, in the order the table returns them."""
    return [item for item in context.digest_store.day(day) if item.item_id.startswith(context.digest_prefix)]


@given("the digest table is deployed")
def step_digest_table(context: Any) -> None:
    """Deploy the environment's table (a no-op when it is) and give the scenario its item prefix."""
    backend = context.backend
    ensure_deployed(context.target, backend.environment, disposable=backend.disposable)
    context.digest_table = table_name_for(backend.environment)
    context.digest_prefix = backend.item_prefix()
    context.digest_client = DynamoDBClient.for_target(context.target, table_name=context.digest_table)
    context.digest_store = _store(context)
    context.digest_keys = set()
    context.add_cleanup(_delete_written, context)


@when("a digest for {day} with {count:d} sample items is stored")
def step_store_sample_digest(context: Any, day: str, count: int) -> None:
    sample = sample_digest(date.fromisoformat(day), count)
    context.digest_stored = _written(
        context, (dataclasses.replace(item, item_id=context.digest_prefix + item.item_id) for item in sample)
    )
    for item in context.digest_stored:
        context.digest_store.put(item)


@then("reading the digest for {day} returns the same {count:d} items in item_id order")
def step_read_digest_back(context: Any, day: str, count: int) -> None:
    items = _own_items(context, day)
    assert len(items) == count, f"expected {count} items, got {len(items)}"
    assert [i.item_id for i in items] == sorted(i.item_id for i in items), "items are not in item_id order"
    assert items == sorted(context.digest_stored, key=lambda i: i.item_id), "items differ from what was stored"


@when("a digest batch of {count:d} items for {day} is written while DynamoDB leaves some unprocessed")
def step_write_flaky_batch(context: Any, count: int, day: str) -> None:
    context.digest_flaky = FlakyBatchClient(context.target.client("dynamodb"), flaky_calls=2, hold_back=5)
    client = DynamoDBClient(table_name=context.digest_table, client=context.digest_flaky)  # type: ignore[arg-type]
    items = _written(context, numbered_items(day, count, prefix=context.digest_prefix))
    context.digest_written = _store(context, client).put_many(items)


@then("the digest batch reports {count:d} items written")
def step_batch_reports(context: Any, count: int) -> None:
    assert context.digest_written == count, f"put_many reported {context.digest_written}, expected {count}"
    held_back_twice = [key for key, times in context.digest_flaky.sent.items() if times > 1]
    assert held_back_twice, "no item was re-sent: the unprocessed path was not exercised"


@then("the digest for {day} holds all {count:d} items")
def step_day_holds_all(context: Any, day: str, count: int) -> None:
    items = _own_items(context, day)
    assert [i.item_id for i in items] == [f"{context.digest_prefix}item-{n:05d}" for n in range(count)]


@when('storing a digest item dated "{day}" is attempted')
def step_store_bad_date(context: Any, day: str) -> None:
    context.digest_error = None
    try:
        context.digest_store.put(DigestItem(digest_date=day, item_id=f"{context.digest_prefix}001", title="Refused"))
    except ItemValidationError as error:
        context.digest_error = error


@then('the digest item is refused with a message mentioning "{text}"')
def step_refused(context: Any, text: str) -> None:
    assert context.digest_error is not None, "the item was accepted"
    assert text in context.digest_error.message, context.digest_error.message


@then("no digest item was written")
def step_nothing_written(context: Any) -> None:
    """No item of this scenario is in the table (a scan for its item id prefix)."""
    pages = service_client(context.target, "dynamodb").get_paginator("scan").paginate(
        TableName=context.digest_table,
        FilterExpression="begins_with(item_id, :prefix)",
        ExpressionAttributeValues={":prefix": {"S": context.digest_prefix}},
        Select="COUNT",
    )
    found = sum(page["Count"] for page in pages)
    assert found == 0, f"the table holds {found} item(s) of this scenario"
