"""Parallel batch writes: ``put_many``/``delete_many`` keep several ``BatchWriteItem`` requests in flight.

``FakeTable`` stands in for DynamoDB behind a real botocore client (so
``DynamoDBClient`` dispatches to it as usual, see ``tests.support.fake_table``): it
records what each request carried, how many requests were in flight at once, and can
hold requests back as ``UnprocessedItems`` or fail one. No endpoint and no real sleeping is involved,
except where a test needs two threads to meet.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from typing import Any

import pytest

from src.database import BatchWriteError, DigestItem, DigestStore, DynamoDBClient
from src.database.data.backoff import RetryPolicy, SharedBackoff
from src.database.errors import ConfigurationError, ItemValidationError, ServiceError
from tests.features.steps.digest_steps import numbered_items
from tests.support.endpoints import unmeasured
from tests.support.fake_table import TABLE, FakeTable, Key, key_of

DAY = "2026-11-26"


def store_on(fake: FakeTable, **options: Any) -> DigestStore:
    options.setdefault("sleep", lambda _: None)
    return DigestStore(DynamoDBClient(table_name=TABLE, client=fake), **options)  # type: ignore[arg-type]


def test_requests_really_overlap_up_to_the_concurrency_and_never_beyond() -> None:
    """The 2nd..5th requests must all be in flight together to pass the barrier (else it times out)."""
    meet = threading.Barrier(4, timeout=10)
    fake = FakeTable(before_answer=lambda call: meet.wait() if 2 <= call <= 5 else None)
    items = numbered_items(DAY, 25 * 20)

    assert store_on(fake).put_many(items, concurrency=4) == 500

    assert fake.most_active == 4
    assert fake.calls == 20
    assert fake.applied == {item.key: 1 for item in items}


def test_one_request_at_a_time_with_concurrency_one() -> None:
    fake = FakeTable()
    assert store_on(fake).put_many(numbered_items(DAY, 300), concurrency=1) == 300
    assert fake.most_active == 1 and fake.calls == 12


def test_unprocessed_items_are_retried_and_each_written_exactly_once() -> None:
    """Every request is held back the first time it is seen; all end up applied once."""
    seen: set[Key] = set()
    lock = threading.Lock()

    def first_time_held(call: int, requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
        with lock:
            held = [r for r in requests if key_of(r) not in seen and int(key_of(r)[1][-1]) % 3 == 0]
            seen.update(key_of(r) for r in requests)
        return held

    sleeps: list[float] = []
    fake = FakeTable(hold_back=first_time_held)
    items = numbered_items(DAY, 400)

    assert store_on(fake, sleep=sleeps.append).put_many(items, concurrency=6) == 400

    assert fake.applied == {item.key: 1 for item in items}
    assert sleeps and all(0 <= delay <= 2.0 for delay in sleeps)


def test_items_never_processed_are_listed_in_input_order_and_the_rest_written() -> None:
    stuck = {(DAY, "item-00007"), (DAY, "item-00260"), (DAY, "item-00399")}
    fake = FakeTable(hold_back=lambda call, requests: [r for r in requests if key_of(r) in stuck])
    items = numbered_items(DAY, 400)

    with pytest.raises(BatchWriteError, match="3 of 400 items were not written") as caught:
        store_on(fake, max_attempts=3).put_many(reversed(items), concurrency=8)

    assert caught.value.unwritten == [(DAY, "item-00399"), (DAY, "item-00260"), (DAY, "item-00007")]
    assert set(fake.applied) == {item.key for item in items} - stuck


def test_a_failed_request_lists_exactly_what_was_not_confirmed() -> None:
    fake = FakeTable(fail_on_call=4, fail_with=("ValidationException", 400))
    items = numbered_items(DAY, 1000)

    with pytest.raises(BatchWriteError) as caught:
        store_on(fake).put_many(items, concurrency=5)

    assert isinstance(caught.value.__cause__, ServiceError)
    assert caught.value.unwritten == [item.key for item in items if item.key not in fake.applied]
    assert len(caught.value.unwritten) >= 25
    assert all(times == 1 for times in fake.applied.values())


def test_the_first_request_failing_raises_its_own_error() -> None:
    fake = FakeTable(fail_on_call=1, fail_with=("ValidationException", 400))
    with pytest.raises(ServiceError):
        store_on(fake).put_many(numbered_items(DAY, 100))
    assert fake.calls == 1 and not fake.applied


def test_a_pause_holds_every_worker_and_a_second_throttled_worker_joins_it() -> None:
    """Worker A pauses; B's next send waits for the pause to end; C, throttled meanwhile, adds no pause."""
    in_pause, release = threading.Event(), threading.Event()
    sleeps: list[float] = []

    def sleep(delay: float) -> None:
        sleeps.append(delay)
        in_pause.set()
        assert release.wait(10)

    backoff = SharedBackoff(RetryPolicy(sleep=sleep), remaining=lambda: 60.0)
    pausing = threading.Thread(target=backoff.pause)
    pausing.start()
    assert in_pause.wait(10)
    waited, joined = threading.Event(), threading.Event()
    sender = threading.Thread(target=lambda: (backoff.wait(), waited.set()))
    throttled = threading.Thread(target=lambda: (backoff.pause(), joined.set()))
    sender.start()
    throttled.start()
    assert not waited.wait(0.2) and not joined.is_set()  # both held while A pauses
    release.set()
    for thread in (pausing, sender, throttled):
        thread.join(10)
    assert waited.is_set() and joined.is_set()
    assert len(sleeps) == 1


