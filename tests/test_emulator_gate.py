"""The gate on emulators nobody here wrote: the declared gaps, their skips, and the runner's emulators.

The runs themselves (MiniStack and plain moto_server, every scenario) are in the test
command; these tests check what a green run cannot show: each declared gap names real
scenarios, real checks and an existing line of the pinned emulator's source; its reason
reaches the console and the JUnit XML; nothing is skipped without ``-D emulator``; and
the emulator is stopped however the run ends (Ctrl-C included).
"""

from __future__ import annotations

import importlib.util
import os
import re
import signal
import socket
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from xml.etree import ElementTree

import pytest
from behave.parser import parse_file

from src.database.deploy.template import expected_table, load_template
from tests.support.backends import (
    DRIFT_REVERTED,
    EMULATORS,
    GAPS,
    BackendError,
    Gap,
    gap_reason,
    open_backend,
    step_texts,
)
from tests.support.emulators import Emulator
from tests.support.endpoints import ROOT, _default_sigint, child_environment, unmeasured
from tests.support.gap_check import declared_scenarios, unmet_gaps
from tests.support.junit_skips import annotate_skips

SOURCE_LINE = re.compile(r"(?:(?P<file>[\w/]+\.py))?:(?P<line>\d+)(?: \((?P<function>[\w.]+)\))?")
DEF_LINE = re.compile(r"\s*(?:async )?def (\w+)")
VERIFY_CHECKS = {"table name", "status", "key schema", "attribute types", "billing mode", "tags",
                 "deletion protection", "point-in-time recovery", "encryption", "outputs"}


def scenario_names() -> set[str]:
    """Every scenario name of features/ (outline rows by their outline's name)."""
    return {scenario.name for path in (ROOT / "features").glob("*.feature") for scenario in parse_file(str(path)).scenarios}


def site_packages(emulator: str) -> Path | None:
    """Where the emulator's installed source is: moto in this environment, MiniStack in its own venv."""
    if emulator == "moto_server":
        spec = importlib.util.find_spec("moto")
        return Path(spec.origin).parents[1] if spec and spec.origin else None
    executable = os.environ.get("MINISTACK")
    if not executable:
        return None
    found = sorted(Path(executable).resolve().parents[1].glob("lib/python3*/site-packages"))
    return found[0] if found else None


def source_lines(gap: Gap) -> list[tuple[str, int, str | None]]:
    """The (file, line, function) of each place in ``gap.source``; ``:N`` alone is in the file named before it."""
    places, current = [], ""
    for match in SOURCE_LINE.finditer(gap.source):
        current = match.group("file") or current
        places.append((current, int(match.group("line")), match.group("function")))
    return places


def enclosing_function(lines: list[str], line: int) -> str | None:
    """The name of the nearest ``def`` at or above 1-based ``line``."""
    for text in reversed(lines[:line]):
        if found := DEF_LINE.match(text):
            return found.group(1)
    return None


ALL_GAPS = [pytest.param(name, gap, id=f"{name}-{i}") for name, gaps in GAPS.items() for i, gap in enumerate(gaps)]


@pytest.mark.parametrize(("emulator", "gap"), ALL_GAPS)
def test_a_declared_gap_names_real_scenarios_and_checks(emulator: str, gap: Gap) -> None:
    assert emulator in EMULATORS
    assert gap.scenarios and set(gap.scenarios) <= scenario_names(), set(gap.scenarios) - scenario_names()
    assert set(gap.checks) <= VERIFY_CHECKS
    assert gap_reason(emulator, gap).startswith(f"not supported by {EMULATORS[emulator]}: ")


@pytest.mark.parametrize(("emulator", "gap"), ALL_GAPS)
def test_a_declared_gap_points_at_an_existing_line_of_the_emulators_source(emulator: str, gap: Gap) -> None:
    root = site_packages(emulator)
    if root is None:
        pytest.skip(f"{emulator}'s source is not installed here (MINISTACK names MiniStack's executable)")
    places = source_lines(gap)
    assert places, gap.source
    for file, line, function in places:
        path = root / file
        assert path.is_file(), path
        lines = path.read_text().splitlines()
        assert len(lines) >= line, f"{path} has no line {line}"
        if function:  # "file:N (name)": line N is in function name (a method as Class.name)
            assert enclosing_function(lines, line) == function.split(".")[-1], f"{path}:{line} is not in {function}"


