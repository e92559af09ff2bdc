"""Tests of the digest data layer (``src.database.data.item``, ``store``, ``batch``, ``sample``).

Most tests run against the embedded moto server over HTTP (``local_target``, reset
per test) with a table created from the template's key schema. Where exact request
sequences matter (pagination tokens, UnprocessedItems retries, "no request sent"),
botocore's ``Stubber`` stands in for DynamoDB. moto never returns UnprocessedItems on
its own, so throttling is simulated by ``FlakyBatchClient``, which wraps the real
moto client and withholds part of each batch, as a throttled table does.
"""

from __future__ import annotations

import copy
import logging
import math
import random
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from botocore.validate import validate_parameters

from src.database import BatchWriteError, ItemExistsError
from src.database.aws.target import Target
from src.database.cli.commands import format_digest
from src.database.client import DynamoDBClient
from src.database.data.attributes import MAX_ITEM_BYTES, item_size
from src.database.data.backoff import backoff_delay
from src.database.data.batch import BATCH_SIZE
from src.database.data.item import DigestItem, ItemFormatError, normalize_digest_date
from src.database.data.sample import sample_digest
from src.database.data.store import DigestStore
from src.database.errors import (
    AccessDeniedError,
    ConditionalCheckFailedError,
    ConfigurationError,
    ItemValidationError,
    TableNotFoundError,
)
from tests.support.digests import FlakyBatchClient, numbered_items
from tests.support.tables import create_digest_table

DAY = "2026-11-26"
UTC = timezone.utc


# -- fixtures and helpers -----------------------------------------------------------------


@pytest.fixture
def local_target(data_target: Target) -> Target:
    """Every test here that reaches an endpoint runs on moto and on dynalite (``data_target``)."""
    return data_target


@pytest.fixture
def table(local_target: Target, unique_name: str) -> str:
    """A fresh digest table on the worker's moto server."""
    create_digest_table(local_target.client("dynamodb"), unique_name)
    return unique_name


@pytest.fixture
def client(local_target: Target, table: str) -> DynamoDBClient:
    """A ``DynamoDBClient`` for the fresh table."""
    return DynamoDBClient.for_target(local_target, table_name=table)


@pytest.fixture
def store(client: DynamoDBClient) -> DigestStore:
    """A store on the fresh table that never really sleeps."""
    return DigestStore(client, sleep=lambda _: None)


class Stubbed:
    """A store on a Stubber-controlled client that records every operation it is asked to send."""

    def __init__(self, **store_options: Any) -> None:
        self.raw = boto3.client("dynamodb", region_name="us-east-1")
        self.sent: list[str] = []
        self.raw.meta.events.register("before-parameter-build.dynamodb", self._record)
        self.stubber = Stubber(self.raw)
        self.stubber.activate()
        self.store = DigestStore(DynamoDBClient(table_name="VibeDigest-dev", client=self.raw), **store_options)

    def _record(self, model: Any, **_: Any) -> None:
        self.sent.append(model.name)

    def expect_describe(self) -> None:
        """Queue the DescribeTable answer ``DynamoDBClient.call`` needs on its first call."""
        self.stubber.add_response("describe_table", {"Table": {"TableName": "VibeDigest-dev"}})


def full_item(**overrides: Any) -> DigestItem:
    values: dict[str, Any] = {
        "digest_date": date(2026, 11, 26),
        "item_id": "001-agents",
        "title": "Agents write code — and tests",
        "url": "https://example.com/a?b=c",
        "source": "hackernews",
        "summary": "Ünïcode summary ✓",
        "score": 0.1,
        "tags": ("agents", "testing", "agents"),
        "created_at": datetime(2026, 11, 26, 7, 30, 15, 123456, tzinfo=timezone(timedelta(hours=-5))),
    }
    values.update(overrides)
    return DigestItem(**values)


# -- DigestItem: conversion -------------------------------------------------------------------


