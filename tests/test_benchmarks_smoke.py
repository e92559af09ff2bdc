"""Smoke tests of ``tests/benchmarks``: every row runs at tiny sizes and gives well-formed results.

They prove the benchmark code works (each row checks that both sides did the work:
counts, key order, stack status). They assert only shape and positivity, never
speed: timings depend on the machine and its load. The deploy rows need an AWS CLI
(``AWS_CLI`` or ``aws`` on PATH); without one they must be skipped with a reason.
The slow-stack deploy row is not run whole here (the AWS CLI's side waits 30 s by
design): its proxy is tested on its own with a fake clock, and the project's side
once with a 1-second stack. Marked ``benchmark``: the benchmark tox env runs them
before the benchmarks; the test env leaves them out, since they measure nothing the
test command needs.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from botocore.client import BaseClient

from src.database.aws.target import Target
from src.database.deploy.template import DEFAULT_TEMPLATE
from src.database.emulator.endpoint import EmbeddedEndpoint
from tests.benchmarks.cli import ROW_NAMES, main, run
from tests.benchmarks.deploy_row import DeploySlowStack, find_aws_cli
from tests.benchmarks.harness import (
    CLIENT_GOAL,
    COLD_START_ROUND_FACTOR,
    DEPLOY_GOAL,
    LATENCY_GOAL,
    MARK_END,
    MARK_START,
    REDEPLOY_GOAL,
    STEADY_STATE_ROUND_FACTOR,
    Bench,
    Row,
    RowResult,
    Sample,
    Sizes,
    row_notes,
    run_row,
)
from tests.benchmarks.slow_stack import SlowStackProxy, query_action

pytestmark = pytest.mark.benchmark  # run by `tox -e benchmark`, deselected in `tox -e test`

TINY = Sizes(rounds=1, items=20, calls=5, warm_up=False)


def assert_well_formed(result: RowResult, rounds: int) -> None:
    """One sample per side and round, positive times, a ratio consistent with the medians."""
    assert result.skipped is None, result.skipped
    assert len(result.project_samples) == len(result.baseline_samples) == rounds
    for sample in result.project_samples + result.baseline_samples:
        assert sample.seconds > 0
        assert sample.cpu is None or sample.cpu >= 0
        assert sample.wall is None or sample.wall >= sample.seconds
    assert result.ratio == pytest.approx(result.project_median / result.baseline_median)
    assert result.ratio > 0
    assert result.met == result.goal.met(result.ratio)
    if result.calls is not None:
        assert min(result.calls) > 0


@pytest.mark.parametrize(
    ("name", "units", "rounds"),
    [
        ("cold-start", None, COLD_START_ROUND_FACTOR),
        ("steady-state", (5, "call"), STEADY_STATE_ROUND_FACTOR),
        ("bulk-write", (20, "item"), 1),
        ("read-day", (20, "item"), 1),
    ],
)
def test_client_and_data_rows_run_at_tiny_sizes(
    moto_server: EmbeddedEndpoint, name: str, units: tuple[int, str] | None, rounds: int
) -> None:
    """Cold start, steady state, bulk write and read-a-day each produce their samples per side and call counts."""
    lines: list[str] = []
    (result,) = run(TINY, [name], endpoint=moto_server, report=lines.append)
    assert result.name == name
    assert_well_formed(result, rounds=rounds)
    assert result.goal == CLIENT_GOAL
    assert result.calls is not None
    assert result.units == units
    assert any(line.startswith(f"[{name}] round {rounds}/{rounds}") for line in lines)
    notes = row_notes(result)  # both sides report the collector's pauses inside their timed part
    assert any(note.startswith("garbage-collector pauses inside the timed part") for note in notes)
    assert any(note.startswith("time without the collector's pauses") for note in notes)
    assert all(sample.gc is not None and sample.gc >= 0 for sample in result.project_samples + result.baseline_samples)


def test_deploy_row_runs_or_is_skipped_with_a_reason(moto_server: EmbeddedEndpoint) -> None:
    """With an AWS CLI both deploys create the stack; without one the row says why it was skipped."""
    (result,) = run(TINY, ["deploy"], aws_cli=find_aws_cli(None), endpoint=moto_server, report=lambda _: None)
    assert result.goal == DEPLOY_GOAL
    if find_aws_cli(None) is None:
        assert result.skipped and "AWS CLI" in result.skipped
        return
    assert_well_formed(result, rounds=1)
    assert any(note.startswith("requests of one run, AWS CLI: ") and "ExecuteChangeSet 1" in note for note in result.notes)


def test_bulk_write_latency_row_sends_every_request_through_the_proxy(moto_server: EmbeddedEndpoint) -> None:
    """Both sides write through the latency proxy: it forwards at least both sides' batches."""
    (result,) = run(Sizes(rounds=1, items=30, latency_ms=1.0, warm_up=False), ["bulk-write-latency"],
                    endpoint=moto_server, report=lambda _: None)
    assert_well_formed(result, rounds=1)
    assert result.goal == LATENCY_GOAL and result.title == "bulk write, 1 ms per request"
    (forwarded,) = (note for note in result.notes if "the proxy forwarded" in note)
    assert int(forwarded.split("forwarded ")[1].split()[0]) >= 2 * 2  # 30 items: two batches per side, at least


