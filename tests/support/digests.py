"""Digest test helpers: a throttling stand-in for ``BatchWriteItem`` and numbered items.

Used by ``tests/test_digest_store.py`` and the digest scenarios' steps.
"""

from __future__ import annotations

import threading
from datetime import date
from typing import Any

from botocore.client import BaseClient

from src.database.data.item import DigestItem

Key = tuple[str, str]


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
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def batch_write_item(self, **params: Any) -> dict[str, Any]:
        """Write part of the batch for real; return the rest as ``UnprocessedItems``."""
        ((table, requests),) = params["RequestItems"].items()
        with self._lock:  # put_many calls from several threads at once
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


def numbered_items(day: date | str, count: int, *, summary: str = "", prefix: str = "") -> list[DigestItem]:
    """``count`` items for ``day`` with ids ``<prefix>item-00000`` ... (sort-key order = number order)."""
    return [
        DigestItem(digest_date=day, item_id=f"{prefix}item-{n:05d}", title=f"Item {n}", score=n / 10, summary=summary)
        for n in range(count)
    ]
