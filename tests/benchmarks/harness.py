"""The benchmark harness: rows, samples, rounds in alternating order, medians and reports.

Roles:
- ``Bench``: what every row shares: the local endpoint (the embedded moto server),
  the sizes (rounds, items, calls), the AWS CLI path, a clean environment for
  subprocesses, and boto3 clients for setup work that is never timed;
- ``Row``: one comparison. ``run_project`` and ``run_baseline`` each prepare their
  own state untimed, time only the work being compared, check the work was done,
  and return a ``Sample``;
- ``run_row``: warm-up, then ``rounds`` rounds, project first in even rounds and
  baseline first in odd ones so slow drift (caches, the server's growing state,
  CPU frequency) hits both sides alike;
- ``RowResult``: medians, the project/baseline ratio and whether the goal is met;
  ``format_table`` and ``write_markdown`` render the results.

Both sides of a row talk to the same moto server, which runs in this process (a
thread) for in-process rows, so its CPU time shares the GIL with the client: the
wall-clock ratio is what a user sees, and ``Sample.cpu`` (the benchmark thread's
own CPU time, or the child's CPU time for subprocess rows) isolates the client-side
cost, which is where the project and boto3 differ.
"""

from __future__ import annotations

import abc
import cProfile
import datetime as dt
import gc
import io
import os
import platform
import pstats
import re
import resource
import statistics
import subprocess
import threading
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, Callable, ClassVar, Sequence

import boto3
from botocore.client import BaseClient

from src.database.aws.target import (
    DUMMY_ACCESS_KEY_ID,
    DUMMY_SECRET_ACCESS_KEY,
    LOCAL_REGION,
    Target,
)
from src.database.emulator.endpoint import EmbeddedEndpoint
from tests.support.endpoints import reset_moto
from tests.support.offline import LEAKY_VARIABLES as CONFTEST_LEAKY_VARIABLES
from tests.support.tables import create_digest_table

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = REPO_ROOT / "infrastructure" / "dynamodb.yml"
MARK_START = "<!-- benchmark-results:start -->"
MARK_END = "<!-- benchmark-results:end -->"
RERUN = "python -m tests.benchmarks --markdown tests/benchmarks/RESULTS.md"
# The tests' list (a real account, endpoints, retries, timeouts), plus the bytecode switch:
# repeated cold starts should use bytecode caches, as a user's second run does.
LEAKY_VARIABLES = (*CONFTEST_LEAKY_VARIABLES, "PYTHONDONTWRITEBYTECODE")


class BenchmarkError(RuntimeError):
    """A benchmark's work was not done as expected (a wrong count, a failed command)."""


@dataclass(frozen=True)
class Sizes:
    """How much work each row does: rounds per side, items per data row, calls per steady-state side,
    how long the stack of the slow-stack deploy row takes to create and the latency-row's added latency.

    ``diagnostics`` adds the untimed extra runs behind the notes (call counts, request counts).
    """

    rounds: int = 5
    items: int = 10_000
    calls: int = 500
    stack_seconds: float = 20.0
    latency_ms: float = 10.0
    warm_up: bool = True
    diagnostics: bool = True


@dataclass(frozen=True)
class Sample:
    """One timed run of one side: ``seconds`` is what the row compares.

    ``wall`` is the whole subprocess's wall time where ``seconds`` is measured inside
    it; ``cpu`` is the client-side CPU time (benchmark thread, or the child process);
    ``gc`` the garbage collector's pauses inside ``seconds`` (that thread or process)
    and ``full_gcs`` how many of them were full (generation 2) collections.
    """

    seconds: float
    wall: float | None = None
    cpu: float | None = None
    gc: float | None = None
    full_gcs: int | None = None


@dataclass(frozen=True)
class Goal:
    """A row's goal on the ratio project/baseline (``strict``: strictly below ``max_ratio``)."""

    text: str
    max_ratio: float
    strict: bool = False

    def met(self, ratio: float) -> bool:
        """Whether ``ratio`` meets the goal."""
        return ratio < self.max_ratio if self.strict else ratio <= self.max_ratio