def test_every_attribute_type_round_trips_through_dynamodb(store: DigestStore) -> None:
    extra = {
        "votes": 42,
        "ratio": 2.5,
        "exact": Decimal("12345678901234567890.123456789"),
        "negative": -7,
        "published": date(2026, 11, 25),
        "fetched": datetime(2026, 11, 26, 5, 0, tzinfo=UTC),
        "flags": {"pinned": True, "hidden": False, "note": None},
        "authors": ["ada", "linus"],
        "payload": b"\x00\x01binary",
        "buffer": bytearray(b"buf"),
        "channels": {"rss", "email"},
        "weights": {1, 2.5},
        "nested": {"list": [1, {"deep": 0.25}], "empty_list": [], "empty_map": {}},
        "blank": "",
    }
    item = full_item(extra=extra)
    store.put(item)

    back = store.get(DAY, "001-agents")

    assert back is not None
    assert back.digest_date == DAY and back.item_id == "001-agents"
    assert (back.title, back.url, back.source, back.summary) == (item.title, item.url, item.source, item.summary)
    assert back.score == 0.1 and isinstance(back.score, float)
    assert back.tags == ("agents", "testing", "agents")
    assert back.created_at == item.created_at and back.created_at.utcoffset() == timedelta(hours=-5)
    assert back.extra["votes"] == 42 and isinstance(back.extra["votes"], int)
    assert back.extra["ratio"] == 2.5 and isinstance(back.extra["ratio"], float)
    assert back.extra["exact"] == float(Decimal("12345678901234567890.123456789"))
    assert back.extra["negative"] == -7
    assert back.extra["published"] == "2026-11-25"  # dates inside extra come back as ISO strings
    assert back.extra["fetched"] == "2026-11-26T05:00:00+00:00"
    assert back.extra["flags"] == {"pinned": True, "hidden": False, "note": None}
    assert back.extra["authors"] == ["ada", "linus"]
    assert back.extra["payload"] == b"\x00\x01binary"
    assert back.extra["buffer"] == b"buf"
    assert back.extra["channels"] == {"rss", "email"}
    assert back.extra["weights"] == {1, 2.5}
    assert back.extra["nested"] == {"list": [1, {"deep": 0.25}], "empty_list": [], "empty_map": {}}
    assert back.extra["blank"] == ""


def test_every_request_the_store_sends_unvalidated_passes_botocores_validation(client: DynamoDBClient) -> None:
    """The package's client skips botocore's parameter validation (``DynamoDBClient.send``): each
    request of every store operation, items of every attribute type included, is checked here
    with botocore's validator instead."""
    sent: list[tuple[Any, dict[str, Any]]] = []
    client.client.meta.events.register(
        "before-parameter-build.dynamodb", lambda model, params, **_: sent.append((model, copy.deepcopy(params)))
    )
    store = DigestStore(client, sleep=lambda _: None)
    extra = {"n": 42, "f": 2.5, "d": Decimal("1.25"), "when": datetime(2026, 11, 26, tzinfo=UTC), "none": None,
             "flag": True, "list": [1, "a", {"deep": b"\x00"}], "map": {"k": []}, "ss": {"a", "b"}, "ns": {1, 2.5},
             "bs": {b"x"}, "blank": ""}
    store.put(full_item(extra=extra))
    with pytest.raises(ItemExistsError):
        store.put(full_item(extra=extra), only_if_absent=True)
    store.get(DAY, "001-agents", consistent=False)
    store.put_many(numbered_items(DAY, 60))
    store.day(DAY)
    store.delete(DAY, "001-agents")
    store.delete_many([(DAY, item.item_id) for item in numbered_items(DAY, 30)])
    assert {model.name for model, _ in sent} == {"DescribeTable", "PutItem", "GetItem", "BatchWriteItem", "Query",
                                                 "DeleteItem"}
    for model, params in sent:
        validate_parameters(params, model.input_shape)  # raises ParamValidationError with the report


def test_item_without_optional_fields_round_trips_equal(store: DigestStore) -> None:
    item = DigestItem(digest_date=DAY, item_id="bare")
    store.put(item)
    assert store.get(DAY, "bare") == item
    assert "score" not in item.to_dynamodb() and "created_at" not in item.to_dynamodb()


