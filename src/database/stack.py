"""Deploy, inspect, recover and delete the VibeDigest CloudFormation stack.

Roles:
- ``StackDeployer.deploy``: lint-clean template -> change set (the preview) ->
  execute -> stream stack events -> wait for a final status and an ACTIVE table.
  Polls early and often (0.25 s, backing off to 2 s), never boto3's 30 s waiter,
  and gives up clearly after ``timeout`` seconds.
- ``StackDeployer.recover``: gets a stack out of ``ROLLBACK_COMPLETE`` (delete, then
  redeploy) or ``UPDATE_ROLLBACK_FAILED`` (continue the rollback).
- ``StackDeployer.delete``: deletes the stack; the table is retained by the template.

Progress goes to ``report`` (one line per call) so the CLI prints it and tests read it.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from botocore.client import BaseClient
from botocore.exceptions import ClientError

from .aws_call import call_aws
from .errors import DeploymentError, ServiceError, StackNeedsRecoveryError
from .template import Template

logger = logging.getLogger(__name__)

Report = Callable[[str], None]

IN_PROGRESS_SUFFIX = "_IN_PROGRESS"
SUCCESS_STATES = frozenset({"CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE"})
NEEDS_DELETE_STATES = frozenset({"ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "CREATE_FAILED", "DELETE_FAILED"})
NEEDS_CONTINUE_STATES = frozenset({"UPDATE_ROLLBACK_FAILED"})
NO_CHANGES_MARKERS = ("didn't contain changes", "No updates are to be performed", "submitted information didn't contain")
OPERATION_STARTS = frozenset({"CREATE_IN_PROGRESS", "UPDATE_IN_PROGRESS", "DELETE_IN_PROGRESS"})
DEFAULT_TIMEOUT = 120.0


@dataclass
class ChangeSummary:
    """One row of a change set preview."""

    action: str
    logical_id: str
    resource_type: str
    replacement: str = ""

    def __str__(self) -> str:
        replacement = f" (replacement: {self.replacement})" if self.replacement else ""
        return f"{self.action:<7} {self.logical_id} [{self.resource_type}]{replacement}"


@dataclass
class DeployResult:
    """What a deploy did: the stack's final status and the previewed changes."""

    stack_name: str
    status: str
    changes: list[ChangeSummary] = field(default_factory=list)
    executed: bool = False
    outputs: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0


def recovery_command(environment: str) -> str:
    """The CLI command that recovers a failed stack of ``environment``."""
    return f"python -m src.database recover --env {environment}"


def _poll_delays(first: float = 0.25, factor: float = 1.5, ceiling: float = 2.0) -> Iterator[float]:
    delay = first
    while True:
        yield delay
        delay = min(delay * factor, ceiling)


