"""Smoke tests of ``tests/benchmarks``: every row runs at tiny sizes and gives well-formed results.

They prove the benchmark code works (each row checks that both sides did the work:
counts, key order, stack status). They assert only shape and positivity, never
speed: timings depend on the machine and its load. The deploy row needs an AWS CLI
(``AWS_CLI`` or ``aws`` on PATH); without one it must be skipped with a reason.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from src.database.local_endpoint import EmbeddedEndpoint
from tests.benchmarks.cli import ROW_NAMES, main, run
from tests.benchmarks.deploy_row import find_aws_cli
from tests.benchmarks.harness import (
    CLIENT_GOAL,
    DEPLOY_GOAL,
    MARK_END,
    MARK_START,
    Bench,
    Row,
    RowResult,
    Sample,
    Sizes,
    run_row,
)

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
    ("name", "units"),
    [("cold-start", None), ("steady-state", (5, "call")), ("bulk-write", (20, "item")), ("read-day", (20, "item"))],
)
def test_client_and_data_rows_run_at_tiny_sizes(
    moto_server: EmbeddedEndpoint, name: str, units: tuple[int, str] | None
) -> None:
    """Cold start, steady state, bulk write and read-a-day each produce one sample per side and call counts."""
    lines: list[str] = []
    (result,) = run(TINY, [name], endpoint=moto_server, report=lines.append)
    assert result.name == name
    assert_well_formed(result, rounds=1)
    assert result.goal == CLIENT_GOAL
    assert result.calls is not None
    assert result.units == units
    assert any(line.startswith(f"[{name}] round 1/1") for line in lines)


def test_deploy_row_runs_or_is_skipped_with_a_reason(moto_server: EmbeddedEndpoint) -> None:
    """With an AWS CLI both deploys create the stack; without one the row says why it was skipped."""
    (result,) = run(TINY, ["deploy"], aws_cli=find_aws_cli(None), endpoint=moto_server, report=lambda _: None)
    assert result.goal == DEPLOY_GOAL
    if find_aws_cli(None) is None:
        assert result.skipped and "AWS CLI" in result.skipped
        return
    assert_well_formed(result, rounds=1)
    assert any(note.startswith("requests of one run, AWS CLI: ") and "ExecuteChangeSet 1" in note for note in result.notes)


def test_missing_aws_cli_skips_the_deploy_row(moto_server: EmbeddedEndpoint, tmp_path: Path) -> None:
    """A path that is not an executable is reported, not run."""
    (result,) = run(TINY, ["deploy"], aws_cli=str(tmp_path / "no-aws"), endpoint=moto_server, report=lambda _: None)
    assert result.skipped and "not an executable" in result.skipped
    assert result.project_samples == result.baseline_samples == []


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


def test_cli_rejects_an_unknown_row(capsys: pytest.CaptureFixture[str]) -> None:
    """--only accepts only the row names."""
    with pytest.raises(SystemExit) as exit_info:
        main(["--only", "everything"])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert all(name in error for name in ROW_NAMES)
