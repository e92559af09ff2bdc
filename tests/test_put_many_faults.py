"""``put_many`` under transient whole-request errors: re-sent within its deadline; unwritten vs unconfirmed.

``FakeTable`` (no endpoint) pins the bookkeeping exactly; the fault proxy in front of
moto and dynalite (``data_target``) shows it over HTTP with botocore's own retries:
30 % of requests failing with 500/503/throttling, and requests cut off or answered
with a 5xx after the endpoint applied them (``Fault.*_AFTER_FORWARD``).
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any

import pytest

from src.database import BatchWriteError, DigestStore, DynamoDBClient
from src.database.aws.target import Target
from src.database.errors import ConfigurationError, ServiceError, ThrottledError
from src.database.settings import ClientSettings
from tests.support.digests import numbered_items
from tests.support.fake_table import FakeTable
from tests.support.fault_proxy import Fault, FaultProxy
from tests.support.figures import record
from tests.support.tables import create_digest_table

DAY = "2026-11-27"
REAL_SHORT_BACKOFF: dict[str, Any] = {"sleep": time.sleep, "backoff_base": 0.01, "backoff_cap": 0.05}
"""Real pauses, short: a writer retrying until its deadline waits between sends instead of spinning."""


def store_on(fake: FakeTable, **options: Any) -> DigestStore:
    options.setdefault("sleep", lambda _: None)
    return DigestStore(DynamoDBClient(table_name="VibeDigest-dev", client=fake), **options)  # type: ignore[arg-type]


# -- the bookkeeping, exactly (FakeTable) ----------------------------------------------------


def test_a_request_failing_whole_with_a_5xx_is_re_sent_and_every_item_written_once() -> None:
    fake = FakeTable(fail_on_call=lambda call: call in (1, 4, 5))
    items = numbered_items(DAY, 300)

    assert store_on(fake).put_many(items, concurrency=3) == 300

    assert set(fake.applied) == {item.key for item in items}
    assert all(times == 1 for times in fake.applied.values())
    assert fake.calls == 12 + 3


def test_transient_errors_past_the_deadline_end_with_unconfirmed_and_unwritten_items_listed() -> None:
    """503s after call 2 until the deadline: the failed batches' items may be stored (a 5xx), the unsent are not."""
    fake = FakeTable(fail_on_call=lambda call: call > 2)
    items = numbered_items(DAY, 200)
    started = time.monotonic()

    with pytest.raises(BatchWriteError) as caught:
        store_on(fake, **REAL_SHORT_BACKOFF).put_many(items, concurrency=2, deadline=0.3)

    assert time.monotonic() - started < 5
    error = caught.value
    assert isinstance(error.__cause__, ServiceError)
    assert sorted(error.unwritten + error.unconfirmed) == sorted(item.key for item in items[50:])
    assert error.unconfirmed and error.unwritten  # the retried batches vs the ones never sent
    assert set(error.unconfirmed).isdisjoint(error.unwritten)
    assert "the deadline of 0.3 s passed while retrying" in error.message
    assert f"{len(error.unconfirmed)} may or may not have been written" in error.message
    assert f"{len(error.unwritten)} were not written" in error.message
    assert "Writing them again is safe" in error.message


def test_throttling_past_the_deadline_lists_every_item_as_unwritten() -> None:
    """A throttled request was refused: nothing of it is stored, so nothing is unconfirmed."""
    fake = FakeTable(fail_on_call=lambda call: call > 1, fail_with=("ThrottlingException", 400))
    items = numbered_items(DAY, 100)

    with pytest.raises(BatchWriteError, match="75 of 100 items were not written") as caught:
        store_on(fake, **REAL_SHORT_BACKOFF).put_many(items, deadline=0.2)

    assert isinstance(caught.value.__cause__, ThrottledError)
    assert caught.value.unwritten == [item.key for item in items[25:]]
    assert caught.value.unconfirmed == []


@pytest.mark.parametrize("deadline", [0, -1, True, "5", float("inf"), float("nan"), None])
def test_the_deadline_is_validated_before_any_request(deadline: Any) -> None:
    fake = FakeTable()
    store = store_on(fake)
    for call in (store.put_many, store.delete_many):
        with pytest.raises(ConfigurationError, match="deadline must be a (positive )?number of seconds"):
            call([], deadline=deadline)
    assert fake.requests == 0


