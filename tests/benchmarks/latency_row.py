"""The bulk write row through a proxy that adds a round trip's latency to every request.

On loopback a request takes well under a millisecond, so a writer's method hardly
matters; on AWS each ``BatchWriteItem`` takes a round trip (about 10 ms), and a writer
that keeps one request in flight pays it serially. The row runs its own ``serve``
process and, in front of it, ``latency_proxy`` (``FaultProxy`` with
``Fault.SLOW_RESPONSE`` on every request), each in a process of its own: as with
DynamoDB, the server's work and the wait cost the writer's process no CPU and no
share of its interpreter lock. Both sides write through the same proxy.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from tests.support.endpoints import Served

from .data_rows import BulkWrite
from .harness import LATENCY_GOAL, Bench, BenchmarkError


class BulkWriteLatency(BulkWrite):
    """``put_many`` against ``Table.batch_writer()``, both through the latency proxy."""

    name = "bulk-write-latency"
    goal = LATENCY_GOAL
    cpu_source = "benchmark process, all threads; the server and the proxy run in processes of their own"
    counts_calls = False  # the row is about waiting; the loopback row counts the client-side work

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        latency = self.bench.sizes.latency_ms
        self.title = f"bulk write, {latency:g} ms per request"
        self.project = f"DigestStore.put_many(items) (as in the row above), through a proxy adding {latency:g} ms"
        self.baseline = "`Table.batch_writer()` (as in the row above), same proxy"
        self.shared_bench = self.bench
        self.processes: list[Served] = []

    @property
    def data_url(self) -> str:
        """The proxy's URL: every timed request pays the added latency."""
        if len(self.processes) != 2:
            raise BenchmarkError("the latency proxy is not running (setup() was not called)")
        return self.processes[1].url

    def setup(self) -> None:
        """Start ``serve`` and the proxy in front of it (each its own process), then the bulk-write set-up."""
        try:
            server = Served()
            self.processes.append(server)
            latency = f"{self.bench.sizes.latency_ms:g}"
            self.processes.append(Served(server.url, latency, module=("-m", "tests.benchmarks.latency_proxy")))
            shared = self.shared_bench
            self.bench = Bench(server, shared.sizes, shared.aws_cli, shared.workdir)  # type: ignore[arg-type]
            super().setup()
        except BaseException:
            self.teardown()
            raise

    def server_cpu(self) -> float:
        """CPU seconds the ``serve`` process has used so far (Linux ``/proc``; 0.0 elsewhere)."""
        try:
            fields = Path(f"/proc/{self.processes[0].process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            return 0.0
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime

    def notes(self) -> list[str]:
        """What both sides send, where the server and the proxy run, and the server's CPU time per run."""
        notes = [
            *super().notes(),
            f"every answer is delayed {self.bench.sizes.latency_ms:g} ms by the proxy (a round trip to DynamoDB); "
            "the moto server (`serve`) and the proxy run in processes of their own, as DynamoDB does",
        ]
        if self.bench.sizes.diagnostics:
            (project_cpu, project_s), (baseline_cpu, baseline_s) = self._server_share()
            notes.append(
                f"the server's CPU time during one more write of each side: project {project_cpu:.2f} s of its "
                f"{project_s:.2f} s, baseline {baseline_cpu:.2f} s of its {baseline_s:.2f} s. moto handles one "
                "request at a time (one interpreter lock), so no writer can finish in less than the server's CPU "
                "time; DynamoDB serves requests in parallel, and there the floor is the latency alone"
            )
        notes.append(f"the proxy forwarded {self._stop_proxy()} requests in all (set-up, warm-up, rounds and notes)")
        return notes

    def _stop_proxy(self) -> str:
        """Stop the proxy (the row's last request is done) and return the count it prints on exit."""
        proxy = self.processes.pop()
        proxy.stop(signal.SIGTERM)
        last = proxy.stdout[-1] if proxy.stdout else ""
        return last.split()[1] if last.startswith("Forwarded ") else "an unknown number of"

    def _server_share(self) -> list[tuple[float, float]]:
        """(server CPU seconds, wall seconds) of one write of every item per side, tables made and checked outside."""
        shares = []
        for write in (self._project_write, self._baseline_write):
            table = self.fresh_table()
            cpu, started = self.server_cpu(), time.perf_counter()
            write(table)
            shares.append((self.server_cpu() - cpu, time.perf_counter() - started))
            self._checked(table, len(self.items))
        return shares

    def _project_write(self, table: str) -> None:
        self.project_store(table).put_many(self.items)

    def _baseline_write(self, table: str) -> None:
        self._batch_write(table, self.plain_items)

    def teardown(self) -> None:
        """Stop the proxy, then the server; the row's later rows use the shared endpoint again."""
        for process in reversed(self.processes):
            process.kill()
        self.processes.clear()
        self.bench = self.shared_bench
