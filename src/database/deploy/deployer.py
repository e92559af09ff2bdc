"""Deploy, inspect, recover and delete the VibeDigest CloudFormation stack.

Roles:
- ``StackDeployer.deploy``: lint-clean template -> change set (the preview) ->
  execute -> stream stack events -> wait for a final status and an ACTIVE table.
  Polls early and often (0.25 s, backing off to 2 s), never boto3's 30 s waiter,
  and gives up clearly after ``timeout`` seconds.
  A table retained by an earlier delete is adopted first (``adoption``: an IMPORT
  change set, then the update); a change that would replace the table, or a second
  deploy of the same stack running at once, is refused before anything changes
  (``change_review``). Updates are drift-aware change sets (``drift``): settings
  changed outside CloudFormation are brought back to the template's. Every wait
  of an operation shares one deadline: ``timeout`` seconds per public operation,
  or, given a ``Deadline`` (the CLI's ``--timeout``), that one for every operation,
  bound to both clients so their calls end by it too.
- ``StackDeployer.recover``: gets a stack out of ``ROLLBACK_COMPLETE`` (delete, then
  redeploy), ``UPDATE_ROLLBACK_FAILED`` (continue the rollback) or
  ``REVIEW_IN_PROGRESS`` left by an interrupted first deploy (delete the empty stack).
- ``StackDeployer.delete``: deletes the stack; the table is retained by the template.
- ``StackDeployer.describe``: status, recent events, outputs and exports (read-only).

Progress goes to ``report`` (one line per call) so the CLI prints it and tests read it.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from botocore.client import BaseClient

from ..aws.aws_call import call_aws
from ..aws.deadline import Deadline
from ..errors import DeploymentError, ServiceError, StackNeedsRecoveryError
from .change_review import ChangeSummary, replacement_refusal
from .deploy_steps import DeploySteps
from .drift import IGNORED, REFUSED, REVERT_DRIFT, refuses_drift_mode
from .stack_reading import StackDescription, event_line, exports_of, first_failure, stack_events
from .template import Template

logger = logging.getLogger(__name__)

Report = Callable[[str], None]

IN_PROGRESS_SUFFIX = "_IN_PROGRESS"
SUCCESS_STATES = frozenset({"CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE"})
NEEDS_DELETE_STATES = frozenset({"ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "CREATE_FAILED", "DELETE_FAILED"})
NEEDS_CONTINUE_STATES = frozenset({"UPDATE_ROLLBACK_FAILED"})
NO_CHANGES_MARKERS = (
    "didn't contain changes", "No updates are to be performed", "submitted information didn't contain"
)
DEFAULT_TIMEOUT = 120.0


@dataclass
class DeployResult:
    """What a deploy did: the stack's final status and the previewed changes.

    ``refusal``: for a preview (``execute=False``), why the deploy itself would be
    refused (e.g. the change replaces the table); None when it would go through.
    """

    stack_name: str
    status: str
    changes: list[ChangeSummary] = field(default_factory=list)
    executed: bool = False
    outputs: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    refusal: str | None = None


@dataclass(frozen=True)
class Recovery:
    """What ``recover`` did (``message``) and whether a deploy can follow now (``deployable``)."""

    message: str
    deployable: bool

    def __str__(self) -> str:
        return self.message


def _poll_delays(first: float = 0.25, factor: float = 1.5, ceiling: float = 2.0) -> Iterator[float]:
    delay = first
    while True:
        yield delay
        delay = min(delay * factor, ceiling)


class StackDeployer(DeploySteps):
    """Runs the stack lifecycle of one environment on a CloudFormation client."""

    def __init__(
        self,
        cloudformation: BaseClient,
        dynamodb: BaseClient,
        *,
        report: Report = print,
        timeout: float | Deadline = DEFAULT_TIMEOUT,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        revert_drift: bool = True,
    ) -> None:
        """``revert_drift``: make updates drift-aware change sets (``drift``); False for plain ones."""
        self._cf = cloudformation
        self._ddb = dynamodb
        self._report = report
        self._timeout = timeout
        if isinstance(timeout, Deadline):  # the caller's deadline: the clients' calls end by it too
            timeout.bind(cloudformation)
            timeout.bind(dynamodb)
        self._sleep = sleep
        self._clock = clock  # injectable with ``sleep`` so tests can run the deadline without waiting
        self._revert_drift = revert_drift  # turned off for the rest of the run by an endpoint that refuses it
        self._op_started: float | None = None  # when the running public operation began
        self._op_deadline: Deadline | None = None  # and the deadline all its waits share

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
        with self._operation():
            return self._deploy(template, stack_name, environment, table_name, tags, execute)

    def _deploy(
        self,
        template: Template,
        stack_name: str,
        environment: str,
        table_name: str,
        tags: dict[str, str],
        execute: bool,
    ) -> DeployResult:
        started = self._origin()
        status = self.stack_status(stack_name)
        self._refuse_unusable(stack_name, status, environment)
        self._refuse_competing(stack_name, None)
        if status in (None, "REVIEW_IN_PROGRESS"):
            status, preview = self._adopt_retained(template, stack_name, environment, table_name, status, execute)
            if preview is not None:  # a dry run that found a retained table to import
                return DeployResult(stack_name, status or "", changes=preview, seconds=self._clock() - started)
        change_set_type = "CREATE" if status in (None, "REVIEW_IN_PROGRESS") else "UPDATE"
        aware = " (drift-aware)" if change_set_type == "UPDATE" and self._revert_drift else ""
        article = "an" if change_set_type == "UPDATE" else "a"
        self._report(
            f"Stack {stack_name}: {status or 'does not exist yet'}; "
            f"creating {article} {change_set_type} change set{aware}"
        )
        change_set = self._create_change_set(template, stack_name, environment, tags, change_set_type)
        if change_set is None:
            self._report("No changes: the stack already matches the template.")
            # the outputs still matter: verification compares them even when nothing changed
            return DeployResult(
                stack_name, status or "", outputs=self._outputs(stack_name), seconds=self._clock() - started
            )
        created_stack = change_set_type == "CREATE" and status is None
        changes = self._review(stack_name, change_set, execute=execute, created_stack=created_stack)
        if not execute:
            self._discard(stack_name, change_set, created_stack=created_stack)
            self._report("Dry run: nothing was changed.")
            return DeployResult(stack_name, status or "", changes=changes, seconds=self._clock() - started,
                                refusal=replacement_refusal(stack_name, changes))
        final = self._execute(stack_name, change_set, environment)
        self._wait_for_table(table_name)
        outputs = self._outputs(stack_name)
        seconds = self._clock() - started
        self._report(f"Stack {stack_name} is {final}; table {table_name} is ACTIVE ({seconds:.1f} s)")
        return DeployResult(stack_name, final, changes=changes, executed=True, outputs=outputs, seconds=seconds)

    def describe(self, stack_name: str, *, events: int = 10) -> StackDescription | None:
        """The stack's status, its ``events`` latest events, outputs and exports; None when absent."""
        stack = self._describe_stack(stack_name)
        if stack is None:
            return None
        return StackDescription.of(stack, self._events(stack_name)[:events], exports_of(self._cf, stack["StackId"]))

    def recover(self, stack_name: str, environment: str) -> Recovery:
        """Bring a failed stack back to a deployable state; return what was done."""
        with self._operation():
            return self._recover(stack_name, environment)

    def _recover(self, stack_name: str, environment: str) -> Recovery:
        status = self.stack_status(stack_name)
        if status is None:
            return Recovery(f"Stack {stack_name} does not exist; nothing to recover.", deployable=True)
        if status in NEEDS_DELETE_STATES:
            self._report(f"Stack {stack_name} is {status}: deleting it so it can be deployed again")
            self.delete(stack_name)
            return Recovery(f"Deleted {stack_name}; it can be deployed again.", deployable=True)
        if status in NEEDS_CONTINUE_STATES:
            self._report(f"Stack {stack_name} is {status}: continuing the update rollback")
            seen = set(self._event_ids(stack_name))  # before the call, so the rollback's own events are shown
            self._call("ContinueUpdateRollback", StackName=stack_name)
            final = self._wait_for_stack(stack_name, environment, seen, expect_failure_ok=True)
            return Recovery(f"Stack {stack_name} is {final}; the previous template is in place again.", deployable=True)
        interrupted = self._recover_interrupted(stack_name, status)
        if interrupted:
            return Recovery(interrupted, deployable=True)
        return Recovery(f"Stack {stack_name} is {status}; nothing to recover.", deployable=False)

    def delete(self, stack_name: str) -> None:
        """Delete the stack and wait until it is gone (the table itself is retained)."""
        with self._operation():
            self._delete(stack_name)

    def _delete(self, stack_name: str) -> None:
        if self._describe_stack(stack_name) is None:
            self._report(f"Stack {stack_name} does not exist; nothing to delete.")
            return
        self._call("DeleteStack", StackName=stack_name)
        for delay in _poll_delays():
            stack = self._describe_stack(stack_name)
            status = stack["StackStatus"] if stack else "DELETE_COMPLETE"
            if status == "DELETE_COMPLETE":
                self._report(f"Stack {stack_name} deleted.")
                return
            if status == "DELETE_FAILED":
                raise DeploymentError(f"Deleting {stack_name} failed: {self._first_failure(stack_name)}")
            self._check_deadline(f"deleting {stack_name} (status {status})")
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
        self,
        template: Template,
        stack_name: str,
        environment: str,
        tags: dict[str, str],
        change_set_type: str,
        *,
        body: str | None = None,
        imports: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any] | None:
        name = f"vibedigest-{uuid.uuid4().hex[:12]}"
        extra: dict[str, Any] = {"ResourcesToImport": imports} if imports else {}
        if change_set_type != "IMPORT":  # an import changes nothing at stack level: AWS refuses stack tags in it
            extra["Tags"] = [{"Key": k, "Value": v} for k, v in tags.items()]
        if change_set_type == "UPDATE" and self._revert_drift:
            extra["DeploymentMode"] = REVERT_DRIFT
        try:
            created = self._call(
                "CreateChangeSet",
                **extra,
                StackName=stack_name,
                ChangeSetName=name,
                ChangeSetType=change_set_type,
                TemplateBody=body or template.body,
                Parameters=[{"ParameterKey": "Environment", "ParameterValue": environment}],
                Description=f"VibeDigest {environment} deployment",
            )
        except ServiceError as error:
            if any(marker in error.aws_message for marker in NO_CHANGES_MARKERS):
                return None  # moto's answer to an empty change set
            if change_set_type in ("CREATE", "IMPORT") and "already exists" in error.aws_message:
                # the stack was absent when this deploy looked: another deploy created it since
                raise self.created_first(stack_name) from error
            if "DeploymentMode" in extra and refuses_drift_mode(error):
                self._revert_drift = False
                self._report(REFUSED.format(reason=error.aws_message or error.code))
                return self._create_change_set(
                    template, stack_name, environment, tags, change_set_type, body=body, imports=imports
                )
            raise
        for delay in _poll_delays():
            described = self._call("DescribeChangeSet", StackName=stack_name, ChangeSetName=created["Id"])
            status = described["Status"]
            if status in ("CREATE_COMPLETE", "FAILED") and "DeploymentMode" in extra:
                self._note_ignored_drift_mode(described)
            if status == "CREATE_COMPLETE":
                return described
            if status == "FAILED":
                reason = described.get("StatusReason", "")
                if any(marker in reason for marker in NO_CHANGES_MARKERS):
                    self._call("DeleteChangeSet", StackName=stack_name, ChangeSetName=created["Id"])
                    return None  # real CloudFormation's answer to an empty change set
                raise DeploymentError(f"The change set for {stack_name} failed: {reason or 'no reason given'}")
            self._check_deadline(f"creating the change set for {stack_name}")
            self._sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def _note_ignored_drift_mode(self, described: dict[str, Any]) -> None:
        """Say so, once, when the endpoint answered a drift-aware request with a plain change set."""
        if described.get("DeploymentMode") != REVERT_DRIFT:
            self._revert_drift = False
            self._report(IGNORED)

    @staticmethod
    def created_first(stack_name: str) -> DeploymentError:
        """The refusal of a deploy that found the stack absent while another deploy created it."""
        return DeploymentError(
            f"Another deployment of {stack_name} created the stack first; nothing was changed. "
            "Wait for it to finish and deploy again."
        )

    def _discard(self, stack_name: str, change_set: dict[str, Any], *, created_stack: bool) -> None:
        self._call("DeleteChangeSet", StackName=stack_name, ChangeSetName=change_set["ChangeSetId"])
        if created_stack:  # a CREATE change set leaves an empty REVIEW_IN_PROGRESS stack behind
            self._call("DeleteStack", StackName=stack_name)

    def _wait_for_stack(
        self, stack_name: str, environment: str, seen: set[str], *, expect_failure_ok: bool = False
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
            self._check_deadline(f"stack {stack_name} is still {status}")
            self._sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def _wait_for_table(self, table_name: str) -> None:
        for delay in _poll_delays():
            table = call_aws(self._ddb, "DescribeTable", table=table_name, TableName=table_name)["Table"]
            status = table["TableStatus"]
            if status == "ACTIVE":
                return
            self._check_deadline(f"table {table_name} is still {status}")
            self._sleep(delay)

    def _events(self, stack_name: str) -> list[dict[str, Any]]:
        return stack_events(self._cf, stack_name)

    def _event_ids(self, stack_name: str) -> list[str]:
        return [e["EventId"] for e in self._events(stack_name)]

    def _report_new_events(self, stack_name: str, seen: set[str]) -> None:
        for event in reversed(self._events(stack_name)):  # the API lists the newest first
            if event["EventId"] not in seen:
                seen.add(event["EventId"])
                self._report(event_line(event))

    def _first_failure(self, stack_name: str) -> str:
        """The root cause of the latest operation: its oldest failed resource event."""
        return first_failure(self._events(stack_name), stack_name)
