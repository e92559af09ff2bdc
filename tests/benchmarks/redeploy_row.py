"""The repeated-deploy row: deploying a template that has not changed since the last deploy.

The everyday case (a pipeline deploying on every commit, most of which do not touch
the template). The stack exists and matches the template; the project's command
finds its lint result in the lint cache (filled by the set-up's deploy), sees no
change and still verifies the table and tests the connection; the AWS CLI creates a
change set and reports there is nothing to deploy.
"""

from __future__ import annotations

import subprocess

from .deploy_row import STACK, Deploy
from .harness import REDEPLOY_GOAL, BenchmarkError, Sample

# What the AWS CLI says of an empty change set: moto refuses it at CreateChangeSet (the
# first), AWS creates it FAILED and the CLI reports the second (exit 0 with the flag).
_NOTHING_TO_DEPLOY = ("No updates are to be performed", "No changes to deploy")


def _nothing_to_deploy(completed: subprocess.CompletedProcess[str]) -> bool:
    return any(text in completed.stdout + completed.stderr for text in _NOTHING_TO_DEPLOY)


class DeployUnchanged(Deploy):
    """Deploy the template the stack already has, command to completion, with a warm lint cache."""

    name = "deploy-unchanged"
    title = "deploy, unchanged template"
    goal = REDEPLOY_GOAL

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.project = f"{self.project}, stack up to date, lint result cached by an earlier deploy"
        self.baseline = f"{self.baseline} `--no-fail-on-empty-changeset`, stack up to date"

    def baseline_command(self, url: str) -> list[str]:
        """The AWS CLI's deploy, told that nothing to deploy is success (as a pipeline would)."""
        return [*super().baseline_command(url), "--no-fail-on-empty-changeset"]

    def setup(self) -> None:
        """Create the stack with the project's command (this also fills the lint cache)."""
        super().run_project()

    def warm_up(self) -> None:
        """One run each (bytecode caches)."""
        self.run_project()
        self.run_baseline()

    def _check_unchanged(self, what: str) -> None:
        status = self.bench.admin("cloudformation").describe_stacks(StackName=STACK)["Stacks"][0]["StackStatus"]
        if status != "CREATE_COMPLETE":
            raise BenchmarkError(f"after {what} the stack is {status}: it was changed")

    def run_project(self) -> Sample:
        """Time the project's command on the up-to-date stack (no reset, lint cache kept)."""
        completed, sample = self.bench.run_subprocess(self.project_command(self.bench.url), "the project's redeploy")
        if "No changes" not in completed.stdout:
            raise BenchmarkError(f"the project's redeploy changed something: {completed.stdout[-500:]}")
        self._check_unchanged("the project's redeploy")
        return sample

    def run_baseline(self) -> Sample:
        """Time the AWS CLI's command on the up-to-date stack."""
        completed, sample = self.bench.run_subprocess(
            self.baseline_command(self.bench.url), "aws cloudformation deploy (unchanged)", accept=_nothing_to_deploy
        )
        if not _nothing_to_deploy(completed):
            raise BenchmarkError(f"the AWS CLI's redeploy changed something: {completed.stdout[-500:]}")
        self._check_unchanged("the AWS CLI's redeploy")
        return sample

    def notes(self) -> list[str]:
        """Requests per command; what each tool does beyond the change set."""
        notes = [
            "times are the wall time of each command's process, including interpreter start-up and imports",
            "the project imports no cfn-lint here (lint result from the cache, keyed by the template's text, "
            "cfn-lint's version and configuration); it still verifies the table and tests the connection",
            "moto refuses an empty change set at CreateChangeSet (AWS creates it and marks it FAILED), so the AWS "
            "CLI exits 255 with 'No updates are to be performed' here; that outcome is accepted as its success",
        ]
        if not self.bench.sizes.diagnostics:
            return notes
        project = self._requests(self.project_command(self.bench.url), "project redeploy", reset=False)
        baseline = self._requests(
            self.baseline_command(self.bench.url), "AWS CLI redeploy", _nothing_to_deploy, reset=False
        )
        return [*notes, f"requests of one run, project: {project}", f"requests of one run, AWS CLI: {baseline}"]