def test_the_declared_checks_are_the_ones_the_emulators_deploy_reports_as_mismatch() -> None:
    """The template sets what those checks compare (a gap of a check the template does not use is no gap)."""
    expected = expected_table(load_template(), "dev")
    assert expected.point_in_time_recovery and expected.sse_enabled
    assert {check for gaps in GAPS.values() for gap in gaps for check in gap.checks} == {
        "point-in-time recovery", "encryption", "outputs"}


def test_a_gap_skips_its_scenarios_with_its_reason_only_where_that_emulator_is_named() -> None:
    with ExitStack() as resources:
        ministack = open_backend({"target": "localstack", "endpoint_url": "http://127.0.0.1:9", "emulator": "ministack"},
                                 resources)
        plain = open_backend({"endpoint_url": "http://127.0.0.1:9", "emulator": "moto_server"}, resources)
        unnamed = open_backend({"endpoint_url": "http://127.0.0.1:9"}, resources)
    (gap, *_) = GAPS["ministack"]
    scenario = gap.scenarios[0]
    assert ministack.name == "MiniStack 1.5.33"
    assert ministack.skip_reason(set(), [], scenario) == gap_reason("ministack", gap)
    assert ministack.skip_reason(set(), [], "A day's digest is stored and read back unchanged, in order") is None
    assert unnamed.skip_reason(set(), [], scenario) is None  # serve, LocalStack: nothing declared, nothing skipped
    assert plain.skip_reason(set(), [], "An interrupted first deploy is cleaned up by recover") is not None
    assert ministack.skip_reason(set(), [], "An interrupted first deploy is cleaned up by recover") is None


@pytest.mark.parametrize(
    ("userdata", "message"),
    [
        ({"endpoint_url": "http://127.0.0.1:9", "emulator": "dynalite"}, "choose one of ministack, moto_server"),
        ({"emulator": "ministack"}, "goes with -D target=localstack or -D endpoint_url=URL"),
        ({"target": "aws", "env": "dev", "emulator": "moto_server"}, "goes with"),
    ],
)
def test_an_emulator_the_gate_does_not_know_or_cannot_reach_is_refused(userdata: dict[str, str], message: str) -> None:
    with ExitStack() as resources, pytest.raises(BackendError, match=message):
        open_backend(userdata, resources)


def test_the_skip_reason_reaches_the_console_and_the_junit_xml(tmp_path: Path) -> None:
    """The real gate, one declared scenario selected: it is skipped before it sends a request."""
    name = "An interrupted first deploy is cleaned up by recover"
    (gap,) = [gap for gap in GAPS["moto_server"] if name in gap.scenarios]
    done = subprocess.run(
        [sys.executable, "-m", "tests.support.run_gate", "--reports", str(tmp_path), "--format", "progress",
         "-D", "endpoint_url=http://127.0.0.1:9", "-D", "emulator=moto_server", "--name", name,
         "features/lifecycle.feature"],
        cwd=ROOT, env=unmeasured(child_environment()), capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"  - {name}: {gap_reason('moto_server', gap)}" in done.stdout
    (junit,) = (tmp_path / "junit").glob("TESTS-*.xml")
    (case,) = [case for case in ElementTree.parse(junit).getroot().iter("testcase") if case.get("name") == name]
    skipped = case.find("skipped")
    assert skipped is not None and skipped.get("message") == gap_reason("moto_server", gap)


def test_annotate_skips_leaves_other_test_cases_alone(tmp_path: Path) -> None:
    (tmp_path / "TESTS-x.xml").write_text(
        '<testsuite><testcase name="a"><skipped /></testcase><testcase name="b"><skipped /></testcase>'
        '<testcase name="c" /></testsuite>')
    assert annotate_skips(tmp_path, {"a": "why", "c": "never"}) == 1
    cases = {case.get("name"): case.find("skipped") for case in ElementTree.parse(tmp_path / "TESTS-x.xml").iter("testcase")}
    assert cases["a"] is not None and cases["a"].get("message") == "why"
    assert cases["b"] is not None and cases["b"].get("message") is None
    assert cases["c"] is None


def answers(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def test_an_emulator_is_stopped_when_the_run_inside_it_fails(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="the run failed"), Emulator("moto_server", tmp_path / "log") as emulator:
        assert answers(emulator.port)
        raise RuntimeError("the run failed")
    assert emulator.process.poll() is not None and not answers(emulator.port)
    assert emulator.stop() == emulator.process.returncode  # a second stop is harmless


@pytest.mark.skipif(not os.environ.get("MINISTACK"), reason="MINISTACK names MiniStack's executable (tox sets it)")
def test_ministack_answers_on_its_own_free_port_and_is_stopped(tmp_path: Path) -> None:
    with Emulator("ministack", tmp_path / "log") as emulator:
        assert answers(emulator.port) and emulator.host == f"127.0.0.1:{emulator.port}"
    assert emulator.process.poll() is not None and not answers(emulator.port)


def test_an_emulator_that_cannot_start_is_one_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MINISTACK", str(tmp_path / "no-such-ministack"))
    with pytest.raises(RuntimeError, match="cannot start ministack"):
        Emulator("ministack", tmp_path / "log")


@pytest.mark.long
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL], ids=["ctrl-c", "term", "kill"])
def test_an_interrupted_or_killed_gate_leaves_no_emulator_behind(tmp_path: Path, signum: int) -> None:
    """Ctrl-C and SIGTERM unwind the gate, which stops it; after a SIGKILL the kernel does (PR_SET_PDEATHSIG)."""
    gate = subprocess.Popen(
        [sys.executable, "-m", "tests.support.run_gate", "--emulator", "moto_server", "--reports", str(tmp_path),
         "--format", "progress"],
        cwd=ROOT, env=unmeasured(child_environment()), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        preexec_fn=_default_sigint,  # noqa: PLW1509 - this test starts no thread
    )
    try:
        assert gate.stdout is not None
        first = gate.stdout.readline()
        match = re.search(r"at http://127\.0\.0\.1:(\d+)", first)
        assert match, first
        port = int(match.group(1))
        assert answers(port)
        gate.send_signal(signum)
        gate.wait(timeout=30)
    finally:
        if gate.poll() is None:
            gate.kill()
            gate.wait()
    assert gate.returncode != 0
    deadline = time.monotonic() + 10  # the kernel's signal and the emulator's own exit take a moment
    while answers(port) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not answers(port), "the emulator outlived the interrupted gate"