def test_floats_are_stored_as_their_shortest_decimal() -> None:
    attributes = full_item(score=0.1, extra={"tiny": 1e-7, "big": 1.5e20}).to_dynamodb()
    assert attributes["score"] == {"N": "0.1"}
    assert attributes["tiny"] == {"N": "1E-7"}
    assert attributes["big"] == {"N": "1.5E+20"}
    assert attributes["created_at"] == {"S": "2026-11-26T07:30:15.123456-05:00"}
    assert attributes["tags"] == {"L": [{"S": "agents"}, {"S": "testing"}, {"S": "agents"}]}


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, Decimal("NaN"), Decimal("Infinity")])
def test_nan_and_infinity_are_refused(bad: Any) -> None:
    with pytest.raises(ItemValidationError, match="NaN or infinity"):
        full_item(score=bad)
    with pytest.raises(ItemValidationError, match="extra_value.*NaN or infinity"):
        full_item(extra={"extra_value": bad}).to_dynamodb()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"thing": object()}, "type object"),
        ({"empty": set()}, "empty set"),
        ({"map": {1: "x"}}, "non-string key"),
        ({"huge": 10**40 + 1}, "41 significant digits; DynamoDB numbers keep at most 38"),
        ({"too_big": 10**126}, "outside DynamoDB's number range"),
        ({"too_small": Decimal("1E-131")}, "outside DynamoDB's number range"),
        ({"nested": {"list": [1, 1e-200]}}, r"nested.list\[1\].*outside DynamoDB's number range"),
        ({"mixed": {1, "a"}}, "cannot be stored"),
        ({"naive": datetime(2026, 1, 1)}, "naive datetime"),
    ],
)
def test_values_dynamodb_cannot_store_are_refused(extra: dict[str, Any], message: str) -> None:
    with pytest.raises(ItemValidationError, match=message):
        full_item(extra=extra).to_dynamodb()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"created_at": datetime(2026, 11, 26, 7, 0)}, "naive datetime"),
        ({"created_at": "2026-11-26"}, "must be a datetime"),
        ({"score": True}, "score must be a number"),
        ({"score": "0.5"}, "score must be a number"),
        ({"tags": "agents"}, "tags must be a list or tuple of strings"),
        ({"tags": ("ok", 3)}, "tags must be a sequence of strings"),
        ({"title": None}, "title must be a string"),
        ({"extra": {"title": "again"}}, "must not redefine.*title"),
        ({"extra": None}, "extra must be a mapping"),
        ({"extra": {1: "one"}}, "extra must be a mapping"),
    ],
)
def test_invalid_fields_are_refused_on_construction(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ItemValidationError, match=message):
        full_item(**changes)


def test_from_dynamodb_refuses_items_without_key_or_with_a_bad_timestamp() -> None:
    with pytest.raises(ItemValidationError, match="attribute 'item_id' is missing"):
        DigestItem.from_dynamodb({"digest_date": {"S": DAY}})
    with pytest.raises(ItemValidationError, match="not an ISO datetime"):
        DigestItem.from_dynamodb({"digest_date": {"S": DAY}, "item_id": {"S": "x"}, "created_at": {"S": "yesterday"}})


def test_items_are_immutable_and_hashable_and_keep_their_own_extra() -> None:
    extra = {"votes": 1}
    item = full_item(extra=extra)
    extra["votes"] = 2
    assert item.extra == {"votes": 1}
    with pytest.raises(AttributeError):
        item.title = "changed"  # type: ignore[misc]
    assert hash(item) == hash(full_item(extra={"other": 1}))
    assert item.key == (DAY, "001-agents")


# -- keys ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2026-13-01", "not a real calendar date"),
        ("2026-02-30", "not a real calendar date"),
        ("26-11-2026", "must be an ISO date 'YYYY-MM-DD'"),
        ("2026-1-5", "must be an ISO date"),
        ("20261126", "must be an ISO date"),
        ("2026-11-26T00:00", "must be an ISO date"),
        ("２０２６-11-26", "must be an ISO date"),
        ("", "must not be empty"),
        (datetime(2026, 11, 26, tzinfo=UTC), "not a datetime"),
        (20261126, "must be a 'YYYY-MM-DD' string or a date"),
    ],
)
def test_invalid_digest_dates_are_refused(value: Any, message: str) -> None:
    with pytest.raises(ItemValidationError, match=message):
        DigestItem(digest_date=value, item_id="x")


def test_dates_are_normalized_to_iso_strings() -> None:
    assert normalize_digest_date(date(2026, 1, 5)) == "2026-01-05"
    assert DigestItem(digest_date=date(2026, 11, 26), item_id="x").digest_date == DAY