CLIENT_GOAL = Goal("ratio <= 1.05", 1.05)
COLD_START_ROUND_FACTOR = 5
STEADY_STATE_ROUND_FACTOR = 3
DEPLOY_GOAL = Goal("faster than the AWS CLI (ratio < 1)", 1.0, strict=True)
REDEPLOY_GOAL = Goal("ratio <= 0.85", 0.85)
LATENCY_GOAL = Goal("ratio <= 0.5", 0.5)


class Bench:
    """What the rows share: the endpoint, the sizes, the AWS CLI and a clean environment."""

    def __init__(self, endpoint: EmbeddedEndpoint, sizes: Sizes, aws_cli: str | None, workdir: Path) -> None:
        self.endpoint = endpoint
        self.sizes = sizes
        self.aws_cli = aws_cli
        self.workdir = workdir
        self.region = LOCAL_REGION
        self._empty_config = workdir / "empty-aws-config"
        self._empty_config.touch()
        self._admin: dict[str, BaseClient] = {}

    @property
    def url(self) -> str:
        """The endpoint URL both sides talk to."""
        return self.endpoint.url

    def reset(self) -> None:
        """Empty the moto server (moto's reset API), so a row starts from nothing."""
        reset_moto(self.endpoint)

    def target(self) -> Target:
        """The project's ``Target`` at the endpoint (dummy credentials)."""
        return Target.local(self.url, self.region)

    def session(self) -> boto3.Session:
        """A plain boto3 session with the same dummy credentials the project uses locally."""
        return boto3.Session(
            aws_access_key_id=DUMMY_ACCESS_KEY_ID, aws_secret_access_key=DUMMY_SECRET_ACCESS_KEY, region_name=self.region
        )

    def new_client(self, service: str) -> BaseClient:
        """A new raw boto3 client at the endpoint with boto3's default configuration (a baseline's client)."""
        return self.session().client(service, endpoint_url=self.url)

    def admin(self, service: str) -> BaseClient:
        """One cached raw client per service for untimed set-up and checks."""
        if service not in self._admin:
            self._admin[service] = self.new_client(service)
        return self._admin[service]

    def create_table(self, name: str) -> None:
        """Create a table with the template's key schema and billing mode (untimed setup)."""
        client = self.admin("dynamodb")
        create_digest_table(client, name)
        client.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 0.1, "MaxAttempts": 100})

    def delete_table(self, name: str) -> None:
        """Delete a table (untimed clean-up, so moto's memory does not grow round after round)."""
        self.admin("dynamodb").delete_table(TableName=name)

    def subprocess_env(self) -> dict[str, str]:
        """The environment of every subprocess: dummy credentials, the local region, no AWS config files."""
        env = {name: value for name, value in os.environ.items() if name not in LEAKY_VARIABLES}
        env.update(
            AWS_ACCESS_KEY_ID=DUMMY_ACCESS_KEY_ID,
            AWS_SECRET_ACCESS_KEY=DUMMY_SECRET_ACCESS_KEY,
            AWS_DEFAULT_REGION=self.region,
            AWS_REGION=self.region,
            AWS_CONFIG_FILE=str(self._empty_config),
            AWS_SHARED_CREDENTIALS_FILE=str(self._empty_config),
            AWS_EC2_METADATA_DISABLED="true",
            AWS_PAGER="",
            XDG_CACHE_HOME=str(self.cache_home),
        )
        return env

    @property
    def cache_home(self) -> Path:
        """The subprocesses' XDG_CACHE_HOME (the project's lint cache), inside the work directory."""
        return self.workdir / "xdg-cache"

    def run_subprocess(
        self, command: Sequence[str], what: str, accept: Callable[[subprocess.CompletedProcess[str]], bool] | None = None
    ) -> tuple[subprocess.CompletedProcess[str], Sample]:
        """Run ``command`` from the repository root; return it and its wall and CPU time.

        Raises ``BenchmarkError`` when it exits non-zero and ``accept`` (if given) does not accept the outcome.
        """
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        completed = subprocess.run(
            list(command), cwd=REPO_ROOT, env=self.subprocess_env(), capture_output=True, text=True, timeout=600
        )
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if completed.returncode != 0 and not (accept and accept(completed)):
            raise BenchmarkError(
                f"{what} exited {completed.returncode}: {(completed.stderr or completed.stdout).strip()[-2000:]}"
            )
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        return completed, Sample(seconds=wall, wall=wall, cpu=cpu)


