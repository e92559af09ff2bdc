"""The bulk write row through a proxy that adds a round trip's latency to every request.

On loopback a request takes well under a millisecond, so a writer's method hardly
matters; on AWS each ``BatchWriteItem`` takes a round trip (about 10 ms), and a writer
that keeps one request in flight pays it serially. ``FaultProxy`` with
``Fault.SLOW_RESPONSE`` on every request delays each answer by ``--latency-ms``.
"""

from __future__ import annotations

from tests.support.fault_proxy import Fault, FaultProxy

from .data_rows import BulkWrite
from .harness import LATENCY_GOAL, BenchmarkError


class BulkWriteLatency(BulkWrite):
    """``put_many`` against ``Table.batch_writer()``, both through the latency proxy."""

    name = "bulk-write-latency"
    goal = LATENCY_GOAL

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        latency = self.bench.sizes.latency_ms
        self.title = f"bulk write, {latency:g} ms per request"
        self.project = f"DigestStore.put_many(items) (as in the row above), through a proxy adding {latency:g} ms"
        self.baseline = "`Table.batch_writer()` (as in the row above), same proxy"
        self.proxy: FaultProxy | None = None

    @property
    def data_url(self) -> str:
        """The proxy's URL: every timed request pays the added latency."""
        if self.proxy is None:
            raise BenchmarkError("the latency proxy is not running (setup() was not called)")
        return self.proxy.url

    def setup(self) -> None:
        """Start the proxy (every answer delayed), then the bulk-write set-up through it."""
        self.proxy = FaultProxy(self.bench.url, delay_seconds=self.bench.sizes.latency_ms / 1000).start()
        self.proxy.inject(Fault.SLOW_RESPONSE, times=None)
        super().setup()

    def call_counts(self) -> None:
        """Not counted: the row is about waiting, the loopback row counts the client-side work."""

    def notes(self) -> list[str]:
        """What both sides send, and how many requests the proxy saw."""
        seen = self.proxy.requests_seen if self.proxy else 0
        return [
            *super().notes(),
            f"every answer is delayed {self.bench.sizes.latency_ms:g} ms by the proxy (a round trip to DynamoDB); "
            f"the proxy forwarded {seen} requests in all (set-up, warm-up and rounds)",
        ]

    def teardown(self) -> None:
        """Stop the proxy."""
        if self.proxy is not None:
            self.proxy.stop()
            self.proxy = None