@pytest.mark.parametrize(
    ("item_id", "message"),
    [("", "item_id must not be empty"), (None, "item_id must be a string"), ("é" * 513, "1026 bytes")],
)
def test_invalid_item_ids_are_refused(item_id: Any, message: str) -> None:
    with pytest.raises(ItemValidationError, match=message):
        DigestItem(digest_date=DAY, item_id=item_id)


def test_invalid_keys_are_refused_by_every_operation_before_any_request() -> None:
    stubbed = Stubbed()
    with pytest.raises(ItemValidationError, match="calendar date"):
        stubbed.store.get("2026-13-01", "x")
    with pytest.raises(ItemValidationError, match="item_id must not be empty"):
        stubbed.store.delete(DAY, "")
    with pytest.raises(ItemValidationError, match="ISO date"):
        stubbed.store.day("26-11-2026")
    assert stubbed.sent == []


# -- the 400 KB limit ------------------------------------------------------------------------


def test_item_size_follows_dynamodbs_documented_rules() -> None:
    assert item_size({"name": {"S": "héllo"}}) == 4 + 6  # UTF-8 bytes of name and value
    assert item_size({"n": {"N": "123"}}) == 1 + 2 + 1  # 3 significant digits -> 2 bytes, + 1
    assert item_size({"n": {"N": "-0.00120"}}) == 1 + 1 + 1 + 1  # zeros trimmed, negative + 1
    assert item_size({"b": {"B": b"\x00" * 10}}) == 1 + 10
    assert item_size({"t": {"BOOL": True}, "u": {"NULL": True}}) == 2 + 2
    assert item_size({"l": {"L": [{"S": "ab"}, {"N": "1"}]}}) == 1 + 3 + (1 + 2) + (1 + 2)
    assert item_size({"m": {"M": {"key": {"S": "v"}}}}) == 1 + 3 + (1 + 3 + 1)
    assert item_size({"e": {"L": []}}) == 1 + 3
    assert item_size({"s": {"SS": ["a", "bc"]}, "ns": {"NS": ["1", "22"]}, "bs": {"BS": [b"x"]}}) == 4 + 6 + 3
    with pytest.raises(ItemValidationError, match="Unknown DynamoDB attribute type"):
        item_size({"x": {"Q": "?"}})


def _item_of_size(size: int) -> DigestItem:
    base = DigestItem(digest_date=DAY, item_id="big", title="large")
    padding = size - item_size(base.to_dynamodb())
    return DigestItem(digest_date=DAY, item_id="big", title="large", summary="x" * padding)


def test_an_item_of_exactly_400_kb_is_sent() -> None:
    """Stubber: an item of exactly 409,600 bytes passes validation and is sent unchanged (the endpoints'
    own limit is tested below)."""
    item = _item_of_size(MAX_ITEM_BYTES)
    assert item_size(item.to_dynamodb()) == MAX_ITEM_BYTES
    stubbed = Stubbed()
    stubbed.expect_describe()
    stubbed.stubber.add_response("put_item", {}, {"TableName": "VibeDigest-dev", "Item": item.to_dynamodb()})
    stubbed.store.put(item)
    stubbed.stubber.assert_no_pending_responses()


def test_a_large_item_is_stored_and_read_back(store: DigestStore) -> None:
    item = _item_of_size(400_000)
    store.put(item)
    assert store.get(DAY, "big") == item


def test_the_endpoint_stores_an_item_of_exactly_400_kb_and_refuses_one_byte_more(
    store: DigestStore, client: DynamoDBClient
) -> None:
    """DynamoDB's limit, 409,600 bytes by its documented count, on the endpoint itself (the raw client
    sends the item one byte over, which the package refuses before sending)."""
    item = _item_of_size(MAX_ITEM_BYTES)
    store.put(item)
    assert store.get(DAY, "big") == item
    over = item.to_dynamodb()
    over["summary"] = {"S": over["summary"]["S"] + "x"}
    assert item_size(over) == MAX_ITEM_BYTES + 1
    with pytest.raises(ClientError, match="Item size has exceeded the maximum allowed size"):
        client.client.put_item(TableName=client.table_name, Item=over)