# -- over HTTP, through the fault proxy, on moto and dynalite -------------------------------------


def _proxied_store(proxy: FaultProxy, table: str, **settings: Any) -> DigestStore:
    target = Target.local(proxy.url, settings=ClientSettings(**settings))
    return DigestStore(DynamoDBClient.for_target(target, table_name=table))


def _stored(data_target: Target, table: str) -> set[tuple[str, str]]:
    store = DigestStore(DynamoDBClient.for_target(data_target, table_name=table))
    return {item.key for item in store.day(DAY)}


@pytest.mark.long
def test_put_many_writes_every_item_through_30_percent_transient_faults_with_defaults(
    data_target: Target, unique_name: str, request: pytest.FixtureRequest, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="src.database.data.batch")
    table = create_digest_table(data_target.client("dynamodb"), unique_name)
    items = numbered_items(DAY, 2000)
    assert data_target.endpoint_url is not None
    with FaultProxy(data_target.endpoint_url) as proxy:
        store = DigestStore(DynamoDBClient.for_target(Target.local(proxy.url), table_name=table))
        store.get(DAY, "none")  # the table check, before the faults
        proxy.inject_at_random([Fault.HTTP_500, Fault.HTTP_503, Fault.THROTTLING], 0.3, seed=20,
                               operations={"BatchWriteItem"})
        started = time.monotonic()
        error: BatchWriteError | None = None
        try:
            written = store.put_many(items)
        except BatchWriteError as caught:  # recorded, then failed below
            error, written = caught, 0
        seconds = time.monotonic() - started
        injected, sent = proxy.faults_injected, proxy.requests_by_operation.get("BatchWriteItem", 0)
    stored = _stored(data_target, table)
    summary = re.search(r"(\d+) requests re-sent after transient errors", caplog.text)
    record("put_many_faults", backend=request.node.callspec.params["data_target"], items=len(items),
           resent=int(summary.group(1)) if summary else None,
           requests=sent, injected=injected, written=written, stored=len(stored), seconds=round(seconds, 2),
           unwritten=len(error.unwritten) if error else 0, unconfirmed=len(error.unconfirmed) if error else 0)
    assert error is None, error.message if error else ""
    assert written == 2000 and stored == {item.key for item in items}
    assert injected >= 0.2 * sent  # the faults really were injected


@pytest.mark.waiting
@pytest.mark.parametrize("fault", [Fault.DROP_AFTER_FORWARD, Fault.HTTP_500_AFTER_FORWARD])
def test_after_answers_lost_in_flight_unwritten_holds_no_stored_item(
    data_target: Target, unique_name: str, fault: Fault, request: pytest.FixtureRequest
) -> None:
    """From the 5th request on, every request is applied by the endpoint and its answer lost (cut, or a 500)."""
    table = create_digest_table(data_target.client("dynamodb"), unique_name)
    items = numbered_items(DAY, 500)
    assert data_target.endpoint_url is not None
    with FaultProxy(data_target.endpoint_url, delay_seconds=0.0) as proxy:
        store = _proxied_store(proxy, table, max_attempts=2, read_timeout=5.0)
        store.get(DAY, "none")  # the table check, before the faults
        proxy.inject(Fault.SLOW_RESPONSE, times=4, operations={"BatchWriteItem"})  # delay 0: forwarded, answered
        proxy.inject(fault, times=None, operations={"BatchWriteItem"})  # then every one (rules apply in order)
        with pytest.raises(BatchWriteError) as caught:
            store.put_many(items, concurrency=2, deadline=1.0)
    stored = _stored(data_target, table)
    error = caught.value
    record("put_many_unconfirmed", backend=request.node.callspec.params["data_target"], fault=fault.name,
           items=len(items), unwritten=len(error.unwritten), unconfirmed=len(error.unconfirmed),
           stored_unconfirmed=len(stored & set(error.unconfirmed)),
           stored_unwritten=len(stored & set(error.unwritten)))
    assert not stored & set(error.unwritten)  # nothing listed as not written is stored
    assert stored & set(error.unconfirmed)  # the lost answers' items are stored, listed as unknown
    confirmed = {item.key for item in items} - set(error.unwritten) - set(error.unconfirmed)
    assert confirmed <= stored and len(confirmed) == 100
    assert "may or may not have been written" in error.message
