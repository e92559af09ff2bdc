"""A day of 10,000 items reads back with default settings on the embedded endpoint and on ``serve``.

Plain moto's ``Query`` sorts the whole table and serializes items member by member on every
page, so a large day would pass the default read timeout; the fidelity layer's costs
``query-partition`` and ``response-serialize`` keep each page's work to the partition. These
tests use the package's default ``ClientSettings``, as a user's client would.
"""

from __future__ import annotations

import signal
import time

import pytest

from src.database import DigestStore, DynamoDBClient
from src.database.aws.target import Target
from tests.support.digests import numbered_items
from tests.support.endpoints import Served
from tests.support.figures import record
from tests.support.tables import create_digest_table
from tests.support.worker_endpoint import UntracedEndpoint

DAY, OTHER_DAY = "2026-11-28", "2026-11-29"
ITEMS = 10_000


def _write_and_read_back(url: str, table: str, where: str) -> None:
    target = Target.local(url)  # the package's default timeouts and retries
    create_digest_table(target.client("dynamodb"), table)
    store = DigestStore(DynamoDBClient.for_target(target, table_name=table))
    items = numbered_items(DAY, ITEMS, summary="a summary of about sixty characters, as a digest item has")
    store.put_many(items)
    store.put_many(numbered_items(OTHER_DAY, 2_000))  # another partition in the same table
    started = time.monotonic()
    back = store.day(DAY)
    seconds = time.monotonic() - started
    record("large_day", where=where, items=ITEMS, read=sum(a == b for a, b in zip(back, items)),
           seconds=round(seconds, 2))
    assert back == items


@pytest.mark.long
def test_a_10000_item_day_reads_back_with_default_settings_on_the_embedded_endpoint(
    moto_server: UntracedEndpoint, unique_name: str
) -> None:
    _write_and_read_back(moto_server.url, unique_name, "embedded")


@pytest.mark.long
def test_a_10000_item_day_reads_back_with_default_settings_on_serve(unique_name: str) -> None:
    served = Served(measured=False)  # a user's serve: no coverage tracer slowing it
    try:
        _write_and_read_back(served.url, unique_name, "serve")
    finally:
        assert served.stop(signal.SIGINT) == 0
