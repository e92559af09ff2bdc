"""Client rows: cold start (fresh interpreter) and steady state (many calls on one client).

Both compare ``DynamoDBClient`` with a raw boto3 client doing the same request,
``DescribeTable``, against the same pre-created table on the same endpoint.
"""

from __future__ import annotations

import pstats
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from src.database.client import DynamoDBClient

from .harness import (
    COLD_START_ROUND_FACTOR,
    REPO_ROOT,
    STEADY_STATE_ROUND_FACTOR,
    BenchmarkError,
    Row,
    Sample,
    format_stats,
    timed,
)

TABLE = "VibeDigest-bench"
_MARKER = "BENCH-SECONDS"

# Each script times itself from just before its first import of boto3 or the project to the
# checked result; both import only ``time`` and ``gc`` (built in) first. Both also time the
# garbage collector's pauses inside that window (a ``gc.callbacks`` hook, identical on both
# sides): the interpreter's first full collection (~30 ms after importing boto3) comes after a
# fixed number of allocations, so a few hundred more objects can move it into or out of the
# window, and the notes show when it did.
_GC_HOOK = """\
import gc, time
gc_pauses = [0.0, 0, 0.0]  # seconds in collections, full collections, start of the current one
def on_gc(phase, info):
    if phase == "start":
        gc_pauses[2] = time.perf_counter()
    else:
        gc_pauses[0] += time.perf_counter() - gc_pauses[2]
        gc_pauses[1] += info["generation"] == 2
gc.callbacks.append(on_gc)
"""

PROJECT_SCRIPT = _GC_HOOK + """\
started = time.perf_counter()
from src.database import DynamoDBClient
client = DynamoDBClient(table_name={table!r}, endpoint_url={url!r}, region={region!r})
summary = client.test_connection()
elapsed = time.perf_counter() - started
gc.callbacks.remove(on_gc)
assert summary["status"] == "ACTIVE", summary
print({marker!r}, repr(elapsed), repr(gc_pauses[0]), gc_pauses[1])
"""

BASELINE_SCRIPT = _GC_HOOK + """\
started = time.perf_counter()
import boto3
client = boto3.client("dynamodb", endpoint_url={url!r}, region_name={region!r})
table = client.describe_table(TableName={table!r})["Table"]
elapsed = time.perf_counter() - started
gc.callbacks.remove(on_gc)
assert table["TableStatus"] == "ACTIVE", table
print({marker!r}, repr(elapsed), repr(gc_pauses[0]), gc_pauses[1])
"""


@dataclass(frozen=True)
class _Timing:
    """What a cold-start script reports: its time, the GC's pauses in it, and its full collections."""

    seconds: float
    gc_seconds: float
    full_collections: int


def _inner_timing(stdout: str) -> _Timing:
    for line in stdout.splitlines():
        if line.startswith(_MARKER):
            _, elapsed, gc_seconds, full = line.split()
            return _Timing(float(elapsed), float(gc_seconds), int(full))
    raise BenchmarkError(f"no timing line in the subprocess's output: {stdout[-500:]!r}")


