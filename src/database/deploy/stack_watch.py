"""Reads one environment's stack and waits for it, every wait within the running operation's deadline.

- ``operation``/``started``/``deadline``/``check``: when a public operation began and the one
  deadline all its waits share (the caller's ``Deadline``, else ``timeout`` from now).
- ``wait_for_stack``/``wait_for_table``/``wait_for_delete``: poll early and often (0.25 s,
  backing off to 2 s), never boto3's 30 s waiter, streaming the stack's new events.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from botocore.client import BaseClient

from ..aws.aws_call import call_aws
from ..aws.deadline import Deadline
from ..errors import DeploymentError, ServiceError, StackNeedsRecoveryError
from .stack_reading import event_line, first_failure, outputs_of, stack_events

Report = Callable[[str], None]

IN_PROGRESS_SUFFIX = "_IN_PROGRESS"
SUCCESS_STATES = frozenset({"CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE"})
NEEDS_DELETE_STATES = frozenset({"ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "CREATE_FAILED", "DELETE_FAILED"})
NEEDS_CONTINUE_STATES = frozenset({"UPDATE_ROLLBACK_FAILED"})
RECOVER_HINT = "Recover it (StackDeployer.recover), then deploy again."


def poll_delays(first: float = 0.25, factor: float = 1.5, ceiling: float = 2.0) -> Iterator[float]:
    """The pauses between two polls: short at first, when most operations end, then backing off."""
    delay = first
    while True:
        yield delay
        delay = min(delay * factor, ceiling)


class StackWatch:
    """The stack's status, events and outputs, and the waits for it to settle."""

    def __init__(
        self,
        cloudformation: BaseClient,
        dynamodb: BaseClient,
        *,
        report: Report,
        timeout: float | Deadline,
        sleep: Callable[[float], None],
        clock: Callable[[], float],
    ) -> None:
        """``sleep`` and ``clock`` are injectable so tests can run the deadline without waiting."""
        self.cloudformation = cloudformation
        self.dynamodb = dynamodb
        self.report = report
        self.clock = clock
        self._timeout = timeout
        self._sleep = sleep
        self._op_started: float | None = None  # when the running public operation began
        self._op_deadline: Deadline | None = None  # and the deadline all its waits share

    # -- the operation's deadline ---------------------------------------------------

    @contextmanager
    def operation(self) -> Iterator[None]:
        """Start the deadline of a public operation; a nested one (recover -> delete) keeps the outer."""
        if self._op_started is not None:
            yield
            return
        self._op_started = self.clock()
        self._op_deadline = self._new_deadline()
        try:
            yield
        finally:
            self._op_started = self._op_deadline = None

    def _new_deadline(self) -> Deadline:
        if isinstance(self._timeout, Deadline):
            return self._timeout
        return Deadline(self._timeout, clock=self.clock)

    def deadline(self) -> Deadline:
        """The running operation's deadline (a fresh one outside an operation)."""
        return self._op_deadline if self._op_deadline is not None else self._new_deadline()

    def check(self, what: str) -> None:
        """Give up (``DeadlineExceededError``) once the operation's deadline has passed."""
        self.deadline().check(
            what,
            "CloudFormation goes on in the background; check the stack's status and events, "
            "then deploy again or recover.",
        )

    def started(self) -> float:
        """When the running operation began (now, outside one)."""
        return self._op_started if self._op_started is not None else self.clock()

    def pause(self, delay: float, what: str) -> None:
        """Check the deadline (``what`` is still going on), then wait ``delay`` seconds."""
        self.check(what)
        self._sleep(delay)

    # -- reading the stack ------------------------------------------------------------

    def call(self, operation: str, **params: Any) -> dict[str, Any]:
        """One CloudFormation call (``call_aws``: logged, bounded, errors translated)."""
        return call_aws(self.cloudformation, operation, **params)

    def describe_stack(self, stack_name: str) -> dict[str, Any] | None:
        """DescribeStacks' entry for the stack; None when no such stack exists."""
        try:
            stacks = self.call("DescribeStacks", StackName=stack_name).get("Stacks", [])
        except ServiceError as error:
            if error.code == "ValidationError" and "does not exist" in error.aws_message:
                return None
            raise
        return stacks[0] if stacks else None

    def stack_status(self, stack_name: str) -> str | None:
        """The stack's status, or None when no such stack exists."""
        stack = self.describe_stack(stack_name)
        return stack["StackStatus"] if stack else None

    def outputs(self, stack_name: str) -> dict[str, str]:
        """The stack's outputs by key ({} when it has none or does not exist)."""
        return outputs_of(self.describe_stack(stack_name) or {})

    def events(self, stack_name: str) -> list[dict[str, Any]]:
        """The stack's events, newest first."""
        return stack_events(self.cloudformation, stack_name)

    def event_ids(self, stack_name: str) -> set[str]:
        """The ids of the events so far (so a wait reports only the ones that follow)."""
        return {e["EventId"] for e in self.events(stack_name)}

    def report_new_events(self, stack_name: str, seen: set[str]) -> None:
        """Report the events not in ``seen``, oldest first, and add them to it."""
        for event in reversed(self.events(stack_name)):  # the API lists the newest first
            if event["EventId"] not in seen:
                seen.add(event["EventId"])
                self.report(event_line(event))

    def first_failure(self, stack_name: str) -> str:
        """The root cause of the latest operation: its oldest failed resource event."""
        return first_failure(self.events(stack_name), stack_name)

    # -- waits --------------------------------------------------------------------------

    def wait_for_stack(self, stack_name: str, seen: set[str], *, expect_failure_ok: bool = False) -> str:
        """Wait for a final status; a failed one raises (``StackNeedsRecoveryError`` when it needs recovery)."""
        for delay in poll_delays():
            self.report_new_events(stack_name, seen)
            status = self.stack_status(stack_name) or "DELETE_COMPLETE"
            if not status.endswith(IN_PROGRESS_SUFFIX):
                if status in SUCCESS_STATES or (expect_failure_ok and status == "UPDATE_ROLLBACK_COMPLETE"):
                    return status
                needs_recovery = status in NEEDS_DELETE_STATES | NEEDS_CONTINUE_STATES
                raise (StackNeedsRecoveryError if needs_recovery else DeploymentError)(
                    f"Stack {stack_name} ended {status}: {self.first_failure(stack_name)}. "
                    + (
                        RECOVER_HINT
                        if needs_recovery
                        else "The previous version is still in place; fix the template and deploy again."
                    )
                )
            self.pause(delay, f"stack {stack_name} is still {status}")
        raise AssertionError("unreachable")  # pragma: no cover

    def wait_for_table(self, table_name: str) -> None:
        """Wait until the table is ACTIVE."""
        for delay in poll_delays():
            table = call_aws(self.dynamodb, "DescribeTable", table=table_name, TableName=table_name)["Table"]
            status = table["TableStatus"]
            if status == "ACTIVE":
                return
            self.pause(delay, f"table {table_name} is still {status}")

    def wait_for_delete(self, stack_name: str) -> None:
        """Wait until the stack is gone; DELETE_FAILED raises with its first failure."""
        for delay in poll_delays():
            stack = self.describe_stack(stack_name)
            status = stack["StackStatus"] if stack else "DELETE_COMPLETE"
            if status == "DELETE_COMPLETE":
                self.report(f"Stack {stack_name} deleted.")
                return
            if status == "DELETE_FAILED":
                raise DeploymentError(f"Deleting {stack_name} failed: {self.first_failure(stack_name)}")
            self.pause(delay, f"deleting {stack_name} (status {status})")
