"""The deploy rows: ``python -m src.database deploy`` against ``aws cloudformation deploy``.

Both are commands run to completion in a fresh process, on the same endpoint,
with the moto server reset before each run so each one creates the stack. The
project's command also lints the template (cfn-lint) first and verifies the table
and tests the connection after; the AWS CLI only deploys.

- ``Deploy`` ("deploy, instant emulator"): straight on moto, which completes the
  stack synchronously, so neither tool ever waits: the row measures each tool's
  fixed cost (start-up, imports, lint, requests). The notes add untimed diagnostics:
  each command's requests per operation (through a counting proxy) and the
  project's in-process ``load_template`` and ``StackDeployer.deploy`` times.
- ``DeploySlowStack`` ("deploy, stack takes N s"): through ``SlowStackProxy``, which
  reports the stack ``CREATE_IN_PROGRESS`` for N seconds after its execution starts,
  as a real stack would be. This measures what the goal is about: how soon after
  the stack completes each tool reports it (the AWS CLI's waiter polls every 30 s).
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

from src.database.deploy.deployer import StackDeployer
from src.database.deploy.stack_spec import StackSpec
from src.database.deploy.template import load_template
from src.database.settings import stack_name_for, table_name_for
from tests.support.fault_proxy import FaultProxy

from .harness import (
    DEPLOY_GOAL,
    REPO_ROOT,
    TEMPLATE_PATH,
    Bench,
    BenchmarkError,
    Row,
    Sample,
    format_stats,
)
from .slow_stack import SlowStackProxy

ENVIRONMENT = "dev"
STACK = stack_name_for(ENVIRONMENT)
TABLE = table_name_for(ENVIRONMENT)


def find_aws_cli(explicit: str | None) -> str | None:
    """The ``aws`` executable: ``--aws-cli``, else ``AWS_CLI``, else the first on PATH; None if none."""
    for candidate in (explicit, os.environ.get("AWS_CLI")):
        if candidate:
            return candidate
    return shutil.which("aws")


class Deploy(Row):
    """Create the stack from nothing, command to completion, on moto directly (no waiting)."""

    name = "deploy"
    title = "deploy, instant emulator"
    project = (
        f"`python -m src.database deploy --env {ENVIRONMENT} --endpoint-url URL` "
        "(lint, change set, execute, wait, verify, test_connection)"
    )
    baseline = (
        f"`aws cloudformation deploy --template-file infrastructure/dynamodb.yml --stack-name {STACK} "
        f"--parameter-overrides Environment={ENVIRONMENT} --endpoint-url URL`"
    )
    goal = DEPLOY_GOAL
    cpu_source = "child process"

    def unavailable(self) -> str | None:
        """Skipped without a runnable AWS CLI (give --aws-cli PATH or AWS_CLI)."""
        aws = self.bench.aws_cli
        if not aws:
            return "no AWS CLI found (pass --aws-cli PATH, set AWS_CLI, or put `aws` on PATH)"
        if not (Path(aws).is_file() and os.access(aws, os.X_OK)) and not shutil.which(aws):
            return f"AWS CLI {aws!r} is not an executable file"
        return None

    def project_command(self, url: str) -> list[str]:
        """The project's deploy command against ``url``."""
        return [sys.executable, "-m", "src.database", "deploy", "--env", ENVIRONMENT, "--endpoint-url", url]

    def baseline_command(self, url: str) -> list[str]:
        """The AWS CLI's deploy command against ``url``."""
        return [
            str(self.bench.aws_cli), "cloudformation", "deploy",
            "--template-file", str(TEMPLATE_PATH.relative_to(REPO_ROOT)),
            "--stack-name", STACK,
            "--parameter-overrides", f"Environment={ENVIRONMENT}",
            "--endpoint-url", url,
        ]

    def _check_created(self, what: str) -> None:
        """The stack is CREATE_COMPLETE and its table exists, asked of moto directly (untimed)."""
        status = self.bench.admin("cloudformation").describe_stacks(StackName=STACK)["Stacks"][0]["StackStatus"]
        if status != "CREATE_COMPLETE":
            raise BenchmarkError(f"after {what} the stack is {status}, not CREATE_COMPLETE")
        self.bench.admin("dynamodb").describe_table(TableName=TABLE)

    def _deploy(self, command: list[str], what: str) -> Sample:
        self.bench.reset()
        _, sample = self.bench.run_subprocess(command, what)
        self._check_created(what)
        return Sample(seconds=sample.seconds, cpu=sample.cpu)

    def warm_up(self) -> None:
        """One run each (bytecode caches, cfn-lint's schema caches on disk, if any)."""
        self.run_project()
        self.run_baseline()

    def run_project(self) -> Sample:
        """Reset and empty the lint cache (a first deploy), then time the project's command (wall time)."""
        shutil.rmtree(self.bench.cache_home, ignore_errors=True)
        return self._deploy(self.project_command(self.bench.url), "python -m src.database deploy")

    def run_baseline(self) -> Sample:
        """Reset, then time the AWS CLI's command (wall time of the process)."""
        return self._deploy(self.baseline_command(self.bench.url), "aws cloudformation deploy")

    def _requests(
        self,
        command: list[str],
        what: str,
        accept: Callable[[subprocess.CompletedProcess[str]], bool] | None = None,
        reset: bool = True,
    ) -> str:
        """Requests per operation of one run of ``command`` (through a counting proxy; after a reset)."""
        if reset:
            self.bench.reset()
        with FaultProxy(self.bench.url) as proxy:
            proxy_command = [part.replace(self.bench.url, proxy.url) for part in command]
            self.bench.run_subprocess(proxy_command, what, accept)
            counts = proxy.requests_by_operation
        return ", ".join(f"{operation} {count}" for operation, count in sorted(counts.items()))

    def _in_process(self, runs: int) -> tuple[float, float]:
        """Median seconds of ``load_template`` and of ``StackDeployer.deploy`` in this process."""
        loads, deploys = [], []
        for _ in range(runs):
            self.bench.reset()
            shutil.rmtree(self.bench.cache_home, ignore_errors=True)
            saved, os.environ["XDG_CACHE_HOME"] = os.environ.get("XDG_CACHE_HOME"), str(self.bench.cache_home)
            started = time.perf_counter()
            try:
                template = load_template(TEMPLATE_PATH)  # an empty lint cache: parse + cfn-lint
            finally:
                loads.append(time.perf_counter() - started)
                if saved is None:
                    del os.environ["XDG_CACHE_HOME"]
                else:
                    os.environ["XDG_CACHE_HOME"] = saved
            target = self.bench.target()
            session = target.session()
            deployer = StackDeployer(
                target.client("cloudformation", session), target.client("dynamodb", session), report=lambda _: None
            )
            started = time.perf_counter()
            result = deployer.deploy(
            StackSpec.of(template, stack_name=STACK, environment=ENVIRONMENT, table_name=TABLE, tags={"Project": "VibeDigest"})
        )
            deploys.append(time.perf_counter() - started)
            if result.status != "CREATE_COMPLETE":
                raise BenchmarkError(f"StackDeployer.deploy ended {result.status}")
        return statistics.median(loads), statistics.median(deploys)

    def notes(self) -> list[str]:
        """Requests per command, and where the project's time goes (untimed, separate runs)."""
        notes = [
            "times are the wall time of each command's process, including interpreter start-up and imports",
            "moto finishes change sets and stacks synchronously, so both tools' first status poll already sees "
            "CREATE_COMPLETE: neither sleeps (botocore waiters poll before sleeping; the AWS CLI's stack waiter "
            "then sleeps 30 s between polls, its change-set waiter 5 s; the project's poll starts at 0.25 s). "
            "This row therefore compares only the fixed costs; see the slow-stack row for the waiting",
        ]
        if not self.bench.sizes.diagnostics:
            return notes
        load, deploy = self._in_process(min(3, self.bench.sizes.rounds))
        return [
            *notes,
            f"requests of one run, project: {self._requests(self.project_command(self.bench.url), 'project deploy')}",
            f"requests of one run, AWS CLI: {self._requests(self.baseline_command(self.bench.url), 'AWS CLI deploy')}",
            f"in-process medians (separate runs, warm imports): load_template (parse + cfn-lint) "
            f"{load * 1000:.0f} ms, StackDeployer.deploy {deploy * 1000:.0f} ms",
        ]

    def call_counts(self) -> None:
        """Not counted: the AWS CLI runs in its own interpreter; the notes break the time down instead."""
        return None

    def profile_project(self, top: int) -> str:
        """cProfile the project's deploy command (saved to a file, read back here)."""
        self.bench.reset()
        with tempfile.TemporaryDirectory() as directory:
            output = Path(directory) / "deploy.prof"
            command = self.project_command(self.bench.url)
            self.bench.run_subprocess(
                [command[0], "-m", "cProfile", "-o", str(output), *command[1:]], "the profiled deploy"
            )
            return format_stats(str(output), top)


