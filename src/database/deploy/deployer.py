"""Deploy, inspect, recover and delete the VibeDigest CloudFormation stack.

Roles:
- ``StackDeployer.deploy``: a ``StackSpec`` (the lint-clean template and where it goes)
  -> change set (the preview) -> execute -> stream stack events -> wait for a final
  status and an ACTIVE table (``stack_watch``), giving up clearly after ``timeout`` seconds.
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

The deployer holds two collaborators, public for a caller that wants one step:
``watch`` (``StackWatch``: reading the stack, the waits, the deadline) and
``change_sets`` (``ChangeSetSteps``: create, review, execute, discard).

Progress goes to ``report`` (one line per call) so the CLI prints it and tests read it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from botocore.client import BaseClient

from ..aws.deadline import Deadline
from ..errors import DeploymentError, StackNeedsRecoveryError
from ..settings import DEFAULT_STACK_TIMEOUT
from .adoption import check_adoptable, existing_table
from .change_review import ChangeSummary, replacement_refusal
from .change_set_steps import ChangeSetSteps, created_first
from .stack_reading import StackDescription, exports_of
from .stack_spec import StackSpec
from .stack_watch import (
    IN_PROGRESS_SUFFIX,
    NEEDS_CONTINUE_STATES,
    NEEDS_DELETE_STATES,
    RECOVER_HINT,
    Report,
    StackWatch,
)


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


class StackDeployer:
    """Runs the stack lifecycle of one environment on a CloudFormation client."""

    def __init__(
        self,
        cloudformation: BaseClient,
        dynamodb: BaseClient,
        *,
        report: Report = print,
        timeout: float | Deadline = DEFAULT_STACK_TIMEOUT,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        revert_drift: bool = True,
    ) -> None:
        """``revert_drift``: make updates drift-aware change sets (``drift``); False for plain ones."""
        if isinstance(timeout, Deadline):  # the caller's deadline: the clients' calls end by it too
            timeout.bind(cloudformation)
            timeout.bind(dynamodb)
        self.watch = StackWatch(cloudformation, dynamodb, report=report, timeout=timeout, sleep=sleep, clock=clock)
        self.change_sets = ChangeSetSteps(self.watch, revert_drift=revert_drift)
        self._report = report

    @property
    def cloudformation(self) -> BaseClient:
        """The CloudFormation client the deployer calls."""
        return self.watch.cloudformation

    @property
    def dynamodb(self) -> BaseClient:
        """The DynamoDB client the deployer reads the table with."""
        return self.watch.dynamodb

    def stack_status(self, stack_name: str) -> str | None:
        """Return the stack's status, or None when no such stack exists."""
        return self.watch.stack_status(stack_name)

    def failure_reason(self, stack_name: str) -> str:
        """The first failed resource of the stack's latest operation and its reason."""
        return self.watch.first_failure(stack_name)

    # -- deploy -------------------------------------------------------------------------

    def deploy(self, spec: StackSpec, *, execute: bool = True) -> DeployResult:
        """Create or update the stack through a change set; ``execute=False`` only previews."""
        with self.watch.operation():
            return self._deploy(spec, execute)

    def _deploy(self, spec: StackSpec, execute: bool) -> DeployResult:
        stack_name = spec.stack_name
        started = self.watch.started()
        status = self.stack_status(stack_name)
        self.refuse_unusable(stack_name, status)
        self.change_sets.refuse_competing(stack_name, None)
        if status in (None, "REVIEW_IN_PROGRESS"):
            status, preview = self.adopt(spec, status, execute=execute)
            if preview is not None:  # a dry run that found a retained table to import
                return DeployResult(stack_name, status or "", changes=preview, seconds=self.watch.clock() - started)
        change_set_type = "CREATE" if status in (None, "REVIEW_IN_PROGRESS") else "UPDATE"
        aware = " (drift-aware)" if change_set_type == "UPDATE" and self.change_sets.revert_drift else ""
        article = "an" if change_set_type == "UPDATE" else "a"
        self._report(
            f"Stack {stack_name}: {status or 'does not exist yet'}; "
            f"creating {article} {change_set_type} change set{aware}"
        )
        change_set = self.change_sets.create(spec, change_set_type)
        if change_set is None:
            self._report("No changes: the stack already matches the template.")
            # the outputs still matter: verification compares them even when nothing changed
            return DeployResult(
                stack_name, status or "", outputs=self.watch.outputs(stack_name), seconds=self.watch.clock() - started
            )
        created_stack = change_set_type == "CREATE" and status is None
        changes = self.change_sets.review(stack_name, change_set, execute=execute, created_stack=created_stack)
        if not execute:
            self.change_sets.discard(stack_name, change_set, created_stack=created_stack)
            self._report("Dry run: nothing was changed.")
            return DeployResult(stack_name, status or "", changes=changes, seconds=self.watch.clock() - started,
                                refusal=replacement_refusal(stack_name, changes))
        final = self.change_sets.execute(stack_name, change_set)
        self.watch.wait_for_table(spec.table_name)
        outputs = self.watch.outputs(stack_name)
        seconds = self.watch.clock() - started
        self._report(f"Stack {stack_name} is {final}; table {spec.table_name} is ACTIVE ({seconds:.1f} s)")
        return DeployResult(stack_name, final, changes=changes, executed=True, outputs=outputs, seconds=seconds)

    def refuse_unusable(self, stack_name: str, status: str | None) -> None:
        """Refuse a deploy onto a stack that needs recovery or runs another operation."""
        if status in NEEDS_DELETE_STATES or status in NEEDS_CONTINUE_STATES:
            raise StackNeedsRecoveryError(
                f"Stack {stack_name} is {status} after a failed deployment "
                f"({self.watch.first_failure(stack_name)}). {RECOVER_HINT}"
            )
        if status and status.endswith(IN_PROGRESS_SUFFIX) and status != "REVIEW_IN_PROGRESS":
            raise DeploymentError(
                f"Stack {stack_name} is {status}: another operation is running. "
                "Wait for it to finish, then deploy again."
            )

    def adopt(
        self, spec: StackSpec, status: str | None, *, execute: bool
    ) -> tuple[str | None, list[ChangeSummary] | None]:
        """Before a stack is created: adopt a retained table of the same name, if there is one.

        Returns the stack's status afterwards and, for a dry run that would import, its preview.
        A dry run creates the real IMPORT change set, shows it and deletes it with its empty stack.
        """
        stack_name, table_name = spec.stack_name, spec.table_name
        table = existing_table(self.dynamodb, table_name)
        if table is None:
            return status, None
        if self.stack_status(stack_name) != status:  # another deploy's stack made this table meanwhile
            raise created_first(stack_name)
        check_adoptable(table, spec.expected)
        verb = "import" if execute else "preview the import of"
        self._report(
            f"Table {table_name} exists without a stack (retained by an earlier delete); "
            f"its keys match the template: creating a change set to {verb} it into {stack_name}"
        )
        change_set = self.change_sets.create_import(spec, status)
        changes = self.change_sets.review(stack_name, change_set, execute=execute, created_stack=status is None)
        if execute:
            return self.change_sets.execute(stack_name, change_set), None
        self.change_sets.discard(stack_name, change_set, created_stack=status is None)
        self._report(
            f"Dry run: nothing was changed. Deploying imports {table_name} with this change set, then applies the "
            "full template (outputs, stack tags, settings changed outside CloudFormation) with an update."
        )
        return status, changes

    # -- describe, recover, delete ------------------------------------------------------

    def describe(self, stack_name: str, *, events: int = 10) -> StackDescription | None:
        """The stack's status, its ``events`` latest events, outputs and exports; None when absent."""
        stack = self.watch.describe_stack(stack_name)
        if stack is None:
            return None
        recent = self.watch.events(stack_name)[:events]
        return StackDescription.of(stack, recent, exports_of(self.cloudformation, stack["StackId"]))

    def recover(self, stack_name: str, environment: str) -> Recovery:
        """Bring a failed stack back to a deployable state; return what was done."""
        with self.watch.operation():
            return self._recover(stack_name)

    def _recover(self, stack_name: str) -> Recovery:
        status = self.stack_status(stack_name)
        if status is None:
            return Recovery(f"Stack {stack_name} does not exist; nothing to recover.", deployable=True)
        if status in NEEDS_DELETE_STATES:
            self._report(f"Stack {stack_name} is {status}: deleting it so it can be deployed again")
            self.delete(stack_name)
            return Recovery(f"Deleted {stack_name}; it can be deployed again.", deployable=True)
        if status in NEEDS_CONTINUE_STATES:
            self._report(f"Stack {stack_name} is {status}: continuing the update rollback")
            seen = self.watch.event_ids(stack_name)  # before the call, so the rollback's own events are shown
            self.watch.call("ContinueUpdateRollback", StackName=stack_name)
            final = self.watch.wait_for_stack(stack_name, seen, expect_failure_ok=True)
            return Recovery(f"Stack {stack_name} is {final}; the previous template is in place again.", deployable=True)
        interrupted = self.recover_interrupted(stack_name, status)
        if interrupted:
            return Recovery(interrupted, deployable=True)
        return Recovery(f"Stack {stack_name} is {status}; nothing to recover.", deployable=False)

    def recover_interrupted(self, stack_name: str, status: str) -> str | None:
        """Clean up after an interrupted deploy: an empty REVIEW_IN_PROGRESS stack or its change sets."""
        if status == "REVIEW_IN_PROGRESS":
            self._report(f"Stack {stack_name} is REVIEW_IN_PROGRESS, left by an interrupted first deploy: deleting it")
            self.delete(stack_name)
            return f"Deleted {stack_name}, an empty stack left by an interrupted first deploy (it held no resources)."
        count = self.change_sets.discard_leftovers(stack_name)
        if count:
            return f"Stack {stack_name} is {status}; discarded {count} change set(s) an interrupted deploy left."
        return None

    def delete(self, stack_name: str) -> None:
        """Delete the stack and wait until it is gone (the table itself is retained)."""
        with self.watch.operation():
            if self.watch.describe_stack(stack_name) is None:
                self._report(f"Stack {stack_name} does not exist; nothing to delete.")
                return
            self.watch.call("DeleteStack", StackName=stack_name)
            self.watch.wait_for_delete(stack_name)