def test_delete_many_takes_the_same_path() -> None:
    held_once: set[Key] = set()

    def hold_first_delete(call: int, requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
        first = [r for r in requests if "DeleteRequest" in r and key_of(r) not in held_once][:2]
        held_once.update(key_of(r) for r in first)
        return first

    fake = FakeTable(hold_back=hold_first_delete)
    keys = [(DAY, f"item-{n:05d}") for n in range(120)]

    assert store_on(fake).delete_many(keys, concurrency=1) == 120
    assert fake.applied == {key: 1 for key in keys}
    with pytest.raises(ItemValidationError, match="repeated key"):
        store_on(fake).delete_many([keys[0], keys[0]])
    with pytest.raises(ItemValidationError, match="key 0 is str"):
        store_on(fake).delete_many(["2026-11-26/x"])  # type: ignore[list-item]


@pytest.mark.parametrize("concurrency", [0, -1, True, 2.5, "8", 11])
def test_concurrency_is_validated_before_any_request(concurrency: Any) -> None:
    fake = FakeTable()
    with pytest.raises(ConfigurationError, match="concurrency"):
        store_on(fake).put_many(numbered_items(DAY, 30), concurrency=concurrency)
    assert fake.requests == 0


def test_a_bigger_connection_pool_allows_more_requests_in_flight() -> None:
    meet = threading.Barrier(16, timeout=10)
    fake = FakeTable(pool=16, before_answer=lambda call: meet.wait() if 2 <= call <= 17 else None)
    assert store_on(fake).put_many(numbered_items(DAY, 25 * 40), concurrency=16) == 1000
    assert fake.most_active == 16


def test_the_default_concurrency_fits_a_small_connection_pool() -> None:
    """Without ``concurrency=``, a client whose pool is smaller than 8 gets as many requests in flight as its pool."""
    meet = threading.Barrier(3, timeout=10)
    fake = FakeTable(pool=3, before_answer=lambda call: meet.wait() if 2 <= call <= 4 else None)
    assert store_on(fake).put_many(numbered_items(DAY, 25 * 10)) == 250
    assert fake.most_active == 3


def test_importing_the_data_layer_imports_neither_moto_nor_cfn_lint() -> None:
    code = (
        "import sys\n"
        "import src.database\n"
        "from src.database import DigestItem, DigestStore\n"
        "import src.database.data.store, src.database.data.item, src.database.data.sample\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('moto', 'cfnlint'))\n"
        "print(DigestStore.__name__, DigestItem.__name__, heavy)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], env=unmeasured(), capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "DigestStore DigestItem []"


def test_items_and_stores_are_refused_when_they_are_not_what_they_claim() -> None:
    fake = FakeTable()
    with pytest.raises(ItemValidationError, match="put takes a DigestItem, got dict"):
        store_on(fake).put({"digest_date": DAY})  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="only_if_absent must be True or False"):
        store_on(fake).put(DigestItem(digest_date=DAY, item_id="x"), only_if_absent="yes")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="needs a DynamoDBClient"):
        DigestStore(fake)  # type: ignore[arg-type]
    assert fake.requests == 0