def test_an_item_one_byte_over_400_kb_is_refused_before_any_request() -> None:
    item = _item_of_size(MAX_ITEM_BYTES + 1)
    stubbed = Stubbed()
    with pytest.raises(ItemValidationError, match=r"409,601 bytes; DynamoDB's limit is 409,600 .*'summary'"):
        stubbed.store.put(item)
    with pytest.raises(ItemValidationError, match="409,601 bytes"):
        stubbed.store.put_many([DigestItem(digest_date=DAY, item_id="small"), item])
    assert stubbed.sent == []


# -- put / get / delete --------------------------------------------------------------------------


def test_put_only_if_absent_refuses_to_overwrite(store: DigestStore) -> None:
    store.put(full_item(title="first"), only_if_absent=True)
    with pytest.raises(ItemExistsError, match=r"\(2026-11-26, 001-agents\) already exists.*nothing was written") as caught:
        store.put(full_item(title="second"), only_if_absent=True)
    assert isinstance(caught.value.__cause__, ConditionalCheckFailedError)
    with pytest.raises(ItemExistsError, match="an identical item is stored"):
        store.put(full_item(title="first"), only_if_absent=True)
    assert store.get(DAY, "001-agents").title == "first"  # type: ignore[union-attr]
    store.put(full_item(title="third"))
    assert store.get(DAY, "001-agents").title == "third"  # type: ignore[union-attr]


def test_put_on_a_missing_table_raises_table_not_found(local_target: Target) -> None:
    store = DigestStore(DynamoDBClient.for_target(local_target, table_name="VibeDigest-missing"))
    with pytest.raises(TableNotFoundError):
        store.put(full_item(), only_if_absent=True)
    with pytest.raises(TableNotFoundError):
        store.put_many([full_item()])


def test_get_missing_item_returns_none(store: DigestStore) -> None:
    store.put(full_item())
    assert store.get(DAY, "002-other") is None
    assert store.get("2026-11-27", "001-agents") is None


def test_delete_reports_whether_the_item_existed(store: DigestStore) -> None:
    store.put(full_item())
    assert store.delete(date(2026, 11, 26), "001-agents") is True
    assert store.get(DAY, "001-agents") is None
    assert store.delete(DAY, "001-agents") is False


# -- day -----------------------------------------------------------------------------------------------


def test_day_returns_only_that_day_in_item_id_order(store: DigestStore) -> None:
    items = numbered_items(DAY, 30) + numbered_items("2026-11-27", 3)
    random.Random(7).shuffle(items)
    store.put_many(items)
    result = store.day(DAY)
    assert [i.item_id for i in result] == [f"item-{n:05d}" for n in range(30)]
    assert all(i.digest_date == DAY for i in result)
    assert store.day("2026-11-25") == []


def test_day_with_one_malformed_item_raises_naming_it_and_delete_clears_it(
    store: DigestStore, client: DynamoDBClient
) -> None:
    """Another tool wrote a numeric title among good items: day() names that item; delete() fixes the day."""
    items = numbered_items(DAY, 40)
    store.put_many(items)
    bad = {"digest_date": {"S": DAY}, "item_id": {"S": "item-00020-x"}, "title": {"N": "5"}}
    client.client.put_item(TableName=client.table_name, Item=bad)

    with pytest.raises(ItemFormatError, match=r"\('2026-11-26', 'item-00020-x'\): attribute 'title' is a number") as caught:
        store.day(DAY)

    assert (caught.value.key, caught.value.attribute) == ((DAY, "item-00020-x"), "title")
    with pytest.raises(ItemFormatError):
        store.get(DAY, "item-00020-x")
    assert store.delete(DAY, "item-00020-x") is True
    assert store.day(DAY) == items


def test_day_follows_pagination_past_one_megabyte(store: DigestStore, client: DynamoDBClient) -> None:
    """12 items of about 100 KB make 1.2 MB: moto, like DynamoDB, pages Query results at 1 MB."""
    items = numbered_items(DAY, 12, summary="v" * 100_000)
    shuffled = items[:]
    random.Random(3).shuffle(shuffled)
    store.put_many(shuffled)
    pages: list[dict[str, Any]] = []
    client.client.meta.events.register("after-call.dynamodb.Query", lambda parsed, **_: pages.append(parsed))

    result = store.day(DAY)

    assert result == items
    assert len(pages) >= 2
    assert "LastEvaluatedKey" in pages[0]