def readme_counts() -> dict[str, tuple[int, int]]:
    """The README's backend table: first cell's first word -> (passed or run, skipped)."""
    rows = {}
    for line in (ROOT / "README.md").read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 4 and re.match(r"\d+", cells[1]) and re.match(r"\d+", cells[2]):
            rows[cells[0].split()[0].strip("`")] = (int(cells[1].split()[0]), int(cells[2].split(":")[0]))
    return rows


def test_the_readme_says_how_many_scenarios_each_backend_passes_and_skips() -> None:
    with ExitStack() as resources:
        aws = open_backend({"target": "aws", "env": "staging"}, resources)
    scenarios = [s for path in sorted((ROOT / "features").glob("*.feature")) for s in parse_file(str(path)).walk_scenarios()]
    on_aws = sum(aws.skip_reason(set(s.effective_tags), step_texts(s), s.name) is not None for s in scenarios)
    declared = {name: len({scenario for gap in gaps for scenario in gap.scenarios}) for name, gaps in GAPS.items()}
    total = len(scenarios)
    assert readme_counts() == {
        "embedded": (total, 0), "serve": (total, 0), "LocalStack": (total, 0), "AWS": (total - on_aws, on_aws),
        "MiniStack": (total - declared["ministack"], declared["ministack"]),
        "plain": (total - declared["moto_server"], declared["moto_server"]),
    }


@pytest.mark.long
def test_a_declared_gap_that_is_no_gap_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """On the project's own endpoint MiniStack's gaps do not hold: every scenario they name passes, and is named."""
    for variable, value in child_environment().items():
        monkeypatch.setenv(variable, value)
    for variable in ("COVERAGE_PROCESS_CONFIG", "COVERAGE_PROCESS_START"):  # see endpoints.unmeasured
        monkeypatch.delenv(variable, raising=False)
    unmet = unmet_gaps("ministack", [], tmp_path)
    assert [line.split(":")[0] for line in unmet] == declared_scenarios("ministack")
    assert all(line.endswith("passed on MiniStack 1.5.33, yet declared as a gap") for line in unmet), unmet


def test_a_racy_gap_is_not_run_again() -> None:
    racy = {scenario for gap in GAPS["moto_server"] if gap.racy for scenario in gap.scenarios}
    assert racy and not racy & set(declared_scenarios("moto_server"))


def test_a_scenario_two_gaps_make_fail_names_both() -> None:
    with ExitStack() as resources:
        ministack = open_backend({"target": "localstack", "endpoint_url": "http://127.0.0.1:9", "emulator": "ministack"},
                                 resources)
    both = [gap for gap in GAPS["ministack"] if DRIFT_REVERTED in gap.scenarios]
    assert len(both) == 2
    reason = ministack.skip_reason(set(), [], DRIFT_REVERTED)
    assert reason == gap_reason("ministack", *both) and all(gap.source in (reason or "") for gap in both)
