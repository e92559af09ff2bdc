"""The acceptance gate: run behave with its reports, optionally against a separately started ``serve``.

    python -m tests.support.run_gate [--serve | --and-serve | --emulator NAME [--pytest]] [--reports DIR] [BEHAVE ARGUMENTS ...]

Writes, under ``DIR`` (default ``reports/local``, or ``reports/serve`` with ``--serve``):
``junit/TESTS-*.xml`` (behave's JUnit XML, what CI systems read as the gate),
``cucumber.json`` (behave's JSON formatter) and ``acceptance.html`` (the readable report of
behave-html-pretty-formatter). The console shows behave's ``pretty`` output unless the
arguments name a format. ``--serve`` starts ``python -m src.database serve`` on a free
port, waits until it answers, runs the suite with ``-D endpoint_url=<its URL>`` (nothing
is reset between scenarios: the path a LocalStack or AWS run takes) and stops it.
``--and-serve`` runs both at once: the embedded-endpoint run in this process and the
``--serve`` run in a child process (its output is printed after this run's); each run is
mostly one busy process, so on two cores the pair takes little more than the longer one.
``--emulator ministack|moto_server`` starts that emulator on a free port
(``tests.support.emulators``), runs the suite against it with its declared gaps
(``-D emulator=NAME``; MiniStack found through ``LOCALSTACK_HOST`` with
``-D target=localstack``, as a user's LocalStack is) and stops it, whatever ended the
run; reports default to ``reports/NAME``, the emulator's output to ``emulator.log`` there.
``--pytest`` first runs the opt-in LocalStack pytest tests (marker ``localstack``) against it.
After the run, the skipped scenarios are run once more with nothing skipped
(``tests.support.gap_check``): one that does not fail there fails the gate (its gap is gone).
The exit code is behave's (with ``--and-serve``, the first non-zero of the two; with
``--pytest``, pytest's if it failed): non-zero when a scenario failed.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Sequence

from behave.__main__ import main as behave_main

from tests.support.collector import freeze_objects_at_exit
from tests.support.emulators import KINDS, Emulator
from tests.support.endpoints import ROOT, Served, child_environment
from tests.support.gap_check import declared_scenarios, unmet_gaps

REPORTS = ROOT / "reports"
CHILD_TIMEOUT = 600.0  # a bound on a hanging --serve run, not a performance assertion
LOCALSTACK_TESTS = ("tests/integration/test_localstack_and_aws.py", "-m", "localstack")


def report_arguments(directory: Path) -> list[str]:
    """behave options writing the JUnit XML, the Cucumber JSON and the HTML report under ``directory``."""
    return [
        "-D", f"behave.formatter.html-pretty.title_string=VibeDigest acceptance ({directory.name})",
        "--junit",
        "--junit-directory", str(directory / "junit"),
        "--format", "json", "--outfile", str(directory / "cucumber.json"),
        "--format", "html-pretty", "--outfile", str(directory / "acceptance.html"),
    ]


def behave_arguments(directory: Path, extra: Sequence[str]) -> list[str]:
    """The reports' options, then ``extra``; the console gets ``pretty`` unless ``extra`` names a format."""
    console = [] if any(a in ("-f", "--format") or a.startswith("--format=") for a in extra) else ["--format", "pretty"]
    return [*report_arguments(directory), *extra, *console]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the gate; return behave's exit code."""
    parser = argparse.ArgumentParser(prog="python -m tests.support.run_gate", description=__doc__.split("\n\n")[0])
    runs = parser.add_mutually_exclusive_group()
    runs.add_argument("--serve", action="store_true", help="run against a separately started serve process")
    runs.add_argument("--and-serve", action="store_true",
                      help="also run against a serve process, at the same time, in a child process")
    runs.add_argument("--emulator", choices=sorted(KINDS), help="start this emulator and run against it")
    parser.add_argument("--pytest", action="store_true",
                        help="with --emulator: first run the opt-in LocalStack pytest tests against it")
    parser.add_argument("--reports", type=Path, help="report directory (default reports/local, serve or the emulator's name)")
    options, extra = parser.parse_known_args(argv)
    if options.pytest and not options.emulator:
        parser.error("--pytest goes with --emulator")
    directory = options.reports or REPORTS / (options.emulator or ("serve" if options.serve else "local"))
    if options.and_serve:
        return _with_serve_run(directory, extra)
    if options.emulator:
        return _emulator_run(options.emulator, directory, extra, with_pytest=options.pytest)
    if not options.serve:
        return int(behave_main(behave_arguments(directory, extra)))
    served = Served()
    try:
        print(f"Acceptance gate against a separate serve process at {served.url} (never reset).", flush=True)
        return int(behave_main(behave_arguments(directory, [*extra, "-D", f"endpoint_url={served.url}"])))
    finally:
        served.stop(signal.SIGTERM)


def _stop_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)  # unwinds like Ctrl-C, so the emulator is stopped on the way out


def _emulator_run(name: str, directory: Path, extra: Sequence[str], *, with_pytest: bool) -> int:
    """Start emulator ``name``, run the gate (and the LocalStack pytest tests) against it, stop it."""
    previous = signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        with Emulator(name, directory / "emulator.log") as emulator:
            if name == "ministack":
                os.environ["LOCALSTACK_HOST"] = emulator.host  # where localstack-client looks
                where = ["-D", "target=localstack"]
            else:
                where = ["-D", f"endpoint_url={emulator.url}"]
            print(f"Acceptance gate against {name} at {emulator.url} (its declared gaps skipped).", flush=True)
            tested = _localstack_tests(name, emulator.host) if with_pytest else 0
            code = int(behave_main(behave_arguments(directory, [*extra, *where, "-D", f"emulator={name}"])))
            unmet = unmet_gaps(name, where, directory / "declared-gaps")
            for line in unmet:
                print(f"error: {line}", flush=True)
            if not unmet:
                print(f"Declared gaps checked: the {len(declared_scenarios(name))} scenarios they always make fail "
                      "still fail there when run.", flush=True)
            return tested or code or int(bool(unmet))
    finally:
        signal.signal(signal.SIGTERM, previous)


def _localstack_tests(name: str, host: str) -> int:
    """The opt-in LocalStack pytest tests against the emulator at ``host``; pytest's exit code."""
    environment = {**child_environment(), "LOCALSTACK_HOST": host, "VIBEDIGEST_LOCALSTACK": name}
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-n", "0", *LOCALSTACK_TESTS],
                          cwd=ROOT, env=environment, timeout=CHILD_TIMEOUT, check=False)
    return done.returncode


def _with_serve_run(directory: Path, extra: Sequence[str]) -> int:
    """The embedded-endpoint run here while the ``--serve`` run goes on in a child; both exit codes count.

    The child writes to a temporary file (a pipe could fill up and stall it), shown once it is done.
    """
    with tempfile.TemporaryFile("w+") as log:
        child = subprocess.Popen(
            [sys.executable, "-m", "tests.support.run_gate", "--serve", *extra],
            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, text=True,
        )
        try:
            code = int(behave_main(behave_arguments(directory, extra)))
            child_code = child.wait(timeout=CHILD_TIMEOUT)
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
            log.seek(0)
            sys.stdout.write(log.read())
            sys.stdout.flush()
    return code or child_code


if __name__ == "__main__":
    freeze_objects_at_exit()
    sys.exit(main())
