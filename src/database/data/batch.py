"""The ``BatchWriteItem`` engine behind ``DigestStore.put_many`` and ``delete_many``.

Requests go out in batches of 25 (DynamoDB's limit per call), up to ``concurrency``
batches in flight at once, from a small thread pool that lives for one call. The
first batch is sent alone on the caller's thread: it checks the table once and, if
it fails outright, its own error is raised (nothing was written).

Guarantees: every request is confirmed by DynamoDB or its key is listed in
``BatchWriteError``, in input order: in ``unwritten`` when it is known not to be
stored (refused, or never sent), in ``unconfirmed`` when its outcome is unknown (its
request was sent, then the connection was cut, the answer timed out or a 5xx came:
it may be stored; ``write_outcome``). Writing those again is safe: a put or a delete
of the same key is idempotent. Requests DynamoDB returns as ``UnprocessedItems`` go
back to the front of the queue and are re-sent, each at most ``max_attempts`` times.

A whole request that fails with a transient error (throttling, a 5xx, a lost answer;
botocore has already retried it ``ClientSettings.max_attempts`` times) goes back to
the queue too and is re-sent after the shared backoff, until the call's ``deadline``
(``DEFAULT_DEADLINE`` seconds from its start) passes; no request starts after it.
Any other failure (invalid request, access denied, a missing table, an endpoint no
connection can be made to) stops the call: no new batch starts, the batches in flight
finish, and ``BatchWriteError`` lists every key not confirmed.

Throttling slows the whole writer down: ``UnprocessedItems`` are not errors, so
botocore's retries (adaptive mode included) never see them. When any worker gets
items back, it pauses for a full-jitter exponential backoff while holding a shared
gate, and every other worker waits at that gate before its next request; a worker
that gets items back during a pause just waits for it to end. A batch written
completely resets the backoff. Whole-request throttling errors are botocore's to
retry first, per request, with the client's retry mode, then the writer's.

Capacity (AWS DynamoDB developer guide, on-demand mode and partitions): a write
costs one write unit per KB of item. All items of one day share one partition key,
so they share one partition's limit of 1,000 write units per second (until DynamoDB
splits the partition for heat); a new on-demand table serves up to 4,000 writes per
second at once, and any table may throttle traffic above twice its previous peak
within 30 minutes. With 8 requests of 25 items in flight and a 10 ms round trip
the writer could offer 20,000 items per second, far above one partition's limit:
DynamoDB then answers with unprocessed items (or throttling errors), and the shared
backoff brings the rate down to what the partition accepts. Concurrency helps most
against latency; against a partition's limit it only changes who waits.

The number of workers is at most the client's connection pool size (botocore's
``max_pool_connections``, 10 by default): beyond it urllib3 would open and discard a
connection per request, so a larger ``concurrency`` raises ``ConfigurationError``.
Calls made at once from several threads on one client share that pool.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from ..client import DynamoDBClient
from ..errors import (
    BatchWriteError,
    ConfigurationError,
    DatabaseError,
    ItemValidationError,
)
from ..settings import validate_count, validate_timeout
from .backoff import RetryPolicy, SharedBackoff
from .item import PARTITION_KEY, SORT_KEY, Key
from .write_outcome import maybe_applied, start_request, transient, watch

logger = logging.getLogger(__name__)

BATCH_SIZE = 25
"""``BatchWriteItem`` accepts at most 25 put/delete requests per call."""
DEFAULT_CONCURRENCY = 8
DEFAULT_DEADLINE = 120.0
"""Seconds a ``put_many``/``delete_many`` call may spend re-sending what transient errors refused."""
_MAX_KEYS_SHOWN = 5


def checked_deadline(deadline: float) -> float:
    """Return ``deadline`` (seconds) if it is a positive number, else raise ``ConfigurationError``."""
    return float(validate_timeout(deadline, "deadline"))


def describe_keys(keys: Sequence[Key]) -> str:
    """The first few keys as ``(day, id), ...`` plus how many more, for messages."""
    shown_keys = ", ".join(f"({d}, {i})" for d, i in keys[:_MAX_KEYS_SHOWN])
    more = f" and {len(keys) - _MAX_KEYS_SHOWN} more" if len(keys) > _MAX_KEYS_SHOWN else ""
    return shown_keys + more


@dataclass
class Request:
    """One put or delete request of a call, with its input position and sends so far."""

    index: int
    key: Key
    body: dict[str, Any]
    attempts: int = 0
    maybe_applied: bool = False  # a request that carried it may have been applied (outcome unknown)


def unique_requests(requests: Iterable[Request], what: str) -> list[Request]:
    """Return ``requests`` as a list, refusing repeated keys (DynamoDB rejects a batch writing one key twice)."""
    listed = list(requests)
    seen: set[Key] = set()
    repeated = [r.key for r in listed if r.key in seen or seen.add(r.key)]  # type: ignore[func-returns-value]
    if repeated:
        raise ItemValidationError(
            f"{what} got {len(repeated)} repeated key(s): {describe_keys(repeated)}. "
            "DynamoDB rejects a batch that writes one key twice; keep one item per key."
        )
    return listed


def _request_key(request: Mapping[str, Any]) -> Key:
    put = request.get("PutRequest")
    item = put["Item"] if put is not None else request["DeleteRequest"]["Key"]
    return item[PARTITION_KEY]["S"], item[SORT_KEY]["S"]


class BatchWriter:
    """Sends one call's requests (see the module docstring); ``run`` returns how many were confirmed."""

    def __init__(
        self,
        client: DynamoDBClient,
        requests: list[Request],
        *,
        what: str,
        concurrency: int,
        policy: RetryPolicy,
        deadline: float = DEFAULT_DEADLINE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._table = client.table_name
        self._what = what
        self._workers = concurrency
        self._policy = policy
        self._total = len(requests)
        self._queue: deque[Request] = deque(requests)
        self._unwritten: list[Request] = []
        self._deadline = deadline
        self._clock = clock
        self._ends = clock() + deadline
        self._backoff = SharedBackoff(policy, self._remaining)
        self._changed = threading.Condition()
        self._in_flight = 0
        self._failure: DatabaseError | None = None
        self._transient: DatabaseError | None = None  # the last transient failure, for the report
        self._expired = False
        self._written = self._batches = self._retries = self._resent = self._refused = 0

    def _remaining(self) -> float:
        return self._ends - self._clock()

    def run(self) -> int:
        """Send every request; raise ``BatchWriteError`` (or the first request's own error)."""
        if not self._queue:
            return 0
        watch(self._client.client)
        self._send(self._take())  # alone: checks the table; its own failure is raised as it is
        if self._failure is not None and not self._unwritten[0].maybe_applied:
            raise self._failure
        workers = min(self._workers, -(-len(self._queue) // BATCH_SIZE))
        if workers == 1:
            self._work()
        elif workers > 1:
            with ThreadPoolExecutor(workers, thread_name_prefix="vibedigest-batch") as pool:
                for done in [pool.submit(self._work) for _ in range(workers)]:
                    done.result()
        logger.info(
            "%s: %d items in %d batches, %d retries of unprocessed items (%d items re-sent), "
            "%d requests re-sent after transient errors, up to %d in flight",
            self._what, self._total, self._batches, self._retries, self._resent, self._refused, max(workers, 1),
        )
        return self._finish()

    def _take(self) -> list[Request]:
        batch = [self._queue.popleft() for _ in range(min(BATCH_SIZE, len(self._queue)))]
        for request in batch:
            request.attempts += 1
        self._in_flight += 1
        return batch

    def _work(self) -> None:
        while True:
            with self._changed:
                while not self._queue and self._in_flight and self._failure is None:
                    self._changed.wait()
                if not self._queue or self._failure is not None:
                    return
                if self._remaining() <= 0:
                    self._expired = True
                    return
                batch = self._take()
            self._backoff.wait()
            self._send(batch)

    def _send(self, batch: list[Request]) -> None:
        """Send one batch and account for it; always leaves the in-flight count right."""
        again: list[Request] = []
        try:
            start_request()
            try:
                response = self._client.send("BatchWriteItem", {"RequestItems": {self._table: [r.body for r in batch]}})
            except DatabaseError as error:
                maybe = maybe_applied(error)
                for request in batch:
                    request.maybe_applied = request.maybe_applied or maybe
                if transient(error):
                    again = batch if self._refused_whole(batch, error) else []
                    return
                with self._changed:
                    self._failure = self._failure or error
                    self._unwritten.extend(batch)
                return
            by_key = {request.key: request for request in batch}
            unprocessed = response.get("UnprocessedItems", {}).get(self._table, [])
            returned = [by_key[_request_key(body)] for body in unprocessed]
            again = [r for r in returned if r.attempts < self._policy.max_attempts]
            with self._changed:
                self._batches += 1
                self._written += len(batch) - len(returned)
                self._unwritten.extend(r for r in returned if r.attempts >= self._policy.max_attempts)
                self._retries += bool(returned)
                self._resent += len(again)
            if not returned:
                self._backoff.reset()
            elif again:
                self._backoff.pause()
        finally:
            with self._changed:
                self._queue.extendleft(reversed(again))
                self._in_flight -= 1
                self._changed.notify_all()

    def _refused_whole(self, batch: list[Request], error: DatabaseError) -> bool:
        """A transient failure of a whole request: pause and return True to re-send it, or False at the deadline."""
        with self._changed:
            self._transient = error
            if self._remaining() <= 0:
                self._expired = True
                self._unwritten.extend(batch)
                return False
            self._refused += 1
        for request in batch:
            request.attempts -= 1  # refused whole: not a send counted against UnprocessedItems' max_attempts
        self._backoff.pause()
        return True

    def _finish(self) -> int:
        self._unwritten.extend(self._queue)
        if self._failure is not None:
            raise self._error(reason=self._failure.message) from self._failure
        if self._expired and self._transient is not None:
            reason = f"the deadline of {self._deadline:g} s passed while retrying: {self._transient.message}"
            raise self._error(reason=reason) from self._transient
        if self._expired:
            raise self._error(reason=f"the deadline of {self._deadline:g} s passed")
        if self._unwritten:
            raise self._error(reason=f"still unprocessed after {self._policy.max_attempts} attempts")
        return self._written

    def _error(self, *, reason: str) -> BatchWriteError:
        failed = sorted(self._unwritten, key=lambda request: request.index)
        unwritten = [request.key for request in failed if not request.maybe_applied]
        unconfirmed = [request.key for request in failed if request.maybe_applied]
        if not unconfirmed:
            summary = f"{len(failed)} of {self._total} items were not written to {self._table} ({reason}): "
            summary += describe_keys(unwritten)
        else:
            summary = f"{len(failed)} of {self._total} items are not confirmed in {self._table} ({reason}): "
            if unwritten:
                summary += f"{len(unwritten)} were not written ({describe_keys(unwritten)}); "
            summary += (
                f"{len(unconfirmed)} may or may not have been written, as their request was sent but its answer "
                f"was lost or a server error ({describe_keys(unconfirmed)})"
            )
        return BatchWriteError(
            f"{self._what}: {summary}. Writing them again is safe: a put or delete of one key is idempotent.",
            unwritten=unwritten,
            unconfirmed=unconfirmed,
        )


def worker_count(client: DynamoDBClient, concurrency: int | None) -> int:
    """Validate ``concurrency`` against the client's connection pool; return it.

    ``None`` means ``DEFAULT_CONCURRENCY``, lowered to the pool's size when the pool is smaller.
    """
    pool = getattr(getattr(client.client.meta, "config", None), "max_pool_connections", None) or 10
    if concurrency is None:
        return min(DEFAULT_CONCURRENCY, pool)
    validate_count(concurrency, "concurrency")
    if concurrency > pool:
        raise ConfigurationError(
            f"concurrency {concurrency} exceeds the client's connection pool ({pool} connections, botocore's "
            "max_pool_connections); use at most that many, or give the client a Config with a larger pool."
        )
    return concurrency
