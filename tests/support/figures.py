"""Reliability figures: tests record what they injected and saw; the run writes a report.

Recording (any test, any xdist worker, any thread)::

    from tests.support.figures import record

    record("bad_input", case="region 'EU-WEST-1'", error="ConfigurationError", clean=True)

``record`` appends one JSON line to a file of the current process in the run's
figures directory (``VIBEDIGEST_FIGURES_DIR``, chosen by the ``pytest_configure`` hook
in ``tests/conftest.py``, shared with xdist workers, created by the first ``record``). Outside such a run it does
nothing, so a test that records still runs on its own. Record what was observed
*before* asserting on it: the report then shows failures too. The report is an
output of the run; every test still asserts its own behaviour.

Categories and the fields the report reads (others are kept, not shown):

- ``fault``: ``fault`` (e.g. ``"THROTTLING"``), ``scenario`` (``"transient"`` or
  ``"persistent"``), ``injected`` (faults the proxy injected), ``outcome``
  (``"survived"``, ``"clear error"``, or what went wrong), ``retries`` (retries the
  client logged), ``attempts`` (requests the endpoint saw), ``seconds``, ``error``
  (class name of the raised error, ``""`` if none).
- ``bad_input``: ``case`` (what was tried), ``error`` (class name raised, ``""`` if
  none), ``clean`` (True when rejected with one clear typed error and nothing else).
- ``secret_scan``: ``what`` (the command or call scanned), ``outputs`` (how many
  outputs were scanned: streams, log records, exception texts, files), ``leaks``
  (how many contained a secret), ``planted`` (how many secret values were looked
  for: the planted markers, plus any temporary credentials the run obtained),
  ``kind`` (``"exception chain"`` for scans of whole exception chains, counted apart too).
- ``items``: ``scenario``, ``written``, ``read`` (items read back equal to those written).
- ``error_time``: ``case``, ``error``, ``seconds``: time to a clear error outside the
  fault table (e.g. missing credentials).
- ``numbers``: ``backend``, ``returned`` (how the endpoint wrote 1E+38 back),
  ``numbers`` (items with large or small numbers written), ``read`` (read back equal
  by ``get``), ``day`` (True when ``day()`` gave them all back equal).
- ``put_many_faults``: ``backend``, ``items``, ``requests`` (``BatchWriteItem``
  requests the proxy saw), ``injected``, ``written`` (what ``put_many`` returned),
  ``stored`` (items read back), ``seconds``, ``unwritten``, ``unconfirmed``, ``resent``
  (whole requests ``put_many`` re-sent after botocore's retries gave up).
- ``put_many_unconfirmed``: ``backend``, ``fault``, ``items``, ``unwritten``,
  ``unconfirmed``, ``stored_unconfirmed`` and ``stored_unwritten`` (items of each list
  found stored; the second must be 0).
- ``large_day``: ``where``, ``items``, ``read`` (read back equal), ``seconds``.

At the end of a run that included ``tests/test_fault_injection.py`` and
``tests/test_secret_leaks.py`` in full (no ``-k``/``-m``/node ids), the controller
merges every file and writes ``reports/reliability.md`` (``write_report``), under
the ignored ``reports/`` folder: the run leaves the work tree as it was.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import tempfile
import threading
import uuid
from collections import Counter, defaultdict
from datetime import datetime, timezone
from importlib.metadata import version
from pathlib import Path
from typing import Any, Iterable

ENV_VAR = "VIBEDIGEST_FIGURES_DIR"
REPORT_PATH = Path("reports") / "reliability.md"
REQUIRED_FILES = ("tests/test_fault_injection.py", "tests/test_secret_leaks.py")
REGENERATE = "python -m pytest tests/test_fault_injection.py tests/test_secret_leaks.py -n 2"
FAULT_ORDER = (
    "THROTTLING",
    "PROVISIONED_THROUGHPUT",
    "HTTP_500",
    "HTTP_503",
    "DROP_CONNECTION",
    "NO_RESPONSE",
    "SLOW_RESPONSE",
    "REFUSED_CONNECTION",
    "SILENT_ENDPOINT",
    "NOT_DYNAMODB_200",
    "NOT_DYNAMODB_404",
)

_lock = threading.Lock()


def figures_dir() -> Path | None:
    """The run's figures directory, or None when figures are not being collected."""
    value = os.environ.get(ENV_VAR)
    return Path(value) if value else None