class StackDeployer:
    """Runs the stack lifecycle of one environment on a CloudFormation client."""

    def __init__(
        self,
        cloudformation: BaseClient,
        dynamodb: BaseClient,
        *,
        report: Report = print,
        timeout: float = DEFAULT_TIMEOUT,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._cf = cloudformation
        self._ddb = dynamodb
        self._report = report
        self._timeout = timeout
        self._sleep = sleep
        self._clock = clock  # injectable with ``sleep`` so tests can run the deadline without waiting

    # -- public surface -------------------------------------------------------------

    def stack_status(self, stack_name: str) -> str | None:
        """Return the stack's status, or None when no such stack exists."""
        stack = self._describe_stack(stack_name)
        return stack["StackStatus"] if stack else None

    def deploy(
        self,
        template: Template,
        *,
        stack_name: str,
        environment: str,
        table_name: str,
        tags: dict[str, str],
        execute: bool = True,
    ) -> DeployResult:
        """Create or update the stack through a change set; ``execute=False`` only previews."""
        started = self._clock()
        status = self.stack_status(stack_name)
        self._refuse_unusable(stack_name, status, environment)
        change_set_type = "CREATE" if status in (None, "REVIEW_IN_PROGRESS") else "UPDATE"
        self._report(f"Stack {stack_name}: {status or 'does not exist yet'}; creating a {change_set_type} change set")
        change_set = self._create_change_set(template, stack_name, environment, tags, change_set_type)
        if change_set is None:
            self._report("No changes: the stack already matches the template.")
            # the outputs still matter: verification compares them even when nothing changed
            return DeployResult(
                stack_name, status or "", outputs=self._outputs(stack_name), seconds=self._clock() - started
            )
        changes = [self._summarize(c) for c in change_set.get("Changes", []) if c.get("Type") == "Resource"]
        self._report(f"Change set {change_set['ChangeSetName']}: {len(changes)} change(s)")
        for change in changes:
            self._report(f"  {change}")
        if not execute:
            self._discard(stack_name, change_set, created_stack=change_set_type == "CREATE" and status is None)
            self._report("Dry run: nothing was changed.")
            return DeployResult(stack_name, status or "", changes=changes, seconds=self._clock() - started)
        seen = set(self._event_ids(stack_name))
        self._call("ExecuteChangeSet", StackName=stack_name, ChangeSetName=change_set["ChangeSetId"])
        final = self._wait_for_stack(stack_name, started, environment, seen)
        self._wait_for_table(table_name, started)
        outputs = self._outputs(stack_name)
        seconds = self._clock() - started
        self._report(f"Stack {stack_name} is {final}; table {table_name} is ACTIVE ({seconds:.1f} s)")
        return DeployResult(stack_name, final, changes=changes, executed=True, outputs=outputs, seconds=seconds)

    def recover(self, stack_name: str, environment: str) -> str:
        """Bring a failed stack back to a deployable state; return what was done."""
        status = self.stack_status(stack_name)
        if status is None:
            return f"Stack {stack_name} does not exist; nothing to recover. Deploy with: python -m src.database deploy --env {environment}"
        if status in NEEDS_DELETE_STATES:
            self._report(f"Stack {stack_name} is {status}: deleting it so it can be deployed again")
            self.delete(stack_name)
            return f"Deleted {stack_name}. Deploy again with: python -m src.database deploy --env {environment}"
        if status in NEEDS_CONTINUE_STATES:
            self._report(f"Stack {stack_name} is {status}: continuing the update rollback")
            seen = set(self._event_ids(stack_name))  # before the call, so the rollback's own events are shown
            started = self._clock()
            self._call("ContinueUpdateRollback", StackName=stack_name)
            final = self._wait_for_stack(stack_name, started, environment, seen, expect_failure_ok=True)
            return f"Stack {stack_name} is {final}; the previous template is in place again."
        return f"Stack {stack_name} is {status}; nothing to recover."

    def delete(self, stack_name: str) -> None:
        """Delete the stack and wait until it is gone (the table itself is retained)."""
        if self._describe_stack(stack_name) is None:
            self._report(f"Stack {stack_name} does not exist; nothing to delete.")
            return
        self._call("DeleteStack", StackName=stack_name)
        started = self._clock()
        for delay in _poll_delays():
            stack = self._describe_stack(stack_name)
            status = stack["StackStatus"] if stack else "DELETE_COMPLETE"
            if status == "DELETE_COMPLETE":
                self._report(f"Stack {stack_name} deleted.")
                return
            if status == "DELETE_FAILED":
                raise DeploymentError(f"Deleting {stack_name} failed: {self._first_failure(stack_name)}")
            self._check_deadline(started, f"deleting {stack_name} (status {status})")
            self._sleep(delay)

    def failure_reason(self, stack_name: str) -> str:
        """The first failed resource of the stack's latest operation and its reason."""
        return self._first_failure(stack_name)

    # -- private helpers ------------------------------------------------------------

    def _call(self, operation: str, **params: Any) -> dict[str, Any]:
        return call_aws(self._cf, operation, **params)

    def _describe_stack(self, stack_name: str) -> dict[str, Any] | None:
        try:
            stacks = self._call("DescribeStacks", StackName=stack_name).get("Stacks", [])
        except ServiceError as error:
            if error.code == "ValidationError" and "does not exist" in error.aws_message:
                return None
            raise
        return stacks[0] if stacks else None

    def _outputs(self, stack_name: str) -> dict[str, str]:
        """The stack's outputs by key ({} when it has none or does not exist)."""
        stack = self._describe_stack(stack_name) or {}
        return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs") or []}

    def _refuse_unusable(self, stack_name: str, status: str | None, environment: str) -> None:
        if status in NEEDS_DELETE_STATES or status in NEEDS_CONTINUE_STATES:
            raise StackNeedsRecoveryError(
                f"Stack {stack_name} is {status} after a failed deployment "
                f"({self._first_failure(stack_name)}). Recover it (StackDeployer.recover), then deploy again."
            )
        if status and status.endswith(IN_PROGRESS_SUFFIX) and status != "REVIEW_IN_PROGRESS":
            raise DeploymentError(
                f"Stack {stack_name} is {status}: another operation is running. "
                "Wait for it to finish, then deploy again."
            )

    def _create_change_set(
        self, template: Template, stack_name: str, environment: str, tags: dict[str, str], change_set_type: str
    ) -> dict[str, Any] | None:
        name = f"vibedigest-{uuid.uuid4().hex[:12]}"
        try:
            created = self._call(
                "CreateChangeSet",
                StackName=stack_name,
                ChangeSetName=name,
                ChangeSetType=change_set_type,
                TemplateBody=template.body,
                Parameters=[{"ParameterKey": "Environment", "ParameterValue": environment}],
                Tags=[{"Key": k, "Value": v} for k, v in tags.items()],
                Description=f"VibeDigest {environment} deployment",
            )
        except ServiceError as error:
            if any(marker in error.aws_message for marker in NO_CHANGES_MARKERS):
                return None  # moto's answer to an empty change set
            raise
        started = self._clock()
        for delay in _poll_delays():
            described = self._call("DescribeChangeSet", StackName=stack_name, ChangeSetName=created["Id"])
            status = described["Status"]
            if status == "CREATE_COMPLETE":
                return described
            if status == "FAILED":
                reason = described.get("StatusReason", "")
                if any(marker in reason for marker in NO_CHANGES_MARKERS):
                    self._call("DeleteChangeSet", StackName=stack_name, ChangeSetName=created["Id"])
                    return None  # real CloudFormation's answer to an empty change set
                raise DeploymentError(f"The change set for {stack_name} failed: {reason or 'no reason given'}")
            self._check_deadline(started, f"creating the change set for {stack_name}")
            self._sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def _discard(self, stack_name: str, change_set: dict[str, Any], *, created_stack: bool) -> None:
        self._call("DeleteChangeSet", StackName=stack_name, ChangeSetName=change_set["ChangeSetId"])
        if created_stack:  # a CREATE change set leaves an empty REVIEW_IN_PROGRESS stack behind
            self._call("DeleteStack", StackName=stack_name)

    @staticmethod
    def _summarize(change: dict[str, Any]) -> ChangeSummary:
        resource = change.get("ResourceChange", {})
        return ChangeSummary(
            action=resource.get("Action", "?"),
            logical_id=resource.get("LogicalResourceId", "?"),
            resource_type=resource.get("ResourceType", "?"),
            replacement=resource.get("Replacement", "") if resource.get("Action") == "Modify" else "",
        )

    def _wait_for_stack(
        self, stack_name: str, started: float, environment: str, seen: set[str], *, expect_failure_ok: bool = False
    ) -> str:
        for delay in _poll_delays():
            self._report_new_events(stack_name, seen)
            status = self.stack_status(stack_name) or "DELETE_COMPLETE"
            if not status.endswith(IN_PROGRESS_SUFFIX):
                if status in SUCCESS_STATES or (expect_failure_ok and status == "UPDATE_ROLLBACK_COMPLETE"):
                    return status
                needs_recovery = status in NEEDS_DELETE_STATES | NEEDS_CONTINUE_STATES
                raise (StackNeedsRecoveryError if needs_recovery else DeploymentError)(
                    f"Stack {stack_name} ended {status}: {self._first_failure(stack_name)}. "
                    + (
                        "Recover it (StackDeployer.recover), then deploy again."
                        if needs_recovery
                        else "The previous version is still in place; fix the template and deploy again."
                    )
                )
            self._check_deadline(started, f"stack {stack_name} is still {status}")
            self._sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def _wait_for_table(self, table_name: str, started: float) -> None:
        for delay in _poll_delays():
            table = call_aws(self._ddb, "DescribeTable", table=table_name, TableName=table_name)["Table"]
            status = table["TableStatus"]
            if status == "ACTIVE":
                return
            self._check_deadline(started, f"table {table_name} is still {status}")
            self._sleep(delay)

    def _check_deadline(self, started: float, what: str) -> None:
        if self._clock() - started > self._timeout:
            raise DeploymentError(
                f"Gave up after {self._timeout:g} s: {what}. CloudFormation goes on in the background; "
                "check the stack's status and events, then deploy again or recover."
            )

    def _events(self, stack_name: str) -> list[dict[str, Any]]:
        try:
            return self._cf.describe_stack_events(StackName=stack_name)["StackEvents"]
        except ClientError:
            return []  # a deleted stack has no events to show

    def _event_ids(self, stack_name: str) -> list[str]:
        return [e["EventId"] for e in self._events(stack_name)]

    def _report_new_events(self, stack_name: str, seen: set[str]) -> None:
        for event in reversed(self._events(stack_name)):  # the API lists the newest first
            if event["EventId"] in seen:
                continue
            seen.add(event["EventId"])
            reason = f"  {event['ResourceStatusReason']}" if event.get("ResourceStatusReason") else ""
            self._report(
                f"  {event['Timestamp']:%H:%M:%S} {event['ResourceStatus']:<20} "
                f"{event['LogicalResourceId']} [{event.get('ResourceType', '')}]{reason}"
            )

    def _first_failure(self, stack_name: str) -> str:
        """The root cause of the latest operation: its oldest failed resource event."""
        failures: list[dict[str, Any]] = []
        for event in self._events(stack_name):  # newest first, back to the operation's start
            if event.get("ResourceStatus", "").endswith("_FAILED"):
                failures.append(event)
            if event["LogicalResourceId"] == stack_name and event.get("ResourceStatus") in OPERATION_STARTS:
                break
        resources = [e for e in failures if e["LogicalResourceId"] != stack_name] or failures
        if not resources:
            return "no failed resource reported"
        cause = resources[-1]
        return f"{cause['LogicalResourceId']}: {cause.get('ResourceStatusReason') or 'no reason given'}"
