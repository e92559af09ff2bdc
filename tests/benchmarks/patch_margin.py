"""Side-by-side margin of the emulator's speed patches on a command a user runs.

    python -m tests.benchmarks.patch_margin --rounds 7 --patch query-partition -- demo

runs the command (``python -m src.database ARGS``) in fresh processes, alternately with
every patch and with the named patch left out, and prints the median wall time of each.
Results go to tests/benchmarks/RESULTS.md ("Emulator speed patches"). ``--patch none``
runs both sides with every patch (the noise floor).

    python -m tests.benchmarks.patch_margin --rounds 3 --patch request-parse --large-day 10000

starts ``serve`` instead (as tests/test_large_day.py does), writes a day of N items with
``put_many`` and reads it back with ``day()`` on the package's default settings, and times
the write and the read; a read that passes the default read timeout counts as failed.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

# Runs in the child: every gap's ``patch(...)`` call goes through ``skipping``, which drops
# the named gap; then the command runs as ``python -m src.database`` would run it.
_CHILD = """
import runpy, sys
skip = sys.argv[1]
from src.database.emulator import fidelity
from src.database.emulator.fidelity import scope
original = scope.patch
def skipping(owner, name, gap, replacement):
    if gap != skip:
        original(owner, name, gap, replacement)
for module in list(sys.modules.values()):
    if getattr(module, "__name__", "").startswith("src.database.emulator.fidelity.") and hasattr(module, "patch"):
        module.patch = skipping
sys.argv = ["src.database", *sys.argv[2:]]
runpy.run_module("src.database", run_name="__main__", alter_sys=True)
"""


def _large_day(skip: str, items: int) -> tuple[float, float | None]:
    """(write seconds, read seconds or None when the read failed) on a fresh ``serve``."""
    import signal

    from botocore.exceptions import BotoCoreError

    from src.database import DatabaseError, DigestStore, DynamoDBClient
    from src.database.aws.target import Target
    from tests.support.digests import numbered_items
    from tests.support.endpoints import Served
    from tests.support.tables import create_digest_table

    served = Served("serve", module=("-c", _CHILD, skip), measured=False)
    try:
        target = Target.local(served.url)
        create_digest_table(target.client("dynamodb"), "VibeDigest-margin")
        store = DigestStore(DynamoDBClient.for_target(target, table_name="VibeDigest-margin"))
        day = numbered_items("2026-11-28", items, summary="a summary of about sixty characters, as a digest item has")
        started = time.perf_counter()
        store.put_many(day)
        written = time.perf_counter()
        try:
            back = store.day("2026-11-28")
        except (DatabaseError, BotoCoreError):
            return written - started, None
        read = time.perf_counter() - written
        assert back == day
        return written - started, read
    finally:
        served.stop(signal.SIGINT)


def _run(skip: str, command: list[str], timeout: float) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", _CHILD, skip, *command],
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=timeout,
    )
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    """Print the medians of both sides for one patch."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patch", required=True, help="the gap name of the patch to leave out (or 'none')")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument("--large-day", type=int, metavar="N", help="write and read a day of N items on serve")
    parser.add_argument("command", nargs="*", help="arguments of python -m src.database")
    args = parser.parse_args(argv)
    if args.large_day:
        return _large_day_margin(args.patch, args.rounds, args.large_day)
    sides: dict[str, list[float]] = {"with": [], "without": []}
    for round_number in range(args.rounds):
        order = ("with", "without") if round_number % 2 == 0 else ("without", "with")
        for side in order:
            sides[side].append(_run("" if side == "with" else args.patch, args.command, args.timeout))
    with_median, without_median = (statistics.median(sides[side]) for side in ("with", "without"))
    print(f"{args.patch}: with {with_median:.3f} s, without {without_median:.3f} s, "
          f"margin {without_median - with_median:+.3f} s over {args.rounds} rounds "
          f"(with {sorted(round(t, 2) for t in sides['with'])}, without {sorted(round(t, 2) for t in sides['without'])})")
    return 0


def _large_day_margin(patch: str, rounds: int, items: int) -> int:
    sides: dict[str, list[tuple[float, float | None]]] = {"with": [], "without": []}
    for round_number in range(rounds):
        order = ("with", "without") if round_number % 2 == 0 else ("without", "with")
        for side in order:
            sides[side].append(_large_day("" if side == "with" else patch, items))
    for side, runs in sides.items():
        reads = [read for _, read in runs if read is not None]
        print(f"{patch} {side}: write {statistics.median(w for w, _ in runs):.2f} s, read "
              + (f"{statistics.median(reads):.2f} s" if reads else "failed")
              + f" ({len(runs) - len(reads)} of {len(runs)} reads failed; {items} items; runs {runs})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