def record(category: str, **fields: Any) -> bool:
    """Append one observation to this process's figures file; return False if not collecting.

    ``fields`` must be JSON-serialisable (other values are stored as ``str``). The
    current test's node id is added as ``test``.
    """
    directory = figures_dir()
    if directory is None:
        return False
    entry = {
        "category": category,
        "test": os.environ.get("PYTEST_CURRENT_TEST", "").split(" ")[0],
        **fields,
    }
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    line = json.dumps(entry, default=str, sort_keys=True) + "\n"
    with _lock:
        directory.mkdir(parents=True, exist_ok=True)  # made on first use: runs that record nothing leave nothing
        with open(directory / f"{worker}-{os.getpid()}.jsonl", "a", encoding="utf-8") as handle:
            handle.write(line)
    return True


def load(directory: Path) -> list[dict[str, Any]]:
    """Read every figures file of a run (all workers), skipping unreadable lines."""
    entries: list[dict[str, Any]] = []
    if not directory.is_dir():
        return entries
    for path in sorted(directory.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                entries.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return entries


def _by(entries: Iterable[dict[str, Any]], category: str) -> list[dict[str, Any]]:
    return [entry for entry in entries if entry.get("category") == category]


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} s"


def _fault_key(name: str) -> tuple[int, str]:
    return (FAULT_ORDER.index(name) if name in FAULT_ORDER else len(FAULT_ORDER), name)