_window_profiler: cProfile.Profile | None = None  # set only while ``profile_timed`` runs a side


class GcPauses:
    """A ``gc.callbacks`` hook: seconds the collector ran in one thread, and its full collections.

    Collections triggered by other threads (the in-process moto server) are not counted.
    """

    def __init__(self) -> None:
        self.thread = threading.get_ident()
        self.seconds = 0.0
        self.full = 0
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        """Called by the collector at the start and stop of each collection."""
        if threading.get_ident() != self.thread:
            return
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._started
            self.full += info["generation"] == 2


def timed(work: Callable[[], Any], *, all_threads: bool = False) -> tuple[Any, Sample]:
    """Run ``work`` once; return its result and its wall time, CPU time and GC pauses.

    The CPU time is this thread's, or with ``all_threads`` the process's (work that runs in
    threads of its own, such as ``put_many``'s writers). While ``profile_timed`` runs, this
    window is also profiled (its times are then discarded).
    """
    clock = time.process_time if all_threads else time.thread_time
    profiler = _window_profiler
    pauses = GcPauses()
    if profiler is None:  # the hook's own calls would show up in the profile's call count
        gc.callbacks.append(pauses)
    else:
        profiler.enable()
    cpu_started = clock()
    started = time.perf_counter()
    try:
        result = work()
    finally:
        seconds = time.perf_counter() - started
        cpu = clock() - cpu_started
        if profiler is None:
            gc.callbacks.remove(pauses)
        else:
            profiler.disable()
    return result, Sample(seconds=seconds, cpu=cpu, gc=pauses.seconds, full_gcs=pauses.full)


def profile_timed(run: Callable[[], Sample]) -> cProfile.Profile:
    """cProfile only the timed window of one ``run`` (this thread; the moto server thread is not included)."""
    global _window_profiler
    profiler = _window_profiler = cProfile.Profile()
    try:
        run()
    finally:
        _window_profiler = None
    return profiler


def count_calls(run: Callable[[], Sample]) -> int:
    """Python function calls made inside the timed window of one ``run`` (cProfile's count).

    Unlike times, the count does not depend on the machine's load: it measures how much
    client-side work a side does.
    """
    return pstats.Stats(profile_timed(run)).total_calls  # type: ignore[attr-defined, no-any-return]


class Row(abc.ABC):
    """One comparison of the project against its baseline on the same endpoint."""

    name: ClassVar[str]
    title: str  # these three may be set per instance, e.g. from the sizes
    project: str
    baseline: str
    goal: ClassVar[Goal] = CLIENT_GOAL
    cpu_source: ClassVar[str] = "benchmark thread"
    round_factor: ClassVar[int] = 1
    """Rounds of this row = ``Sizes.rounds`` x this: rows whose rounds are short next to the machine's
    noise (cold start, steady state) run more, so the medians can resolve a 5 % difference."""

    def __init__(self, bench: Bench) -> None:
        self.bench = bench

    @property
    def rounds(self) -> int:
        """How many timed rounds this row runs per side."""
        return self.bench.sizes.rounds * self.round_factor

    def unavailable(self) -> str | None:
        """Why the row cannot run here (it is then skipped with this reason), or None."""
        return None

    def setup(self) -> None:
        """Untimed state both sides need (the server has just been reset)."""

    def warm_up(self) -> None:
        """Untimed first runs, so one-off costs (imports, model loading) are not in round 1."""

    @abc.abstractmethod
    def run_project(self) -> Sample:
        """Time the project's side once."""

    @abc.abstractmethod
    def run_baseline(self) -> Sample:
        """Time the baseline's side once."""

    def units(self) -> tuple[int, str] | None:
        """How many operations one sample is and their name (e.g. ``(500, "call")``), for per-unit costs."""
        return None

    def notes(self) -> list[str]:
        """Untimed diagnostics printed under the row (request counts, breakdowns)."""
        return []

    def call_counts(self) -> tuple[int, int] | None:
        """Python function calls in the timed part of one project and one baseline run, or None."""
        return count_calls(self.run_project), count_calls(self.run_baseline)

    def profile_project(self, top: int) -> str:
        """cProfile the timed window of one project run; return the ``top`` functions by cumulative time."""
        return format_stats(profile_timed(self.run_project), top)

    def teardown(self) -> None:
        """Untimed clean-up."""


