"""Bad input to the data layer's Python API: the package's validation error, before any request.

The data-layer part of the bad-input matrix (``test_bad_input.py`` holds the CLI and
client part). Each case builds an item or calls a store method on a ``FakeTable``
that counts requests; every case must raise ``ItemValidationError`` (bad items and
keys) or ``ConfigurationError`` (bad settings or flags) with a message naming the
field, and the table must have seen no request at all.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any, Callable

import pytest

from src.database import DigestItem, DigestStore, DynamoDBClient
from src.database.data.sample import sample_digest
from src.database.errors import ConfigurationError, DatabaseError, ItemValidationError
from tests.support.fake_table import TABLE, FakeTable

DAY = "2026-11-26"
SURROGATE = "bad \ud800 text"


def item(**changes: Any) -> DigestItem:
    return DigestItem(**{"digest_date": DAY, "item_id": "x", **changes})


def put(**changes: Any) -> Callable[[DigestStore], Any]:
    return lambda store: store.put(item(**changes))


def put_extra(**extra: Any) -> Callable[[DigestStore], Any]:
    return lambda store: store.put(item(extra=extra))


def nested(levels: int, kind: type = dict) -> Any:
    """A value ``levels`` maps (or lists) deep around a string: with its attribute, ``levels + 1`` levels."""
    value: Any = "leaf"
    for _ in range(levels):
        value = {"a": value} if kind is dict else [value]
    return value


def self_containing() -> list[Any]:
    loop: list[Any] = []
    loop.append(loop)
    return loop


CASES: list[tuple[str, Callable[[DigestStore], Any], type[DatabaseError], str]] = [
    ("tags None", put(tags=None), ItemValidationError, "tags must be a list or tuple of strings, .*got NoneType"),
    ("tags a string", put(tags="agents"), ItemValidationError, "tags must be a list or tuple"),
    ("tags a number", put(tags=5), ItemValidationError, "got int"),
    ("a tag None", put(tags=("ok", None)), ItemValidationError, r"tags\[1\] is NoneType"),
    ("title None", put(title=None), ItemValidationError, "title must be a string, got NoneType"),
    ("url bytes", put(url=b"https://x"), ItemValidationError, "url must be a string, got bytes"),
    ("lone surrogate in title", put(title=SURROGATE), ItemValidationError, "title is not valid Unicode"),
    ("lone surrogate in a tag", put(tags=("ok", SURROGATE)), ItemValidationError, r"tags\[1\] is not valid Unicode"),
    ("lone surrogate in item_id", put(item_id=SURROGATE), ItemValidationError, "item_id is not valid Unicode"),
    ("lone surrogate in extra", put_extra(note=SURROGATE), ItemValidationError, "note is not valid Unicode"),
    ("lone surrogate in a map key", put_extra(m={SURROGATE: 1}), ItemValidationError, "m key is not valid Unicode"),
    ("lone surrogate in an attribute name", put_extra(**{SURROGATE: 1}), ItemValidationError, "not valid Unicode"),
    ("score 10**400", put(score=10**400), ItemValidationError, "score .*outside DynamoDB's number range"),
    ("score 1e-200", put(score=1e-200), ItemValidationError, "outside DynamoDB's number range"),
    ("score 39 digits", put(score=Decimal("1." + "1" * 38)), ItemValidationError, "39 significant digits"),
    ("score True", put(score=True), ItemValidationError, "score must be a number or None, got bool"),
    ("score '0.5'", put(score="0.5"), ItemValidationError, "score must be a number or None, got str"),
    ("score NaN", put(score=float("nan")), ItemValidationError, "NaN or infinity"),
    ("extra number 10**200", put_extra(big=10**200), ItemValidationError, "big .*outside DynamoDB's number range"),
    ("extra nested 33 levels", put_extra(deep=nested(32)), ItemValidationError,
     "'deep' nests deeper than DynamoDB's 32 levels"),
    ("extra lists nested 33 levels", put_extra(deep=nested(32, list)), ItemValidationError, "32 levels"),
    ("extra nested 5,000 levels", put_extra(deep=nested(5000)), ItemValidationError, "32 levels"),
    ("extra nested 5,000 levels, put_many", lambda store: store.put_many([item(extra={"d": nested(5000, list)})]),
     ItemValidationError, "'d' nests deeper"),
    ("extra a list that contains itself", put_extra(loop=self_containing()), ItemValidationError, "32 levels"),
    ("attribute name of 70,000 characters", put_extra(**{"n" * 70_000: 1}), ItemValidationError,
     "attribute name 'n{40}\\.\\.\\.n{40}' is 70,000 bytes; DynamoDB attribute names are at most 65,536"),
    ("map key of 70,000 characters", put_extra(m={"k" * 70_000: 1}), ItemValidationError, "m key .* 70,000 bytes"),
    ("put_many None", lambda store: store.put_many(None), ItemValidationError,
     "put_many takes an iterable of items .*got NoneType"),
    ("delete_many 5", lambda store: store.delete_many(5), ItemValidationError, "delete_many takes an iterable"),
    ("extra None", put(extra=None), ItemValidationError, "extra must be a mapping"),
    ("extra empty name", put_extra(**{"": 1}), ItemValidationError, "non-empty attribute names"),
    ("created_at a string", put(created_at="2026-11-26"), ItemValidationError, "created_at must be a datetime"),
    ("created_at naive", put(created_at=datetime(2026, 11, 26)), ItemValidationError, "naive datetime"),
    ("digest_date None", put(digest_date=None), ItemValidationError, "digest_date must be .* got NoneType"),
    ("digest_date empty", put(digest_date=""), ItemValidationError, "digest_date must not be empty"),
    ("item_id None", put(item_id=None), ItemValidationError, "item_id must be a string, got NoneType"),
    ("item_id empty", put(item_id=""), ItemValidationError, "item_id must not be empty"),
    ("put a dict", lambda store: store.put({"digest_date": DAY}), ItemValidationError, "put takes a DigestItem"),
    ("put only_if_absent None", lambda store: store.put(item(), only_if_absent=None), ConfigurationError,
     "only_if_absent must be True or False"),
    ("get empty item_id", lambda store: store.get(DAY, ""), ItemValidationError, "item_id must not be empty"),
    ("get None day", lambda store: store.get(None, "x"), ItemValidationError, "digest_date must be"),
    ("get consistent 'no'", lambda store: store.get(DAY, "x", consistent="no"), ConfigurationError,
     "consistent must be True or False"),
    ("day a datetime", lambda store: store.day(datetime(2026, 11, 26, tzinfo=timezone.utc)), ItemValidationError,
     "not a datetime"),
    ("delete None id", lambda store: store.delete(DAY, None), ItemValidationError, "item_id must be a string"),
    ("put_many None item", lambda store: store.put_many([item(), None]), ItemValidationError, "item 1 is NoneType"),
    ("put_many concurrency 0", lambda store: store.put_many([item()], concurrency=0), ConfigurationError,
     "concurrency must be an integer"),
    ("delete_many bad key", lambda store: store.delete_many([(DAY, "")]), ItemValidationError,
     "item_id must not be empty"),
    ("sample_digest count None", lambda store: sample_digest(date(2026, 11, 26), None), ItemValidationError,
     "count must be an integer"),
    ("store max_attempts 0", lambda store: DigestStore(store._client, max_attempts=0), ConfigurationError,
     "max_attempts must be an integer of at least 1"),
    ("store backoff_base 0", lambda store: DigestStore(store._client, backoff_base=0), ConfigurationError,
     "0 < backoff_base <= backoff_cap"),
]


@pytest.mark.parametrize(("call", "error", "message"), [pytest.param(*case[1:], id=case[0]) for case in CASES])
def test_bad_input_raises_the_packages_error_before_any_request(
    call: Callable[[DigestStore], Any], error: type[DatabaseError], message: str
) -> None:
    fake = FakeTable()
    store = DigestStore(DynamoDBClient(table_name=TABLE, client=fake), sleep=lambda _: None)  # type: ignore[arg-type]
    with pytest.raises(error, match=message) as caught:
        call(store)
    assert type(caught.value) is error  # the package's own class, not a bare Python exception
    assert "\n" not in caught.value.message
    assert fake.requests == 0


def test_the_deepest_nesting_and_longest_name_dynamodb_accepts_are_accepted() -> None:
    """32 levels (the attribute and 31 maps or lists) and a 64 KB name are DynamoDB's limits, not past them."""
    attributes = item(extra={"m": nested(31), "l": nested(31, list), "n" * 65_536: 1}).to_dynamodb()
    depth, value = 1, attributes["m"]
    while "M" in value:
        depth, value = depth + 1, value["M"]["a"]
    assert (depth, value) == (32, {"S": "leaf"})
    assert attributes["n" * 65_536] == {"N": "1"}


def test_edge_values_dynamodb_accepts_are_accepted() -> None:
    """The limits themselves are allowed: 38 digits, 1E-130, 9.99...E+125, 10**40 (one significant digit)."""
    largest = Decimal("9." + "9" * 37 + "E+125")
    accepted = item(score=Decimal("1E-130"), extra={"a": largest, "b": 10**40, "c": -(10**37) - 1, "z": 0})
    attributes = accepted.to_dynamodb()
    assert attributes["b"] == {"N": "1E+40"}
    assert attributes["a"] == {"N": str(largest)}
    assert item(tags={"b", "a"}).tags == ("a", "b")  # a set is accepted and sorted