class ColdStart(Row):
    """A fresh interpreter: import, construct, first ``DescribeTable``."""

    name = "cold-start"
    title = "cold start"
    project = (
        "fresh `python -c`: import src.database, DynamoDBClient(table_name, endpoint_url, region), test_connection()"
    )
    baseline = 'fresh `python -c`: import boto3, boto3.client("dynamodb", ...), describe_table()'
    cpu_source = "child process"
    round_factor = COLD_START_ROUND_FACTOR

    def _script(self, template: str) -> str:
        return template.format(table=TABLE, url=self.bench.url, region=self.bench.region, marker=_MARKER)

    def warm_up(self) -> None:
        """One run each, so bytecode caches exist (as on any second run of a command)."""
        self.run_project()
        self.run_baseline()

    def _run(self, template: str, what: str) -> Sample:
        completed, sample = self.bench.run_subprocess([sys.executable, "-c", self._script(template)], what)
        timing = _inner_timing(completed.stdout)
        return Sample(
            seconds=timing.seconds,
            wall=sample.wall,
            cpu=sample.cpu,
            gc=timing.gc_seconds,
            full_gcs=timing.full_collections,
        )

    def setup(self) -> None:
        """The table both subprocesses describe."""
        self.bench.create_table(TABLE)

    def run_project(self) -> Sample:
        """Time inside the subprocess, from the imports to the summary; wall time around it."""
        return self._run(PROJECT_SCRIPT, "the project's cold start")

    def run_baseline(self) -> Sample:
        """Time inside the subprocess, from the imports to the description; wall time around it."""
        return self._run(BASELINE_SCRIPT, "boto3's cold start")

    def notes(self) -> list[str]:
        """Explain what the inside and wall times cover."""
        return [
            "time is measured inside the subprocess (imports to result); 'wall' adds interpreter start-up "
            "and exit, as seen by the parent",
        ]

    def _profiled(self, template: str, directory: Path, what: str) -> str:
        """Run a script under ``python -m cProfile -o``; return the profile's path."""
        script = directory / f"{what}.py"
        script.write_text(f"import sys\nsys.path.insert(0, {str(REPO_ROOT)!r})\n" + self._script(template), encoding="utf-8")
        output = directory / f"{what}.prof"
        self.bench.run_subprocess([sys.executable, "-m", "cProfile", "-o", str(output), str(script)], f"profiled {what}")
        return str(output)

    def profile_project(self, top: int) -> str:
        """cProfile the project's subprocess (saved to a file, read back here)."""
        with tempfile.TemporaryDirectory() as directory:
            return format_stats(self._profiled(PROJECT_SCRIPT, Path(directory), "project"), top)

    def call_counts(self) -> tuple[int, int]:
        """Python function calls of each whole subprocess script (imports included)."""
        with tempfile.TemporaryDirectory() as directory:
            counts = [
                pstats.Stats(self._profiled(template, Path(directory), what)).total_calls  # type: ignore[attr-defined]
                for template, what in ((PROJECT_SCRIPT, "project"), (BASELINE_SCRIPT, "baseline"))
            ]
        return counts[0], counts[1]


class SteadyState(Row):
    """Many ``DescribeTable`` calls on one already-connected client."""

    name = "steady-state"
    title = "steady state"
    project = "N x DynamoDBClient.test_connection() on one client"
    baseline = "N x client.describe_table(TableName=...) on one boto3 client"
    round_factor = STEADY_STATE_ROUND_FACTOR

    def setup(self) -> None:
        """The table, and one client per side, each connected by one untimed call."""
        self.bench.create_table(TABLE)
        self.project_client = DynamoDBClient.for_target(self.bench.target(), table_name=TABLE)
        self.project_client.test_connection()
        self.baseline_client = self.bench.new_client("dynamodb")
        self.baseline_client.describe_table(TableName=TABLE)

    def run_project(self) -> Sample:
        """``calls`` connection tests; each returns a summary of an ACTIVE table."""
        client, calls = self.project_client, self.bench.sizes.calls

        def work() -> int:
            return sum(client.test_connection()["status"] == "ACTIVE" for _ in range(calls))

        active, sample = timed(work)
        if active != calls:
            raise BenchmarkError(f"only {active} of {calls} connection tests saw an ACTIVE table")
        return sample

    def run_baseline(self) -> Sample:
        """``calls`` raw ``describe_table`` calls, each checked for ACTIVE like the project's."""
        client, calls = self.baseline_client, self.bench.sizes.calls

        def work() -> int:
            return sum(client.describe_table(TableName=TABLE)["Table"]["TableStatus"] == "ACTIVE" for _ in range(calls))

        active, sample = timed(work)
        if active != calls:
            raise BenchmarkError(f"only {active} of {calls} describe_table calls saw an ACTIVE table")
        return sample

    def units(self) -> tuple[int, str]:
        """One sample is ``calls`` calls."""
        return self.bench.sizes.calls, "call"