def format_stats(source: cProfile.Profile | str, top: int) -> str:
    """The ``top`` functions by cumulative time of a profiler or a saved profile file."""
    buffer = io.StringIO()
    pstats.Stats(source, stream=buffer).strip_dirs().sort_stats("cumulative").print_stats(top)
    text = buffer.getvalue()
    return text[text.find("   ncalls") :] if "   ncalls" in text else text


@dataclass
class RowResult:
    """The samples of one row and what follows from them."""

    name: str
    title: str
    project: str
    baseline: str
    goal: Goal
    project_samples: list[Sample] = field(default_factory=list)
    baseline_samples: list[Sample] = field(default_factory=list)
    skipped: str | None = None
    units: tuple[int, str] | None = None
    calls: tuple[int, int] | None = None
    cpu_source: str = "benchmark thread"
    notes: list[str] = field(default_factory=list)
    profile: str | None = None

    @staticmethod
    def _median(samples: list[Sample], attribute: str) -> float | None:
        values = [getattr(s, attribute) for s in samples if getattr(s, attribute) is not None]
        return statistics.median(values) if values else None

    @property
    def project_median(self) -> float:
        """Median seconds of the project's side."""
        return statistics.median(s.seconds for s in self.project_samples)

    @property
    def baseline_median(self) -> float:
        """Median seconds of the baseline's side."""
        return statistics.median(s.seconds for s in self.baseline_samples)

    @property
    def ratio(self) -> float:
        """Median project / median baseline (below 1: the project is faster)."""
        return self.project_median / self.baseline_median

    @property
    def met(self) -> bool:
        """Whether the ratio meets the row's goal."""
        return self.goal.met(self.ratio)

    def median_of(self, side: str, attribute: str) -> float | None:
        """Median of ``wall`` or ``cpu`` for ``side`` ('project' or 'baseline'), None if not measured."""
        samples = self.project_samples if side == "project" else self.baseline_samples
        return self._median(samples, attribute)


def run_row(row: Row, report: Callable[[str], None] = print, *, profile_top: int = 0) -> RowResult:
    """Run one row: reset, setup, warm-up, ``rounds`` alternating rounds, notes; teardown always."""
    result = RowResult(row.name, row.title, row.project, row.baseline, row.goal)
    reason = row.unavailable()
    if reason:
        result.skipped = reason
        report(f"[{row.name}] skipped: {reason}")
        return result
    row.bench.reset()
    row.setup()
    try:
        if row.bench.sizes.warm_up:
            row.warm_up()
        for number in range(row.rounds):
            sides: list[tuple[list[Sample], Callable[[], Sample]]] = [
                (result.project_samples, row.run_project),
                (result.baseline_samples, row.run_baseline),
            ]
            if number % 2:
                sides.reverse()
            for samples, run in sides:
                gc.collect()
                samples.append(run())
            report(
                f"[{row.name}] round {number + 1}/{row.rounds}"
                f"{' (baseline first)' if number % 2 else ''}: project {seconds(result.project_samples[-1].seconds)}, "
                f"baseline {seconds(result.baseline_samples[-1].seconds)}"
            )
        result.units = row.units()
        result.cpu_source = row.cpu_source
        result.calls = row.call_counts() if row.bench.sizes.diagnostics else None
        result.notes = row.notes()
        if profile_top:
            result.profile = row.profile_project(profile_top)
    finally:
        row.teardown()
    return result


# -- rendering ------------------------------------------------------------------------


def seconds(value: float | None) -> str:
    """Format a duration: milliseconds below one second, seconds above."""
    if value is None:
        return "-"
    return f"{value * 1000:.1f} ms" if value < 1 else f"{value:.2f} s"


def _side(result: RowResult, side: str) -> str:
    median = result.project_median if side == "project" else result.baseline_median
    wall = result.median_of(side, "wall")
    text = seconds(median)
    if wall is not None and abs(wall - median) > 1e-9:
        text += f" (wall {seconds(wall)})"
    return text


def cpu_line(result: RowResult) -> str | None:
    """A note comparing client-side CPU medians, if measured on both sides."""
    project, baseline = result.median_of("project", "cpu"), result.median_of("baseline", "cpu")
    if project is None or baseline is None or baseline <= 0:
        return None
    return (
        f"client-side CPU ({result.cpu_source}): project {seconds(project)}, baseline {seconds(baseline)}, "
        f"ratio {project / baseline:.3f}"
    )