def test_day_sends_last_evaluated_key_as_exclusive_start_key() -> None:
    stubbed = Stubbed()
    first = DigestItem(digest_date=DAY, item_id="a", title="A")
    second = DigestItem(digest_date=DAY, item_id="b", title="B")
    last_key = {"digest_date": {"S": DAY}, "item_id": {"S": "a"}}
    stubbed.expect_describe()
    query = {
        "TableName": "VibeDigest-dev",
        "KeyConditionExpression": "#pk = :day",
        "ExpressionAttributeNames": {"#pk": "digest_date"},
        "ExpressionAttributeValues": {":day": {"S": DAY}},
        "ConsistentRead": True,
    }
    stubbed.stubber.add_response("query", {"Items": [first.to_dynamodb()], "LastEvaluatedKey": last_key}, query)
    stubbed.stubber.add_response(
        "query", {"Items": [second.to_dynamodb()]}, {**query, "ExclusiveStartKey": last_key}
    )

    assert stubbed.store.day(DAY) == [first, second]
    stubbed.stubber.assert_no_pending_responses()


# -- put_many ---------------------------------------------------------------------------------------------


def test_put_many_writes_items_in_batches_of_25(
    store: DigestStore, client: DynamoDBClient, caplog: pytest.LogCaptureFixture
) -> None:
    """130 items: five full batches sent in parallel after the first, and the remainder."""
    sizes: list[int] = []
    client.client.meta.events.register(
        "provide-client-params.dynamodb.BatchWriteItem",
        lambda params, **_: sizes.append(len(next(iter(params["RequestItems"].values())))),
    )
    items = numbered_items(DAY, 130)
    with caplog.at_level(logging.INFO, logger="src.database.data.batch"):
        assert store.put_many(iter(items)) == 130
    assert sorted(sizes) == [5] + [BATCH_SIZE] * 5
    assert store.day(DAY) == items
    assert "put_many: 130 items in 6 batches, 0 retries of unprocessed items" in caplog.text
    assert "item-00000" not in caplog.text  # counts, never a dump of the items


def test_put_many_of_nothing_sends_nothing() -> None:
    stubbed = Stubbed()
    assert stubbed.store.put_many([]) == 0
    assert stubbed.sent == []


def test_put_many_refuses_duplicate_keys_before_any_request() -> None:
    stubbed = Stubbed()
    items = numbered_items(DAY, 30) + [DigestItem(digest_date=date(2026, 11, 26), item_id="item-00007")]
    with pytest.raises(ItemValidationError, match=r"1 repeated key\(s\): \(2026-11-26, item-00007\)"):
        stubbed.store.put_many(items)
    with pytest.raises(ItemValidationError, match="put_many takes DigestItem objects; item 0 is dict"):
        stubbed.store.put_many([{"digest_date": DAY}])  # type: ignore[list-item]
    assert stubbed.sent == []


def test_put_many_resends_exactly_the_unprocessed_items_after_a_backoff() -> None:
    """Stubber: the second request carries exactly the two requests DynamoDB returned unprocessed."""
    sleeps: list[float] = []
    stubbed = Stubbed(sleep=sleeps.append)
    items = numbered_items(DAY, 3)
    requests = [{"PutRequest": {"Item": item.to_dynamodb()}} for item in items]
    stubbed.expect_describe()
    stubbed.stubber.add_response(
        "batch_write_item",
        {"UnprocessedItems": {"VibeDigest-dev": requests[1:]}},
        {"RequestItems": {"VibeDigest-dev": requests}},
    )
    stubbed.stubber.add_response(
        "batch_write_item", {"UnprocessedItems": {}}, {"RequestItems": {"VibeDigest-dev": requests[1:]}}
    )

    assert stubbed.store.put_many(items) == 3
    stubbed.stubber.assert_no_pending_responses()
    assert len(sleeps) == 1 and 0 <= sleeps[0] <= 0.05