def _fault_tables(faults: list[dict[str, Any]]) -> list[str]:
    lines: list[str] = []
    transient = [f for f in faults if f.get("scenario") == "transient"]
    persistent = [f for f in faults if f.get("scenario") == "persistent"]
    lines += [
        "### Transient faults: injected, retried, survived",
        "",
        "k faults, then the endpoint answers; the call must succeed within the retry budget "
        "and the data read back must equal what was written.",
        "",
        "| Fault | Tests | Faults injected | Survived | Retries logged (max per call) | Worst time to success |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for entry in transient:
        groups[str(entry.get("fault"))].append(entry)
    for name in sorted(groups, key=_fault_key):
        rows = groups[name]
        survived = [r for r in rows if r.get("outcome") == "survived"]
        times = [float(r["seconds"]) for r in survived if r.get("seconds") is not None]
        lines.append(
            f"| {name} | {len(rows)} | {sum(int(r.get('injected', 0)) for r in rows)} | "
            f"{len(survived)}/{len(rows)} | {max((int(r.get('retries', 0)) for r in rows), default=0)} | "
            f"{_seconds(max(times) if times else None)} |"
        )
    lines += [
        "",
        "### Persistent faults: a clear, typed error in bounded time",
        "",
        "Every attempt fails; the call must raise the package's own error, naming the cause and what to do.",
        "",
        "| Fault | Tests | Requests seen (max) | Error raised | Clear error | Worst time to error |",
        "|---|---:|---:|---|---:|---:|",
    ]
    groups = defaultdict(list)
    for entry in persistent:
        groups[str(entry.get("fault"))].append(entry)
    for name in sorted(groups, key=_fault_key):
        rows = groups[name]
        clear = [r for r in rows if r.get("outcome") == "clear error"]
        errors = ", ".join(sorted({str(r.get("error") or "none") for r in rows}))
        times = [float(r["seconds"]) for r in rows if r.get("seconds") is not None]
        lines.append(
            f"| {name} | {len(rows)} | {max((int(r.get('attempts', 0)) for r in rows), default=0)} | "
            f"{errors} | {len(clear)}/{len(rows)} | {_seconds(max(times) if times else None)} |"
        )
    return lines


def _chain_line(chains: list[dict[str, Any]]) -> str:
    """The exception-chain scans' own line under the secrets table."""
    if not chains:
        return "No exception chain was scanned in this run."
    return (
        f"Of these, whole exception chains (a server quoting the signed request, failing credential_process "
        f"scripts: each chained exception's str, repr, args and attributes such as `.response`, tracebacks, "
        f"`logging.exception` output): {len(chains)} scenarios, {sum(int(c.get('outputs', 0)) for c in chains)} "
        f"outputs checked, {sum(int(c.get('leaks', 0)) for c in chains)} leaked."
    )


def render(entries: list[dict[str, Any]], *, outcome: str, invocation: str, when: datetime | None = None) -> str:
    """Build the markdown report from a run's entries."""
    when = when or datetime.now(timezone.utc)
    faults = _by(entries, "fault")
    bad = _by(entries, "bad_input")
    scans = _by(entries, "secret_scan")
    items = _by(entries, "items")
    error_times = _by(entries, "error_time")
    lines = [
        "# Reliability figures",
        "",
        "Generated from a test run; do not edit by hand.",
        "",
        f"- Date: {when.strftime('%Y-%m-%d %H:%M UTC')}",
        f"- Python {platform.python_version()}, boto3 {version('boto3')}, botocore {version('botocore')}, "
        f"moto {version('moto')}",
        f"- Run: `{invocation}` ({outcome})",
        f"- Regenerate: `{REGENERATE}` (any run that includes both files in full rewrites it, e.g. `tox`)",
        "",
        "## Faults injected and survived",
        "",
        "Fault-injecting proxy (`tests/support/fault_proxy.py`) between `DynamoDBClient` and a moto server.",
        "",
        *_fault_tables(faults),
        "",
        "## Bad inputs tried and rejected cleanly",
        "",
    ]
    if bad:
        clean = [b for b in bad if b.get("clean")]
        classes = defaultdict(int)
        for entry in bad:
            classes[str(entry.get("error") or "none")] += 1
        lines += [
            "| Tried | Rejected cleanly | By error class |",
            "|---:|---:|---|",
            f"| {len(bad)} | {len(clean)} | "
            + ", ".join(f"{name} {count}" for name, count in sorted(classes.items()))
            + " |",
        ]
    else:
        lines.append("No bad-input cases were recorded in this run (`tests/test_bad_input.py` records them).")
    planted = max((int(s.get("planted", 0)) for s in scans), default=0)
    lines += [
        "",
        "## Secrets planted and leaked",
        "",
        "Marker credentials planted (a secret key and a session token), plus the temporary credentials an "
        "assume-role profile obtains from STS; every output of the CLI commands and client methods scanned "
        "for them: stdout, stderr, log records (message, msg, args, the whole record), exception texts, "
        "reprs and tracebacks, files written.",
        "",
        "| Scenarios scanned | Secret values looked for (max per scenario) | Outputs scanned | Leaks (must be 0) |",
        "|---:|---:|---:|---:|",
        f"| {len(scans)} | {planted} | {sum(int(s.get('outputs', 0)) for s in scans)} | "
        f"{sum(int(s.get('leaks', 0)) for s in scans)} |",
        "",
        _chain_line([s for s in scans if s.get("kind") == "exception chain"]),
        "",
        "## Items written vs read back under faults",
        "",
        "| Scenario | Written | Read back equal | Equal |",
        "|---|---:|---:|---|",
    ]
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for entry in items:
        pair = totals[str(entry.get("scenario"))]
        pair[0] += int(entry.get("written", 0))
        pair[1] += int(entry.get("read", 0))
    for scenario, (written, read) in sorted(totals.items()):
        lines.append(f"| {scenario} | {written} | {read} | {'yes' if written == read else 'NO'} |")
    if totals:
        written, read = (sum(pair[i] for pair in totals.values()) for i in (0, 1))
        lines.append(f"| **total** | **{written}** | **{read}** | {'yes' if written == read else 'NO'} |")
    timed = [
        (float(e["seconds"]), str(e.get("error") or "?"), str(e.get("fault") or e.get("case") or "?"))
        for e in [*(f for f in faults if f.get("scenario") == "persistent"), *error_times]
        if e.get("seconds") is not None and e.get("error")
    ]
    lines += ["", "## Worst time to a clear error", ""]
    if timed:
        seconds, error, case = max(timed)
        lines.append(f"{seconds:.2f} s ({error}, {case}) over {len(timed)} error cases.")
    else:
        lines.append("No error cases were timed in this run.")
    lines += _data_sections(entries)
    return "\n".join(lines) + "\n"


def _table(title: str, intro: str, header: str, rows: list[str], missing: str) -> list[str]:
    """A report section: a markdown table of ``rows`` under ``header``, or ``missing`` when there are none."""
    columns = header.count("|") - 1
    return ["", f"## {title}", "", intro, "", *([header, "|" + "---|" * columns, *rows] if rows else [missing])]


def _data_sections(entries: list[dict[str, Any]]) -> list[str]:
    """Numbers read back, faults ridden out by ``put_many``, unwritten vs unconfirmed, large days."""
    numbers = [
        f"| {e.get('backend')} | `{str(e.get('returned'))[:12]}{'...' if len(str(e.get('returned'))) > 12 else ''}` "
        f"({len(str(e.get('returned')))} chars) | {e.get('numbers')} | {e.get('read')} | "
        f"{'yes' if e.get('day') else 'NO'} |"
        for e in _by(entries, "numbers")
    ]
    faults = [
        f"| {e.get('backend')} | {e.get('items')} | {e.get('requests')} | {e.get('injected')} | {e.get('resent')} | "
        f"{e.get('written')} | {e.get('stored')} | {e.get('unwritten')} / {e.get('unconfirmed')} | "
        f"{_seconds(e.get('seconds'))} |"
        for e in _by(entries, "put_many_faults")
    ]
    lost = [
        f"| {e.get('backend')} | {e.get('fault')} | {e.get('items')} | {e.get('unwritten')} | {e.get('unconfirmed')} | "
        f"{e.get('stored_unconfirmed')} | {e.get('stored_unwritten')} |"
        for e in _by(entries, "put_many_unconfirmed")
    ]
    days = [
        f"| {e.get('where')} | {e.get('items')} | {e.get('read')} | {_seconds(e.get('seconds'))} |"
        for e in _by(entries, "large_day")
    ]
    return [
        *_table("Numbers read back", "Items with scores 1e38, 1e125, -1e38, 1.5e50, ... and extra numbers up to 10**125, "
                "put and read back with get and day(); 1E+38 as the endpoint returned it (DynamoDB and dynalite "
                "write it out in full).", "| Backend | 1E+38 returned as | Items | Read back equal | day() equal |",
                numbers, "No number round trips were recorded (`tests/test_numbers_read_back.py` records them)."),
        *_table("Transient faults ridden out by put_many", "30 % of BatchWriteItem requests answered 500, 503 or "
                "throttling by the fault proxy; put_many with default settings.",
                "| Backend | Items | Requests | Faults injected | Re-sent by put_many | Written | Stored "
                "| Unwritten / unconfirmed | Time |",
                faults, "No put_many fault runs were recorded (`tests/test_put_many_faults.py` records them)."),
        *_table("Unwritten vs unconfirmed after answers lost in flight", "The endpoint applies each request, then "
                "the proxy cuts the connection or answers 500; put_many gives up at its deadline. No item listed "
                "unwritten may be stored.", "| Backend | Fault | Items | Unwritten | Unconfirmed | Stored of "
                "unconfirmed | Stored of unwritten (must be 0) |", lost,
                "No lost-answer runs were recorded (`tests/test_put_many_faults.py` records them)."),
        *_table("Large days read back", "One day of numbered items in a table with another day, read with day() and "
                "the package's default settings.", "| Endpoint | Items | Read back equal | Time |", days,
                "No large days were recorded (`tests/test_large_day.py` records them)."),
    ]


def write_report(root: Path, entries: list[dict[str, Any]], *, outcome: str, invocation: str) -> Path:
    """Render the entries and write ``reports/reliability.md`` under ``root``."""
    path = root / REPORT_PATH
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(entries, outcome=outcome, invocation=invocation), encoding="utf-8")
    return path