def gc_lines(result: RowResult) -> list[str]:
    """Notes on the garbage collector's pauses inside the timed part, and the ratio without them."""
    samples = {"project": result.project_samples, "baseline": result.baseline_samples}
    if not all(s and all(x.gc is not None for x in s) for s in samples.values()):
        return []

    def pauses(side: str) -> str:
        values = samples[side]
        full = sum(1 for x in values if x.full_gcs)
        median = statistics.median(x.gc or 0.0 for x in values)
        return f"{seconds(median)} (a full collection in {full} of {len(values)} rounds)"

    net = {side: statistics.median(x.seconds - (x.gc or 0.0) for x in values) for side, values in samples.items()}
    lines = [
        f"garbage-collector pauses inside the timed part (median; {result.cpu_source}): "
        f"project {pauses('project')}, baseline {pauses('baseline')}",
    ]
    if net["baseline"] > 0:
        lines.append(
            f"time without the collector's pauses (median): project {seconds(net['project'])}, "
            f"baseline {seconds(net['baseline'])}, ratio {net['project'] / net['baseline']:.3f}"
        )
    return lines


def unit_line(result: RowResult) -> str | None:
    """A note with the median cost per operation (per call, per item), if the row has units."""
    if not result.units or result.units[0] <= 0:
        return None
    count, unit = result.units
    project, baseline = result.project_median / count, result.baseline_median / count
    return (
        f"one sample = {count:,} {unit}s; per {unit}: project {project * 1e6:.0f} us, "
        f"baseline {baseline * 1e6:.0f} us (difference {(project - baseline) * 1e6:+.0f} us)"
    )


def calls_line(result: RowResult) -> str | None:
    """A note comparing the Python function calls of the two sides' timed parts, if counted."""
    if not result.calls or result.calls[1] <= 0:
        return None
    project, baseline = result.calls
    per_unit = ""
    if result.units and result.units[0] > 0:
        count, unit = result.units
        per_unit = f"; per {unit}: {project / count:,.1f} versus {baseline / count:,.1f}"
    return (
        f"Python function calls in the timed part (cProfile count, independent of machine load): "
        f"project {project:,}, baseline {baseline:,}, ratio {project / baseline:.3f}{per_unit}"
    )


def spread_line(result: RowResult) -> str:
    """Every round's time per side, so the spread (the machine's noise) is visible next to the medians."""

    def listed(samples: list[Sample]) -> str:
        return ", ".join(f"{s.seconds:.3g}" for s in samples)

    return f"rounds (s): project {listed(result.project_samples)}; baseline {listed(result.baseline_samples)}"


def row_notes(result: RowResult) -> list[str]:
    """Every note printed under a row: spread, per-unit cost, CPU, call counts, GC pauses, the row's own."""
    notes = [spread_line(result), unit_line(result), cpu_line(result), calls_line(result), *gc_lines(result), *result.notes]
    return [note for note in notes if note]


def table_rows(results: Sequence[RowResult]) -> list[list[str]]:
    """One list of cells per result: row, project median, baseline median, ratio, goal, verdict."""
    rows = []
    for result in results:
        if result.skipped:
            rows.append([result.title, "-", "-", "-", result.goal.text, f"skipped: {result.skipped}"])
            continue
        rows.append([
            result.title,
            _side(result, "project"),
            _side(result, "baseline"),
            f"{result.ratio:.3f}",
            result.goal.text,
            "met" if result.met else "MISSED",
        ])
    return rows


HEADER = ["row", "project (median)", "baseline (median)", "ratio", "goal", "verdict"]


def format_table(results: Sequence[RowResult]) -> str:
    """The results as an aligned plain-text table, with each row's notes below it."""
    rows = table_rows(results)
    widths = [max(len(r[i]) for r in [HEADER, *rows]) for i in range(len(HEADER) - 1)]
    lines = []
    for cells in [HEADER, *rows]:
        lines.append("  ".join(c.ljust(w) for c, w in zip(cells, widths)) + "  " + cells[-1])
        if cells is HEADER:
            lines.append("-" * (sum(widths) + 2 * len(widths) + len(HEADER[-1])))
    lines.append("")
    for result in results:
        if result.skipped:
            continue
        lines.append(f"{result.title}: project = {result.project}; baseline = {result.baseline}")
        lines.extend(f"  - {note}" for note in row_notes(result))
    return "\n".join(lines)


