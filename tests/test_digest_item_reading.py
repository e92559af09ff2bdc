"""Tests of ``DigestItem.from_dynamodb``: the reading rules.

``from_dynamodb`` converts in one pass (numbers straight to int/float, binaries to
bytes), then builds the item with its validating constructor. These tests pin that
down: reading back gives exactly the item that was written (same values, same types),
and a stored item breaking the rules gets an error naming its key and attribute. No endpoint is needed: the input is the attribute-value map DynamoDB returns.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from src.database.data.item import DigestItem, ItemFormatError
from src.database.data.sample import sample_digest
from src.database.errors import ItemValidationError

DAY = "2026-11-26"


def stored(**attributes: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """An attribute-value map with the key of ``DAY``/``x`` plus ``attributes``."""
    return {"digest_date": {"S": DAY}, "item_id": {"S": "x"}, **attributes}


def validated(item: DigestItem) -> DigestItem:
    """The same fields passed through the validating constructor."""
    return DigestItem(**{f.name: getattr(item, f.name) for f in dataclasses.fields(DigestItem)})


def types_of(item: DigestItem) -> dict[str, type]:
    return {f.name: type(getattr(item, f.name)) for f in dataclasses.fields(DigestItem)}


ITEMS = [
    *sample_digest(date(2026, 11, 26), 3),
    DigestItem(digest_date=DAY, item_id="bare"),
    DigestItem(
        digest_date=DAY,
        item_id="é" * 256,  # 512 UTF-8 bytes: valid, and past the fast path's 256-character shortcut
        score=3.0,
        tags=("a",),
        created_at=datetime(2026, 11, 26, 7, 30, tzinfo=timezone(timedelta(hours=-5))),
        extra={
            "votes": 42,
            "ratio": 2.5,
            "one_point_zero": Decimal("1.0"),
            "payload": b"\x00\x01",
            "blobs": {b"a", b"b"},
            "weights": {1, 2.5},
            "nested": {"list": [1, {"deep": 0.25}], "flag": True, "none": None},
        },
    ),
]


@pytest.mark.parametrize("item", ITEMS, ids=lambda item: item.item_id[:20])
def test_reading_back_gives_the_validated_item_with_the_same_types(item: DigestItem) -> None:
    back = DigestItem.from_dynamodb(item.to_dynamodb())
    assert back == item == validated(back)
    assert types_of(back) == types_of(validated(back))
    assert back.extra == validated(back).extra
    assert {name: type(value) for name, value in back.extra.items()} == {
        name: type(value) for name, value in validated(back).extra.items()
    }


def test_numbers_come_back_as_int_or_float_and_binaries_as_bytes_at_any_depth() -> None:
    back = DigestItem.from_dynamodb(
        stored(
            score={"N": "1"},
            n={"N": "1.0"},
            f={"N": "0.25"},
            big={"N": "1E+2"},
            ns={"NS": ["1", "2.5"]},
            nested={"M": {"l": {"L": [{"N": "7"}, {"B": b"\x01"}]}}},
            bs={"BS": [b"\x02"]},
            exact={"N": "12345678901234567890.123456789"},
        )
    )
    assert back.score == 1.0 and type(back.score) is float
    assert back.extra["n"] == 1 and type(back.extra["n"]) is int
    assert back.extra["f"] == 0.25 and type(back.extra["f"]) is float
    assert back.extra["big"] == 100 and type(back.extra["big"]) is int
    assert back.extra["ns"] == {1, 2.5}
    assert back.extra["nested"] == {"l": [7, b"\x01"]} and type(back.extra["nested"]["l"][1]) is bytes
    assert back.extra["bs"] == {b"\x02"}
    assert back.extra["exact"] == float(Decimal("12345678901234567890.123456789"))


@pytest.mark.parametrize(
    ("attributes", "attribute", "message"),
    [
        (stored(title={"N": "5"}), "title", r"is a number \(N\); expected a string \(S\)"),
        (stored(summary={"BOOL": True}), "summary", r"is a boolean \(BOOL\); expected a string"),
        (stored(tags={"S": "agents"}), "tags", r"is a string \(S\) \(one tag or several joined"),
        (stored(tags={"L": [{"S": "ok"}, {"N": "3"}]}), "tags", r"is a list \(L\); expected a list of strings"),
        (stored(tags={"NS": ["1"]}), "tags", r"is a number set \(NS\)"),
        (stored(score={"BOOL": True}), "score", r"is a boolean \(BOOL\); expected a number \(N\)"),
        (stored(score={"S": "0.5"}), "score", r"is a string \(S\); expected a number \(N\)"),
        (stored(score={"S": "nan"}), "score", r"is a string \(S\)"),
        (stored(score={"N": "not a number"}), "score", "is not a valid DynamoDB attribute value"),
        (stored(votes={"Q": "?"}), "votes", "is not a valid DynamoDB attribute value"),
        (stored(created_at={"S": "2026-11-26T07:00:00"}), "created_at", "naive datetime"),
        (stored(created_at={"N": "1"}), "created_at", r"is a number \(N\); expected an ISO datetime"),
        (stored(created_at={"S": "yesterday"}), "created_at", "not an ISO datetime"),
        ({"digest_date": {"S": "2026-13-01"}, "item_id": {"S": "x"}}, "digest_date", "not a real calendar date"),
        ({"digest_date": {"S": "26-11-2026"}, "item_id": {"S": "x"}}, "digest_date", "must be an ISO date"),
        ({"digest_date": {"N": "20261126"}, "item_id": {"S": "x"}}, "digest_date", "must be a 'YYYY-MM-DD' string"),
        ({"digest_date": {"S": DAY}, "item_id": {"S": ""}}, "item_id", "must not be empty"),
        ({"digest_date": {"S": DAY}, "item_id": {"S": "é" * 513}}, "item_id", "1026 bytes"),
        ({"digest_date": {"S": DAY}, "item_id": {"N": "7"}}, "item_id", "item_id must be a string"),
        ({"digest_date": {"S": DAY}}, "item_id", "is missing"),
    ],
)
def test_stored_items_breaking_the_reading_rules_raise_an_error_naming_key_and_attribute(
    attributes: dict[str, Any], attribute: str, message: str
) -> None:
    with pytest.raises(ItemFormatError, match=message) as caught:
        DigestItem.from_dynamodb(attributes)
    error = caught.value
    assert isinstance(error, ItemValidationError)
    assert error.attribute == attribute
    assert f"attribute '{attribute}'" in error.message
    assert str(error.key[0]) in error.message
    assert error.key[1] == (attributes["item_id"].get("S", 7) if "item_id" in attributes else None)


def test_stored_values_convert_by_the_documented_rules() -> None:
    back = DigestItem.from_dynamodb(
        stored(
            title={"NULL": True},
            tags={"SS": ["zeta", "alpha"]},
            score={"NULL": True},
            created_at={"NULL": True},
            note={"NULL": True},
        )
    )
    assert back.title == "" and back.tags == ("alpha", "zeta")  # a string set has no order: sorted
    assert back.score is None and back.created_at is None
    assert back.extra == {"note": None}  # other attributes keep their value
    assert DigestItem.from_dynamodb(stored(tags={"L": []}, score={"N": "7"})).score == 7.0


def test_a_bad_date_is_refused_every_time_not_only_the_first() -> None:
    """The check of stored dates is cached per string; a refused date stays refused."""
    for _ in range(3):
        with pytest.raises(ItemValidationError, match="not a real calendar date"):
            DigestItem.from_dynamodb({"digest_date": {"S": "2026-02-30"}, "item_id": {"S": "x"}})
    assert DigestItem.from_dynamodb(stored()).digest_date == DAY


def test_items_read_back_are_frozen_hashable_and_own_their_extra() -> None:
    attributes = stored(votes={"N": "1"})
    back = DigestItem.from_dynamodb(attributes)
    with pytest.raises(dataclasses.FrozenInstanceError):
        back.title = "changed"  # type: ignore[misc]
    assert hash(back) == hash(DigestItem(digest_date=DAY, item_id="x"))
    attributes["votes"] = {"N": "2"}
    assert back.extra == {"votes": 1}
    assert repr(back) == repr(validated(back))