def test_deploy_unchanged_row_runs_or_is_skipped_with_a_reason(moto_server: EmbeddedEndpoint) -> None:
    """With an AWS CLI both sides deploy the up-to-date stack and change nothing (the row checks it)."""
    (result,) = run(TINY, ["deploy-unchanged"], aws_cli=find_aws_cli(None), endpoint=moto_server,
                    report=lambda _: None)
    assert result.goal == REDEPLOY_GOAL
    if find_aws_cli(None) is None:
        assert result.skipped and "AWS CLI" in result.skipped
        return
    assert_well_formed(result, rounds=1)
    (project,) = (note for note in result.notes if note.startswith("requests of one run, project: "))
    assert "CreateChangeSet 1" in project and "ExecuteChangeSet" not in project


@pytest.mark.parametrize("name", ["deploy", "deploy-slow"])
def test_missing_aws_cli_skips_the_deploy_rows(moto_server: EmbeddedEndpoint, tmp_path: Path, name: str) -> None:
    """A path that is not an executable is reported, not run."""
    (result,) = run(TINY, [name], aws_cli=str(tmp_path / "no-aws"), endpoint=moto_server, report=lambda _: None)
    assert result.skipped and "not an executable" in result.skipped
    assert result.project_samples == result.baseline_samples == []
    assert result.goal == DEPLOY_GOAL


def _stack_status(cloudformation: BaseClient, stack: str) -> str:
    status: str = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"]
    return status


def test_slow_stack_proxy_holds_the_stack_in_progress_until_its_time_is_up(
    local_target: Target, unique_name: str
) -> None:
    """From the first ExecuteChangeSet, DescribeStacks says CREATE_IN_PROGRESS for stack_seconds (fake clock).

    moto itself completes the stack at once; other answers pass unchanged.
    """
    now = [1000.0]
    direct = local_target.client("cloudformation")
    with SlowStackProxy(str(local_target.endpoint_url), 20.0, clock=lambda: now[0]) as proxy:
        cloudformation = Target.local(proxy.url).client("cloudformation")
        change_set = cloudformation.create_change_set(
            StackName=unique_name,
            ChangeSetName="bench",
            ChangeSetType="CREATE",
            TemplateBody=DEFAULT_TEMPLATE.read_text(encoding="utf-8"),
            Parameters=[{"ParameterKey": "Environment", "ParameterValue": "dev"}],
        )
        assert _stack_status(cloudformation, unique_name) == "REVIEW_IN_PROGRESS"
        assert proxy.executed_at is None and proxy.completes_at is None
        cloudformation.execute_change_set(StackName=unique_name, ChangeSetName=change_set["Id"])
        assert proxy.executed_at == 1000.0 and proxy.completes_at == 1020.0
        now[0] = 1019.9
        assert _stack_status(cloudformation, unique_name) == "CREATE_IN_PROGRESS"
        assert _stack_status(direct, unique_name) == "CREATE_COMPLETE"  # moto, not through the proxy
        now[0] = 1020.0
        assert _stack_status(cloudformation, unique_name) == "CREATE_COMPLETE"
        assert proxy.held_back == 1
        assert proxy.requests_by_operation["DescribeStacks"] == 3
        proxy.rearm()
        assert proxy.executed_at is None and proxy.held_back == 0


