"""The deploy row: ``python -m src.database deploy`` against ``aws cloudformation deploy``.

Both are commands run to completion in a fresh process, on the same endpoint,
with the moto server reset before each run so each one creates the stack. The
project's command also lints the template (cfn-lint) first and verifies the table
and tests the connection after; the AWS CLI only deploys. The notes add untimed
diagnostics: each command's requests per operation (through a counting proxy) and
the project's in-process ``load_template`` and ``StackDeployer.deploy`` times.
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from src.database.settings import stack_name_for, table_name_for
from src.database.stack import StackDeployer
from src.database.template import load_template
from tests.support.fault_proxy import FaultProxy

from .harness import DEPLOY_GOAL, REPO_ROOT, TEMPLATE_PATH, BenchmarkError, Row, Sample, format_stats

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
    """Create the stack from nothing, command to completion."""

    name = "deploy"
    title = "deploy"
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

    def _deploy(self, command: list[str], what: str) -> Sample:
        self.bench.reset()
        _, sample = self.bench.run_subprocess(command, what)
        status = self.bench.admin("cloudformation").describe_stacks(StackName=STACK)["Stacks"][0]["StackStatus"]
        if status != "CREATE_COMPLETE":
            raise BenchmarkError(f"after {what} the stack is {status}, not CREATE_COMPLETE")
        self.bench.admin("dynamodb").describe_table(TableName=TABLE)
        return Sample(seconds=sample.seconds, cpu=sample.cpu)

    def warm_up(self) -> None:
        """One run each (bytecode caches, cfn-lint's schema caches on disk, if any)."""
        self.run_project()
        self.run_baseline()

    def run_project(self) -> Sample:
        """Reset, then time the project's command (wall time of the process)."""
        return self._deploy(self.project_command(self.bench.url), "python -m src.database deploy")

    def run_baseline(self) -> Sample:
        """Reset, then time the AWS CLI's command (wall time of the process)."""
        return self._deploy(self.baseline_command(self.bench.url), "aws cloudformation deploy")

    def _requests(self, command: list[str], what: str) -> str:
        self.bench.reset()
        with FaultProxy(self.bench.url) as proxy:
            proxy_command = [part.replace(self.bench.url, proxy.url) for part in command]
            self.bench.run_subprocess(proxy_command, what)
            counts = proxy.requests_by_operation
        return ", ".join(f"{operation} {count}" for operation, count in sorted(counts.items()))

    def _in_process(self, runs: int) -> tuple[float, float]:
        """Median seconds of ``load_template`` and of ``StackDeployer.deploy`` in this process."""
        loads, deploys = [], []
        for _ in range(runs):
            self.bench.reset()
            started = time.perf_counter()
            template = load_template(TEMPLATE_PATH)
            loads.append(time.perf_counter() - started)
            target = self.bench.target()
            session = target.session()
            deployer = StackDeployer(
                target.client("cloudformation", session), target.client("dynamodb", session), report=lambda _: None
            )
            started = time.perf_counter()
            result = deployer.deploy(
                template, stack_name=STACK, environment=ENVIRONMENT, table_name=TABLE, tags={"Project": "VibeDigest"}
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
            "then sleeps 30 s between polls, its change-set waiter 5 s; the project's poll starts at 0.25 s)",
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
