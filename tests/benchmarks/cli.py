"""``python -m tests.benchmarks``: run the rows, print the table, optionally write RESULTS.md.

Usage: ``python -m tests.benchmarks [--rounds N] [--items N] [--calls N] [--stack-seconds S]
[--latency-ms MS] [--only ROW ...] [--markdown PATH] [--aws-cli PATH] [--profile [TOP]] [--no-warm-up] [--no-diagnostics]``.
The exit code is 0 when every row ran (whether or not it met its goal: this measures,
it does not gate), 1 when a row's work failed.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shlex
import sys
import tempfile
from pathlib import Path
from typing import Callable, Iterator, Sequence

from src.database.emulator.endpoint import EmbeddedEndpoint

from .client_rows import ColdStart, SteadyState
from .data_rows import BulkWrite, ReadDay
from .deploy_row import Deploy, DeploySlowStack, find_aws_cli
from .harness import (
    LEAKY_VARIABLES,
    Bench,
    BenchmarkError,
    Row,
    RowResult,
    Sizes,
    aws_cli_version,
    format_table,
    load_average,
    machine_info,
    markdown_section,
    run_row,
    write_markdown,
)
from .latency_row import BulkWriteLatency
from .redeploy_row import DeployUnchanged

ROWS: tuple[type[Row], ...] = (
    ColdStart, SteadyState, BulkWrite, BulkWriteLatency, ReadDay, Deploy, DeployUnchanged, DeploySlowStack
)
ROW_NAMES = tuple(row.name for row in ROWS)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _seconds(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 600:
        raise argparse.ArgumentTypeError(f"must be between 0 and 600 seconds, got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The command line of the benchmarks."""
    defaults = Sizes()
    parser = argparse.ArgumentParser(
        prog="python -m tests.benchmarks",
        description="Benchmark the project against raw boto3 and the AWS CLI on the embedded moto endpoint.",
    )
    parser.add_argument("--rounds", type=_positive, default=defaults.rounds,
                        help=f"timed runs per side and row, order alternating (default {defaults.rounds})")
    parser.add_argument("--items", type=_positive, default=defaults.items,
                        help=f"items for the bulk-write and read-day rows (default {defaults.items})")
    parser.add_argument("--calls", type=_positive, default=defaults.calls,
                        help=f"calls per side for the steady-state row (default {defaults.calls})")
    parser.add_argument("--stack-seconds", type=_seconds, default=defaults.stack_seconds, metavar="S",
                        help="how long the stack takes to create in the deploy-slow row "
                        f"(default {defaults.stack_seconds:g})")
    parser.add_argument("--latency-ms", type=_seconds, default=defaults.latency_ms, metavar="MS",
                        help="latency the proxy adds to each request in the bulk-write-latency row "
                        f"(default {defaults.latency_ms:g})")
    parser.add_argument("--only", nargs="+", choices=ROW_NAMES, metavar="ROW",
                        help=f"run only these rows: {', '.join(ROW_NAMES)}")
    parser.add_argument("--markdown", type=Path, metavar="PATH",
                        help="write the results into this markdown file (between its result markers)")
    parser.add_argument("--aws-cli", metavar="PATH",
                        help="the `aws` executable for the deploy row (default: $AWS_CLI, then PATH)")
    parser.add_argument("--profile", type=int, nargs="?", const=25, default=0, metavar="TOP",
                        help="after the rounds, cProfile one project run per row and print the TOP functions (25)")
    parser.add_argument("--no-warm-up", dest="warm_up", action="store_false",
                        help="skip the untimed warm-up runs")
    parser.add_argument("--no-diagnostics", dest="diagnostics", action="store_false",
                        help="skip the untimed extra runs behind the notes (call counts, request counts)")
    return parser


@contextlib.contextmanager
def isolated_environment(empty_config: Path) -> Iterator[None]:
    """Keep the shell's AWS profile, endpoint and config files out of this process while it runs."""
    saved = dict(os.environ)
    for name in LEAKY_VARIABLES:
        os.environ.pop(name, None)
    os.environ.update(
        AWS_CONFIG_FILE=str(empty_config),
        AWS_SHARED_CREDENTIALS_FILE=str(empty_config),
        AWS_EC2_METADATA_DISABLED="true",
    )
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def run(
    sizes: Sizes,
    names: Sequence[str] | None = None,
    *,
    aws_cli: str | None = None,
    endpoint: EmbeddedEndpoint | None = None,
    report: Callable[[str], None] = print,
    profile_top: int = 0,
) -> list[RowResult]:
    """Run the selected rows (all by default) on ``endpoint`` or a new embedded one; return their results."""
    selected = [row for row in ROWS if names is None or row.name in names]
    with contextlib.ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="vibedigest-bench-")))
        if endpoint is None:
            endpoint = stack.enter_context(EmbeddedEndpoint())
        bench = Bench(endpoint, sizes, aws_cli, workdir)
        report(f"Endpoint {endpoint.url}; {sizes.rounds} round(s); rows: {', '.join(r.name for r in selected)}")
        return [run_row(row(bench), report, profile_top=profile_top) for row in selected]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmarks and print (and optionally write) the results; return the exit code."""
    args = build_parser().parse_args(argv)
    sizes = Sizes(
        rounds=args.rounds,
        items=args.items,
        calls=args.calls,
        stack_seconds=args.stack_seconds,
        latency_ms=args.latency_ms,
        warm_up=args.warm_up,
        diagnostics=args.diagnostics,
    )
    aws_cli = find_aws_cli(args.aws_cli)
    info = machine_info()
    info["AWS CLI"] = aws_cli_version(aws_cli) + (f" ({aws_cli})" if aws_cli else "")

    def report(line: str) -> None:
        print(line, flush=True)

    with tempfile.TemporaryDirectory() as directory:
        empty = Path(directory) / "empty-aws-config"
        empty.touch()
        with isolated_environment(empty):
            try:
                results = run(sizes, args.only, aws_cli=aws_cli, report=report, profile_top=args.profile)
            except BenchmarkError as error:
                print(f"error: {error}", file=sys.stderr, flush=True)
                return 1
    info["load average at end (1/5/15 min)"] = load_average()
    print()
    print("  ".join(f"{key}: {value}" for key, value in info.items()))
    print(format_table(results))
    for result in results:
        if result.profile:
            print(f"\ncProfile of one project run, {result.title} (top {args.profile} by cumulative time):")
            print(result.profile)
    if args.markdown:
        command = "python -m tests.benchmarks " + shlex.join(argv if argv is not None else sys.argv[1:])
        write_markdown(args.markdown, markdown_section(results, info, sizes, command.strip()))
        print(f"\nWrote {args.markdown}")
    return 0
