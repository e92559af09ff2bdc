"""Every number the package accepts reads back, whichever way the endpoint writes it.

moto returns a number as it was written ("1E+38"); dynalite, like DynamoDB (boto3 issues
#2500 and #4693), writes it out in full ("100000000000000000000000000000000000000", 39
digits), which boto3's 38-digit decimal context refuses as ``Rounded``. Each test runs on
both (``data_target``), through put/get, day() and put_many.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from src.database.aws.target import Target
from src.database.client import DynamoDBClient
from src.database.data.attributes import PLAIN_DESERIALIZER
from src.database.data.item import DigestItem, key_attributes
from src.database.data.store import DigestStore
from tests.support.figures import record
from tests.support.tables import create_digest_table

DAY = "2026-12-01"

SCORES = [1e38, 1e125, -1e38, 1.5e50, -9.99e125, 1e-130, 123456789012345.6]
EXTRAS: list[dict[str, Any]] = [
    {"n": 10**39},
    {"n": -(10**125)},
    {"n": Decimal("1.2345678901234567890123456789012345678E+100")},
    {"nested": {"list": [10**40, 2.5e-100], "set": {10**38, 2}}},
]


@pytest.fixture
def store(data_target: Target, unique_name: str) -> DigestStore:
    create_digest_table(data_target.client("dynamodb"), unique_name)
    return DigestStore(DynamoDBClient.for_target(data_target, table_name=unique_name), sleep=lambda _: None)


def _items() -> list[DigestItem]:
    scored = [DigestItem(digest_date=DAY, item_id=f"score-{i:02d}", score=score) for i, score in enumerate(SCORES)]
    extra = [DigestItem(digest_date=DAY, item_id=f"extra-{i:02d}", extra=values) for i, values in enumerate(EXTRAS)]
    return scored + extra


def test_large_and_small_numbers_round_trip_through_put_get_and_day(
    store: DigestStore, request: pytest.FixtureRequest
) -> None:
    backend = request.node.callspec.params["data_target"]
    items = _items()
    for item in items:
        store.put(item)
    raw = store._client.client.get_item(TableName=store.table_name, Key=key_attributes((DAY, "score-00")))
    back = [store.get(DAY, item.item_id) for item in items]
    day = store.day(DAY)
    returned = raw["Item"]["score"]["N"]
    record("numbers", backend=backend, returned=returned, numbers=len(items),
           read=sum(a == b for a, b in zip(back, items)), day=day == sorted(items, key=_id))
    # the two ways endpoints return 1e38: as written (moto) and written out in full (dynalite, DynamoDB)
    assert returned == {"moto": "1E+38", "dynalite": "1" + "0" * 38}[backend]
    assert back == items
    assert day == sorted(items, key=_id)


def test_large_numbers_round_trip_through_put_many(store: DigestStore) -> None:
    items = _items()
    assert store.put_many(items) == len(items)
    assert store.day(DAY) == sorted(items, key=_id)


def _id(item: DigestItem) -> str:
    return item.item_id


@pytest.mark.parametrize(
    ("written_out", "expected"),
    [
        ("1" + "0" * 38, 10**38),
        ("-1" + "0" * 38, -(10**38)),
        ("1" + "0" * 125, 10**125),
        ("15" + "0" * 49, 15 * 10**49),
        ("0.0000000000000000000000000000000000000000000000000000000000000000000000000000000000000001", 1e-88),
        ("1234567890123456789012345678901234567800000", 12345678901234567890123456789012345678 * 10**5),
    ],
    ids=["1e38", "-1e38", "1e125", "1.5e50", "1e-88", "38 digits and 5 zeros"],
)
def test_numbers_written_out_in_full_are_read_exactly(written_out: str, expected: int | float) -> None:
    assert PLAIN_DESERIALIZER.deserialize({"N": written_out}) == expected
    assert PLAIN_DESERIALIZER.deserialize({"NS": [written_out]}) == {expected}