# The AWS CLI v1's waiter settings (awscli/customizations/cloudformation/deployer.py), for the notes.
AWS_CLI_STACK_DELAY = 30
AWS_CLI_CHANGE_SET_DELAY = 5


class DeploySlowStack(Deploy):
    """Create the stack through ``SlowStackProxy``: the stack completes ``stack_seconds`` after its execution."""

    name = "deploy-slow"

    def __init__(self, bench: Bench) -> None:
        super().__init__(bench)
        seconds = bench.sizes.stack_seconds
        self.title = f"deploy, stack takes {seconds:g} s"
        self.project = (
            f"`python -m src.database deploy --env {ENVIRONMENT} --endpoint-url PROXY` (as in the row above), "
            f"through a proxy that reports the stack CREATE_IN_PROGRESS until {seconds:g} s after ExecuteChangeSet"
        )
        self.baseline = "`aws cloudformation deploy ... --endpoint-url PROXY` (as in the row above), same proxy"
        self.proxy: SlowStackProxy | None = None
        self._lags: dict[str, list[float]] = {"project": [], "baseline": []}
        self._requests: dict[str, dict[str, int]] = {}

    def setup(self) -> None:
        """Start the proxy in front of the moto server."""
        self.proxy = SlowStackProxy(self.bench.url, self.bench.sizes.stack_seconds).start()

    def warm_up(self) -> None:
        """One run each straight on moto (bytecode caches); waiting on the slow stack warms nothing."""
        super().run_project()
        super().run_baseline()

    def _slow_deploy(self, command: Callable[[str], list[str]], what: str, side: str) -> Sample:
        proxy = self.proxy
        if proxy is None:
            raise BenchmarkError("the slow-stack proxy is not running (setup() was not called)")
        self.bench.reset()
        proxy.rearm()
        before = proxy.requests_by_operation
        _, sample = self.bench.run_subprocess(command(proxy.url), what)
        ended = time.monotonic()  # the clock the proxy uses
        self._check_created(what)
        completes_at = proxy.completes_at
        if completes_at is None or proxy.held_back == 0:
            raise BenchmarkError(f"{what} never saw the stack in progress (the proxy held back no answer)")
        if ended < completes_at:
            raise BenchmarkError(f"{what} ended {completes_at - ended:.1f} s before the stack completed")
        self._lags[side].append(ended - completes_at)
        after = proxy.requests_by_operation
        self._requests[side] = {op: after[op] - before.get(op, 0) for op in after if after[op] != before.get(op, 0)}
        return Sample(seconds=sample.seconds, cpu=sample.cpu)

    def run_project(self) -> Sample:
        """Reset, then time the project's command through the proxy (wall time), its lint cache empty."""
        shutil.rmtree(self.bench.cache_home, ignore_errors=True)
        return self._slow_deploy(self.project_command, "python -m src.database deploy", "project")

    def run_baseline(self) -> Sample:
        """Reset, then time the AWS CLI's command through the proxy (wall time of the process)."""
        return self._slow_deploy(self.baseline_command, "aws cloudformation deploy", "baseline")

    def notes(self) -> list[str]:
        """How long after the stack completed each tool reported it, its requests, and the waiters."""
        seconds = self.bench.sizes.stack_seconds
        notes = [
            f"the stack completes {seconds:g} s after the proxy forwards ExecuteChangeSet; times are the wall time "
            "of each command's process, including start-up, lint (project) and the change set",
        ]
        lags = {side: values for side, values in self._lags.items() if values}
        if len(lags) == 2:
            notes.append(
                "process end after the stack completed (median, the waiting that polling adds): "
                f"project {statistics.median(lags['project']):.2f} s, AWS CLI {statistics.median(lags['baseline']):.2f} s"
            )
        for side, label in (("project", "project"), ("baseline", "AWS CLI")):
            if side in self._requests:
                counts = ", ".join(f"{op} {n}" for op, n in sorted(self._requests[side].items()))
                notes.append(f"requests of the last run, {label}: {counts}")
        notes.append(
            f"waiters: the AWS CLI polls DescribeStacks at once, then every {AWS_CLI_STACK_DELAY} s "
            "(botocore's StackCreateComplete waiter, Delay 30 s, set again by awscli's deployer), so it reports a "
            f"stack of T s after about {AWS_CLI_STACK_DELAY} x ceil(T/{AWS_CLI_STACK_DELAY}) s; the project polls "
            "after 0.25 s, then backs off x1.5 to every 2 s, so it reports within about 2 s of completion"
        )
        notes.append(
            "not simulated: on AWS the change set also takes a few seconds, so the AWS CLI's change-set waiter "
            f"(first poll at once, then every {AWS_CLI_CHANGE_SET_DELAY} s) usually adds {AWS_CLI_CHANGE_SET_DELAY} s "
            "more, while the project polls the change set from 0.25 s"
        )
        return notes

    def profile_project(self, top: int) -> str:
        """Not profiled: the project's time here is mostly waiting; see the instant-emulator row."""
        return "(not profiled: this row is mostly waiting for the stack; profile the 'deploy' row instead)"

    def teardown(self) -> None:
        """Stop the proxy."""
        if self.proxy is not None:
            self.proxy.stop()
            self.proxy = None
