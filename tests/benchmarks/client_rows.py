"""Client rows: cold start (fresh interpreter) and steady state (many calls on one client).

Both compare ``DynamoDBClient`` with a raw boto3 client doing the same request,
``DescribeTable``, against the same pre-created table on the same endpoint.
"""

from __future__ import annotations

import pstats
import sys
import tempfile
from pathlib import Path

from src.database.client import DynamoDBClient

from .harness import REPO_ROOT, BenchmarkError, Row, Sample, format_stats, timed

TABLE = "VibeDigest-bench"
_MARKER = "BENCH-SECONDS"

# Each script times itself from just before its first import of boto3 or the project to the
# checked result; both import only ``time`` first.
PROJECT_SCRIPT = """\
import time
started = time.perf_counter()
from src.database import DynamoDBClient
client = DynamoDBClient(table_name={table!r}, endpoint_url={url!r}, region={region!r})
summary = client.test_connection()
elapsed = time.perf_counter() - started
assert summary["status"] == "ACTIVE", summary
print({marker!r}, repr(elapsed))
"""

BASELINE_SCRIPT = """\
import time
started = time.perf_counter()
import boto3
client = boto3.client("dynamodb", endpoint_url={url!r}, region_name={region!r})
table = client.describe_table(TableName={table!r})["Table"]
elapsed = time.perf_counter() - started
assert table["TableStatus"] == "ACTIVE", table
print({marker!r}, repr(elapsed))
"""


def _inner_seconds(stdout: str) -> float:
    for line in stdout.splitlines():
        if line.startswith(_MARKER):
            return float(line.split()[1])
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

    def _script(self, template: str) -> str:
        return template.format(table=TABLE, url=self.bench.url, region=self.bench.region, marker=_MARKER)

    def setup(self) -> None:
        """The table both subprocesses describe."""
        self.bench.create_table(TABLE)

    def warm_up(self) -> None:
        """One run each, so bytecode caches exist (as on any second run of a command)."""
        self.run_project()
        self.run_baseline()

    def _run(self, template: str, what: str) -> Sample:
        completed, sample = self.bench.run_subprocess([sys.executable, "-c", self._script(template)], what)
        return Sample(seconds=_inner_seconds(completed.stdout), wall=sample.wall, cpu=sample.cpu)

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