def load_average() -> str:
    """The 1/5/15-minute load averages: other work on the machine inflates and scatters the times."""
    try:
        return " / ".join(f"{value:.2f}" for value in os.getloadavg())
    except OSError:
        return "unknown"


def machine_info() -> dict[str, str]:
    """CPU model, cores, OS, Python and library versions, date: what the numbers depend on."""
    cpu = "unknown"
    try:
        match = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.MULTILINE)
        cpu = match.group(1).strip() if match else platform.processor() or "unknown"
    except OSError:
        cpu = platform.processor() or "unknown"
    info = {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "os": platform.platform(),
        "python": platform.python_version(),
        "load average at start (1/5/15 min)": load_average(),
    }
    for package in ("boto3", "botocore", "moto", "cfn-lint"):
        try:
            info[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            info[package] = "not installed"
    return info


def aws_cli_version(aws_cli: str | None) -> str:
    """``aws --version`` of the CLI the deploy row uses, or why there is none."""
    if not aws_cli:
        return "not found"
    try:
        completed = subprocess.run([aws_cli, "--version"], capture_output=True, text=True, timeout=60)
    except OSError as error:
        return f"not runnable ({error})"
    return (completed.stdout or completed.stderr).strip() or "unknown"


def markdown_section(results: Sequence[RowResult], info: dict[str, str], sizes: Sizes, command: str) -> str:
    """The generated part of RESULTS.md: machine, sizes, the table, notes, how to rerun."""
    lines = [
        MARK_START,
        f"Generated by `{command}` on {info['date']}.",
        "",
        "| machine | |",
        "| --- | --- |",
        *(f"| {key} | {value} |" for key, value in info.items() if key != "date"),
        "",
        f"Sizes: {sizes.rounds} rounds per side (order alternating){_more_rounds(results, sizes)}, "
        f"{sizes.items:,} items for the data rows, "
        f"{sizes.calls} calls for the steady-state row, a stack that takes {sizes.stack_seconds:g} s for the "
        "slow-stack deploy row; medians over the rounds; warm-up runs "
        f"{'on' if sizes.warm_up else 'off'}, diagnostics {'on' if sizes.diagnostics else 'off'}.",
        "",
        "| " + " | ".join(HEADER) + " |",
        "| " + " | ".join("---" for _ in HEADER) + " |",
        *("| " + " | ".join(cells) + " |" for cells in table_rows(results)),
        "",
    ]
    for result in results:
        if result.skipped:
            continue
        lines.append(f"**{result.title}**: project = {result.project}; baseline = {result.baseline}")
        lines.append("")
        lines.extend(f"- {note}" for note in row_notes(result))
        lines.append("")
    lines.append(MARK_END)
    return "\n".join(lines)


def _more_rounds(results: Sequence[RowResult], sizes: Sizes) -> str:
    """E.g. '; cold start 45, steady state 27' for rows that ran more rounds than ``sizes.rounds``."""
    more = [
        f"{r.title} {len(r.project_samples)}" for r in results if not r.skipped and len(r.project_samples) != sizes.rounds
    ]
    return f"; {', '.join(more)}, as their rounds are short and noisy" if more else ""


def write_markdown(path: Path, section: str) -> None:
    """Write ``section`` into ``path`` between the markers, keeping any hand-written text around it."""
    if path.exists():
        text = path.read_text(encoding="utf-8")
        start, end = text.find(MARK_START), text.find(MARK_END)
        if start != -1 and end > start:
            path.write_text(text[:start] + section + text[end + len(MARK_END) :], encoding="utf-8")
            return
        path.write_text(text.rstrip("\n") + "\n\n" + section + "\n", encoding="utf-8")
        return
    header = (
        "# Benchmarks: the project against raw boto3 and the AWS CLI\n\n"
        f"Rerun (from the repository root): `{RERUN}` or `tox -e benchmark -- --markdown tests/benchmarks/RESULTS.md`.\n\n"
    )
    path.write_text(header + section + "\n", encoding="utf-8")