class RunTracker:
    """The controller's view of a run: where figures go, and which tests ran how.

    Used by the hooks at the end of ``tests/conftest.py``: ``start`` (controller,
    ``pytest_configure``), ``adopt`` (xdist worker), ``note`` (every test report the
    controller sees, workers' included), ``report`` (controller, end of session) and
    ``cleanup`` (controller, ``pytest_unconfigure``).
    """

    WORKER_KEY = "vibedigest_figures_dir"

    def __init__(self) -> None:
        self.directory: Path | None = None
        self.outcomes: dict[str, Counter[str]] = defaultdict(Counter)
        self._previous_env: str | None = None

    def start(self) -> Path:
        """Choose the run's figures directory (made by the first ``record``) and export it."""
        self.directory = Path(tempfile.gettempdir()) / f"vibedigest-figures-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._previous_env = os.environ.get(ENV_VAR)
        os.environ[ENV_VAR] = str(self.directory)
        return self.directory

    def adopt(self, directory: str | None) -> None:
        """On an xdist worker: record into the controller's directory."""
        if directory:
            os.environ[ENV_VAR] = directory

    def note(self, nodeid: str, when: str, outcome: str) -> None:
        """Count one test's result (its call phase, or a setup that failed or skipped)."""
        if when == "call" or (when == "setup" and outcome != "passed"):
            self.outcomes[nodeid.split("::", 1)[0]][outcome] += 1

    def summary(self) -> str:
        """E.g. ``"40 passed, 1 failed"`` over every file of the run."""
        total: Counter[str] = Counter()
        for counts in self.outcomes.values():
            total.update(counts)
        return ", ".join(f"{count} {name}" for name, count in sorted(total.items())) or "no tests"

    def is_complete(self, args: Iterable[str], *, keyword: str, markexpr: str, deselect: Iterable[str]) -> bool:
        """True when the run included both required files in full (no selection narrower than a file)."""
        # the test env's `-m "not benchmark"` leaves out only the benchmark smoke tests, never a figure's test
        narrowed = bool(keyword or markexpr not in ("", "not benchmark") or list(deselect)) or any(
            "::" in arg for arg in args
        )
        return not narrowed and all(self.outcomes.get(name) for name in REQUIRED_FILES)

    def report(self, root: Path, *, complete: bool, invocation: str) -> Path | None:
        """Write the report under ``root`` if the run was complete; return its path."""
        if not complete or self.directory is None:
            return None
        return write_report(root, load(self.directory), outcome=self.summary(), invocation=invocation)

    def cleanup(self) -> None:
        """Remove the figures directory and restore the environment variable."""
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory = None
        if self._previous_env is None:
            os.environ.pop(ENV_VAR, None)
        else:
            os.environ[ENV_VAR] = self._previous_env