def test_put_many_retries_unprocessed_items_until_all_are_written(
    local_target: Target, table: str, caplog: pytest.LogCaptureFixture
) -> None:
    sleeps: list[float] = []
    wrapper = FlakyBatchClient(local_target.client("dynamodb"), flaky_calls=4, hold_back=7)
    store = DigestStore(DynamoDBClient(table_name=table, client=wrapper), sleep=sleeps.append)  # type: ignore[arg-type]
    items = numbered_items(DAY, 100)

    with caplog.at_level(logging.INFO, logger="src.database.data.batch"):
        assert store.put_many(items, concurrency=1) == 100

    assert store.day(DAY) == items
    assert sum(1 for times in wrapper.sent.values() if times > 1) > 0
    assert len(sleeps) == 4
    assert all(0 <= delay <= 0.05 * 2**n for n, delay in enumerate(sleeps))
    assert "4 retries of unprocessed items (28 items re-sent)" in caplog.text


def test_put_many_gives_up_after_max_attempts_and_names_exactly_the_unwritten_keys(
    local_target: Target, table: str
) -> None:
    stuck = {(DAY, "item-00003"), (DAY, "item-00050"), (DAY, "item-00099")}
    sleeps: list[float] = []
    wrapper = FlakyBatchClient(local_target.client("dynamodb"), never_write=stuck)
    client = DynamoDBClient(table_name=table, client=wrapper)  # type: ignore[arg-type]
    store = DigestStore(client, max_attempts=3, backoff_base=0.5, backoff_cap=0.8, sleep=sleeps.append)
    items = numbered_items(DAY, 100)

    with pytest.raises(BatchWriteError, match="3 of 100 items were not written") as caught:
        store.put_many(items)

    assert caught.value.unwritten == [(DAY, "item-00003"), (DAY, "item-00050"), (DAY, "item-00099")]
    assert "after 3 attempts" in caught.value.message
    assert all(wrapper.sent[key] == 3 for key in stuck)
    assert {i.key for i in store.day(DAY)} == {i.key for i in items} - stuck
    assert sleeps and all(0 <= delay <= 0.8 for delay in sleeps)


def test_put_many_reports_unconfirmed_items_when_a_request_fails_midway(local_target: Target, table: str) -> None:
    """A request refused outright (not a transient error) stops the call: it and the rest are listed unwritten."""
    denied = ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "BatchWriteItem")
    wrapper = FlakyBatchClient(local_target.client("dynamodb"), fail_on_call=3, error=denied)
    client = DynamoDBClient(table_name=table, client=wrapper)  # type: ignore[arg-type]
    store = DigestStore(client, sleep=lambda _: None)
    items = numbered_items(DAY, 100)

    with pytest.raises(BatchWriteError, match="50 of 100 items were not written") as caught:
        store.put_many(items, concurrency=1)

    assert isinstance(caught.value.__cause__, AccessDeniedError)
    assert caught.value.unwritten == [i.key for i in items[50:]] and caught.value.unconfirmed == []
    assert store.day(DAY) == items[:50]


def test_parallel_put_many_lists_exactly_the_items_not_written_when_a_request_fails(
    local_target: Target, table: str
) -> None:
    """With batches in flight together, the failed batch and the unsent ones are listed; the rest is stored."""
    denied = ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "BatchWriteItem")
    wrapper = FlakyBatchClient(local_target.client("dynamodb"), fail_on_call=3, error=denied)
    store = DigestStore(DynamoDBClient(table_name=table, client=wrapper), sleep=lambda _: None)  # type: ignore[arg-type]
    items = numbered_items(DAY, 500)

    with pytest.raises(BatchWriteError, match="items were not written") as caught:
        store.put_many(items, concurrency=4)

    stored = {item.key for item in store.day(DAY)}
    assert caught.value.unwritten == [item.key for item in items if item.key not in stored]
    assert 25 <= len(caught.value.unwritten) < 475


def test_put_many_raises_the_request_error_itself_when_nothing_was_written(local_target: Target, table: str) -> None:
    denied = ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "BatchWriteItem")
    wrapper = FlakyBatchClient(local_target.client("dynamodb"), fail_on_call=1, error=denied)
    store = DigestStore(DynamoDBClient(table_name=table, client=wrapper))  # type: ignore[arg-type]
    with pytest.raises(AccessDeniedError):
        store.put_many(numbered_items(DAY, 10))