def test_query_action_reads_the_form_body() -> None:
    assert query_action(b"Action=DescribeStacks&Version=2010-05-15") == "DescribeStacks"
    assert query_action(b"") is None
    assert query_action(b'{"TableName": "x"}') is None


def test_slow_stack_row_project_side_waits_for_the_stack(moto_server: EmbeddedEndpoint, tmp_path: Path) -> None:
    """The project's deploy through the proxy sees the stack in progress and ends only after it completed."""
    bench = Bench(moto_server, Sizes(rounds=1, stack_seconds=1.0, warm_up=False), None, tmp_path)
    row = DeploySlowStack(bench)
    assert row.title == "deploy, stack takes 1 s"
    bench.reset()
    row.setup()
    try:
        sample = row.run_project()
        assert row.proxy is not None and row.proxy.held_back >= 1
    finally:
        row.teardown()
        bench.reset()
    assert sample.seconds >= 1.0  # it waited for the stack (a lower bound on waiting, not a speed check)
    notes = row.notes()
    assert any(note.startswith("requests of the last run, project: ") and "ExecuteChangeSet 1" in note for note in notes)


class _OrderRow(Row):
    """A row that records the order of its sides and returns fixed times (no endpoint work)."""

    name = "order"
    title = "order"
    project = "p"
    baseline = "b"

    def __init__(self, bench: Bench) -> None:
        super().__init__(bench)
        self.order: list[str] = []

    def run_project(self) -> Sample:
        self.order.append("project")
        return Sample(seconds=1.0)

    def run_baseline(self) -> Sample:
        self.order.append("baseline")
        return Sample(seconds=2.0 + len(self.order))

    def call_counts(self) -> None:
        return None


def test_rounds_alternate_which_side_goes_first(moto_server: EmbeddedEndpoint, tmp_path: Path) -> None:
    """Even rounds run the project first, odd rounds the baseline; medians and ratio follow the samples."""
    row = _OrderRow(Bench(moto_server, Sizes(rounds=3, warm_up=False), None, tmp_path))
    result = run_row(row, report=lambda _: None)
    assert row.order == ["project", "baseline", "baseline", "project", "project", "baseline"]
    assert [s.seconds for s in result.baseline_samples] == [4.0, 5.0, 8.0]
    assert result.ratio == pytest.approx(1.0 / 5.0)
    assert result.met


def test_cli_writes_results_between_markers_and_keeps_the_rest(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--markdown fills a new file, then replaces only the generated part of an existing one."""
    results_file = tmp_path / "RESULTS.md"
    argv = [
        "--rounds", "1", "--calls", "5", "--only", "steady-state", "--no-warm-up", "--no-diagnostics",
        "--aws-cli", str(tmp_path / "no-aws"), "--markdown", str(results_file),
    ]
    assert main(argv) == 0
    first = results_file.read_text(encoding="utf-8")
    assert MARK_START in first and MARK_END in first
    assert "| steady state |" in first and "| cpu |" in first and "python -m tests.benchmarks" in first
    results_file.write_text("# Hand-written\n\nAnalysis.\n\n" + first[first.index(MARK_START):] + "\nFooter.\n")
    assert main(argv) == 0
    second = results_file.read_text(encoding="utf-8")
    assert second.startswith("# Hand-written\n\nAnalysis.\n\n" + MARK_START)
    assert second.rstrip().endswith("Footer.")
    assert second.count(MARK_START) == 1
    assert "steady state" in capsys.readouterr().out


@pytest.mark.parametrize("seconds", ["-1", "601", "soon"])
def test_cli_rejects_a_bad_stack_duration(seconds: str) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--stack-seconds", seconds])
    assert exit_info.value.code == 2


def test_cli_rejects_an_unknown_row(capsys: pytest.CaptureFixture[str]) -> None:
    """--only accepts only the row names."""
    with pytest.raises(SystemExit) as exit_info:
        main(["--only", "everything"])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert all(name in error for name in ROW_NAMES)