def test_delete_many_removes_exactly_the_given_keys(store: DigestStore) -> None:
    items = numbered_items(DAY, 60)
    store.put_many(items)
    assert store.delete_many([(date(2026, 11, 26), item.item_id) for item in items[::2]]) == 30
    assert store.day(DAY) == items[1::2]


def test_backoff_grows_exponentially_up_to_the_cap() -> None:
    upper = [backoff_delay(n, uniform=lambda low, high: high) for n in range(8)]
    assert upper == [0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 2.0, 2.0]
    assert all(backoff_delay(n, uniform=lambda low, high: low) == 0 for n in range(8))
    assert all(0 <= backoff_delay(n) <= min(2.0, 0.05 * 2**n) for n in range(12))


@pytest.mark.parametrize(
    "options", [{"max_attempts": 0}, {"backoff_base": 0}, {"backoff_base": 1.0, "backoff_cap": 0.5}]
)
def test_store_settings_are_validated(options: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError):
        DigestStore(DynamoDBClient(table_name="VibeDigest-dev"), **options)


def test_store_names_its_table() -> None:
    store = DigestStore(DynamoDBClient("staging"))
    assert store.table_name == "VibeDigest-staging"
    assert "VibeDigest-staging" in repr(store)


# -- threads ---------------------------------------------------------------------------------------------


def test_one_store_is_safe_to_share_across_threads(store: DigestStore) -> None:
    """8 threads write disjoint items through one store (single puts and batches); all come back."""
    start = threading.Barrier(8)

    def write(worker: int) -> int:
        start.wait(timeout=30)
        mine = [
            DigestItem(digest_date=DAY, item_id=f"w{worker}-{n:03d}", score=worker + n / 100) for n in range(40)
        ]
        for item in mine[:10]:
            store.put(item)
        return 10 + store.put_many(mine[10:])

    with ThreadPoolExecutor(max_workers=8) as pool:
        written = list(pool.map(write, range(8)))

    assert written == [40] * 8
    result = store.day(DAY)
    assert sorted(i.item_id for i in result) == sorted(f"w{w}-{n:03d}" for w in range(8) for n in range(40))
    assert all(i.score == int(i.item_id[1]) + int(i.item_id[3:]) / 100 for i in result)


# -- demo helpers -------------------------------------------------------------------------------------------


def test_sample_digest_is_deterministic_and_valid() -> None:
    first = sample_digest(date(2026, 11, 26), 12)
    assert first == sample_digest(date(2026, 11, 26), 12)
    assert len(first) == 12 and len({i.key for i in first}) == 12
    assert [i.item_id for i in first] == sorted(i.item_id for i in first)
    assert [i.score for i in first] == sorted((i.score for i in first), reverse=True)
    assert all(i.digest_date == DAY and i.created_at and i.created_at.tzinfo for i in first)
    assert sample_digest(date(2026, 11, 27), 3)[0].digest_date == "2026-11-27"
    assert len(sample_digest(date(2026, 11, 26))) == 5
    assert sample_digest(date(2026, 11, 26), 0) == []
    with pytest.raises(ItemValidationError):
        sample_digest(date(2026, 11, 26), -1)


def test_format_digest_prints_a_readable_table() -> None:
    items = [
        DigestItem(digest_date=DAY, item_id="001-short", score=0.5, source="blog", title="Short title"),
        DigestItem(digest_date=DAY, item_id="002-long", title="L" * 100),
    ]
    lines = format_digest(items, title_width=20).splitlines()
    assert lines[0].split() == ["item_id", "score", "source", "title"]
    assert set(lines[1].replace(" ", "")) == {"-"}
    assert lines[2].split() == ["001-short", "0.50", "blog", "Short", "title"]
    assert lines[3].split() == ["002-long", "-", "-", "L" * 17 + "..."]
    assert format_digest([]) == "(no items)"


@pytest.mark.parametrize("score", [3, 0, -2])
def test_an_integer_score_is_accepted_and_stored_as_a_number(store: DigestStore, score: int) -> None:
    item = DigestItem(digest_date="2026-11-26", item_id=f"int-{score}", score=score)
    assert item.score == float(score)
    store.put(item)
    assert store.get("2026-11-26", f"int-{score}") == item
